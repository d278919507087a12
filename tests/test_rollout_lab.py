"""``swarmtui rollout status`` against the real swarm lab (Docker 20.10): a healthy update
exits 0, one whose new tasks fail exits 1 with failure action pause and with rollback,
``--timeout`` exits 124, and a stack updated by a second ``docker stack deploy`` exits 0 once
both services rolled out. Every run is ``--read-only`` through a counting proxy: GETs only.

Kept short (2-3 replicas, parallelism 1, delay 1 s, monitor 2 s) so the file runs in well
under two minutes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from counting_proxy import CountingProxy
from swarmlab import Lab

pytestmark = pytest.mark.lab

LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
FAST = ["--update-parallelism", "1", "--update-delay", "1s", "--update-monitor", "2s"]


def rollout(lab: Lab, *words: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``swarmtui --read-only rollout status`` through a counting proxy (only GETs sent)."""
    with CountingProxy(lab.manager.sock) as proxy:
        proc = subprocess.run(
            [sys.executable, "-m", "swarmtui", "-H", proxy.url, "--read-only",
             "rollout", "status", *words],
            capture_output=True, text=True, timeout=timeout, env=lab.docker_env())
        assert proxy.mutating() == []
        assert proxy.seen(), "the command talked to the engine"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout.rstrip("\n").splitlines()[-1]


def create(lab: Lab, name: str, replicas: int, *flags: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name,
               "--replicas", str(replicas), *FAST, *flags, "busybox:lab", "sh", "-c", LOOP)
    first = rollout(lab, name)  # a first deploy: waits until its tasks run
    assert first.returncode == 0, first.stdout + first.stderr
    assert last_line(first) == f"rolled out: {name} (no update)"


def update(lab: Lab, name: str, *flags: str) -> None:
    lab.docker("service", "update", "--detach", "--no-resolve-image", "--image", "busybox:lab2",
               *flags, name)


def test_healthy_update_exits_0(swarm: Lab) -> None:
    create(swarm, "ro-ok", 3)
    update(swarm, "ro-ok")
    proc = rollout(swarm, "ro-ok")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert last_line(proc).startswith("rolled out: ro-ok (update completed, 3 of 3 updated in ")
    progress = proc.stdout.split("\n\n")[0].splitlines()
    assert any(p.startswith("ro-ok: batch 3 of 3") for p in progress), progress
    assert "update of ro-ok: busybox:lab -> busybox:lab2" in proc.stdout
    assert "state: completed  outcome: completed  3 of 3 updated" in proc.stdout
    assert "\x1b[" not in proc.stdout  # not a terminal: no colour
    # Nothing in flight any more: the last update is reported at once.
    again = rollout(swarm, "ro-ok")
    assert again.returncode == 0 and last_line(again) == last_line(proc)


@pytest.mark.parametrize("action", ["pause", "rollback"])
def test_failing_update_exits_1(swarm: Lab, action: str) -> None:
    name = f"ro-{action}"
    create(swarm, name, 2, "--update-failure-action", action)
    update(swarm, name, "--args", "sh -c 'sleep 1; exit 3'")
    proc = rollout(swarm, name)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = last_line(proc)
    if action == "pause":
        # Slot 1 may run its 1 s before failing: the updater is at batch 2 by then.
        assert re.match(rf"rollout failed: {name}: update paused at batch [12] of 2: task ", last)
        assert "update of ro-pause: busybox:lab -> busybox:lab2" in proc.stdout
    else:
        assert last.startswith(f"rollout failed: {name}: rolled back to busybox:lab: task ")
        assert "rollback of ro-rollback: busybox:lab2 -> busybox:lab" in proc.stdout
    assert last.endswith(" failed (non-zero exit (3))"), last


def test_timeout_exits_124(swarm: Lab) -> None:
    create(swarm, "ro-slow", 2)
    update(swarm, "ro-slow", "--update-delay", "20s")
    started = time.monotonic()
    proc = rollout(swarm, "--timeout", "2", "ro-slow")
    assert time.monotonic() - started < 10
    assert proc.returncode == 124, proc.stdout + proc.stderr
    assert last_line(proc).startswith("timed out after 2 s waiting for ro-slow: ")


STACK = """\
version: "3.8"
x-deploy: &deploy
  replicas: 2
  update_config: {{parallelism: 1, delay: 1s, monitor: 2s}}
services:
  web:
    image: {image}
    command: ["sh", "-c", "{loop}"]
    deploy: *deploy
  api:
    image: {image}
    command: ["sh", "-c", "{loop}"]
    deploy: *deploy
"""


def test_stack_deploy_then_rollout_status_exits_0(swarm: Lab, tmp_path: Path) -> None:
    compose = tmp_path / "stack.yml"

    def deploy(image: str) -> None:
        compose.write_text(STACK.format(image=image, loop=LOOP.replace("$", "$$")))
        swarm.docker("stack", "deploy", "-c", str(compose), "--resolve-image", "never", "rost")

    deploy("busybox:lab")
    first = rollout(swarm, "rost")
    assert first.returncode == 0, first.stdout + first.stderr
    assert last_line(first) == "rolled out: rost_api (no update), rost_web (no update)"
    # The second deploy returns before the engine started either update: the command waits
    # for them to start (the tasks are dirty), then for both to complete.
    deploy("busybox:lab2")
    proc = rollout(swarm, "rost")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = last_line(proc)
    assert last.startswith("rolled out: rost_api (update completed, 2 of 2 updated in "), last
    assert "rost_web (update completed, 2 of 2 updated in " in last
    for svc in ("rost_api", "rost_web"):
        assert f"update of {svc}: busybox:lab -> busybox:lab2" in proc.stdout
