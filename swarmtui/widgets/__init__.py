"""Widgets: render models, emit intent. They never talk to an engine."""
