"""Derived views of a snapshot. Pure functions; callers memoise on snapshot identity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from swarmtui.model.state import ClusterState
from swarmtui.model.times import NS_PER_S
from swarmtui.model.types import Service, Task


def tasks_of(state: ClusterState, service_id: str) -> list[Task]:
    return list(state.task_index.service(service_id).tasks.values())


def is_task_settled(task: Task) -> bool:
    """A task that needs no watching: running as desired, or stopped for good."""
    if task.wants_running:
        return task.state == "running" or (
            task.state == "complete" and task.desired_state != "running"
        )
    return task.is_terminal


def service_converged(service: Service, tasks: Iterable[Task]) -> bool:
    """Whether a service has reached its target, as far as cheap signals can tell.

    Mirrors the docker CLI's progress loop: counts match, no update in flight, and every task
    either runs as desired or has finished shutting down.
    """
    if service.update_status is not None and service.update_status.in_progress:
        return False
    if service.running is not None and service.desired is not None:
        if service.mode.endswith("job"):
            pass  # jobs finish: running < desired is the normal end state
        elif service.running != service.desired:
            return False
    return all(is_task_settled(t) for t in tasks)


def services_needing_attention(state: ClusterState) -> list[str]:
    """Services whose reported counts say they are not where they should be."""
    out = []
    for sid, svc in state.services.items():
        if (svc.update_status is not None and svc.update_status.in_progress) or (
            not svc.mode.endswith("job")
            and svc.running is not None
            and svc.desired is not None
            and svc.running != svc.desired
        ):
            out.append(sid)
    return out


_STUCK_UPDATE_STATES = frozenset({"paused", "rollback_paused"})


def failing_services(state: ClusterState) -> list[str]:
    """Services that are not doing what they should, now: the newest task of some slot
    failed or was rejected (the current generation, not history), an update is paused, or
    fewer tasks run than desired while no update is rolling through. Tasks still running on
    a node that is down count as running: the node is the problem, reported once as such."""
    return list(state.memoized("failing_services", _failing_services))


def _failing_services(state: ClusterState) -> tuple[str, ...]:
    # Called for every snapshot (the header, the failing watch, stacks): the index keeps,
    # per service, whether the newest task of a slot failed; only the tasks of nodes that
    # are down are looked at here.
    index = state.task_index
    failed_now = index.failed_now
    on_down_nodes: dict[str, int] = {}
    for nid, node in state.nodes.items():
        if node.state != "ready":
            for task in index.node(nid).values():
                if task.state == "running":
                    on_down_nodes[task.service_id] = on_down_nodes.get(task.service_id, 0) + 1
    out = []
    for sid, svc in state.services.items():
        update = svc.update_status
        if (
            sid in failed_now
            or (update is not None and update.state in _STUCK_UPDATE_STATES)
            or (
                not svc.mode.endswith("job")
                and not (update is not None and update.in_progress)
                and svc.running is not None
                and svc.desired is not None
                and svc.running + on_down_nodes.get(sid, 0) < svc.desired
            )
        ):
            out.append(sid)
    return tuple(out)


# How long a failed task keeps its service counted as failing, at least.
FAILING_HOLD_NS: Final = 30 * NS_PER_S


def failing_hold_ns(service: Service) -> int:
    """How long a service whose task failed keeps counting as failing: through a crash
    loop's restart (its restart delay, then the monitor period a new task needs to count as
    healthy), and at least :data:`FAILING_HOLD_NS`."""
    return max(FAILING_HOLD_NS, service.restart_delay_ns + service.update_config.monitor_ns)


@dataclass(frozen=True, slots=True)
class FailingWatch:
    """Failing services, steady across a crash loop's restarts.

    :func:`failing_services` says what one snapshot shows: between a failed task and its
    replacement starting (the replacement is the slot's newest task, the counts may be
    fresh from the moment it ran), it says "fine", so the header's count went up and down
    on every restart. Fed every snapshot (:meth:`observe`, pure: a new watch each time), this
    remembers when each service last had a task fail (a failed task's own time, from any
    snapshot it was listed in) and keeps the service failing until it has run that long
    without one (:func:`failing_hold_ns`). A shortfall of running tasks alone (a scale-up
    starting) is not held: it counts only while it lasts."""

    current: frozenset[str] = frozenset()  # failing_services of the last snapshot
    last_failed_ns: Mapping[str, int] = field(default_factory=dict)
    hold_ns: Mapping[str, int] = field(default_factory=dict)

    def observe(self, state: ClusterState, now_ns: int) -> FailingWatch:
        services = state.services
        last = {sid: ns for sid, ns in self.last_failed_ns.items() if sid in services}
        by_service = state.task_index.by_service
        for sid in services:
            facts = by_service.get(sid)
            if facts is None or (facts.failed_at_ns is None and not facts.failed_undated):
                continue
            # A failed task's own time; the engine's clock may run ahead of ours: never
            # later than now (and now for a failed task without a time).
            when = now_ns if facts.failed_undated else min(facts.failed_at_ns or now_ns, now_ns)
            if when > last.get(sid, -1):
                last[sid] = when
        holds = {sid: failing_hold_ns(services[sid]) for sid in last}
        last = {sid: ns for sid, ns in last.items() if now_ns - ns < holds[sid]}
        return FailingWatch(frozenset(failing_services(state)), last,
                            {sid: holds[sid] for sid in last})

    def failing(self, now_ns: int) -> tuple[str, ...]:
        """The services failing now or within their hold, sorted."""
        held = {sid for sid, ns in self.last_failed_ns.items()
                if now_ns - ns < self.hold_ns.get(sid, FAILING_HOLD_NS)}
        return tuple(sorted(self.current | held))


@dataclass(frozen=True, slots=True)
class Attention:
    """What needs a look, counted for the header."""

    disconnected: bool = False
    nodes_down: int = 0
    nodes_drained: int = 0
    nodes_paused: int = 0
    services_failing: int = 0

    @property
    def phrases(self) -> tuple[str, ...]:
        counts = (
            (self.nodes_down, "down"),
            (self.nodes_drained, "drained"),
            (self.nodes_paused, "paused"),
            (self.services_failing, "failing"),
        )
        return (
            *(("disconnected",) if self.disconnected else ()),
            *(f"{n} {what}" for n, what in counts if n),
        )

    def summary(self) -> str:
        """``1 down, 1 drained, 2 failing``; empty when all is well."""
        return ", ".join(self.phrases)


def attention(state: ClusterState, failing: Sequence[str] | None = None) -> Attention:
    """Nodes down (not ready, whatever their availability, as the grid marks them), drained
    or paused (ready ones), failing services, and a lost connection. ``failing``: the
    services to count as failing when the caller keeps a :class:`FailingWatch` (steady),
    else this snapshot's :func:`failing_services`."""
    down = drained = paused = 0
    for node in state.nodes.values():
        if node.state != "ready":
            down += 1
        elif node.availability == "drain":
            drained += 1
        elif node.availability == "pause":
            paused += 1
    return Attention(
        disconnected=state.connection.lost,
        nodes_down=down,
        nodes_drained=drained,
        nodes_paused=paused,
        services_failing=len(failing_services(state) if failing is None else failing),
    )
