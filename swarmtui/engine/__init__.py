"""The IO layer: the only package that talks to Docker engines (it alone imports aiodocker).

May import: :mod:`swarmtui.model`, :mod:`swarmtui.validate`, aiodocker, aiohttp and
prometheus_client (the metrics text parser). Never
Textual or rich, the ops, the runtime, the screens or the CLI: it knows nothing of a UI.
"""
