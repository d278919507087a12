"""Pure model: frozen dataclasses, reducers and selectors. No Textual, no aiodocker, no IO.

May import: the standard library and this package only (no Textual, rich, aiodocker or
aiohttp; mypy strict). Everything else may import it.
"""
