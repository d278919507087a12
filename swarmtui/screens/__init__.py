"""Screens: one per view, switched by number keys and the command palette."""
