"""Key/value details of one task, for the details panel (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from swarmtui.model.state import ClusterState
from swarmtui.model.times import format_age


def _when(ns: int | None, now_ns: int) -> str:
    if ns is None:
        return "-"
    stamp = datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{stamp} ({format_age(now_ns, ns)} ago)"


def task_details(state: ClusterState, task_id: str, now_ns: int) -> list[tuple[str, str]]:
    task = state.tasks.get(task_id)
    if task is None:
        return [("Task", f"{task_id} is gone (removed by the engine)")]
    svc = state.services.get(task.service_id)
    node = state.nodes.get(task.node_id) if task.node_id else None
    name = svc.name if svc else task.service_id
    rows = [
        ("Task", f"{name}.{task.slot}" if task.slot is not None else name),
        ("Task ID", task.id),
        ("Service", f"{name} ({task.service_id})"),
        ("Stack", (svc.stack if svc else None) or "-"),
        ("Node", f"{node.name} ({node.id})" if node else (task.node_id or "unassigned")),
        ("State", f"{task.state}  (desired: {task.desired_state})"),
        ("Message", task.message or "-"),
        ("Error", task.err or "-"),
        ("Exit code", "-" if task.exit_code is None else str(task.exit_code)),
        ("Image", task.image or "-"),
        ("Container", task.container_id or "-"),
        ("Created", _when(task.created_ns, now_ns)),
        ("Status since", _when(task.status_ns, now_ns)),
        ("Updated", _when(task.updated_ns, now_ns)),
    ]
    if node is not None and node.state != "ready":
        rows.append(("Warning", f"node {node.name} is {node.state}: this status may be stale"))
    for att in task.networks:
        rows.append(("Network", f"{att.network}: {', '.join(att.addresses) or '-'}"))
    for p in task.ports:
        rows.append(("Port", f"{p.published or '-'}:{p.target}/{p.protocol} ({p.mode})"))
    return rows
