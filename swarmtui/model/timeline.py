"""The rolling-update timeline of a service, derived from a snapshot: which slot got its new
task when, in which batch, what the updater is doing now, and why it stopped.

Pure: ``timeline_for(service, tasks, now_ns, previous)`` builds one :class:`UpdateTimeline`
from the engine's objects; :class:`UpdateHistory` keeps the last few per service, fed with
every :class:`ClusterState`, so an update is recorded while no screen shows it.

What the engine gives and what is inferred (docker-api brief §5):

* ``UpdateStatus`` (state, message, StartedAt, CompletedAt) exists only once an update
  replaced tasks: a first create has none and is not an update. A later spec change that
  replaces nothing (a scale) resets it to nil; the last timeline is then kept as it was.
* The API does not expose a task's spec version. A task belongs to the *current generation*
  when its image is the service's image and it was created after the update started (for a
  rollback: after the rollback started, or before the update it undoes started). Only the
  newest current-generation task of each slot counts for health, so an old failed task never
  marks a healthy update as failing.
* A rollback keeps the update's ``StartedAt``; it begins at the service's ``UpdatedAt``.
* The engine may report ``completed`` although the one new task failed (swarmkit #1245): the
  outcome then says failed, whatever the state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from swarmtui.model.state import ClusterState
from swarmtui.model.times import NS_PER_S
from swarmtui.model.types import Service, Task, UpdateConfig

# Engine UpdateStatus.State values (swarmkit updater.go).
UPDATE_STATES = (
    "updating",
    "paused",
    "completed",
    "rollback_started",
    "rollback_paused",
    "rollback_completed",
)
_ROLLBACK_STATES = frozenset({"rollback_started", "rollback_paused", "rollback_completed"})
_IN_PROGRESS_STATES = frozenset({"updating", "rollback_started"})
_FAILED_STATES = frozenset({"failed", "rejected"})

# Outcomes (what the timeline concludes, whatever the engine's state says).
IN_PROGRESS = "in progress"
COMPLETED = "completed"
PAUSED = "paused"
ROLLED_BACK = "rolled back"
FAILED = "failed"  # the engine says completed but the newest generation is not running
STALLED = "stalled"
SUPERSEDED = "superseded"  # another update started before this one settled

# Quiet time allowed on top of delay + monitor before an in-progress update counts as
# stalled: starting a task (pull, network attach) takes a while on a busy node.
STALL_MARGIN_NS = 30 * NS_PER_S
HISTORY_PER_SERVICE = 5

_TASK_IN_MESSAGE = re.compile(r"\btask ([a-z0-9]{25})\b")


@dataclass(frozen=True, slots=True)
class TaskRef:
    """One task of a slot as the timeline shows it: the old one's end or the new one's start."""

    id: str
    state: str
    desired_state: str
    image: str
    node_id: str | None
    created_ns: int | None
    status_ns: int | None  # when it reached ``state`` (the end, for a terminal old task)
    message: str = ""
    err: str = ""
    exit_code: int | None = None

    @classmethod
    def of(cls, task: Task) -> TaskRef:
        return cls(
            id=task.id,
            state=task.state,
            desired_state=task.desired_state,
            image=task.image,
            node_id=task.node_id,
            created_ns=task.created_ns,
            status_ns=task.status_ns,
            message=task.message,
            err=task.err,
            exit_code=task.exit_code,
        )

    @property
    def ended_ns(self) -> int | None:
        """When the task stopped for good (None while it still runs or is stopping)."""
        return self.status_ns if self.state in _TERMINAL else None


_TERMINAL = frozenset({"complete", "shutdown", "failed", "rejected", "remove", "orphaned"})

# Row statuses.
WAITING = "waiting"  # not replaced yet
REPLACING = "replacing"  # new task created, not running yet
UPDATED = "updated"  # new task running
SLOT_FAILED = "failed"  # newest new task failed or was rejected
UNCHANGED = "unchanged"  # (rollback) this slot never left the spec rolled back to


@dataclass(frozen=True, slots=True)
class SlotRow:
    """One slot (replicated) or node (global) across the update."""

    slot: int | None
    node_id: str | None  # global services: the node this row is for
    old: TaskRef | None  # the task the update replaced (or will replace)
    new: TaskRef | None  # the newest task of the current generation
    attempts: int  # current-generation tasks in this slot (restarts after failures)
    status: str  # WAITING | REPLACING | UPDATED | SLOT_FAILED | UNCHANGED
    first_new_ns: int | None = None  # creation of the slot's first new task: batch order
    failed_attempt: TaskRef | None = None  # newest new task that failed (while a retry runs)

    @property
    def key(self) -> str:
        return str(self.slot) if self.slot is not None else f"@{self.node_id}"


@dataclass(frozen=True, slots=True)
class Batch:
    index: int  # 1-based
    of: int
    slots: tuple[str, ...]  # SlotRow.key of each row in the batch
    started_ns: int | None
    ended_ns: int | None  # every new task of the batch running (None while not, or failed)
    failed: bool = False


@dataclass(frozen=True, slots=True)
class StopCause:
    """The task the engine names in a paused / rolled-back message, resolved."""

    task_id: str
    found: bool  # False when the task is no longer listed (history pruned)
    slot: int | None = None
    node_id: str | None = None
    state: str = ""
    err: str = ""
    message: str = ""
    exit_code: int | None = None

    @property
    def reason(self) -> str:
        """``task: non-zero exit (3) (exit code 3)``, or what is known."""
        text = self.err.removeprefix("task: ") or self.message or self.state or "no longer listed"
        if self.exit_code not in (None, 0) and f"({self.exit_code})" not in text:
            text += f" (exit code {self.exit_code})"
        return text


@dataclass(frozen=True, slots=True)
class Stall:
    """Nothing moved for longer than the update config allows."""

    since_ns: int  # last progress
    allowed_ns: int  # delay + monitor + margin
    waiting: tuple[str, ...]  # per waiting task: "slot 2: pending (no suitable node ...)"


@dataclass(frozen=True, slots=True)
class UpdateTimeline:
    service_id: str
    service_name: str
    kind: str  # update | rollback
    state: str  # UpdateStatus.State, or inferred from task history
    state_inferred: bool
    engine_message: str
    started_ns: int | None  # for a rollback: when the rollback began
    ended_ns: int | None
    update_started_ns: int | None  # UpdateStatus.StartedAt (a rollback keeps the update's)
    updated: int  # slots whose current-generation task runs
    total: int  # slots (replicas, or nodes for a global service)
    config: UpdateConfig
    image_from: str | None
    image_to: str
    rows: tuple[SlotRow, ...]
    batches: tuple[Batch, ...]
    phase: str
    outcome: str
    as_of_ns: int
    last_progress_ns: int | None = None
    stopped_because: StopCause | None = None
    stalled: Stall | None = None
    next_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # e.g. "engine says completed, but ..."

    @property
    def key(self) -> tuple[str, int | None]:
        """Identifies one update of a service across snapshots."""
        return (self.kind, self.update_started_ns)

    @property
    def in_progress(self) -> bool:
        return self.outcome in (IN_PROGRESS, STALLED)


# --------------------------------------------------------------------------- building


def secs(ns: int) -> str:
    """``5 s``, ``1.5 s``, ``2 min 5 s`` (the wording of every timeline text)."""
    s = ns / NS_PER_S
    if s < 10 and abs(s - round(s)) > 0.05:
        return f"{s:.1f} s"
    whole = round(s)
    if whole < 120:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60} s" if whole % 60 else f"{whole // 60} min"


def _row_key(task: Task, is_global: bool) -> str:
    if not is_global and task.slot is not None:
        return str(task.slot)
    return f"@{task.node_id}"


def _created(task: Task) -> int:
    return task.created_ns or 0


def _is_current(
    task: Task, service: Service, kind: str, gen_start: int, undone_start: int | None
) -> bool:
    """Whether ``task`` was made from the spec the service has now (see module doc)."""
    if task.image and service.image and task.image != service.image:
        return False
    created = _created(task)
    if created >= gen_start:
        return True
    # A rollback returns to the spec that ran before the update it undoes.
    return kind == "rollback" and undone_start is not None and created < undone_start


def _rollback_start(
    service: Service, tasks: list[Task], undone_start: int | None, previous: UpdateTimeline | None
) -> int:
    """When a rollback began. The service's UpdatedAt says so only until the rollback
    completes (it moves again then), so prefer the first rollback task when the update
    changed the image, then what an earlier look saw, then UpdatedAt."""
    after = [t for t in tasks if undone_start is not None and _created(t) > undone_start]
    if any(t.image and t.image != service.image for t in after):
        back = [_created(t) for t in after if t.image == service.image]
        if back:
            return min(back)
    if (
        previous is not None
        and previous.kind == "rollback"
        and previous.update_started_ns == undone_start
        and previous.started_ns is not None
    ):
        return previous.started_ns
    return service.updated_ns or undone_start or 0


def _replicas(service: Service, rows: int) -> int:
    if service.is_global:
        return service.desired if service.desired is not None else rows
    return service.replicas if service.replicas is not None else rows


def _stop_cause(message: str, tasks: Iterable[Task]) -> StopCause | None:
    m = _TASK_IN_MESSAGE.search(message)
    if m is None:
        return None
    tid = m.group(1)
    for t in tasks:
        if t.id == tid:
            return StopCause(
                task_id=tid,
                found=True,
                slot=t.slot,
                node_id=t.node_id,
                state=t.state,
                err=t.err,
                message=t.message,
                exit_code=t.exit_code,
            )
    return StopCause(task_id=tid, found=False)


def _waiting_reason(row: SlotRow) -> str:
    new = row.new
    where = f"slot {row.slot}" if row.slot is not None else f"node {row.node_id}"
    if new is None:
        if row.old is not None and row.old.ended_ns is None:
            return f"{where}: waiting for its turn (old task {row.old.state})"
        return f"{where}: no new task yet"
    if row.old is not None and row.old.ended_ns is None and new.state in ("ready", "assigned"):
        return f"{where}: waiting for the old task to stop ({row.old.state})"
    bits = [new.state]
    if new.state == "pending" and new.message:
        bits.append(new.message)
    if new.state == "preparing":
        bits.append("pulling the image or attaching networks")
    if new.node_id is None:
        bits.append("no node")
    if new.err:
        bits.append(new.err)
    return f"{where}: " + ", ".join(bits)


def _batches(rows: list[SlotRow], parallelism: int, to_replace: int) -> tuple[Batch, ...]:
    replaced = sorted(
        (r for r in rows if r.first_new_ns is not None and r.status != UNCHANGED),
        key=lambda r: (r.first_new_ns or 0, r.key),
    )
    size = parallelism if parallelism > 0 else max(1, to_replace)
    total = max(1, math.ceil(max(to_replace, len(replaced)) / size))
    out = []
    for i in range(0, len(replaced), size):
        group = replaced[i : i + size]
        failed = any(r.status == SLOT_FAILED for r in group)
        done = all(r.status == UPDATED for r in group)
        ended = (
            max((r.new.status_ns or 0) for r in group if r.new is not None)
            if done and not failed
            else None
        )
        out.append(
            Batch(
                index=i // size + 1,
                of=total,
                slots=tuple(r.key for r in group),
                started_ns=min(r.first_new_ns or 0 for r in group),
                ended_ns=ended,
                failed=failed,
            )
        )
    return tuple(out)


def _phase(
    state: str,
    kind: str,
    rows: list[SlotRow],
    batches: tuple[Batch, ...],
    cfg: UpdateConfig,
    now_ns: int,
    updated: int,
    total: int,
    started_ns: int | None,
    ended_ns: int | None,
    cause: StopCause | None,
) -> str:
    verb = "rollback" if kind == "rollback" else "update"
    took = (
        f" in {secs(ended_ns - started_ns)}"
        if ended_ns is not None and started_ns is not None
        else ""
    )
    if state == "completed":
        return f"completed: {updated} of {total} updated{took}"
    if state == "rollback_completed":
        return f"rolled back: {updated} of {total} on the previous spec{took}"
    if state in ("paused", "rollback_paused"):
        where = f" at batch {batches[-1].index} of {batches[-1].of}" if batches else ""
        why = f": task {cause.task_id[:12]} failed ({cause.reason})" if cause is not None else ""
        return f"{verb} paused{where}{why}"
    if not batches:
        total_batches = max(1, math.ceil(total / (cfg.parallelism or max(1, total))))
        return f"starting batch 1 of {total_batches}"
    cur = batches[-1]
    head = f"batch {cur.index} of {cur.of}"
    if cur.ended_ns is None:
        group = [r for r in rows if r.key in cur.slots]
        doing = []
        for r in group:
            if r.status == UPDATED:
                continue
            name = f"slot {r.slot}" if r.slot is not None else f"node {r.node_id}"
            if r.old is not None and r.old.ended_ns is None and cfg.order == "stop-first":
                doing.append(f"{name} stopping the old task")
            elif r.new is not None:
                doing.append(f"{name} new task {r.new.state}")
        return f"{head}: {', '.join(doing)}" if doing else head
    since = now_ns - cur.ended_ns
    if cfg.delay_ns and since < cfg.delay_ns:
        return f"{head}, waiting out the {secs(cfg.delay_ns)} delay"
    if cur.index < cur.of:
        return f"{head} done, starting batch {cur.index + 1}"
    return f"{head} done, monitoring for {secs(cfg.monitor_ns)}"


def _next_steps(
    service: Service, kind: str, state: str, outcome: str, image_from: str | None
) -> tuple[str, ...]:
    name = service.name
    if state == "paused" or outcome == FAILED:
        back = f" (back to {image_from})" if image_from else ""
        return (
            f"docker service rollback {name}  # return to the previous spec{back}",
            f"docker service update {name}  # fix the cause, then resume / update again",
        )
    if state == "rollback_paused":
        return (
            f"docker service update {name}  # resume the rollback once the cause is fixed",
            f"docker service ps --no-trunc {name}  # see why the rolled-back tasks fail",
        )
    if outcome == STALLED:
        return (f"docker service ps --no-trunc {name}  # see what the waiting tasks wait for",)
    return ()


def timeline_for(
    service: Service,
    tasks: Iterable[Task],
    now_ns: int,
    previous: UpdateTimeline | None = None,
    *,
    rollback_config: UpdateConfig | None = None,
    stall_margin_ns: int = STALL_MARGIN_NS,
) -> UpdateTimeline | None:
    """The timeline of ``service``'s current (or last) update, or None if it never had one.

    ``tasks`` are the service's tasks (others are ignored), history included. ``previous``
    is the last timeline this function returned for the service: it is kept as it was when
    the engine forgot the update (a scale resets UpdateStatus), and supplies the time of the
    last progress. ``rollback_config`` overrides the service's ``Spec.RollbackConfig``
    (:attr:`Service.rollback_config`). Call again with a later ``now_ns`` to refresh the
    phase and the stall check.
    """
    own = [t for t in tasks if t.service_id == service.id]
    status = service.update_status
    inferred = False
    if status is not None:
        state = status.state
        message = status.message
        kind = "rollback" if state in _ROLLBACK_STATES else "update"
        undone_start = status.started_ns
        if kind == "rollback":
            gen_start = _rollback_start(service, own, status.started_ns, previous)
        else:
            gen_start = status.started_ns or service.updated_ns or 0
        ended = status.completed_ns
    else:
        if previous is not None and previous.service_id == service.id:
            return previous
        # Start-up after a scale (or an engine that lost the status): reconstruct from the
        # task history when it still holds tasks of another image than the current one.
        olds = [t for t in own if t.image and t.image != service.image]
        news = [t for t in own if t.image == service.image]
        if not olds or not news or service.previous_image is None:
            return None
        old_slots = {_row_key(t, service.is_global) for t in olds}
        replacing = [t for t in news if _row_key(t, service.is_global) in old_slots]
        if not replacing:
            return None
        gen_start = min(_created(t) for t in replacing)
        kind, undone_start, message, ended = "update", gen_start, "", None
        inferred = True
        state = "updating"  # settled below from the rows
    if kind == "rollback":
        cfg = rollback_config or service.rollback_config
    else:
        cfg = service.update_config

    by_row: dict[str, list[Task]] = {}
    for t in own:
        by_row.setdefault(_row_key(t, service.is_global), []).append(t)
    rows: list[SlotRow] = []
    for key in sorted(by_row, key=lambda k: (k.startswith("@"), int(k) if k.isdigit() else 0, k)):
        group = sorted(by_row[key], key=_created, reverse=True)
        current = [t for t in group if _is_current(t, service, kind, gen_start, undone_start)]
        # Tasks removed by a scale-down (desired remove) are not part of the update.
        if all(t.desired_state == "remove" for t in group):
            continue
        fresh = [t for t in current if _created(t) >= gen_start]
        others = [t for t in group if t not in current]
        new_task = current[0] if current else None
        old_task = others[0] if others else None
        if new_task is not None and fresh and old_task is not None:
            # The replaced task is the newest one made before the new generation.
            before = [t for t in others if _created(t) <= _created(fresh[-1])]
            old_task = before[0] if before else old_task
        if new_task is None:
            status_name = WAITING
        elif not fresh:
            status_name = UNCHANGED if kind == "rollback" else UPDATED
        elif new_task.state in _FAILED_STATES or (
            new_task.is_terminal and new_task.desired_state == "running"
        ):
            status_name = SLOT_FAILED
        elif new_task.state == "running":
            status_name = UPDATED
        elif len(fresh) > 1 and any(t.state in _FAILED_STATES for t in fresh[1:]):
            status_name = SLOT_FAILED  # restarting after a failure
        else:
            status_name = REPLACING
        sid = int(key) if key.isdigit() else None
        rows.append(
            SlotRow(
                slot=sid,
                node_id=(group[0].node_id if sid is None else None),
                old=TaskRef.of(old_task) if old_task is not None else None,
                new=TaskRef.of(new_task) if new_task is not None else None,
                attempts=len(fresh),
                status=status_name,
                first_new_ns=_created(fresh[-1]) if fresh else None,
                failed_attempt=next(
                    (TaskRef.of(t) for t in fresh if t.state in _FAILED_STATES), None
                ),
            )
        )

    total = _replicas(service, len(rows))
    updated = sum(
        1
        for r in rows
        if r.status in (UPDATED, UNCHANGED) and r.new is not None and r.new.state == "running"
    )
    to_replace = sum(1 for r in rows if r.status != UNCHANGED) if kind == "rollback" else total
    if inferred:
        state = "completed" if updated >= total else "updating"
        ended = None
    batches = _batches(rows, cfg.parallelism, to_replace)
    cause = _stop_cause(message, own)
    if cause is None and previous is not None and previous.key == (kind, undone_start):
        cause = previous.stopped_because  # "rollback completed" no longer names the task

    # Progress: the newest thing any task of the update did.
    marks = [gen_start]
    for r in rows:
        if r.status == UNCHANGED:
            continue
        for ref in (r.old, r.new):
            if ref is not None:
                marks += [ref.created_ns or 0, ref.status_ns or 0]
    last_progress = max(marks) if marks else None
    if (
        previous is not None
        and previous.key == (kind, undone_start)
        and previous.last_progress_ns is not None
        and last_progress is not None
    ):
        last_progress = max(last_progress, previous.last_progress_ns)

    notes: list[str] = []
    failing = [r for r in rows if r.status == SLOT_FAILED]
    if state in _IN_PROGRESS_STATES:
        outcome = IN_PROGRESS
    elif state in ("paused", "rollback_paused"):
        outcome = PAUSED
    elif state == "rollback_completed":
        outcome = ROLLED_BACK
    else:
        outcome = COMPLETED
    if state in ("completed", "rollback_completed") and (failing or updated < total):
        if failing:
            r = failing[0]
            why = (r.new.err or r.new.state) if r.new is not None else "failed"
            notes.append(
                f"the engine says {state.replace('_', ' ')}, but the new task of "
                f"{'slot ' + str(r.slot) if r.slot is not None else 'node ' + str(r.node_id)} "
                f"is not running: {why}"
            )
            outcome = FAILED
        elif not inferred:
            notes.append(f"{updated} of {total} new tasks running")
    stall = None
    if outcome == IN_PROGRESS and last_progress is not None:
        allowed = cfg.delay_ns + cfg.monitor_ns + stall_margin_ns
        if now_ns - last_progress > allowed:
            waiting = tuple(
                _waiting_reason(r) for r in rows if r.status in (WAITING, REPLACING, SLOT_FAILED)
            )
            stall = Stall(since_ns=last_progress, allowed_ns=allowed, waiting=waiting)
            outcome = STALLED

    started = status.started_ns if status is not None and kind == "update" else gen_start
    phase = _phase(state, kind, rows, batches, cfg, now_ns, updated, total, started, ended, cause)
    if stall is not None:
        phase = f"{phase} - stalled for {secs(now_ns - stall.since_ns)}"
    image_from = service.previous_image
    if kind == "rollback":
        # After a rollback PreviousSpec is gone: the image rolled away from is the failed one.
        bad = [r.old.image for r in rows if r.old is not None and r.status != UNCHANGED]
        image_from = bad[0] if bad else None
    elif image_from is None:
        olds_img = [r.old.image for r in rows if r.old is not None]
        image_from = olds_img[0] if olds_img else None
    return UpdateTimeline(
        service_id=service.id,
        service_name=service.name,
        kind=kind,
        state=state,
        state_inferred=inferred,
        engine_message=message,
        started_ns=started,
        ended_ns=ended,
        update_started_ns=undone_start,
        updated=updated,
        total=total,
        config=cfg,
        image_from=image_from,
        image_to=service.image,
        rows=tuple(rows),
        batches=batches,
        phase=phase,
        outcome=outcome,
        as_of_ns=now_ns,
        last_progress_ns=last_progress,
        stopped_because=cause,
        stalled=stall,
        next_steps=_next_steps(service, kind, state, outcome, image_from),
        notes=tuple(notes),
    )


def rollout_exit_status(timeline: UpdateTimeline | None) -> int | None:
    """Exit status for ``swarmtui rollout status``: 0 completed, 1 paused, rolled back,
    failed or stalled; None while it is still progressing (keep watching). No update at all
    counts as completed: the service runs the spec it was created with."""
    if timeline is None or timeline.outcome == COMPLETED:
        return 0
    if timeline.outcome == IN_PROGRESS:
        return None
    return 1


# --------------------------------------------------------------------------- rendering


def _clock(ns: int | None) -> str:
    if ns is None:
        return "-"
    s = ns // NS_PER_S
    return f"{(s // 3600) % 24:02d}:{(s // 60) % 60:02d}:{s % 60:02d}"


def _rel(ns: int | None, base: int | None) -> str:
    if ns is None or base is None:
        return "-"
    return f"+{secs(max(0, ns - base))}"


def render_timeline_text(
    timeline: UpdateTimeline, now_ns: int, node_names: Mapping[str, str] | None = None
) -> str:
    """Plain text (no colour) for the shell: header, phase, why it stopped, one line per
    slot, the batches, and what to do next. Times are UTC clock times and offsets from the
    start of the update."""
    names = node_names or {}
    t = timeline
    cfg = t.config
    lines = [
        f"{t.kind} of {t.service_name}: {t.image_from or '?'} -> {t.image_to}",
        f"state: {t.state}{' (inferred from task history)' if t.state_inferred else ''}"
        f"  outcome: {t.outcome}  {t.updated} of {t.total} updated",
    ]
    if t.engine_message:
        lines.append(f"engine: {t.engine_message}")
    lines.append(
        f"started {_clock(t.started_ns)}"
        + (
            f", ended {_clock(t.ended_ns)} ({secs(t.ended_ns - t.started_ns)})"
            if t.ended_ns is not None and t.started_ns is not None
            else f", {secs(max(0, now_ns - t.started_ns))} ago"
            if t.started_ns
            else ""
        )
    )
    lines.append(
        f"config: parallelism {cfg.parallelism or 'all'}, delay {secs(cfg.delay_ns)}, "
        f"monitor {secs(cfg.monitor_ns)}, order {cfg.order}, "
        f"on failure {cfg.failure_action}, max failure ratio {cfg.max_failure_ratio:g}"
    )
    lines.append(f"phase: {t.phase}")
    for note in t.notes:
        lines.append(f"note: {note}")
    if t.stopped_because is not None:
        c = t.stopped_because
        where = []
        if c.slot is not None:
            where.append(f"slot {c.slot}")
        if c.node_id:
            where.append(f"on {names.get(c.node_id, c.node_id[:12])}")
        verb = "rolled back" if t.kind == "rollback" else "stopped"
        lines.append(
            f"{verb} because task {c.task_id[:12]}"
            + (f" ({' '.join(where)})" if where else "")
            + f" failed: {c.reason}"
        )
    if t.stalled is not None:
        s = t.stalled
        lines.append(
            f"stalled: nothing moved for {secs(now_ns - s.since_ns)} "
            f"(delay + monitor + margin allow {secs(s.allowed_ns)})"
        )
        lines.extend(f"  waiting: {w}" for w in s.waiting)
    lines.append("")
    lines.append(
        "SLOT  OLD TASK      ENDED    NEW TASK      STATE      CREATED  NODE          NOTE"
    )
    for r in t.rows:
        old, new = r.old, r.new
        label = (
            str(r.slot)
            if r.slot is not None
            else names.get(r.node_id or "", (r.node_id or "?")[:12])
        )
        note = r.status
        bad = new if new is not None and new.state in _FAILED_STATES else r.failed_attempt
        if bad is not None:
            note += f": {bad.err or bad.state}"
            if bad.exit_code not in (None, 0) and f"({bad.exit_code})" not in bad.err:
                note += f" exit {bad.exit_code}"
        if r.attempts > 1:
            note += f" ({r.attempts} attempts)"
        lines.append(
            f"{label:<5} "
            f"{(old.id[:12] if old else '-'):<13} "
            f"{(_rel(old.ended_ns, t.started_ns) if old else '-'):<8} "
            f"{(new.id[:12] if new else '-'):<13} "
            f"{(new.state if new else '-'):<10} "
            f"{(_rel(new.created_ns, t.started_ns) if new and r.status != UNCHANGED else '-'):<8} "
            f"{(names.get(new.node_id, new.node_id[:12]) if new and new.node_id else '-'):<13} "
            f"{note}"
        )
    if t.batches:
        lines.append("")
        for b in t.batches:
            end = (
                "failed"
                if b.failed
                else f"running at {_rel(b.ended_ns, t.started_ns)}"
                if b.ended_ns is not None
                else "in progress"
            )
            lines.append(
                f"batch {b.index} of {b.of}: slot {', '.join(b.slots)} "
                f"started {_rel(b.started_ns, t.started_ns)}, {end}"
            )
    if t.next_steps:
        lines.append("")
        lines.append("next:")
        lines.extend(f"  {s}" for s in t.next_steps)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- history


def _finalise(prev: UpdateTimeline, nxt: UpdateTimeline) -> UpdateTimeline:
    """The entry an update leaves in the history when another one takes over."""
    if not prev.in_progress and prev.outcome != PAUSED:
        return prev
    if nxt.kind == "rollback" and prev.kind == "update":
        return replace(prev, outcome=ROLLED_BACK, ended_ns=nxt.started_ns)
    if prev.outcome == PAUSED:
        return prev
    return replace(prev, outcome=SUPERSEDED, ended_ns=nxt.started_ns)


@dataclass(frozen=True, slots=True)
class UpdateHistory:
    """The last ``limit`` update timelines per service, newest last. Immutable: ``observe``
    returns a new history (itself when nothing changed). Feed it every snapshot so updates
    are recorded while no screen shows them."""

    by_service: Mapping[str, tuple[UpdateTimeline, ...]] = field(default_factory=dict)
    limit: int = HISTORY_PER_SERVICE
    _services: object = None  # the snapshot maps last seen (identity short-cut)
    _tasks: object = None

    def latest(self, service_id: str) -> UpdateTimeline | None:
        entries = self.by_service.get(service_id)
        return entries[-1] if entries else None

    def of(self, service_id: str) -> tuple[UpdateTimeline, ...]:
        return self.by_service.get(service_id, ())

    def observe(self, state: ClusterState, now_ns: int) -> UpdateHistory:
        same_maps = state.services is self._services and state.tasks is self._tasks
        tasks_by_service: dict[str, list[Task]] | None = None
        out = dict(self.by_service)
        changed = False
        for sid, svc in state.services.items():
            latest = self.latest(sid)
            if svc.update_status is None and latest is None:
                continue  # never updated (a first create) and nothing to reconstruct cheaply
            if same_maps and (latest is None or not latest.in_progress):
                continue
            if tasks_by_service is None:
                tasks_by_service = {}
                for t in state.tasks.values():
                    tasks_by_service.setdefault(t.service_id, []).append(t)
            fresh = timeline_for(svc, tasks_by_service.get(sid, ()), now_ns, latest)
            if fresh is None or fresh is latest:
                continue
            entries = list(self.by_service.get(sid, ()))
            if entries and entries[-1].key == fresh.key:
                entries[-1] = fresh
            else:
                if entries:
                    entries[-1] = _finalise(entries[-1], fresh)
                entries.append(fresh)
            out[sid] = tuple(entries[-self.limit :])
            changed = True
        for sid in list(out):
            if sid not in state.services:
                del out[sid]  # the service is gone: so is its history
                changed = True
        if not changed:
            if same_maps:
                return self
            return replace(self, _services=state.services, _tasks=state.tasks)
        return UpdateHistory(out, self.limit, state.services, state.tasks)

    def reconstruct(self, state: ClusterState, now_ns: int) -> UpdateHistory:
        """On start-up: also rebuild updates the engine no longer reports (UpdateStatus
        reset by a scale) from what task history still holds."""
        tasks_by_service: dict[str, list[Task]] = {}
        for t in state.tasks.values():
            tasks_by_service.setdefault(t.service_id, []).append(t)
        out = dict(self.by_service)
        for sid, svc in state.services.items():
            if sid in out:
                continue
            tl = timeline_for(svc, tasks_by_service.get(sid, ()), now_ns, None)
            if tl is not None:
                out[sid] = (tl,)
        return UpdateHistory(out, self.limit, state.services, state.tasks)
