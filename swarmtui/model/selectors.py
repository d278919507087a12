"""Derived views of a snapshot. Pure functions; callers memoise on snapshot identity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from swarmtui.model.state import ClusterState
from swarmtui.model.types import Service, Task


def tasks_of(state: ClusterState, service_id: str) -> list[Task]:
    return [t for t in state.tasks.values() if t.service_id == service_id]


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


_FAILED_TASK_STATES = frozenset({"failed", "rejected"})
_STUCK_UPDATE_STATES = frozenset({"paused", "rollback_paused"})


def failing_services(state: ClusterState) -> list[str]:
    """Services that are not doing what they should, now: the newest task of some slot
    failed or was rejected (the current generation, not history), an update is paused, or
    fewer tasks run than desired while no update is rolling through. Tasks still running on
    a node that is down count as running: the node is the problem, reported once as such."""
    # Called for every snapshot (the header): at 30,000 tasks one cheap pass finds the
    # services with a failed task and the tasks running on nodes that are down; the newest
    # task of each slot is then looked for in those services only.
    down = {nid for nid, node in state.nodes.items() if node.state != "ready"}
    on_down_nodes: dict[str, int] = {}
    with_failures: set[str] = set()
    for task in state.tasks.values():
        st = task.state
        if st in _FAILED_TASK_STATES:
            with_failures.add(task.service_id)
        elif st == "running" and down and task.node_id in down:
            on_down_nodes[task.service_id] = on_down_nodes.get(task.service_id, 0) + 1
    failed_now: set[str] = set()
    if with_failures:
        newest: dict[tuple[str, int | None, str | None], Task] = {}
        for task in state.tasks.values():
            if task.service_id not in with_failures:
                continue
            key = (task.service_id, task.slot, task.node_id if task.slot is None else None)
            prev = newest.get(key)
            if prev is None or (task.created_ns or 0) > (prev.created_ns or 0):
                newest[key] = task
        failed_now = {key[0] for key, t in newest.items() if t.state in _FAILED_TASK_STATES}
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
    return out


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


def attention(state: ClusterState) -> Attention:
    """Nodes down (not ready, whatever their availability, as the grid marks them), drained
    or paused (ready ones), failing services, and a lost connection."""
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
        services_failing=len(failing_services(state)),
    )
