"""Everything that can change a :class:`ClusterState`, as plain immutable records."""

from __future__ import annotations

from dataclasses import dataclass

from swarmtui.model.types import EngineEvent, EngineInfo, Node, Secret, Service, Task


@dataclass(frozen=True, slots=True)
class Connecting:
    at_ns: int
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Connected:
    engine: EngineInfo
    at_ns: int


@dataclass(frozen=True, slots=True)
class Disconnected:
    error: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class NodesListed:
    nodes: tuple[Node, ...]
    at_ns: int


@dataclass(frozen=True, slots=True)
class ServicesListed:
    services: tuple[Service, ...]
    at_ns: int


@dataclass(frozen=True, slots=True)
class TasksListed:
    """A task listing: all tasks (``service_ids`` and ``node_ids`` None), or only those of
    some services, or only those on some nodes (the engine's ``service``/``node`` filters)."""

    tasks: tuple[Task, ...]
    at_ns: int
    service_ids: frozenset[str] | None = None
    node_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SecretsListed:
    """A full listing of the secrets (``kind`` ``secret``) or configs (``config``)."""

    kind: str
    items: tuple[Secret, ...]
    at_ns: int


@dataclass(frozen=True, slots=True)
class EventReceived:
    event: EngineEvent


Action = (
    Connecting
    | Connected
    | Disconnected
    | NodesListed
    | ServicesListed
    | TasksListed
    | SecretsListed
    | EventReceived
)
