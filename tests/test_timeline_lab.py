"""The updates screen against the real swarm lab (Docker 20.10): what it shows is what the
engine did, as ``docker service ps`` / ``docker inspect`` report it afterwards.

* 4 replicas, parallelism 1, delay 5 s, updated to the second image: 4 slots replaced one at
  a time, in the CLI's order and at its times (within a second), 5 s apart; then a rollback.
* New tasks that fail (exit 3), failure action ``pause`` and ``rollback``: the state, the
  engine's message, the failing task's error and exit code (and its last log line).

The app runs headless through its real engine layer (LiveSwarm, the 200 ms update polling).
Monitor periods are short (1 s; 4 s where a failure must be caught) to keep the file short.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from swarmlab import Lab

from swarmtui.app import SwarmApp
from swarmtui.engine.target import EngineTarget
from swarmtui.model.dockerfmt import parse_time_ns
from swarmtui.model.timeline import COMPLETED, PAUSED, ROLLED_BACK, UpdateTimeline
from swarmtui.model.times import NS_PER_S
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings
from swarmtui.shot import render_screen

pytestmark = pytest.mark.lab

LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
FAILING = "echo boom-from-the-new-version >&2; sleep 1; exit 3"
SECOND = NS_PER_S


def create(lab: Lab, name: str, replicas: int, *flags: str, monitor: str = "1s") -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name,
               "--replicas", str(replicas), "--update-parallelism", "1",
               "--update-monitor", monitor, "--rollback-parallelism", "1",
               "--rollback-monitor", "1s", *flags, "busybox:lab", "sh", "-c", LOOP)


def updates_app(lab: Lab) -> SwarmApp:
    runtime = build_runtime(Settings(), EngineTarget(lab.manager_host, "test"))
    return SwarmApp(runtime, start_mode="updates")


async def wait_running(app: SwarmApp, name: str, replicas: int) -> None:
    await app.runtime.live.wait_full_state(30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        svc = app.runtime.live.store.state.service_by_name(name)
        if svc is not None and svc.running == replicas:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{name}: {replicas} tasks not running in 60 s")


async def wait_timeline(app: SwarmApp, name: str, done: Callable[[UpdateTimeline], bool],
                        timeout: float, seen: list[str] | None = None) -> UpdateTimeline:
    """Wait for the service's latest timeline to satisfy ``done``; ``seen`` collects the
    phases shown meanwhile."""
    deadline = time.monotonic() + timeout
    latest = None
    while time.monotonic() < deadline:
        svc = app.runtime.live.store.state.service_by_name(name)
        latest = app.runtime.updates.history.latest(svc.id) if svc else None
        if latest is not None:
            if seen is not None and (not seen or seen[-1] != latest.phase):
                seen.append(latest.phase)
            if done(latest):
                return latest
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name}: timeline not reached in {timeout} s (phases: {seen}; "
                         f"latest: {latest})")


def cli_tasks(lab: Lab, name: str) -> list[dict[str, Any]]:
    """Every task of the service as the CLI reports it: ``docker service ps`` for the IDs,
    ``docker inspect`` for their exact times."""
    ids = lab.docker("service", "ps", "-q", "--no-trunc", name).stdout.split()
    out = json.loads(lab.docker("inspect", *ids).stdout)
    return out  # type: ignore[no-any-return]


def near(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= SECOND


async def test_four_slots_one_at_a_time_as_the_cli_reports_then_a_rollback(swarm: Lab) -> None:
    name = "tl-four"
    create(swarm, name, 4, "--update-delay", "5s")
    app = updates_app(swarm)
    async with app.run_test(headless=True, size=(200, 60)) as pilot:
        await wait_running(app, name, 4)
        swarm.docker("service", "update", "--detach", "--no-resolve-image", "--image",
                     "busybox:lab2", name)
        phases: list[str] = []
        tl = await wait_timeline(app, name, lambda t: t.outcome == COMPLETED and t.kind ==
                                 "update" and t.updated == 4, 90, phases)
        await pilot.pause()
        shown = render_screen(app, as_svg=False)
        assert f"{name}  update  busybox:lab → busybox:lab2" in shown
        assert "completed: 4 of 4 updated in " in shown
        assert any("waiting out the 5 s delay" in p for p in phases), phases

        # The CLI's account, afterwards: per slot the new task (lab2) and the one it replaced.
        tasks = cli_tasks(swarm, name)
        new = {t["Slot"]: t for t in tasks
               if t["Spec"]["ContainerSpec"]["Image"].startswith("busybox:lab2")}
        old = {t["Slot"]: t for t in tasks
               if not t["Spec"]["ContainerSpec"]["Image"].startswith("busybox:lab2")}
        assert sorted(new) == [1, 2, 3, 4] == sorted(old)
        cli_order = sorted(new, key=lambda s: parse_time_ns(new[s]["CreatedAt"]) or 0)
        assert [int(b.slots[0]) for b in tl.batches] == cli_order
        assert [len(b.slots) for b in tl.batches] == [1, 1, 1, 1]  # one at a time
        for row in tl.rows:
            assert row.new is not None and row.old is not None
            assert row.new.id == new[row.slot]["ID"] and row.old.id == old[row.slot]["ID"]
            assert near(row.new.created_ns, parse_time_ns(new[row.slot]["CreatedAt"]))
            assert near(row.old.ended_ns, parse_time_ns(old[row.slot]["Status"]["Timestamp"]))
        for before, after in zip(tl.batches, tl.batches[1:], strict=False):
            assert before.ended_ns is not None and after.started_ns is not None
            assert after.started_ns - before.ended_ns >= 4.5 * SECOND  # the 5 s delay

        # A rollback is shown as one, with the update it undid kept.
        swarm.docker("service", "rollback", "--detach", name)
        back = await wait_timeline(app, name, lambda t: t.state == "rollback_completed", 90)
        assert back.kind == "rollback" and back.image_to == "busybox:lab"
        await pilot.pause()
        shown = render_screen(app, as_svg=False)
        assert f"{name}  rollback  busybox:lab2 → busybox:lab" in shown
        assert "rolled back: 4 of 4 on the previous spec" in shown
        assert "earlier: update busybox:lab → busybox:lab2" in shown


@pytest.mark.parametrize("action", ["pause", "rollback"])
async def test_failing_update_shows_state_message_error_and_exit_code(
        swarm: Lab, action: str) -> None:
    name = f"tl-{action}"
    # A new task runs ~1 s before it fails: the monitor period must outlast that, or the
    # engine counts it healthy and says "completed" (the timeline then says failed).
    create(swarm, name, 2, "--update-failure-action", action, monitor="4s")
    app = updates_app(swarm)
    async with app.run_test(headless=True, size=(200, 60)) as pilot:
        await wait_running(app, name, 2)
        swarm.docker("service", "update", "--detach", "--no-resolve-image", "--image",
                     "busybox:lab2", "--args", f"sh -c '{FAILING}'", name)
        want = PAUSED if action == "pause" else ROLLED_BACK
        tl = await wait_timeline(app, name, lambda t: t.outcome == want
                                 and t.stopped_because is not None, 90)
        cause = tl.stopped_because
        assert cause is not None and cause.found and cause.exit_code == 3
        # The engine's own words, as docker service inspect reports them.
        status = json.loads(swarm.docker("service", "inspect", name).stdout)[0]["UpdateStatus"]
        assert cause.task_id in status["Message"] or action == "rollback"
        for _ in range(30):  # the failing task's last log lines come from a worker
            await pilot.pause(0.1)
            shown = render_screen(app, as_svg=False)
            if "boom-from-the-new-version" in shown:
                break
        assert f"state {status['State']}" in shown
        assert f"engine: {status['Message']}"[:150] in " ".join(shown.split())
        verb = "stopped" if action == "pause" else "rolled back"
        assert f"✗ {verb} because task {cause.task_id[:12]}" in shown
        assert "failed: non-zero exit (3) · exit code 3" in shown
        assert "│ boom-from-the-new-version" in shown
        if action == "pause":
            assert "PAUSED" in shown and "next: R roll back to busybox:lab" in shown
        else:
            assert "ROLLED BACK" in shown
