"""Where the stylesheets are: inside the wheel, or the repository's top-level styles/."""

from __future__ import annotations

from pathlib import Path


def styles_dir() -> Path:
    packaged = Path(__file__).parent / "styles"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "styles"


def stylesheets() -> list[Path]:
    return sorted(styles_dir().glob("*.tcss"))
