"""The single immutable snapshot of everything the dashboard knows about one swarm."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar, cast

from swarmtui.model.taskindex import TaskIndex
from swarmtui.model.types import EngineEvent, EngineInfo, Node, Secret, Service, Task

_EMPTY: Mapping[str, object] = MappingProxyType({})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Connection:
    """How the app's link to the engine is doing."""

    status: str = "connecting"  # connecting | connected | disconnected
    error: str = ""
    since_ns: int = 0
    attempts: int = 0

    @property
    def lost(self) -> bool:
        """Disconnected, or trying again after losing it (a reconnect attempt to a hung
        engine lasts as long as its timeout: the picture is stale all that time)."""
        return self.status == "disconnected" or (self.status == "connecting" and bool(self.error))


@dataclass(frozen=True, slots=True, eq=False)
class ClusterState:
    """One snapshot. Identity-compared (``eq=False``): a new object means something changed.

    Unchanged maps are shared between snapshots, so selectors can short-circuit with ``is``.
    """

    engine: EngineInfo | None = None
    connection: Connection = field(default_factory=Connection)
    nodes: Mapping[str, Node] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    tasks: Mapping[str, Task] = field(default_factory=dict)
    events: tuple[EngineEvent, ...] = ()
    # The newest EVENT_HISTORY events are kept; how many arrived in all numbers them
    # (the oldest kept is number event_count - len(events)), so a view appends only new ones.
    event_count: int = 0
    # Metadata only (a secret's data never reaches the engine's listings, nor the model).
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    configs: Mapping[str, Secret] = field(default_factory=dict)
    # When each kind was last listed in full (unix ns); None until the first listing.
    nodes_listed_ns: int | None = None
    services_listed_ns: int | None = None
    tasks_listed_ns: int | None = None
    secrets_listed_ns: int | None = None
    configs_listed_ns: int | None = None
    revision: int = 0
    # The reducer's index of ``tasks`` (valid while ``index.tasks is tasks``: a snapshot
    # made with ``replace(state, tasks=...)`` carries a stale one, and gets it rebuilt).
    index: TaskIndex | None = field(default=None, repr=False)
    # Derived values memoised on this snapshot (never copied by ``replace``): selectors run
    # for every snapshot by several readers compute once. Only pure functions of the
    # snapshot go here, so the snapshot still reads as immutable.
    _memo: dict[str, object] = field(init=False, default_factory=dict, repr=False)

    @property
    def task_index(self) -> TaskIndex:
        """The tasks grouped by service and node (model/taskindex.py)."""
        index = self.index
        if index is not None and index.tasks is self.tasks:
            return index
        return self.memoized("task_index", lambda s: TaskIndex.build(s.tasks, index))

    def memoized(self, key: str, compute: Callable[[ClusterState], T]) -> T:
        """``compute(self)``, once per snapshot and ``key``."""
        memo = self._memo
        if key in memo:
            return cast(T, memo[key])
        value = compute(self)
        memo[key] = value
        return value

    @property
    def has_full_state(self) -> bool:
        """True once the engine is known and (on a manager) nodes, services and tasks are listed."""
        if self.engine is None:
            return False
        if not self.engine.swarm.is_manager:
            return True
        return None not in (self.nodes_listed_ns, self.services_listed_ns, self.tasks_listed_ns)

    @property
    def data_ns(self) -> int | None:
        """How fresh the polled part of the picture is: the older of the last service and task
        listings. Nodes are not counted: while connected, node events keep them current."""
        if self.services_listed_ns is None or self.tasks_listed_ns is None:
            return None
        return min(self.services_listed_ns, self.tasks_listed_ns)

    @property
    def is_swarm_manager(self) -> bool:
        return self.engine is not None and self.engine.swarm.is_manager

    def service_by_name(self, name: str) -> Service | None:
        for svc in self.services.values():
            if svc.name == name:
                return svc
        return None


EMPTY_STATE = ClusterState()
