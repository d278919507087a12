"""The README's install line, run exactly as written, works on this machine.

`python3 -m pip install .` (the line before) failed on Debian 12's system Python
(externally-managed-environment). This runs the line from the "## Set up" section with
``bash -c`` and HOME in a temporary folder, so the real home is never touched; pip fetches
the dependencies as on a fresh machine (about a minute).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from swarmtui import __version__

ROOT = Path(__file__).resolve().parent.parent
NO_ENGINE = "unix:///nonexistent.sock"


def readme_install_line() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"^    (\S.*)$", section, re.MULTILINE)  # the first indented command line
    assert m is not None, "README's Set up section has no indented command"
    return m.group(1)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "DOCKER_", "SWARMTUI_")) and k != "VIRTUAL_ENV"}
    env.update(HOME=str(home), DOCKER_HOST=NO_ENGINE)
    return env


@pytest.mark.timeout(900)
def test_readme_install_line_works(tmp_path: Path) -> None:
    line = readme_install_line()
    assert "scripts/install" in line
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(["bash", "-c", line], cwd=ROOT, env=_env(home), text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=800)
    # The line ends by starting swarmtui, which finds no engine: its one line, exit 1.
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stderr.splitlines()[-1].startswith(f"swarmtui: error: no Docker engine at "
                                                   f"{NO_ENGINE}"), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr

    installed = home / ".local" / "bin" / "swarmtui"
    assert installed.is_symlink()
    assert str(installed.resolve()).startswith(str(home / ".local" / "share" / "swarmtui"))
    version = subprocess.run([str(installed), "--version"], env=_env(home), text=True,
                             capture_output=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"swarmtui {__version__}"
    bare = subprocess.run([str(installed)], env=_env(home), text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert bare.returncode == 1
    assert bare.stderr.count("\n") == 1 and "no Docker engine at" in bare.stderr, bare.stderr
    # The installed copy found its stylesheets (it runs outside the checkout).
    styles = subprocess.run(
        [str(home / ".local/share/swarmtui/venv/bin/python"), "-c",
         "from swarmtui.paths import stylesheets; print(len(stylesheets()))"],
        env=_env(home), cwd=tmp_path, text=True, capture_output=True, timeout=60)
    assert int(styles.stdout) > 0, styles.stderr
