"""swarmkit's scheduling rules, reduced to what a dashboard can observe.

Filters run in swarmkit's order (ReadyFilter, ResourceFilter, ConstraintFilter); a node is
counted against the first filter it fails, and a task with no node left gets
``Status.Err = "no suitable node (<explanations, most failures first>)"``.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarmtui.sim.objects import SimNode

_CONSTRAINT = re.compile(r"^\s*([\w.\-/]+)\s*(==|!=)\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Constraint:
    key: str
    equal: bool
    value: str

    def matches(self, node: SimNode) -> bool:
        found = node_value(node, self.key)
        same = found is not None and found.lower() == self.value.lower()
        return same if self.equal else not same


def parse_constraints(exprs: Iterable[str]) -> list[Constraint]:
    out = []
    for expr in exprs:
        m = _CONSTRAINT.match(expr)
        if m:
            out.append(Constraint(m.group(1), m.group(2) == "==", m.group(3)))
    return out


def node_value(node: SimNode, key: str) -> str | None:
    low = key.lower()
    if low == "node.id":
        return node.id
    if low == "node.hostname":
        return node.hostname
    if low == "node.role":
        return node.role
    if low == "node.platform.os":
        return node.os
    if low == "node.platform.arch":
        return node.arch
    if low == "node.ip":
        return node.addr
    if low.startswith("node.labels."):
        return node.labels.get(key[len("node.labels."):])
    if low.startswith("engine.labels."):
        value = node.engine_labels.get(key[len("engine.labels."):])
        return None if value is None else str(value)
    return None


@dataclass(slots=True)
class Resources:
    nano_cpus: int = 0
    memory_bytes: int = 0


def _plural(n: int, one: str, many: str) -> str:
    return one.format(n) if n == 1 else many.format(n)


def filter_nodes(
    nodes: Sequence[SimNode],
    constraints: Sequence[Constraint],
    need: Resources,
    used: dict[str, Resources],
) -> tuple[list[SimNode], str]:
    """Nodes a task may go to, and the explanation when there is none."""
    ready_fail = resource_fail = constraint_fail = 0
    ok: list[SimNode] = []
    for node in nodes:
        if node.state != "ready" or node.availability != "active":
            ready_fail += 1
            continue
        if need.nano_cpus or need.memory_bytes:
            u = used.get(node.id, Resources())
            if (
                need.nano_cpus > node.nano_cpus - u.nano_cpus
                or need.memory_bytes > node.memory_bytes - u.memory_bytes
            ):
                resource_fail += 1
                continue
        if constraints and not all(c.matches(node) for c in constraints):
            constraint_fail += 1
            continue
        ok.append(node)
    if ok:
        return ok, ""
    entries = [
        (ready_fail, 0, _plural(ready_fail, "{} node not available for new tasks",
                                "{} nodes not available for new tasks")),
        (resource_fail, 1, _plural(resource_fail, "insufficient resources on {} node",
                                   "insufficient resources on {} nodes")),
        (constraint_fail, 2, _plural(constraint_fail,
                                     "scheduling constraints not satisfied on {} node",
                                     "scheduling constraints not satisfied on {} nodes")),
    ]
    entries.sort(key=lambda e: (-e[0], e[1]))
    parts = [text for count, _, text in entries if count > 0]
    return [], "no suitable node" + (f" ({'; '.join(parts)})" if parts else "")


def spread(
    candidates: Sequence[SimNode],
    count: int,
    service_load: dict[str, int],
    total_load: dict[str, int],
    order: dict[str, int],
) -> list[SimNode]:
    """Pick ``count`` nodes like swarmkit's spread: fewest tasks of this service, then fewest
    tasks overall, then node order. Loads are updated in place."""
    heap = [
        (service_load.get(n.id, 0), total_load.get(n.id, 0), order[n.id], n) for n in candidates
    ]
    heapq.heapify(heap)
    picked = []
    for _ in range(count):
        s, t, o, node = heapq.heappop(heap)
        picked.append(node)
        service_load[node.id] = s + 1
        total_load[node.id] = t + 1
        heapq.heappush(heap, (s + 1, t + 1, o, node))
    return picked
