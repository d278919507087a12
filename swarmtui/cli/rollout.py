"""``swarmtui rollout status TARGET...``: wait for the rolling update in flight, for the shell
and CI (``docker stack deploy`` cannot wait for convergence on Docker 20.10).

A TARGET is a service (name, ID or unique ID prefix) or a stack, in the syntax of
``swarmtui logs`` (a bare name is a stack, a service or both). The targets are listed once,
then only they are polled: ``GET /services/{id}`` and ``GET /tasks?filters={"service":[id]}``
every ``--interval`` (0.25 s; docker's own progress loop polls every 200 ms, so no replaced
task goes unseen). A service stops being polled once its verdict is final, the command
exits once every verdict is: progress lines while things change, then the timeline of each
service (:func:`~swarmtui.model.timeline.render_timeline_text`), then one last line saying why.

Exit status: 0 every update completed (or none is in flight and the last one completed, or
there never was one); 1 one paused, rolled back, stalled or failed (the last line names the
service and the failing task's error and exit code); 124 ``--timeout`` expired; 2 unknown
target. Read-only: it sends GET requests only.

Just after ``docker stack deploy`` (or ``docker service update --detach``) the engine may not
have started the update yet: UpdateStatus still shows the previous one. A service counts as
*about to update* while a task that should run was made from another TaskTemplate than the
service has now (the updater's own "dirty" test) and UpdateStatus shows no update in flight
nor a paused one; that is waited for up to :data:`START_GRACE_S` after the command began,
then the timeline is trusted. A service created less than :data:`FRESH_CREATE_S` ago and
never updated (a first deploy) counts as rolling out until its tasks run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from swarmtui.cli.common import CliError, Parser, engine_target
from swarmtui.model.timeline import (
    COMPLETED,
    FAILED,
    ROLLED_BACK,
    STALL_MARGIN_NS,
    STALLED,
    UpdateTimeline,
    render_timeline_text,
    rollout_exit_status,
    timeline_for,
)
from swarmtui.model.times import NS_PER_S
from swarmtui.model.types import Service, Task
from swarmtui.settings import Scope, Settings

if TYPE_CHECKING:  # the engine layer (aiodocker, aiohttp) is imported when a command runs
    from swarmtui.engine.client import EngineClient

NAME = "rollout"
SCOPE = Scope(engines=False, app_env=False)

DEFAULT_INTERVAL_S = 0.25
MIN_INTERVAL_S = 0.2
MAX_INTERVAL_S = 5.0
START_GRACE_S = 5.0  # how long an update that should start is waited for
FRESH_CREATE_S = 60.0  # a never-updated service this young is a first deploy: wait for it
ENGINE_RETRY_S = 15.0  # a manager restart: keep polling this long before giving up
TIMEOUT_STATUS = 124  # like timeout(1)

_IN_FLIGHT_STATES = frozenset({"updating", "rollback_started"})
_STOPPED_STATES = frozenset({"paused", "rollback_paused"})


def register(sub: Any) -> None:
    """Register ``rollout`` (with its ``status`` subcommand) on the main parser's subparsers."""
    p = sub.add_parser(
        NAME,
        help="follow rolling updates (rollout status: wait for one, for CI)",
        description="Rolling updates of services and stacks.",
    )
    rollout_sub = p.add_subparsers(dest="rollout_command", metavar="COMMAND",
                                   parser_class=Parser, required=True)
    s = rollout_sub.add_parser(
        "status",
        help="wait for the update in flight (or report the last one); exit 0 completed, "
        "1 paused / rolled back / stalled, 124 timed out",
        description="Wait for the rolling update of every TARGET (a service name, ID or "
        "unique ID prefix, a stack name, stack:NAME or service:NAME), printing progress, "
        "then each service's timeline and a last line saying why it exits: 0 all completed "
        "(or no update in flight and the last one completed), 1 paused, rolled back, "
        "stalled or failed, 124 --timeout expired, 2 unknown target.",
    )
    s.add_argument("targets", nargs="+", metavar="TARGET", help="service or stack")
    s.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS",
                   help="give up after this long (exit 124); default: wait until it settles")
    s.add_argument("--interval", type=_interval, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
                   help=f"poll every SECONDS while waiting ({MIN_INTERVAL_S:g} to "
                   f"{MAX_INTERVAL_S:g}, default {DEFAULT_INTERVAL_S:g})")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seconds {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid seconds {text!r}: use a number above 0")
    return value


def _interval(text: str) -> float:
    value = _positive_seconds(text)
    if not MIN_INTERVAL_S <= value <= MAX_INTERVAL_S:
        raise argparse.ArgumentTypeError(
            f"invalid --interval {text!r}: use {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} seconds")
    return value


# --------------------------------------------------------------------------- verdicts


def _secs(ns: int) -> str:
    s = ns / NS_PER_S
    return f"{s:.1f} s" if s < 10 else f"{round(s)} s"


def _canonical_spec(spec: object) -> object:
    # Tasks carry the TaskTemplate without Runtime (dockerd fills it in on the service only).
    if not isinstance(spec, Mapping):
        return spec
    return {k: v for k, v in spec.items() if k != "Runtime"}


def dirty_tasks(raw_service: Mapping[str, Any], raw_tasks: Sequence[Mapping[str, Any]]) -> int:
    """How many tasks that should run were made from another TaskTemplate than the service's
    (swarmkit's ``IsTaskDirty``, minus the endpoint): they are what an update replaces."""
    spec = raw_service.get("Spec")
    template = _canonical_spec(spec.get("TaskTemplate") if isinstance(spec, Mapping) else None)
    return sum(
        1
        for t in raw_tasks
        if t.get("DesiredState") in ("running", "ready")
        and _canonical_spec(t.get("Spec")) != template
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    status: int | None  # 0 / 1 final, None: keep watching
    progress: str  # one line for the progress stream
    reason: str  # why it is final (or what it waits for), for the last line
    timeline: UpdateTimeline | None = None


def _failed_task_text(task: Task) -> str:
    text = task.err.removeprefix("task: ") or task.message or task.state
    if task.exit_code not in (None, 0) and f"({task.exit_code})" not in text:
        text += f" (exit code {task.exit_code})"
    return f"task {task.id[:12]} {task.state} ({text})"


def _failure_reason(tl: UpdateTimeline, tasks: Sequence[Task]) -> str:
    cause = tl.stopped_because
    because = f": task {cause.task_id[:12]} failed ({cause.reason})" if cause is not None else ""
    if cause is None and tl.outcome == ROLLED_BACK:
        # "rollback completed" no longer names the task: the newest failed one of the spec
        # rolled away from says why (watched from the start, the timeline still knows it).
        bad = sorted((t for t in tasks if t.state in ("failed", "rejected")
                      and t.image != tl.image_to), key=lambda t: t.status_ns or 0)
        because = f": {_failed_task_text(bad[-1])}" if bad else ""
    if tl.outcome == ROLLED_BACK:
        back = f" to {tl.image_to}" if tl.kind == "rollback" else ""
        return f"rolled back{back}{because}"
    if tl.outcome == FAILED:
        return tl.notes[0] if tl.notes else tl.phase
    if tl.outcome == STALLED and tl.stalled is not None and tl.stalled.waiting:
        return f"{tl.phase} ({tl.stalled.waiting[0]})"
    return tl.phase  # paused: "update paused at batch 2 of 4: task … failed (…)"


def _first_deploy(service: Service, tasks: Sequence[Task], now_ns: int,
                  watched_ns: int) -> Verdict | None:
    """A service created moments ago and never updated: rolling out until its tasks run."""
    if service.created_ns is None or now_ns - service.created_ns > FRESH_CREATE_S * NS_PER_S:
        return None
    live = [t for t in tasks if t.wants_running]
    running = sum(1 for t in live if t.state == "running")
    want = service.replicas if not service.is_global else len(live)
    if want is None or running >= want:
        return None
    what = f"starting: {running} of {want} running"
    if now_ns - watched_ns > STALL_MARGIN_NS:
        failed = sorted((t for t in tasks if t.state in ("failed", "rejected")),
                        key=lambda t: t.status_ns or 0)
        why = ""
        if failed:
            why = f": {_failed_task_text(failed[-1])}"
        return Verdict(1, f"{service.name}: {what}, stalled",
                       f"first deploy stalled, {running} of {want} running{why}")
    return Verdict(None, f"{service.name}: {what}", what)


def judge(
    service: Service,
    tasks: Sequence[Task],
    now_ns: int,
    previous: UpdateTimeline | None,
    *,
    dirty: int,
    watched_ns: int,
) -> Verdict:
    """The verdict on one service from one look (``watched_ns``: when the command began)."""
    tl = timeline_for(service, tasks, now_ns, previous)
    st = service.update_status
    about_to_update = (
        dirty > 0
        and (st is None or st.state not in _IN_FLIGHT_STATES | _STOPPED_STATES)
        and now_ns - watched_ns < START_GRACE_S * NS_PER_S
    )
    if about_to_update:
        tasks_word = "task" if dirty == 1 else "tasks"
        what = f"waiting for the update to start ({dirty} {tasks_word} to replace)"
        return Verdict(None, f"{service.name}: {what}", what, tl)
    if tl is None:
        fresh = _first_deploy(service, tasks, now_ns, watched_ns)
        if fresh is not None:
            return fresh
        return Verdict(0, f"{service.name}: no update", "no update", None)
    status = rollout_exit_status(tl)
    counts = f"({tl.updated} of {tl.total} updated)"
    if status is None:
        return Verdict(None, f"{service.name}: {tl.phase} {counts}", f"{tl.phase} {counts}", tl)
    if status == 0:
        verb = "rollback" if tl.kind == "rollback" else "update"
        took = (f" in {_secs(tl.ended_ns - tl.started_ns)}"
                if tl.ended_ns is not None and tl.started_ns is not None else "")
        return Verdict(0, f"{service.name}: {tl.phase}",
                       f"{verb} {COMPLETED}, {tl.updated} of {tl.total} updated{took}", tl)
    return Verdict(1, f"{service.name}: {tl.phase}", _failure_reason(tl, tasks), tl)


# --------------------------------------------------------------------------- watching


@dataclass(slots=True)
class Watch:
    """One target service while the command runs."""

    service_id: str
    name: str
    timeline: UpdateTimeline | None = None
    verdict: Verdict | None = None
    last_progress: str = ""
    failing_since: float | None = None  # monotonic time of the first failed poll in a row

    @property
    def final(self) -> bool:
        return self.verdict is not None and self.verdict.status is not None


async def _look(client: EngineClient, watch: Watch, watched_ns: int) -> None:
    from swarmtui.engine.client import EngineError
    from swarmtui.model.parse import parse_service, parse_tasks

    try:
        raw_service = await client.service(watch.service_id)
        raw_tasks = [] if raw_service is None else await client.tasks(
            {"service": [watch.service_id]})
    except EngineError as exc:
        # A manager restart or a leader election: keep trying for a while.
        now = time.monotonic()
        if watch.failing_since is None:
            watch.failing_since = now
        if now - watch.failing_since > ENGINE_RETRY_S:
            raise CliError(str(exc)) from exc
        return
    watch.failing_since = None
    now_ns = time.time_ns()
    if raw_service is None:
        watch.verdict = Verdict(1, f"{watch.name}: removed", "the service was removed")
        return
    service = parse_service(raw_service)
    tasks = parse_tasks(raw_tasks)
    verdict = judge(service, tasks, now_ns, watch.timeline,
                    dirty=dirty_tasks(raw_service, raw_tasks), watched_ns=watched_ns)
    if verdict.timeline is not None:
        watch.timeline = verdict.timeline
    watch.verdict = verdict


class Output:
    """Lines to stdout, flushed (a CI log shows progress as it happens); the last line in
    colour only on a terminal."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def line(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def last(self, text: str, status: int) -> None:
        if self.colour:
            tint = 32 if status == 0 else 33 if status == TIMEOUT_STATUS else 31
            text = f"\x1b[{tint}m{text}\x1b[0m"
        self.line(text)


def last_line(watches: Sequence[Watch], timed_out_s: float | None) -> tuple[int, str]:
    """The exit status and the line that says why."""
    if timed_out_s is not None:
        waiting = [w for w in watches if not w.final]
        what = "; ".join(
            f"{w.name}: {w.verdict.reason if w.verdict else 'no answer from the engine'}"
            for w in waiting)
        return TIMEOUT_STATUS, f"timed out after {timed_out_s:g} s waiting for {what}"
    bad = [w for w in watches if w.verdict is not None and w.verdict.status == 1]
    if bad:
        what = "; ".join(f"{w.name}: {w.verdict.reason}" for w in bad if w.verdict)
        return 1, f"rollout failed: {what}"
    what = ", ".join(f"{w.name} ({w.verdict.reason})" for w in watches if w.verdict)
    return 0, f"rolled out: {what}"


async def _resolve(client: EngineClient, words: Sequence[str]) -> list[Watch]:
    from swarmtui.engine.client import EngineError
    from swarmtui.model.log_targets import resolve_names, select_services
    from swarmtui.model.parse import parse_services
    from swarmtui.model.state import ClusterState

    try:
        services = parse_services(await client.services(status=False))
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    state = ClusterState(services={s.id: s for s in services})
    targets, unknown = resolve_names(state, words)
    if unknown:
        what = "service or stack" if len(unknown) == 1 else "services or stacks"
        raise CliError(f"no such {what}: {', '.join(unknown)}", 2)
    return [Watch(s.id, s.name) for s in select_services(state, targets)]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """``rollout status``: returns the exit status (raises CliError for one-line failures)."""
    from swarmtui.engine.client import EngineClient, EngineError
    from swarmtui.model.log_targets import parse_words
    from swarmtui.model.parse import parse_nodes

    try:
        parse_words(args.targets)  # a bad ~regex is a usage error, found before connecting
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    out = Output(colour=sys.stdout.isatty() and not settings.no_color)
    async with engine_target(settings) as target:
        client = EngineClient(target)
        try:
            try:
                await client.connect()
            except EngineError as exc:
                raise CliError(str(exc)) from exc
            watches = await _resolve(client, args.targets)
            try:
                node_names = {n.id: n.hostname for n in parse_nodes(await client.nodes())}
            except EngineError:
                node_names = {}  # names only make the timeline nicer
            watched_ns = time.time_ns()
            timed_out = None
            try:
                async with asyncio.timeout(args.timeout):
                    await _watch(client, watches, watched_ns, args.interval, out)
            except TimeoutError:
                timed_out = args.timeout
            shown = [w for w in watches if w.timeline is not None]
            now_ns = time.time_ns()
            for w in shown:
                assert w.timeline is not None
                out.line()
                out.line(render_timeline_text(w.timeline, now_ns, node_names).rstrip("\n"))
            if shown:
                out.line()
            status, text = last_line(watches, timed_out)
            out.last(text, status)
            return status
        finally:
            await client.close()


async def _watch(client: EngineClient, watches: Sequence[Watch], watched_ns: int,
                 interval_s: float, out: Output) -> None:
    while True:
        pending = [w for w in watches if not w.final]
        if not pending:
            return
        await asyncio.gather(*(_look(client, w, watched_ns) for w in pending))
        for w in pending:
            if w.verdict is not None and w.verdict.progress != w.last_progress:
                w.last_progress = w.verdict.progress
                out.line(w.verdict.progress)
        if all(w.final for w in watches):
            return
        await asyncio.sleep(interval_s)
