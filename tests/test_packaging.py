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
