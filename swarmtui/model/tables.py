"""Rows of the list screens: one pure function per resource, snapshot in, ``(key, cells)`` out.

A row's key is the object's ID (stable across renames, so a screen keeps its cursor on it);
its cells are the texts the docker CLI's ``ls`` would print. Rows come in the CLI's order.
"""

from __future__ import annotations

from swarmtui.model.impact import bytes_size, cpus_text, natural_key
from swarmtui.model.secrets import CONFIG, SECRET, Kind, timestamp, user_names
from swarmtui.model.state import ClusterState
from swarmtui.model.types import Node

Row = tuple[str, tuple[str, ...]]
"""One table row: its key (an object ID) and its cells, one text per column."""

SERVICE_COLUMNS = ("NAME", "MODE", "REPLICAS", "IMAGE", "STACK", "UPDATE", "PORTS")


def service_rows(state: ClusterState) -> list[Row]:
    """Services by name: mode, ``running/desired``, image without digest, update state."""
    rows: list[Row] = []
    for svc in sorted(state.services.values(), key=lambda s: s.name):
        update = svc.update_status.state if svc.update_status else "-"
        ports = (
            ", ".join(f"*:{p.published}->{p.target}/{p.protocol}" for p in svc.ports if p.published)
            or "-"
        )
        cells = (svc.name, svc.mode, svc.replicas_text, svc.image.split("@")[0],
                 svc.stack or "-", update, ports)
        rows.append((svc.id, cells))
    return rows


NODE_COLUMNS = ("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION",
                "CPUS", "MEMORY", "LABELS")
"""``docker node ls``'s columns, then what ``docker node inspect`` adds: resources, labels."""

LABELS_WIDTH = 40


def _pretty(value: str) -> str:
    """The CLI's ``command.PrettyPrint``: the first letter upper-cased (``ready`` -> ``Ready``)."""
    return value[:1].upper() + value[1:]


def manager_status(node: Node) -> str:
    """``Leader``, the manager's reachability (``Reachable``, ``Unreachable``), or empty for a
    worker, as ``docker node ls`` says it."""
    if not node.is_manager:
        return ""
    return "Leader" if node.leader else _pretty(node.reachability or "")


def node_labels_text(node: Node) -> str:
    """The node's labels ``k=v,k=v`` (not the engine's), cut to fit a column."""
    text = ",".join(f"{k}={v}" if v else k for k, v in sorted(node.labels)) or "-"
    return text if len(text) <= LABELS_WIDTH else text[:LABELS_WIDTH - 1] + "…"


def node_rows(state: ClusterState) -> list[Row]:
    """``docker node ls``: the engine we talk to marked ``*``, sorted by hostname."""
    self_id = state.engine.swarm.node_id if state.engine is not None else ""
    rows: list[Row] = []
    for node in sorted(state.nodes.values(), key=lambda n: (natural_key(n.hostname), n.id)):
        node_id = f"{node.id} *" if node.id == self_id else node.id
        cells = (node_id, node.hostname, _pretty(node.state), _pretty(node.availability),
                 manager_status(node), node.engine_version,
                 cpus_text(node.nano_cpus) if node.nano_cpus else "-",
                 bytes_size(node.memory_bytes) if node.memory_bytes else "-",
                 node_labels_text(node))
        rows.append((node.id, cells))
    return rows


SECRET_COLUMNS = ("ID", "NAME", "DRIVER", "CREATED", "UPDATED", "USED BY")
CONFIG_COLUMNS = ("ID", "NAME", "CREATED", "UPDATED", "USED BY")


def _secret_like_rows(state: ClusterState, kind: Kind) -> list[Row]:
    """``docker secret ls`` / ``config ls`` by name (times in UTC), and the services using it."""
    rows: list[Row] = []
    for item in sorted(kind.items(state).values(), key=lambda s: (s.name, s.id)):
        used = ", ".join(user_names(state, kind, item.id)) or "-"
        times = (timestamp(item.created_ns), timestamp(item.updated_ns))
        driver = (item.driver,) if kind.secret else ()
        rows.append((item.id, (item.id, item.name, *driver, *times, used)))
    return rows


def secret_rows(state: ClusterState) -> list[Row]:
    return _secret_like_rows(state, SECRET)


def config_rows(state: ClusterState) -> list[Row]:
    return _secret_like_rows(state, CONFIG)
