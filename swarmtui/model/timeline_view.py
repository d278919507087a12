"""The timeline screen's layout: rolling updates as lines of styled spans, time left to right.

Pure (no Textual): :func:`layout_updates` turns the update history into lines for a width and
a clock; the widget only paints them. Each service gets a block: what is updated to what,
the engine's state and message, the phase ("batch 2 of 4, waiting out the 5 s delay (3 s
left)"), the update config, why it stopped (the named task's error, exit code, node and last
log lines), stall reasons, then one row per slot (per node for global services) with the old
task's end and the new task's start on a shared time track, and the batches beneath.

Styles are names (``title``, ``ok``, ``bad``, ``warn``, ``info``, ``dim``, ``key``, ``sel``);
the widget maps them to colours.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from swarmtui.model.timeline import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    PAUSED,
    REPLACING,
    ROLLED_BACK,
    SLOT_FAILED,
    STALLED,
    SUPERSEDED,
    UNCHANGED,
    UPDATED,
    WAITING,
    SlotRow,
    TaskRef,
    UpdateHistory,
    UpdateTimeline,
    secs,
)
from swarmtui.model.times import NS_PER_S

Span = tuple[str, str]  # (text, style name)
Line = tuple[Span, ...]

OUTCOME_STYLE = {
    IN_PROGRESS: "info",
    COMPLETED: "ok",
    PAUSED: "warn",
    ROLLED_BACK: "warn",
    FAILED: "bad",
    STALLED: "bad",
    SUPERSEDED: "dim",
}
ROW_STYLE = {WAITING: "dim", REPLACING: "warn", UPDATED: "ok", SLOT_FAILED: "bad",
             UNCHANGED: "dim"}
_FAILED = frozenset({"failed", "rejected"})

EMPTY_TEXT = (
    "No rolling update seen yet. One shows here as soon as a service is updated or rolled "
    "back (docker service update, a stack deploy, or this app)."
)
LABEL_W = 7  # "slot 12", or a node name cut to fit
TASK_W = 19  # "t4xuk33t shutdown " (8-char id, state)
MIN_TRACK = 12
LOG_TAIL_SHOWN = 3


def stoppable(t: UpdateTimeline) -> bool:
    """Whether the timeline offers "roll back" / "redeploy": it stopped or stuck."""
    return t.outcome in (PAUSED, FAILED, STALLED) or t.state == "rollback_paused"


def reapplicable(t: UpdateTimeline) -> bool:
    """Whether "update again" (on to the spec the update was moving to) applies: the update
    paused, or a rollback undid it. A failed or stalled update already has its spec: only a
    redeploy replaces its tasks."""
    return t.state == "paused" or (t.kind == "rollback" and not t.in_progress)


def clock(ns: int | None) -> str:
    if ns is None:
        return "-"
    s = ns // NS_PER_S
    return f"{(s // 3600) % 24:02d}:{(s // 60) % 60:02d}:{s % 60:02d}"


def ordered_updates(
    history: UpdateHistory,
) -> tuple[tuple[UpdateTimeline, tuple[UpdateTimeline, ...]], ...]:
    """(latest, earlier ones newest first) per service: updates in flight or stopped first,
    then the others, each group newest first."""
    entries = [(e[-1], tuple(reversed(e[:-1]))) for e in history.by_service.values() if e]

    def rank(item: tuple[UpdateTimeline, tuple[UpdateTimeline, ...]]) -> tuple[int, int, str]:
        t = item[0]
        urgent = 0 if t.in_progress or stoppable(t) else 1
        return (urgent, -(t.started_ns or 0), t.service_name)

    return tuple(sorted(entries, key=rank))


@dataclass(frozen=True, slots=True)
class UpdatesLayout:
    lines: tuple[Line, ...]
    blocks: Mapping[str, tuple[int, int]]  # service id -> (first line, end line)
    order: tuple[str, ...]  # service ids top to bottom


def _wrap(text: str, width: int, indent: str, style: str, first: str = "") -> list[Line]:
    room = max(10, width - len(indent))
    chunks = textwrap.wrap(first + text, room, subsequent_indent="  ") or [first]
    return [((indent + c, style),) for c in chunks]


def _name(node_id: str | None, names: Mapping[str, str]) -> str:
    if not node_id:
        return "no node"
    return names.get(node_id, node_id[:12])


def _task_cell(ref: TaskRef | None) -> str:
    return f"{ref.id[:8]} {ref.state}" if ref is not None else "-"


def _row_label(row: SlotRow, names: Mapping[str, str]) -> str:
    return f"slot {row.slot}" if row.slot is not None else _name(row.node_id, names)


def _merge(cells: Sequence[tuple[str, str]]) -> list[Span]:
    out: list[Span] = []
    for ch, style in cells:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + ch, style)
        else:
            out.append((ch, style))
    return out


class _Track:
    """Maps times onto ``width`` columns from ``t0`` to ``t1``."""

    def __init__(self, t0: int, t1: int, width: int) -> None:
        self.t0, self.t1, self.width = t0, max(t1, t0 + 1), width

    def col(self, ns: int | None) -> int:
        if ns is None:
            return self.width - 1
        pos = round((ns - self.t0) * (self.width - 1) / (self.t1 - self.t0))
        return min(self.width - 1, max(0, pos))

    def row(self, row: SlotRow) -> list[Span]:
        cells = [(" ", "")] * self.width
        old, new = row.old, row.new
        if row.status == UNCHANGED:
            return _merge([("─", "dim")] * self.width)
        if old is not None:
            end = self.col(old.ended_ns) if old.ended_ns is not None else self.width - 1
            for x in range(0, end + 1):
                cells[x] = ("─", "dim")
            if old.ended_ns is not None:
                cells[end] = ("×", "bad" if old.state in _FAILED else "old")
        if new is not None and row.first_new_ns is not None:
            start = self.col(row.first_new_ns)
            if new.state == "running":
                run = max(start, self.col(new.status_ns))
                for x in range(start, run):
                    cells[x] = ("·", "warn")
                for x in range(run, self.width):
                    cells[x] = ("━", "ok")
            elif new.state in _FAILED or new.ended_ns is not None:
                end = max(start, self.col(new.status_ns))
                for x in range(start, end):
                    cells[x] = ("·", "warn")
                cells[end] = ("✗", "bad")
            else:
                for x in range(start, self.width):
                    cells[x] = ("·", "warn")
            cells[start] = ("▸", ROW_STYLE.get(row.status, "warn"))
            failed = row.failed_attempt
            if failed is not None and failed.id != new.id and failed.status_ns is not None:
                cells[self.col(failed.status_ns)] = ("✗", "bad")
        return _merge(cells)

    def axis(self) -> str:
        """``0 s`` on the left, the span on the right, a tick in between when room allows."""
        right = f"{secs(self.t1 - self.t0)}|"
        text = "|0 s".ljust(self.width)
        if self.width >= 30:
            mid = f"|{secs((self.t1 - self.t0) // 2)}"
            at = self.width // 2
            text = text[:at] + mid + text[at + len(mid):]
        text = text[: self.width - len(right)] + right
        return text[: self.width]

    def batches(self, t: UpdateTimeline) -> list[Span]:
        cells = [(" ", "")] * self.width
        for b in t.batches:
            start = self.col(b.started_ns)
            end = self.col(b.ended_ns) if b.ended_ns is not None else self.width - 1
            style = "bad" if b.failed else "info"
            for x in range(start, end + 1):
                cells[x] = ("═", style)
            if b.ended_ns is not None and t.config.delay_ns:
                wait_end = self.col(min(b.ended_ns + t.config.delay_ns, self.t1))
                for x in range(end + 1, wait_end + 1):
                    cells[x] = ("┄", "dim")
            digits = str(b.index)
            for i, ch in enumerate(digits):
                if start + i < self.width:
                    cells[start + i] = (ch, style)
        return _merge(cells)


def _phase_line(t: UpdateTimeline, now_ns: int) -> str:
    text = t.phase
    if t.in_progress and "waiting out the" in text and t.batches:
        ended = t.batches[-1].ended_ns
        if ended is not None:
            left = ended + t.config.delay_ns - now_ns
            text += f" ({secs(left)} left)" if left > 0 else " (delay over)"
    return text


def _times_line(t: UpdateTimeline, now_ns: int) -> str:
    parts = [f"state {t.state}" + (" (inferred from task history)" if t.state_inferred else ""),
             f"{t.updated} of {t.total} updated"]
    if t.started_ns:
        parts.append(f"started {clock(t.started_ns)}")
        if t.ended_ns is not None:
            parts.append(f"ended {clock(t.ended_ns)} (took {secs(t.ended_ns - t.started_ns)})")
        else:
            parts.append(f"{secs(max(0, now_ns - t.started_ns))} ago")
    return " · ".join(parts)


def _config_line(t: UpdateTimeline) -> str:
    cfg = t.config
    return (f"parallelism {cfg.parallelism or 'all'} · delay {secs(cfg.delay_ns)} · "
            f"monitor {secs(cfg.monitor_ns)} · {cfg.order} · on failure {cfg.failure_action} · "
            f"max failure ratio {cfg.max_failure_ratio:g}")


def next_keys(t: UpdateTimeline) -> str:
    back = f" to {t.image_from}" if t.image_from and t.kind == "update" else ""
    redeploy = "F redeploy (replace every task)"
    if t.kind == "rollback":
        return f"next: U update again (to the spec rolled back from) · {redeploy}"
    if reapplicable(t):
        return (f"next: R roll back{back} · U update again (resume, after fixing the cause) · "
                f"{redeploy}")
    return f"next: R roll back{back} · {redeploy}, after fixing the cause"


def update_block(
    t: UpdateTimeline,
    now_ns: int,
    width: int,
    names: Mapping[str, str],
    *,
    selected: bool = False,
    earlier: Sequence[UpdateTimeline] = (),
    log_tail: Sequence[str] = (),
) -> list[Line]:
    lines: list[Line] = []
    outcome = t.outcome.upper()
    head = [("▶ " if selected else "  ", "sel" if selected else ""),
            (t.service_name, "title"),
            (f"  {t.kind}  ", "dim"),
            (f"{t.image_from or '?'} → {t.image_to}", "")]
    used = sum(len(s) for s, _ in head)
    pad = max(1, width - used - len(outcome) - 1)
    lines.append((*head, (" " * pad, ""), (outcome, OUTCOME_STYLE.get(t.outcome, ""))))
    lines += _wrap(_times_line(t, now_ns), width, "  ", "")
    lines += _wrap(_phase_line(t, now_ns), width, "  ", OUTCOME_STYLE.get(t.outcome, "info"))
    if t.engine_message:
        lines += _wrap(t.engine_message, width, "  ", "dim", first="engine: ")
    lines += _wrap(_config_line(t), width, "  ", "dim")
    for note in t.notes:
        lines += _wrap(note, width, "  ", "warn", first="note: ")
    cause = t.stopped_because
    if cause is not None:
        where = []
        if cause.slot is not None:
            where.append(f"slot {cause.slot}")
        if cause.node_id:
            where.append(f"on {_name(cause.node_id, names)}")
        verb = "rolled back" if t.kind == "rollback" or t.outcome == ROLLED_BACK else "stopped"
        text = (f"✗ {verb} because task {cause.task_id[:12]}"
                + (f" ({' '.join(where)})" if where else "") + f" failed: {cause.reason}")
        if cause.exit_code not in (None, 0) and "exit code" not in text:
            text += f" · exit code {cause.exit_code}"
        lines += _wrap(text, width, "  ", "bad")
        for tail in log_tail[-LOG_TAIL_SHOWN:]:
            lines.append((("    │ ", "dim"), (tail, "")))
    if t.stalled is not None:
        s = t.stalled
        lines += _wrap(f"⚠ stalled: nothing moved for {secs(now_ns - s.since_ns)} (delay + "
                       f"monitor + margin allow {secs(s.allowed_ns)})", width, "  ", "bad")
        for w in s.waiting:
            lines += _wrap(w, width, "    ", "warn", first="waiting: ")
    track_w = max(MIN_TRACK, width - 2 - LABEL_W - 1 - 2 * TASK_W - 3 - 1)
    t0 = t.started_ns or min((r.first_new_ns or now_ns for r in t.rows), default=now_ns)
    track = _Track(t0, t.ended_ns if t.ended_ns is not None else max(now_ns, t0 + 1), track_w)
    lines.append(((f"  {'SLOT':<{LABEL_W}} {'OLD TASK':<{TASK_W}}   {'NEW TASK':<{TASK_W}} ",
                   "dim"), (track.axis(), "dim")))
    for r in t.rows:
        label = _row_label(r, names)[:LABEL_W]
        arrow = "→" if r.new is not None and r.status != UNCHANGED else " "
        row_style = ROW_STYLE.get(r.status, "")
        lines.append((
            (f"  {label:<{LABEL_W}} ", ""),
            (f"{_task_cell(r.old if r.status != UNCHANGED else None)[:TASK_W]:<{TASK_W}}", "dim"),
            (f" {arrow} ", "dim"),
            (f"{_task_cell(r.new)[:TASK_W]:<{TASK_W}}", row_style),
            (" ", ""),
            *track.row(r),
        ))
        bad = r.new if r.new is not None and r.new.state in _FAILED else r.failed_attempt
        if bad is not None:
            why = bad.err or bad.state
            if bad.exit_code not in (None, 0):
                why += f" · exit code {bad.exit_code}"
            extra = f" · on {_name(bad.node_id, names)}" if bad.node_id else ""
            if r.attempts > 1:
                extra += f" · {r.attempts} attempts"
            lines += _wrap(f"✗ {bad.id[:12]} {bad.state}: {why}{extra}", width,
                           " " * (3 + LABEL_W), "bad")
    if t.batches:
        lines.append(((f"  {'batches':<{LABEL_W}} {'':<{TASK_W}}   {'':<{TASK_W}} ", "dim"),
                      *track.batches(t)))
    if stoppable(t) or reapplicable(t):
        lines += _wrap(next_keys(t), width, "  ", "key")
    for e in earlier:
        took = (f", took {secs(e.ended_ns - e.started_ns)}"
                if e.ended_ns is not None and e.started_ns is not None else "")
        lines += _wrap(f"earlier: {e.kind} {e.image_from or '?'} → {e.image_to} at "
                       f"{clock(e.started_ns)}: {e.outcome}, {e.updated} of {e.total} "
                       f"updated{took}", width, "  ", "dim")
    return lines


def layout_updates(
    history: UpdateHistory,
    now_ns: int,
    width: int,
    names: Mapping[str, str],
    selected: str | None = None,
    log_tails: Mapping[str, Sequence[str]] | None = None,
) -> UpdatesLayout:
    """Every service's update block, separated by a blank line. ``log_tails`` maps a task ID
    (a stop cause) to its last log lines."""
    tails = log_tails or {}
    lines: list[Line] = []
    blocks: dict[str, tuple[int, int]] = {}
    order: list[str] = []
    entries = ordered_updates(history)
    if not entries:
        return UpdatesLayout(tuple(_wrap(EMPTY_TEXT, width, "  ", "dim")), {}, ())
    for latest, earlier in entries:
        if lines:
            lines.append(())
        first = len(lines)
        cause = latest.stopped_because
        lines += update_block(latest, now_ns, width, names,
                              selected=latest.service_id == selected, earlier=earlier,
                              log_tail=tails.get(cause.task_id, ()) if cause else ())
        blocks[latest.service_id] = (first, len(lines))
        order.append(latest.service_id)
    return UpdatesLayout(tuple(lines), blocks, tuple(order))


def task_update_lines(
    t: UpdateTimeline, task_id: str, now_ns: int, names: Mapping[str, str]
) -> list[str]:
    """What task details say about a task's part in its service's last update (empty when it
    took no part)."""
    for r in t.rows:
        refs = {"old": r.old, "new": r.new, "failed": r.failed_attempt}
        role = next((k for k, ref in refs.items() if ref is not None and ref.id == task_id), None)
        if role is None:
            continue
        base = t.started_ns
        where = _row_label(r, names)
        lines = [f"{t.kind} of {t.service_name}: {t.image_from or '?'} → {t.image_to}, "
                 f"{t.outcome} ({t.updated} of {t.total} updated)",
                 f"phase: {_phase_line(t, now_ns)}"]
        batch = next((b for b in t.batches if r.key in b.slots), None)
        in_batch = f", batch {batch.index} of {batch.of}" if batch else ""
        if role == "old" and r.status != UNCHANGED:
            ref = r.old
            assert ref is not None
            end = (f"ended +{secs(max(0, ref.ended_ns - base))} ({ref.state})"
                   if ref.ended_ns is not None and base is not None else f"still {ref.state}")
            repl = (f", replaced by {r.new.id[:12]} ({r.new.state})" if r.new
                    else ", not yet replaced")
            lines.append(f"this task: the old task of {where}{in_batch}: {end}{repl}")
        elif role == "old" or r.status == UNCHANGED:
            lines.append(f"this task: {where} kept it (unchanged by the {t.kind})")
        else:
            ref = refs[role]
            assert ref is not None
            made = (f"created +{secs(max(0, (ref.created_ns or base) - base))}"
                    if base is not None else "created")
            old = f", replacing {r.old.id[:12]} ({r.old.state})" if r.old else ""
            lines.append(f"this task: the new task of {where}{in_batch}: {made}, "
                         f"{ref.state}{old}")
        return lines
    return []
