"""Bytes on the wire: what the real app writes to its terminal, per second, per screen.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab lock):

    .venv/bin/python benchmarks/wire_bytes.py [--seconds 30] [--rows grid,services,demo,logs]
        [--ssh]

Each row runs the real app (``python -m swarmtui``, this checkout) in a detached tmux session
of the row's size (``tmux new-session -d -x W -y H``, tmux's status line off, so the app has
the whole pane), copies the pane's output to a file with ``tmux pipe-pane -o 'cat >> FILE'``,
waits for the first frame (a text of that screen in ``tmux capture-pane -p``), lets it settle,
then counts the bytes the file grew by over the window:

* grid: the lab's grid at 160x45, idle (a 3-replica sleeper and the chatty service below);
* services: the services screen at 160x45, idle;
* demo: ``--demo`` grid at 200x60 (the simulator changes the swarm every few seconds);
* logs: the logs pane at 160x45 following a lab service that prints ~10 lines/s, and, as the
  reference, ``docker service logs -f --tail 0`` of the same service in the same tmux setup,
  counted the same way.

``--ssh`` runs the app with ``SSH_CONNECTION`` set (as an SSH login would), which selects
its low-bandwidth frame rates. Prints B/s per row and the ratio to the docker CLI for logs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labtools import docker, lab_lock

ROOT = Path(__file__).resolve().parent.parent
SOCKET = "/tmp/swarmtui-lab/n1/docker.sock"
TMUX_SOCKET = "swarmtui-wire-bench"  # a tmux server of its own: no other session touched
IDLE_NAME = "wire-idle"
CHATTY_NAME = "wire-chatty"
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
# ~10 lines/s, each ~70 characters (a line number and some text, as an app would log).
CHATTY = ("trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); "
          "echo \"$(date +%T) GET /api/items/$i 200 12ms user=demo agent=bench-client\"; "
          "sleep 0.1; done")


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", TMUX_SOCKET, "-f", "/dev/null", *args],
                          check=check, capture_output=True, text=True, timeout=30)


def capture(target: str) -> str:
    return tmux("capture-pane", "-p", "-t", target, check=False).stdout


@contextlib.contextmanager
def tmux_run(name: str, argv: list[str], size: tuple[int, int], out: Path,
             env: dict[str, str] | None = None) -> Iterator[str]:
    """``argv`` in a detached tmux session of ``size``, its output appended to ``out``."""
    width, height = size
    command = " ".join(_quote(a) for a in argv)
    env_args: list[str] = []
    for key, value in (env or {}).items():
        env_args += ["-e", f"{key}={value}"]
    tmux("kill-session", "-t", name, check=False)
    # Paused at first so pipe-pane is in place before the program writes anything.
    tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), *env_args,
         f"sleep 0.3; exec {command}")
    tmux("set-option", "-t", name, "status", "off")
    tmux("set-option", "-t", name, "remain-on-exit", "on")
    tmux("pipe-pane", "-o", "-t", name, f"cat >> {_quote(str(out))}")
    try:
        yield name
    finally:
        tmux("kill-session", "-t", name, check=False)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def wait_text(target: str, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in capture(target):
            return
        time.sleep(0.2)
    raise SystemExit(f"no {text!r} on the screen after {timeout}s:\n{capture(target)}")


@dataclass(frozen=True)
class Row:
    name: str
    argv: list[str]
    size: tuple[int, int]
    ready: str  # text on the screen once the first frame is there
    keys: tuple[str, ...] = ()  # keys to press after the first frame
    shown: str = ""  # text on the screen once the keys took effect


def measure(row: Row, seconds: float, settle: float, env: dict[str, str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wire.bin"
        out.touch()
        with tmux_run(f"wire-{row.name}", row.argv, row.size, out, env) as target:
            wait_text(target, row.ready)
            for key in row.keys:
                tmux("send-keys", "-t", target, key)
                time.sleep(0.5)
            if row.shown:
                wait_text(target, row.shown)
            time.sleep(settle)
            before, start = out.stat().st_size, time.monotonic()
            time.sleep(seconds)
            after, took = out.stat().st_size, time.monotonic() - start
        keep = os.environ.get("WIRE_KEEP")  # a folder: keep each row's raw output there
        if keep:
            Path(keep, f"{row.name}.bin").write_bytes(out.read_bytes()[before:after])
        return (after - before) / took, out.stat().st_size


def app_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "swarmtui", *args]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default=SOCKET)
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=5)
    parser.add_argument("--rows", default="grid,services,demo,logs")
    parser.add_argument("--idle-after", type=float, default=65,
                        help="seconds between creating the services and the first row")
    parser.add_argument("--ssh", action="store_true",
                        help="run the app as under SSH (SSH_CONNECTION set)")
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    wanted = args.rows.split(",")
    env = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    app_env = dict(env)
    if args.ssh:
        app_env["SSH_CONNECTION"] = "127.0.0.1 50000 127.0.0.1 22"  # loopback, nothing sent
    # The app imports this checkout, whatever the current directory.
    app_env["PYTHONPATH"] = str(ROOT)
    rows = [
        Row("grid", app_argv("-H", host, "--read-only"), (160, 45), IDLE_NAME),
        Row("services", app_argv("-H", host, "--read-only"), (160, 45), IDLE_NAME,
            keys=("2",), shown="REPLICAS"),
        Row("demo", app_argv("--demo"), (200, 60), "density"),
        Row("logs", app_argv("-H", host, "--read-only"), (160, 45), CHATTY_NAME,
            keys=("3", "f", CHATTY_NAME, "Enter"), shown="GET /api/items"),
    ]
    docker_cli = Row("docker-cli", ["docker", "-H", host, "service", "logs", "-f", "--tail",
                                    "0", CHATTY_NAME], (160, 45), "")
    results: dict[str, float] = {}
    with lab_lock(args.lock):
        docker(host, "service", "create", "--detach", "--no-resolve-image", "--name",
               IDLE_NAME, "--replicas", "3", "busybox:lab", "sh", "-c", LOOP)
        docker(host, "service", "create", "--detach", "--no-resolve-image", "--name",
               CHATTY_NAME, "--replicas", "1", "busybox:lab", "sh", "-c", CHATTY)
        try:
            # Idle: both converged and their tasks past a minute old (card ages then tick
            # once a minute, not every 10 s).
            time.sleep(args.idle_after)
            for row in rows:
                if row.name not in wanted:
                    continue
                rate, total = measure(row, args.seconds, args.settle, app_env)
                results[row.name] = rate
                print(f"{row.name:9} {row.size[0]}x{row.size[1]}: {rate:9,.0f} B/s "
                      f"over {args.seconds:.0f} s ({total:,} bytes in all)", flush=True)
            if "logs" in wanted:
                rate, total = measure(docker_cli, args.seconds, args.settle, env)
                print(f"docker service logs -f, same tmux setup: {rate:9,.0f} B/s; "
                      f"the pane is {results['logs'] / max(rate, 1):.1f}x that", flush=True)
        finally:
            tmux("kill-server", check=False)
            docker(host, "service", "rm", IDLE_NAME, CHATTY_NAME)


if __name__ == "__main__":
    main()
