"""Pure model: frozen dataclasses, reducers and selectors. No Textual, no aiodocker, no IO."""
