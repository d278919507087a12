"""The IO layer: the only package that talks to Docker engines (it alone imports aiodocker)."""
