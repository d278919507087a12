"""Rolling updates on the simulator replay the lab's recordings (tests/fixtures/engine/v1.41/
update_*/, see update_README.md there): the same update — 4 replicas, parallelism 1, 5 s delay,
monitor 5 s, stop-first, busybox:lab -> busybox:lab2 — run on the sim's virtual clock, polled
like tests/tools/record_updates.py polls the lab, reaches the verdicts swarmtui.model.timeline
reaches on the recordings, with the recordings' JSON shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_sim import assert_shape, until

from swarmtui.model.parse import parse_service, parse_tasks
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import (
    COMPLETED,
    PAUSED,
    ROLLED_BACK,
    SLOT_FAILED,
    UNCHANGED,
    UPDATED,
    WAITING,
    UpdateHistory,
    UpdateTimeline,
    render_timeline_text,
    rollout_exit_status,
    timeline_for,
)
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import DEFAULT_START_NS, cli_service
from swarmtui.sim.util import NS, SimError

pytestmark = pytest.mark.timeout(120)
FIXTURES = Path(__file__).parent / "fixtures" / "engine" / "v1.41"
FAILING_ARGS = ["sh", "-c", "sleep 1; exit 3"]

Snapshot = tuple[int, dict[str, Any], list[dict[str, Any]]]


def _lab_like(seed: int = 3) -> SimCluster:
    c = SimCluster(seed, DEFAULT_START_NS)
    for name in ("lab-node1", "lab-node2", "lab-node3"):
        c.add_node(name, "manager")
    c.advance(1)
    return c


def _create(c: SimCluster, name: str, failure_action: str = "pause") -> str:
    """What `docker service create --replicas 4 --update-parallelism 1 --update-delay 5s
    [--update-failure-action X] busybox:lab` sends."""
    spec = cli_service(name, "busybox:lab", 4)
    spec["UpdateConfig"] = {"Parallelism": 1, "Delay": 5 * NS, "FailureAction": failure_action,
                            "Monitor": 5 * NS, "MaxFailureRatio": 0, "Order": "stop-first"}
    sid = str(c.create_service(spec)["ID"])
    until(c, lambda: sum(t["Status"]["State"] == "running"
                         for t in c.tasks_json({"service": [sid]})) == 4)
    return sid


def _record(c: SimCluster, sid: str, args: list[str] | None, stop: set[str],
            limit_s: float = 120) -> list[Snapshot]:
    """Update to busybox:lab2 (and ``args``), then poll every 0.5 s like the recorder."""
    svc = c.service_json(sid)
    spec = svc["Spec"]
    spec["TaskTemplate"]["ContainerSpec"]["Image"] = "busybox:lab2"
    if args:
        spec["TaskTemplate"]["ContainerSpec"]["Args"] = args
    c.update_service(sid, svc["Version"]["Index"], spec)
    out: list[Snapshot] = []
    for _ in range(int(limit_s / 0.5)):
        c.advance(0.5)
        svc = c.service_json(sid)
        out.append((c.now_ns, svc, c.tasks_json({"service": [sid]})))
        if (svc.get("UpdateStatus") or {}).get("State") in stop:
            return out
    raise AssertionError(f"update never reached {stop}")


def _replay(snaps: list[Snapshot]) -> list[UpdateTimeline | None]:
    prev: UpdateTimeline | None = None
    out: list[UpdateTimeline | None] = []
    for now, svc, tasks in snaps:
        prev = timeline_for(parse_service(svc), parse_tasks(tasks), now, prev)
        out.append(prev)
    return out


def _recorded(scenario: str) -> tuple[list[Any], list[Any]]:
    services, tasks = [], []
    for f in sorted((FIXTURES / f"update_{scenario}").glob("[0-9]*.json")):
        doc = json.loads(f.read_text())
        services.append(doc["service"])
        tasks.extend(doc["tasks"])
    return services, tasks


def _assert_recorded_shapes(scenario: str, snaps: list[Snapshot]) -> None:
    services, tasks = _recorded(scenario)
    assert_shape(services, [s for _, s, _ in snaps])
    assert_shape(tasks, [t for _, _, ts in snaps for t in ts])


def _secs(phase: str) -> float:
    m = re.search(r"in ([\d.]+) s$", phase)
    assert m, phase
    return float(m.group(1))


def test_update_completes_one_slot_per_batch_like_the_lab() -> None:
    c = _lab_like()
    sid = _create(c, "tl-ok")
    snaps = _record(c, sid, None, {"completed"})
    _assert_recorded_shapes("ok", snaps)
    timelines = _replay(snaps)
    tl = timelines[-1]
    assert tl is not None
    assert (tl.kind, tl.state, tl.outcome) == ("update", "completed", COMPLETED)
    assert (tl.updated, tl.total) == (4, 4)
    assert (tl.image_from, tl.image_to) == ("busybox:lab", "busybox:lab2")
    assert all(r.status == UPDATED and r.attempts == 1 for r in tl.rows)
    for r in tl.rows:
        assert r.old is not None and r.new is not None
        assert (r.old.image, r.old.state, r.old.desired_state) == (
            "busybox:lab", "shutdown", "shutdown")
    # One slot per batch, every slot once, the next batch only after the 5 s delay.
    assert sorted(s for b in tl.batches for s in b.slots) == ["1", "2", "3", "4"]
    assert [(len(b.slots), b.index, b.of) for b in tl.batches] == [(1, i, 4) for i in (1, 2, 3, 4)]
    for earlier, later in zip(tl.batches, tl.batches[1:], strict=False):
        assert earlier.ended_ns is not None and later.started_ns is not None
        assert later.started_ns - earlier.ended_ns >= 5 * NS
    # The lab took 34 s: 4 x (start + 5 s delay) + the 5 s monitor after the last batch.
    assert tl.phase.startswith("completed: 4 of 4 updated in ")
    assert 28 <= _secs(tl.phase) <= 40
    assert rollout_exit_status(tl) == 0
    phases = [t.phase for t in timelines if t is not None]
    assert any(re.fullmatch(r"batch 1 of 4: slot \d stopping the old task", p) for p in phases)
    assert "batch 1 of 4, waiting out the 5 s delay" in phases
    assert "batch 4 of 4, waiting out the 5 s delay" in phases
    status = snaps[-1][1]["UpdateStatus"]
    assert status["Message"] == "update completed"
    assert status["StartedAt"] < status["CompletedAt"]
    prev_image = snaps[-1][1]["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert prev_image == "busybox:lab"


def test_failing_update_pauses_naming_the_task_and_its_exit_code() -> None:
    c = _lab_like()
    sid = _create(c, "tl-pause")
    snaps = _record(c, sid, FAILING_ARGS, {"paused"})
    c.advance(1)  # the restart policy's retry gets going, as on the lab's last snapshot
    snaps.append((c.now_ns, c.service_json(sid), c.tasks_json({"service": [sid]})))
    _assert_recorded_shapes("pause", snaps)
    tl = _replay(snaps)[-1]
    assert tl is not None
    assert (tl.state, tl.outcome) == ("paused", PAUSED)
    cause = tl.stopped_because
    assert cause is not None and cause.found
    assert (cause.state, cause.exit_code, cause.err) == ("failed", 3, "task: non-zero exit (3)")
    assert tl.engine_message == (
        f"update paused due to failure or early termination of task {cause.task_id}")
    assert re.fullmatch(r"update paused at batch 1 of 4: task [a-z0-9]{12} failed "
                        r"\(non-zero exit \(3\)\)", tl.phase)
    failed = next(r for r in tl.rows if r.slot == cause.slot)
    assert failed.status == SLOT_FAILED and failed.attempts == 2  # the restart policy retries
    assert failed.failed_attempt is not None and failed.failed_attempt.exit_code == 3
    assert [r.status for r in tl.rows if r is not failed] == [WAITING] * 3
    assert rollout_exit_status(tl) == 1
    text = render_timeline_text(tl, snaps[-1][0])
    assert "failed: non-zero exit (3)" in text


def test_failing_update_rolls_back_like_the_lab() -> None:
    c = _lab_like()
    sid = _create(c, "tl-rollback", failure_action="rollback")
    snaps = _record(c, sid, FAILING_ARGS, {"rollback_completed", "rollback_paused"})
    _assert_recorded_shapes("rollback", snaps)
    states = [s["UpdateStatus"]["State"] for _, s, _ in snaps]
    assert states[0] == "updating" and states[-1] == "rollback_completed"
    assert "rollback_started" in states
    started = next(s for _, s, _ in snaps if s["UpdateStatus"]["State"] == "rollback_started")
    assert "PreviousSpec" not in started
    assert started["UpdateStatus"]["StartedAt"] == snaps[0][1]["UpdateStatus"]["StartedAt"]
    assert started["UpdateStatus"]["Message"].startswith(
        "update rolled back due to failure or early termination of task ")
    timelines = _replay(snaps)
    tl = timelines[-1]
    assert tl is not None
    assert (tl.kind, tl.state, tl.outcome) == ("rollback", "rollback_completed", ROLLED_BACK)
    assert (tl.image_from, tl.image_to) == ("busybox:lab2", "busybox:lab")
    (bad,) = [r for r in tl.rows if r.status != UNCHANGED]
    assert bad.status == UPDATED and [b.slots for b in tl.batches] == [(str(bad.slot),)]
    assert (tl.updated, tl.total) == (4, 4)
    cause = tl.stopped_because
    assert cause is not None and cause.exit_code == 3 and cause.slot == bad.slot
    assert tl.phase.startswith("rolled back: 4 of 4 on the previous spec in ")
    assert 4 <= _secs(tl.phase) <= 9  # 5.6 s on the lab: start + the 5 s monitor
    assert rollout_exit_status(tl) == 1
    history = UpdateHistory()
    for now, svc, tasks in snaps:
        parsed = parse_service(svc)
        history = history.observe(ClusterState(
            services={parsed.id: parsed}, tasks={t.id: t for t in parse_tasks(tasks)}), now)
    assert [(e.kind, e.outcome) for e in history.of(sid)] == [
        ("update", ROLLED_BACK), ("rollback", ROLLED_BACK)]


def test_same_seed_same_update() -> None:
    def run() -> list[Snapshot]:
        c = _lab_like(seed=11)
        return _record(c, _create(c, "tl"), FAILING_ARGS, {"paused"})

    assert run() == run()


def test_manual_rollback_swaps_specs_and_stale_version_is_refused() -> None:
    c = _lab_like()
    sid = _create(c, "tl-manual")
    _record(c, sid, None, {"completed"})
    svc = c.service_json(sid)
    with pytest.raises(SimError) as err:
        c.update_service(sid, svc["Version"]["Index"] - 1, svc["Spec"])
    assert (err.value.status, err.value.message) == (
        500, "rpc error: code = Unknown desc = update out of sequence")
    c.update_service(sid, svc["Version"]["Index"], svc["Spec"], rollback="previous")
    svc = c.service_json(sid)
    assert svc["UpdateStatus"]["State"] == "rollback_started"
    assert svc["UpdateStatus"]["Message"] == "manually requested rollback"
    assert svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab2"
    until(c, lambda: c.service_json(sid)["UpdateStatus"]["State"] == "rollback_completed")
    status = c.service_json(sid)["UpdateStatus"]
    assert status["Message"] == "rollback completed" and "CompletedAt" in status
    running = c.tasks_json({"service": [sid], "desired-state": ["running"]})
    assert {t["Spec"]["ContainerSpec"]["Image"] for t in running} == {"busybox:lab"}


@pytest.mark.parametrize(("action", "word"), [("pause", "update"), ("rollback", "rollback")])
def test_a_failing_rollback_pauses_in_the_engines_words(action: str, word: str) -> None:
    # swarmkit: a rollback's failure with RollbackConfig pause says "update paused ...";
    # with rollback ("never roll back a rollback") it says "rollback paused ...".
    c = _lab_like()
    spec = cli_service("tl-back", "busybox:lab", 2, args=FAILING_ARGS)
    spec["RollbackConfig"] = {"Parallelism": 1, "Delay": 0, "FailureAction": action,
                              "Monitor": 5 * NS, "MaxFailureRatio": 0, "Order": "stop-first"}
    sid = str(c.create_service(spec)["ID"])
    c.advance(5)
    svc = c.service_json(sid)
    good = svc["Spec"]
    good["TaskTemplate"]["ContainerSpec"]["Args"] = ["sleep", "3600"]
    c.update_service(sid, svc["Version"]["Index"], good)
    until(c, lambda: c.service_json(sid)["UpdateStatus"]["State"] == "completed")
    c.rollback_service(sid)
    until(c, lambda: c.service_json(sid)["UpdateStatus"]["State"] != "rollback_started")
    status = c.service_json(sid)["UpdateStatus"]
    assert status["State"] == "rollback_paused"
    assert re.fullmatch(f"{word} paused due to failure or early termination of task "
                        r"[a-z0-9]{25}", status["Message"])
