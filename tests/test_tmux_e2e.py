"""The real app, end to end, in a real terminal (tmux) against the swarm lab: start, every
registered view by its key, following a service's logs, a rolling update's timeline, quit.
Each step is checked on ``tmux capture-pane -p`` (what a user sees), and the process must
exit 0. Needs tmux (in scripts/test's packages)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_plugin import wait_until
from swarmlab import Lab

from swarmtui.views import default_views

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
]

ROOT = Path(__file__).resolve().parent.parent
SOCKET = "swarmtui-e2e"  # a tmux server of its own
SESSION = "e2e"
CHATTY = ("trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo \"e2e line $i\"; "
          "sleep 0.2; done")
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args], check=True,
                          capture_output=True, text=True, timeout=30).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_screen(text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while text not in (shown := screen()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {text!r} on screen; "
                        f"it shows:\n{shown}")
        time.sleep(0.3)
    return shown


def press(*keys: str) -> None:
    tmux("send-keys", "-t", SESSION, *keys)


def tmux_key(key: str) -> str:
    """A view key as tmux names it (``f2`` -> ``F2``)."""
    return key.upper() if len(key) > 1 and key[0] == "f" else key


@pytest.fixture
def app_in_tmux(swarm: Lab) -> Iterator[Lab]:
    env = {"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "swarmtui", "-H", swarm.manager_host]
    command = " ".join(shlex.quote(a) for a in argv)
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "45",
         *(a for k, v in env.items() for a in ("-e", f"{k}={v}")), f"sleep 0.3; exec {command}")
    tmux("set-option", "-t", SESSION, "remain-on-exit", "on")
    tmux("set-option", "-t", SESSION, "status", "off")
    try:
        yield swarm
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True, timeout=30)


def test_every_view_logs_an_update_timeline_and_quit(app_in_tmux: Lab) -> None:
    lab = app_in_tmux
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", "e2e-chatty",
               "busybox:lab", "sh", "-c", CHATTY)
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", "e2e-web",
               "--replicas", "2", "--update-delay", "1s", "busybox:lab", "sh", "-c", LOOP)
    wait_screen("e2e-web", 60)
    assert "swarmtui · grid" in screen()

    for spec in default_views():
        press(tmux_key(spec.key))
        wait_screen(f"swarmtui · {spec.name}")

    # Logs: follow one service, its lines arrive.
    press("3")
    wait_screen("swarmtui · logs")
    press("f")
    time.sleep(0.5)
    press("e2e-chatty", "Enter")
    shown = wait_screen("| e2e line", 60)
    assert "following" in shown and "e2e-chatty" in shown

    # A rolling update, on the updates view as a timeline.
    lab.docker("service", "update", "--detach", "--no-resolve-image", "--image",
               "busybox:lab2", "e2e-web")
    press("5")
    shown = wait_screen("e2e-web  update  busybox:lab → busybox:lab2", 60)
    wait_screen("completed: 2 of 2 updated in ", 90)

    press("q")
    # tmux marks a pane dead when its terminal closes, and fills in the exit
    # status only once it has reaped the process, a moment later: wait for that.
    def exit_status() -> str | None:
        dead, status, signal = tmux(
            "display-message", "-p", "-t", SESSION,
            "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}").strip().split("|")
        if dead != "1" or not (status or signal):
            return None
        return status or f"killed by signal {signal}"
    status = wait_until(exit_status, 30, "the app to exit")
    shown = tmux("capture-pane", "-p", "-S", "-200", "-t", SESSION)
    assert status == "0", f"exit status {status!r}:\n{shown}"
