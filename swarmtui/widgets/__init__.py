"""Widgets: render models, emit intent. They never talk to an engine.

May import: Textual, rich and :mod:`swarmtui.model`. Never the engine, the runtime, the
screens, the app or the CLI: what they show is handed to them.
"""
