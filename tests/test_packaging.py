"""The wheel carries the stylesheets: an installed swarmtui must find its look."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_styles_and_entry_point(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, timeout=300,
                   capture_output=True)
    wheel = next(tmp_path.glob("swarmtui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    styles = {p.name for p in (ROOT / "styles").glob("*.tcss")}
    assert styles and {f"swarmtui/styles/{s}" for s in styles} <= names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "swarmtui = swarmtui.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_types_and_lint_are_clean() -> None:
    """mypy over the package (strict on swarmtui.model, per pyproject) and ruff over the tree."""
    mypy = subprocess.run([sys.executable, "-m", "mypy", "swarmtui"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert mypy.returncode == 0, mypy.stdout[-3000:]
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert ruff.returncode == 0, ruff.stdout[-3000:]
