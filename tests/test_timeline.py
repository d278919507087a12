"""The rolling-update timeline, from real engine JSON recorded on the lab
(tests/tools/record_updates.py -> tests/fixtures/engine/v1.41/update_*/)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from swarmtui.model.parse import parse_nodes, parse_service, parse_tasks
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    PAUSED,
    ROLLED_BACK,
    SLOT_FAILED,
    STALLED,
    UNCHANGED,
    UPDATED,
    WAITING,
    UpdateHistory,
    UpdateTimeline,
    render_timeline_text,
    rollout_exit_status,
    timeline_for,
)
from swarmtui.model.times import NS_PER_S
from swarmtui.model.types import Service, Task

FIXTURES = Path(__file__).parent / "fixtures" / "engine" / "v1.41"


def _snapshots(scenario: str) -> list[tuple[int, Service, list[Task]]]:
    out = []
    for f in sorted((FIXTURES / f"update_{scenario}").glob("[0-9]*.json")):
        doc: dict[str, Any] = json.loads(f.read_text())
        out.append((doc["now_ns"], parse_service(doc["service"]), parse_tasks(doc["tasks"])))
    return out


def _node_names(scenario: str) -> dict[str, str]:
    raw = json.loads((FIXTURES / f"update_{scenario}" / "nodes.json").read_text())
    return {n.id: n.name for n in parse_nodes(raw)}


def _replay(scenario: str) -> list[UpdateTimeline | None]:
    prev: UpdateTimeline | None = None
    out: list[UpdateTimeline | None] = []
    for now, svc, tasks in _snapshots(scenario):
        prev = timeline_for(svc, tasks, now, prev)
        out.append(prev)
    return out


def _at(scenario: str, i: int, later_s: float = 0) -> UpdateTimeline:
    now, svc, tasks = _snapshots(scenario)[i]
    tl = timeline_for(svc, tasks, now + int(later_s * NS_PER_S))
    assert tl is not None
    return tl


def _state(svc: Service, tasks: list[Task]) -> ClusterState:
    return ClusterState(services={svc.id: svc}, tasks={t.id: t for t in tasks})


# --------------------------------------------------------------------------- healthy update


def test_first_create_is_not_an_update() -> None:
    # Snapshots 00-02 are the service being created: no UpdateStatus, no PreviousSpec.
    timelines = _replay("ok")
    assert timelines[:3] == [None, None, None]
    history = UpdateHistory()
    for now, svc, tasks in _snapshots("ok")[:3]:
        history = history.observe(_state(svc, tasks), now)
    assert history.of(_snapshots("ok")[0][1].id) == ()


def test_four_slots_replaced_one_at_a_time_in_batches() -> None:
    tl = _replay("ok")[-1]
    assert tl is not None
    assert (tl.kind, tl.state, tl.outcome) == ("update", "completed", COMPLETED)
    assert (tl.updated, tl.total) == (4, 4)
    assert (tl.image_from, tl.image_to) == ("busybox:lab", "busybox:lab2")
    assert [r.slot for r in tl.rows] == [1, 2, 3, 4]
    assert all(r.status == UPDATED and r.attempts == 1 for r in tl.rows)
    for r in tl.rows:
        assert r.old is not None and r.new is not None
        assert (r.old.image, r.old.state) == ("busybox:lab", "shutdown")
        assert (r.new.image, r.new.state) == ("busybox:lab2", "running")
    # The updater took slots in the order 3, 1, 4, 2 on the lab: one per batch, in order.
    assert [b.slots for b in tl.batches] == [("3",), ("1",), ("4",), ("2",)]
    assert [(b.index, b.of) for b in tl.batches] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for earlier, later in zip(tl.batches, tl.batches[1:], strict=False):
        assert earlier.ended_ns is not None and later.started_ns is not None
        # Parallelism 1 with a 5 s delay: the next batch starts after the delay.
        assert later.started_ns - earlier.ended_ns >= 5 * NS_PER_S
    assert tl.config.parallelism == 1 and tl.config.delay_ns == 5 * NS_PER_S
    assert tl.phase == "completed: 4 of 4 updated in 34 s"
    assert rollout_exit_status(tl) == 0
    assert tl.stopped_because is None and tl.stalled is None and tl.next_steps == ()


def test_phase_texts_follow_the_updater() -> None:
    phases = [tl.phase if tl else None for tl in _replay("ok")]
    assert phases[3] == "batch 1 of 4: slot 3 stopping the old task"
    assert phases[4] == "batch 1 of 4, waiting out the 5 s delay"
    assert phases[5] == "batch 2 of 4: slot 1 stopping the old task"
    assert phases[7] == "batch 2 of 4: slot 1 new task starting"
    assert phases[8] == "batch 2 of 4, waiting out the 5 s delay"
    assert phases[14] == "batch 4 of 4, waiting out the 5 s delay"
    # The same snapshot later: the last batch's delay is over, the engine monitors.
    assert _at("ok", 14, later_s=6).phase == "batch 4 of 4 done, monitoring for 5 s"
    assert _at("ok", 10, later_s=6).phase == "batch 3 of 4 done, starting batch 4"
    mid = _replay("ok")[9]
    assert mid is not None and mid.outcome == IN_PROGRESS
    assert rollout_exit_status(mid) is None  # still going: keep watching
    assert [r.status for r in mid.rows] == [UPDATED, WAITING, UPDATED, "replacing"]


def test_render_text_mid_update() -> None:
    now, _, _ = _snapshots("ok")[9]
    tl = _replay("ok")[9]
    assert tl is not None
    text = render_timeline_text(tl, now, _node_names("ok"))
    assert "update of tl-ok: busybox:lab -> busybox:lab2" in text
    assert "state: updating  outcome: in progress  2 of 4 updated" in text
    assert "phase: batch 3 of 4: slot 4 stopping the old task" in text
    assert "config: parallelism 1, delay 5 s, monitor 5 s, order stop-first" in text
    assert "batch 1 of 4: slot 3 started +0 s, running at +1.8 s" in text
    assert "batch 3 of 4: slot 4 started +14 s, in progress" in text
    slot2 = next(line for line in text.splitlines() if line.startswith("2 "))
    assert slot2.split()[-1] == "waiting"
    assert "\x1b" not in text  # no colour for the shell


# --------------------------------------------------------------------------- failures


def test_paused_update_names_the_failed_task() -> None:
    tl = _replay("pause")[-1]
    assert tl is not None
    assert (tl.state, tl.outcome) == ("paused", PAUSED)
    cause = tl.stopped_because
    assert cause is not None and cause.found
    assert cause.task_id == "t4xuk33tai82o0as7z7fkhhd0"
    assert (cause.slot, cause.state, cause.exit_code) == (4, "failed", 3)
    assert cause.err == "task: non-zero exit (3)"
    assert cause.node_id is not None and _node_names("pause")[cause.node_id] == "lab-node1"
    assert tl.phase == "update paused at batch 1 of 4: task t4xuk33tai82 failed (non-zero exit (3))"
    slot4 = tl.rows[3]
    # The restart policy already retries: the newest task is not the failed one.
    assert slot4.status == SLOT_FAILED and slot4.attempts == 2
    assert slot4.failed_attempt is not None and slot4.failed_attempt.exit_code == 3
    assert [r.status for r in tl.rows[:3]] == [WAITING, WAITING, WAITING]
    assert rollout_exit_status(tl) == 1
    assert tl.next_steps[0].startswith("docker service rollback tl-pause")
    text = render_timeline_text(tl, _snapshots("pause")[-1][0], _node_names("pause"))
    assert (
        "stopped because task t4xuk33tai82 (slot 4 on lab-node1) failed: non-zero exit (3)" in text
    )
    assert "failed: task: non-zero exit (3) (2 attempts)" in text
    assert "docker service update tl-pause" in text


def test_rollback_after_failure() -> None:
    timelines = _replay("rollback")
    tl = timelines[-1]
    assert tl is not None
    assert (tl.kind, tl.state, tl.outcome) == ("rollback", "rollback_completed", ROLLED_BACK)
    assert (tl.image_from, tl.image_to) == ("busybox:lab2", "busybox:lab")
    # Only slot 3 had been updated; the other slots never left the spec rolled back to.
    assert [r.status for r in tl.rows] == [UNCHANGED, UNCHANGED, UPDATED, UNCHANGED]
    assert [b.slots for b in tl.batches] == [("3",)]
    assert (tl.updated, tl.total) == (4, 4)
    cause = tl.stopped_because
    assert cause is not None and cause.task_id.startswith("o7h6ey") and cause.exit_code == 3
    # The rollback's own start (UpdatedAt moves again when it completes).
    assert tl.started_ns is not None and tl.ended_ns is not None
    assert tl.phase == "rolled back: 4 of 4 on the previous spec in 5.6 s"
    assert rollout_exit_status(tl) == 1
    text = render_timeline_text(tl, _snapshots("rollback")[-1][0], _node_names("rollback"))
    assert "rollback of tl-rollback: busybox:lab2 -> busybox:lab" in text
    assert "rolled back because task o7h6eyvbzqg1 (slot 3 on lab-node3) failed" in text


def test_history_keeps_the_update_and_its_rollback() -> None:
    history = UpdateHistory()
    sid = ""
    for now, svc, tasks in _snapshots("rollback"):
        sid = svc.id
        history = history.observe(_state(svc, tasks), now)
    entries = history.of(sid)
    assert [(e.kind, e.outcome) for e in entries] == [
        ("update", ROLLED_BACK),
        ("rollback", ROLLED_BACK),
    ]
    assert entries[0].ended_ns == entries[1].started_ns


def test_history_records_one_entry_per_update_and_is_stable() -> None:
    history = UpdateHistory()
    snaps = _snapshots("ok")
    for now, svc, tasks in snaps:
        history = history.observe(_state(svc, tasks), now)
    sid = snaps[0][1].id
    assert [e.outcome for e in history.of(sid)] == [COMPLETED]
    state = _state(snaps[-1][1], snaps[-1][2])
    settled = history.observe(state, snaps[-1][0])
    assert settled.observe(state, snaps[-1][0] + NS_PER_S) is settled
    # The service is gone: so is its history.
    assert settled.observe(ClusterState(), snaps[-1][0]).of(sid) == ()


# --------------------------------------------------------------------------- traps


def test_stall_detected_with_a_fake_clock() -> None:
    # Snapshot 11: slot 2's new task is pending, on no node yet.
    fresh = _at("ok", 11)
    assert fresh.outcome == IN_PROGRESS and fresh.stalled is None
    # delay 5 s + monitor 5 s + 30 s margin: 20 s later is still fine, 60 s is not.
    assert _at("ok", 11, later_s=20).stalled is None
    tl = _at("ok", 11, later_s=60)
    assert tl.outcome == STALLED and tl.stalled is not None
    assert tl.stalled.allowed_ns == 40 * NS_PER_S
    assert tl.stalled.waiting == ("slot 2: pending, pending task scheduling, no node",)
    assert rollout_exit_status(tl) == 1
    assert "stalled for" in tl.phase
    text = render_timeline_text(tl, tl.as_of_ns)
    assert "stalled: nothing moved for" in text
    assert "waiting: slot 2: pending, pending task scheduling, no node" in text


def test_old_failed_task_does_not_fail_a_healthy_update() -> None:
    now, svc, tasks = _snapshots("ok")[-1]
    old = next(t for t in tasks if t.slot == 2 and t.image == "busybox:lab")
    # An older attempt of slot 2 that failed long before the update (history).
    ghost = replace(
        old,
        id="ghostfailedtask0000000000",
        state="failed",
        err="task: non-zero exit (137)",
        exit_code=137,
        created_ns=(old.created_ns or 0) - 600 * NS_PER_S,
        status_ns=(old.created_ns or 0) - 590 * NS_PER_S,
    )
    tl = timeline_for(svc, [*tasks, ghost], now)
    assert tl is not None
    assert tl.outcome == COMPLETED and rollout_exit_status(tl) == 0
    assert all(r.status == UPDATED for r in tl.rows)


def test_completed_with_a_failed_new_task_is_failed() -> None:
    # swarmkit #1245: the engine can say "completed" though the new task does not run.
    now, svc, tasks = _snapshots("ok")[-1]
    broken = [
        replace(t, state="failed", err="task: non-zero exit (1)", exit_code=1)
        if t.slot == 2 and t.image == "busybox:lab2"
        else t
        for t in tasks
    ]
    tl = timeline_for(svc, broken, now)
    assert tl is not None
    assert tl.state == "completed" and tl.outcome == FAILED
    assert tl.notes == (
        "the engine says completed, but the new task of slot 2 is not running: "
        "task: non-zero exit (1)",
    )
    assert rollout_exit_status(tl) == 1
    assert tl.next_steps and "rollback" in tl.next_steps[0]


def test_reconstructed_from_task_history_when_update_status_is_gone() -> None:
    # A scale after the update resets UpdateStatus; start-up still finds the last update.
    now, svc, tasks = _snapshots("ok")[-1]
    scaled = replace(svc, update_status=None)
    tl = timeline_for(scaled, tasks, now)
    assert tl is not None and tl.state_inferred
    assert (tl.state, tl.outcome, tl.updated) == ("completed", COMPLETED, 4)
    assert [b.slots for b in tl.batches] == [("3",), ("1",), ("4",), ("2",)]
    assert "inferred from task history" in render_timeline_text(tl, now)
    # While the app watched, it keeps what it saw rather than guessing.
    seen = _replay("ok")[-1]
    assert timeline_for(scaled, tasks, now, seen) is seen
    history = UpdateHistory().reconstruct(_state(scaled, tasks), now)
    assert history.latest(svc.id) is not None


@pytest.mark.parametrize("scenario", ["ok", "pause", "rollback"])
def test_every_recorded_snapshot_renders(scenario: str) -> None:
    for (now, _, _), tl in zip(_snapshots(scenario), _replay(scenario), strict=True):
        if tl is not None:
            text = render_timeline_text(tl, now)
            assert text.endswith("\n") and tl.phase in text
