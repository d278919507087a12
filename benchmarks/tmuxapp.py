"""Drive the real app in a terminal: a private tmux server, the app in a detached session of
a given size, the pane read every few milliseconds with timestamps, keys sent, text waited
for. Imported by the benchmarks beside it (their folder is on sys.path).

One tmux *control-mode* client carries every command (capture-pane, send-keys, new-session),
so sampling every 10 ms costs one round trip on an open pipe, not a tmux process per sample
(a fork+exec per sample would take a good part of one of the machine's 2 cores).

    with Tmux() as tmux:
        app = tmux.app(["-H", host], size=(160, 50))    # python -m swarmtui -H host
        shot = app.wait_for(lambda text: "lab-node1" in text, timeout=20)
        with app.sampling(0.01) as samples:             # background capture every 10 ms
            ...                                          # change something
        first = samples.first(lambda text: "4/4" in text, after=t0)
        app.quit()

Times are ``time.time()`` seconds (wall clock), so they compare with the engine's own
timestamps and with readers in other threads of the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class TmuxError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Shot:
    """The pane's text and when it was read (wall seconds, taken when the reply arrived)."""

    t: float
    text: str


class Tmux:
    """A private tmux server (its own socket, killed on close) and one control client."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"swarmtui-bench-{os.getpid()}"
        self._lock = threading.Lock()
        # A holder session keeps the server up and gives the control client something to
        # attach to; apps get sessions of their own.
        subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", "new-session", "-d", "-s",
                        "_holder", "-x", "80", "-y", "24", "sleep 86400"], check=True)
        self._proc = subprocess.Popen(["tmux", "-L", self.name, "-C", "attach", "-t", "_holder"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      bufsize=1)
        self._read_block("attach")  # the attach command's own (empty) reply comes first
        # Pane output notifications would flood the pipe while an app draws; it sets no size.
        self.command("refresh-client", "-f", "no-output")

    def command(self, *args: str) -> list[str]:
        """Run one tmux command over the control client; its output lines."""
        line = " ".join(_quote(a) for a in args)
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
            return self._read_block(line)

    def _read_block(self, line: str) -> list[str]:
        assert self._proc.stdout is not None
        out: list[str] = []
        inside = False
        for raw in self._proc.stdout:
            text = raw.rstrip("\n")
            if not inside:
                inside = text.startswith("%begin ")  # anything else is a notification
                continue
            if text.startswith(("%end ", "%error ")):
                if text.startswith("%error "):
                    raise TmuxError(f"tmux {line}: {' '.join(out)}")
                return out
            out.append(text)
        raise TmuxError(f"tmux control client ended during: {line}")

    def app(self, args: list[str], size: tuple[int, int] = (160, 50),
            env: dict[str, str] | None = None, session: str = "app",
            root: Path = ROOT) -> TmuxApp:
        """Start ``python -m swarmtui ARGS`` from this checkout (or the one at ``root``, e.g. a
        ``git worktree`` of main to measure before/after in one run) in a new session."""
        return TmuxApp(self, [sys.executable, "-m", "swarmtui", *args], size, env, session,
                       root)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run(["tmux", "-L", self.name, "kill-server"], timeout=10,
                           capture_output=True)
        with contextlib.suppress(Exception):
            self._proc.wait(timeout=5)

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _quote(arg: str) -> str:
    """tmux's command parser: single quotes, with ' spelled '\\''."""
    if arg and all(c.isalnum() or c in "-_./:=,@%+" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


class TmuxApp:
    """A command running in its own tmux session; its pane read, its keys sent."""

    def __init__(self, tmux: Tmux, argv: list[str], size: tuple[int, int],
                 env: dict[str, str] | None, session: str, root: Path = ROOT) -> None:
        self.tmux = tmux
        self.session = session
        self.target = f"{session}:0.0"
        # An empty config folder: no engines.toml of the machine's user changes the run.
        self._config = tempfile.TemporaryDirectory(prefix="swarmtui-bench-")
        base = {"XDG_CONFIG_HOME": self._config.name, "PYTHONPATH": str(root),
                "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        merged = {**base, **(env or {})}
        env_args = [a for k, v in merged.items() for a in ("-e", f"{k}={v}")]
        width, height = size
        command = " ".join(shlex.quote(a) for a in argv)
        # The pane stays after the app exits, so its last screen (a traceback) can be read.
        self.started = time.time()
        tmux.command("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height),
                     "-c", str(root), *env_args, command)
        tmux.command("set-option", "-t", session, "remain-on-exit", "on")
        self.pid = int(tmux.command("display-message", "-p", "-t", self.target,
                                    "#{pane_pid}")[0])

    def capture(self) -> Shot:
        lines = self.tmux.command("capture-pane", "-p", "-t", self.target)
        return Shot(time.time(), "\n".join(lines))

    def send_keys(self, *keys: str, literal: bool = False) -> float:
        """tmux key names (``Enter``, ``Escape``, ``1``); the wall time they were sent."""
        sent = time.time()
        self.tmux.command("send-keys", "-t", self.target, *(["-l"] if literal else []), *keys)
        return sent

    def dead(self) -> bool:
        return self.tmux.command("display-message", "-p", "-t", self.target,
                                 "#{pane_dead}")[0] == "1"

    def wait_for(self, seen: Callable[[str], bool], timeout: float = 30.0,
                 period: float = 0.01) -> Shot:
        """Read the pane every ``period`` until ``seen(text)``; that shot."""
        deadline = time.monotonic() + timeout
        while True:
            shot = self.capture()
            if seen(shot.text):
                return shot
            if time.monotonic() > deadline or self.dead():
                raise TmuxError(f"not seen within {timeout:g}s; the pane shows:\n{shot.text}")
            time.sleep(period)

    @contextlib.contextmanager
    def sampling(self, period: float = 0.01) -> Iterator[Samples]:
        """Capture in a background thread every ``period`` while the block runs."""
        samples = Samples()
        samples.began = time.time()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                begun = time.monotonic()
                samples.add(self.capture())
                stop.wait(max(0.0, period - (time.monotonic() - begun)))

        thread = threading.Thread(target=loop, name="tmux-sampler", daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            stop.set()
            thread.join()
            samples.ended = time.time()

    def quit(self, key: str = "q", timeout: float = 10.0) -> None:
        """Press ``key`` and wait for the process to end; the session is removed anyway."""
        with contextlib.suppress(TmuxError):
            self.send_keys(key)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not self.dead():
                time.sleep(0.05)
        with contextlib.suppress(TmuxError):
            self.tmux.command("kill-session", "-t", self.session)
        self._config.cleanup()


class Samples:
    """Timestamped pane texts (only the shots whose text changed are kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.shots: list[Shot] = []
        self.count = 0  # every capture, kept or not: the real sampling rate
        self.began = self.ended = 0.0
        self._cond = threading.Condition(self._lock)

    def add(self, shot: Shot) -> None:
        with self._cond:
            self.count += 1
            if not self.shots or self.shots[-1].text != shot.text:
                self.shots.append(shot)
            self._cond.notify_all()

    def period_ms(self) -> float:
        """The mean time between captures actually achieved (a loaded machine lags)."""
        end = self.ended or time.time()
        return (end - self.began) * 1000 / max(1, self.count)

    def first(self, seen: Callable[[str], bool], after: float = 0.0) -> Shot | None:
        """The first shot taken at or after ``after`` whose text satisfies ``seen``."""
        with self._lock:
            shots = list(self.shots)
        for shot in shots:
            if shot.t >= after and seen(shot.text):
                return shot
        return None

    def wait(self, seen: Callable[[str], bool], after: float = 0.0,
             timeout: float = 30.0) -> Shot | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hit = next((s for s in self.shots if s.t >= after and seen(s.text)), None)
                left = deadline - time.monotonic()
                if hit is not None or left <= 0:
                    return hit
                self._cond.wait(left)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(label: str, ms: list[float], unit: str = "ms") -> str:
    if not ms:
        return f"{label}: none"
    return (f"{label}: median {statistics.median(ms):.0f} {unit}, p95 {pct(ms, 0.95):.0f} "
            f"{unit}, max {max(ms):.0f} {unit} (n={len(ms)})")
