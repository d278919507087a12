"""What a node change would do, before it is made: the impact previews of the node actions.

Pure (the parsed :class:`~swarmtui.model.types.Node` s plus the services' placement, read
from their specs here). A drain moves the node's running tasks of replicated services to
other nodes and stops those of global services; a task that no other node can take (its
placement constraints, the free CPU/memory, max replicas per node, the other nodes' state) is
flagged with why. A demote changes the manager count and maybe the raft quorum: with ``N``
managers, raft needs ``N // 2 + 1`` of them reachable.

The scheduler's rules followed here (swarmkit ``scheduler``/``constraint``): a node takes
new tasks only when ready and active; constraints are ``key==value`` / ``key!=value``, values
compared case-insensitively, a missing label never equal; reservations must fit what the
node has minus what its running tasks reserve. Placement preferences only spread tasks, so
they are ignored; generic resources, ports and platforms are not checked ("roughly").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from swarmtui.model.jsonval import as_int, as_list, as_map, as_str
from swarmtui.model.types import Node, Task


def natural_key(text: str) -> list[int | str]:
    """``sortorder.NaturalLess``, which ``docker node ls`` sorts hostnames by: digit runs as
    numbers (``node2`` before ``node10``)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]

GLOBAL_MODES: Final = frozenset({"global", "global-job"})
_BINARY_UNITS: Final = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def bytes_size(size: float) -> str:
    """go-units ``BytesSize`` (1024-based, ``%.4g``): ``1.944GiB``, as ``docker node inspect
    --pretty`` prints memory."""
    value = float(size)
    i = 0
    while value >= 1024.0 and i < len(_BINARY_UNITS) - 1:
        value /= 1024.0
        i += 1
    return f"{value:.4g}{_BINARY_UNITS[i]}"


def cpus_text(nano_cpus: int) -> str:
    """NanoCPUs as CPUs (``2``, ``0.5``)."""
    return f"{nano_cpus / 1e9:g}"


# -- labels -------------------------------------------------------------------------------

def parse_label(text: str) -> tuple[str, str]:
    """``key=value`` (or ``key``, an empty value, as ``docker node update --label-add``
    takes it). ValueError in one line when there is no key."""
    key, _, value = text.strip().partition("=")
    key = key.strip()
    if not key:
        raise ValueError("a label needs a key (key=value)")
    if any(ch.isspace() for ch in key):
        raise ValueError(f"a label key has no spaces: {key!r}")
    return key, value


def parse_label_key(text: str) -> str:
    key = text.strip()
    if not key:
        raise ValueError("a label needs a key")
    if "=" in key:
        raise ValueError("give only the key of the label to remove, not key=value")
    return key


# -- placement ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Placement:
    """What the scheduler needs to know of a service to place one of its tasks."""

    service_id: str
    name: str
    mode: str
    constraints: tuple[str, ...] = ()
    nano_cpus: int = 0
    memory_bytes: int = 0
    max_replicas: int = 0  # per node; 0: no limit

    @property
    def is_global(self) -> bool:
        return self.mode in GLOBAL_MODES


def placement_of(raw: Mapping[str, object]) -> Placement:
    """A service's placement from ``GET /services``' JSON."""
    spec = as_map(raw.get("Spec"))
    template = as_map(spec.get("TaskTemplate"))
    placement = as_map(template.get("Placement"))
    reservations = as_map(as_map(template.get("Resources")).get("Reservations"))
    modes = as_map(spec.get("Mode"))
    mode = next((m for m, key in (("replicated", "Replicated"), ("global", "Global"),
                                  ("replicated-job", "ReplicatedJob"),
                                  ("global-job", "GlobalJob")) if key in modes), "replicated")
    return Placement(
        service_id=as_str(raw.get("ID")),
        name=as_str(spec.get("Name")) or as_str(raw.get("ID")),
        mode=mode,
        constraints=tuple(as_str(c) for c in as_list(placement.get("Constraints"))),
        nano_cpus=as_int(reservations.get("NanoCPUs")),
        memory_bytes=as_int(reservations.get("MemoryBytes")),
        max_replicas=as_int(placement.get("MaxReplicas")),
    )


def _split(constraint: str) -> tuple[str, str, str] | None:
    for op in ("==", "!="):
        key, sep, value = constraint.partition(op)
        if sep:
            return key.strip(), op, value.strip()
    return None


def constraint_matches(constraint: str, node: Node) -> bool | None:
    """Whether ``node`` satisfies one constraint; None for a key this model cannot read
    (the engine decides those: they are taken as satisfied)."""
    parts = _split(constraint)
    if parts is None:
        return None
    key, op, want = parts
    lowered = key.lower()
    have: str | None
    if lowered == "node.id":
        have = node.id
    elif lowered == "node.hostname":
        have = node.hostname
    elif lowered == "node.role":
        have = node.role
    elif lowered == "node.platform.os":
        have = node.os
    elif lowered == "node.platform.arch":
        have = node.arch
    elif lowered.startswith("node.labels."):
        have = dict(node.labels).get(key[len("node.labels."):])
    elif lowered.startswith("engine.labels."):
        have = dict(node.engine_labels).get(key[len("engine.labels."):])
    else:
        return None
    equal = have is not None and have.lower() == want.lower()
    return equal if op == "==" else not equal


def satisfies(placement: Placement, node: Node) -> bool:
    return all(constraint_matches(c, node) is not False for c in placement.constraints)


# -- a drain's impact ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TaskMove:
    """One running task on the node: where it can go (``candidates``) or why nowhere."""

    task_id: str
    service: str
    slot: int | None
    candidates: tuple[str, ...] = ()  # hostnames that could take it
    stops: bool = False  # a global service's task: it stops, nothing replaces it
    nowhere: str = ""  # why no node can take it (empty: it can move)

    @property
    def label(self) -> str:
        return f"{self.service}.{self.slot}" if self.slot is not None else self.service


@dataclass(frozen=True, slots=True)
class DrainImpact:
    node: str
    moves: tuple[TaskMove, ...]

    @property
    def moving(self) -> tuple[TaskMove, ...]:
        return tuple(m for m in self.moves if not m.stops and not m.nowhere)

    @property
    def stranded(self) -> tuple[TaskMove, ...]:
        return tuple(m for m in self.moves if m.nowhere)

    @property
    def stopping(self) -> tuple[TaskMove, ...]:
        return tuple(m for m in self.moves if m.stops)


def _running_on(tasks: Iterable[Task], node_id: str) -> list[Task]:
    return [t for t in tasks if t.node_id == node_id and t.desired_state == "running"
            and not t.is_terminal]


def _unavailable(node: Node) -> str:
    if node.state != "ready":
        return node.state
    return "drained" if node.availability == "drain" else node.availability


def _nowhere(placement: Placement, node: Node, others: Sequence[Node],
             fitting: Sequence[Node]) -> str:
    """Why none of ``others`` can take a task of ``placement`` (``fitting``: those that
    satisfy its constraints), in the order the user would fix it."""
    wanted = " and ".join(placement.constraints)
    if not fitting:
        if placement.constraints:
            if satisfies(placement, node):
                return f"{node.hostname} is the only node that satisfies {wanted}"
            return f"no node satisfies {wanted}"
        return "there is no other node"
    usable = [n for n in fitting if n.is_usable]
    if not usable:
        states = ", ".join(f"{n.hostname} {_unavailable(n)}" for n in fitting)
        scope = f"the nodes that satisfy {wanted}" if placement.constraints else "the others"
        return f"{scope} take no tasks ({states})"
    need = []
    if placement.nano_cpus:
        need.append(f"{cpus_text(placement.nano_cpus)} CPU")
    if placement.memory_bytes:
        need.append(bytes_size(placement.memory_bytes))
    if need:
        return f"no node has {' and '.join(need)} free (reserved)"
    return f"every node already runs {placement.max_replicas} (max replicas per node)"


def drain_impact(node: Node, nodes: Iterable[Node], placements: Iterable[Placement],
                 tasks: Iterable[Task]) -> DrainImpact:
    """Which of ``node``'s running tasks move where, stop, or have nowhere to go.

    Tasks are placed one after another so that two tasks cannot both count on the last free
    CPU of one node; the candidates are the nodes that could take each (not a prediction
    of the scheduler's spread)."""
    tasks = list(tasks)
    by_service = {p.service_id: p for p in placements}
    others = [n for n in nodes if n.id != node.id]
    used_cpu: dict[str, int] = {}
    used_mem: dict[str, int] = {}
    count: dict[tuple[str, str], int] = {}
    for task in tasks:
        if task.node_id is None or task.node_id == node.id or task.is_terminal \
                or task.desired_state != "running":
            continue
        p = by_service.get(task.service_id)
        if p is None:
            continue
        used_cpu[task.node_id] = used_cpu.get(task.node_id, 0) + p.nano_cpus
        used_mem[task.node_id] = used_mem.get(task.node_id, 0) + p.memory_bytes
        count[(task.node_id, p.service_id)] = count.get((task.node_id, p.service_id), 0) + 1

    def fits(p: Placement, n: Node) -> bool:
        if p.nano_cpus and n.nano_cpus - used_cpu.get(n.id, 0) < p.nano_cpus:
            return False
        if p.memory_bytes and n.memory_bytes - used_mem.get(n.id, 0) < p.memory_bytes:
            return False
        return not (p.max_replicas and count.get((n.id, p.service_id), 0) >= p.max_replicas)

    moves: list[TaskMove] = []
    ordered = sorted(_running_on(tasks, node.id),
                     key=lambda t: (by_service[t.service_id].name if t.service_id in by_service
                                    else t.service_id, t.slot or 0, t.id))
    for task in ordered:
        p = by_service.get(task.service_id)
        if p is None:  # a task of a service gone meanwhile: nothing to place
            continue
        if p.is_global:
            moves.append(TaskMove(task.id, p.name, task.slot, stops=True))
            continue
        fitting = [n for n in others if satisfies(p, n)]
        candidates = [n for n in fitting if n.is_usable and fits(p, n)]
        if not candidates:
            moves.append(TaskMove(task.id, p.name, task.slot,
                                  nowhere=_nowhere(p, node, others, fitting)))
            continue
        target = candidates[0]
        used_cpu[target.id] = used_cpu.get(target.id, 0) + p.nano_cpus
        used_mem[target.id] = used_mem.get(target.id, 0) + p.memory_bytes
        count[(target.id, p.service_id)] = count.get((target.id, p.service_id), 0) + 1
        moves.append(TaskMove(task.id, p.name, task.slot,
                              candidates=tuple(sorted((n.hostname for n in candidates),
                                                      key=natural_key))))
    return DrainImpact(node.hostname, tuple(moves))


def render_drain(impact: DrainImpact) -> str:
    """The preview block: each task and where it goes, the flagged ones with why."""
    if not impact.moves:
        return f"No running tasks on {impact.node}: nothing moves.\n"
    lines = [f"Running tasks on {impact.node}:"]
    for move in impact.moves:
        if move.stops:
            what = "stops (global service: one task per node, none replaces it)"
        elif move.nowhere:
            what = f"NOWHERE TO GO: {move.nowhere}"
        else:
            what = "moves to " + (" or ".join(move.candidates[:3])
                                  + (" …" if len(move.candidates) > 3 else ""))
        lines.append(f"  {move.label:<24} {move.task_id[:12]}  {what}")
    return "\n".join(lines) + "\n"


# -- managers and quorum ------------------------------------------------------------------

def quorum(managers: int) -> int:
    """Raft's majority of ``managers`` voters."""
    return managers // 2 + 1


def _reachable(node: Node) -> bool:
    return node.is_manager and (node.leader or node.reachability == "reachable")


@dataclass(frozen=True, slots=True)
class DemoteImpact:
    managers_before: int
    managers_after: int
    reachable_after: int
    quorum_after: int

    @property
    def last_manager(self) -> bool:
        return self.managers_after == 0

    @property
    def costs_quorum(self) -> bool:
        return not self.last_manager and self.reachable_after < self.quorum_after


def demote_impact(node: Node, nodes: Iterable[Node]) -> DemoteImpact:
    managers = [n for n in nodes if n.is_manager]
    remaining = [n for n in managers if n.id != node.id]
    return DemoteImpact(
        managers_before=len(managers),
        managers_after=len(remaining),
        reachable_after=sum(1 for n in remaining if _reachable(n)),
        quorum_after=quorum(len(remaining)) if remaining else 0,
    )


def render_demote(node: Node, impact: DemoteImpact) -> str:
    return (f"Managers: {impact.managers_before} → {impact.managers_after}"
            f" ({impact.reachable_after} reachable; raft quorum needs {impact.quorum_after})\n"
            f"  {node.hostname} stops voting in raft and keeps its tasks as a worker.\n")
