"""Derived views of a snapshot. Pure functions; callers memoise on snapshot identity."""

from __future__ import annotations

from collections.abc import Iterable

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
