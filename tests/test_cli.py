"""The command line without an engine: help, version, and one-line errors with exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swarmtui import __version__
from swarmtui.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swarmtui", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_help_and_version_need_no_engine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "Docker Swarm" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"swarmtui {__version__}"


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["--bogus"], 2, "unrecognized arguments: --bogus"),
        (["shot", "nope", "-o", "x.txt"], 2, "unknown screen 'nope'"),
        (["shot", "grid", "-o", "x.txt", "--size", "huge"], 2, "invalid size 'huge'"),
        (["shot", "grid", "-o", "x.txt", "--timeout", "-1"], 2, "invalid duration '-1'"),
        (["-H", "unix:///nonexistent/docker.sock", "shot", "grid", "-o", "x.txt"], 1,
         "no Docker engine at unix:///nonexistent/docker.sock"),
        (["-H", "tcp://127.0.0.1:9", "shot", "grid", "-o", "x.txt"], 1, "connection refused"),
        (["-H", "unix:///a", "-c", "b", "shot", "grid", "-o", "x.txt"], 2,
         "either specify --host or --context"),
    ],
)
def test_user_errors_are_one_line(argv: list[str], status: int, message: str,
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit directly
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == status
    assert message in err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "x.txt").exists()


def test_run_without_engine_says_so_in_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "DOCKER_HOST": f"unix://{tmp_path}/missing.sock"}
    proc = run(env=env)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "no Docker engine at" in proc.stderr and "DOCKER_HOST" in proc.stderr


def test_module_entry_point() -> None:
    assert run("--version").stdout.strip() == f"swarmtui {__version__}"


@pytest.mark.parametrize("argv", [["--demo-scenario", "scale", "--demo"],
                                  ["--demo", "--demo-scenario", "scale"],
                                  ["--demo-scenario", "scale"]])
def test_demo_scenario_runs_in_any_order(argv: list[str], tmp_path: Path) -> None:
    # Before: --demo after --demo-scenario reset it to "demo"; alone it needed --demo.
    out = tmp_path / "grid.txt"
    assert main([*argv, "shot", "grid", "-o", str(out), "--timeout", "30"]) == 0
    assert "simulated swarm (scale)" in out.read_text()


def test_unreachable_extra_engine_is_told_to_fix_its_own_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: every engine was told to "point swarmtui at one with --host".
    config = tmp_path / "swarmtui"
    config.mkdir()
    (config / "engines.toml").write_text(f'[engines]\nn3 = "unix://{tmp_path}/n3.sock"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["--demo", "--engine", f"n2={tmp_path}/n2.sock", "df"]) == 0
    out = capsys.readouterr().out
    n2 = next(line for line in out.splitlines() if f"{tmp_path}/n2.sock (the socket" in line)
    n3 = next(line for line in out.splitlines() if f"{tmp_path}/n3.sock (the socket" in line)
    assert n2.endswith("start dockerd, or fix --engine n2=URL")
    assert n3.endswith(f"start dockerd, or fix engines.n3 in {config / 'engines.toml'}")
    assert "--host" not in n2 + n3
