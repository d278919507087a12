"""Typed, immutable views of the swarm objects the engine lists.

Everything here is built by :mod:`swarmtui.model.parse` from the engine's JSON and is never
mutated: a new listing produces new objects, unchanged ones keep their identity in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]

# Task states in the order swarmkit moves through them; terminal states follow ``running``.
TASK_STATE_ORDER: tuple[str, ...] = (
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
    "complete",
    "shutdown",
    "failed",
    "rejected",
    "remove",
    "orphaned",
)
TERMINAL_TASK_STATES = frozenset(
    {"complete", "shutdown", "failed", "rejected", "remove", "orphaned"}
)
# Desired states that mean "this task should be up" (a task being replaced has shutdown/remove).
LIVE_DESIRED_STATES = frozenset({"running", "ready", "accepted", "new", "assigned", "pending"})
STACK_LABEL = "com.docker.stack.namespace"


@dataclass(frozen=True, slots=True)
class Node:
    """A swarm node as ``GET /nodes`` describes it."""

    id: str
    version: int
    hostname: str
    name: str
    role: str
    availability: str
    state: str
    addr: str
    engine_version: str
    nano_cpus: int
    memory_bytes: int
    os: str
    arch: str
    labels: Labels = ()
    engine_labels: Labels = ()
    leader: bool = False
    reachability: str | None = None
    manager_addr: str | None = None
    message: str = ""

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def is_usable(self) -> bool:
        """True when the scheduler may place new tasks here."""
        return self.state == "ready" and self.availability == "active"


@dataclass(frozen=True, slots=True)
class UpdateConfig:
    """``Spec.UpdateConfig`` (or RollbackConfig) with the engine's defaults filled in."""

    parallelism: int = 1
    delay_ns: int = 0
    failure_action: str = "pause"
    monitor_ns: int = 5_000_000_000
    max_failure_ratio: float = 0.0
    order: str = "stop-first"


@dataclass(frozen=True, slots=True)
class UpdateStatus:
    """``Service.UpdateStatus``: present only once an update actually replaced tasks."""

    state: str
    message: str = ""
    started_ns: int | None = None
    completed_ns: int | None = None

    @property
    def in_progress(self) -> bool:
        return self.state in ("updating", "rollback_started")


@dataclass(frozen=True, slots=True)
class PortMapping:
    published: int | None
    target: int
    protocol: str = "tcp"
    mode: str = "ingress"


@dataclass(frozen=True, slots=True)
class FileRef:
    """One ``ContainerSpec.Secrets`` / ``Configs`` entry: which secret (or config) a service
    mounts, at which target (``File.Name``) with which owner and mode."""

    id: str
    name: str
    target: str
    uid: str = "0"
    gid: str = "0"
    mode: int = 0o444


@dataclass(frozen=True, slots=True)
class Service:
    """A swarm service with its live counts when the engine reports them (``status=true``)."""

    id: str
    version: int
    name: str
    image: str
    mode: str  # replicated | global | replicated-job | global-job
    replicas: int | None
    labels: Labels = ()
    running: int | None = None
    desired: int | None = None
    completed: int | None = None
    update_status: UpdateStatus | None = None
    update_config: UpdateConfig = field(default_factory=UpdateConfig)
    # Spec.RollbackConfig; absent means the engine's defaults (swarmkit defaults.Service.Rollback).
    rollback_config: UpdateConfig = field(default_factory=UpdateConfig)
    previous_image: str | None = None
    created_ns: int | None = None
    updated_ns: int | None = None
    constraints: tuple[str, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    tty: bool = False
    force_update: int = 0
    # TaskTemplate.RestartPolicy.Delay (swarmkit's default: 5 s): a crash loop's pause.
    restart_delay_ns: int = 5_000_000_000
    # ContainerSpec.Secrets / Configs: the files each task gets.
    secrets: tuple[FileRef, ...] = ()
    configs: tuple[FileRef, ...] = ()

    @property
    def stack(self) -> str | None:
        return dict(self.labels).get(STACK_LABEL)

    @property
    def is_global(self) -> bool:
        return self.mode in ("global", "global-job")

    @property
    def replicas_text(self) -> str:
        """What ``docker service ls`` prints in its REPLICAS column."""
        running = "?" if self.running is None else str(self.running)
        if self.mode == "global":
            desired = "?" if self.desired is None else str(self.desired)
            return f"{running}/{desired}"
        desired_n = self.replicas if self.desired is None else self.desired
        desired = "?" if desired_n is None else str(desired_n)
        if self.mode.endswith("job"):
            return f"{running}/{desired} ({self.completed or 0}/{self.replicas or 0} completed)"
        return f"{running}/{desired}"


@dataclass(frozen=True, slots=True)
class NetworkAttachment:
    network: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Task:
    """One task (a scheduling slot's attempt) as ``GET /tasks`` lists it."""

    id: str
    version: int
    service_id: str
    slot: int | None
    node_id: str | None
    state: str
    desired_state: str
    message: str = ""
    err: str = ""
    status_ns: int | None = None
    created_ns: int | None = None
    updated_ns: int | None = None
    container_id: str | None = None
    exit_code: int | None = None
    image: str = ""
    networks: tuple[NetworkAttachment, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    # A node probe's task (its container carries ``swarmtui.probe=1``): the reducer keeps
    # it out of the snapshot, as it keeps the probe's service out (model/probe.py).
    probe: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_TASK_STATES

    @property
    def wants_running(self) -> bool:
        return self.desired_state in LIVE_DESIRED_STATES


@dataclass(frozen=True, slots=True)
class SwarmInfo:
    """What ``GET /info`` says about this engine's place in a swarm."""

    node_id: str = ""
    node_addr: str = ""
    local_node_state: str = "inactive"  # inactive | pending | active | error | locked
    control_available: bool = False  # True on managers
    cluster_id: str = ""
    managers: int = 0
    nodes: int = 0
    error: str = ""

    @property
    def is_manager(self) -> bool:
        return self.local_node_state == "active" and self.control_available


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """Identity of the engine the app is connected to."""

    endpoint: str
    version: str
    api_version: str
    min_api_version: str
    os: str
    arch: str
    name: str = ""
    swarm: SwarmInfo = field(default_factory=SwarmInfo)


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One entry of ``GET /events`` reduced to what the dashboard uses."""

    type: str
    action: str
    actor_id: str
    attributes: Labels
    scope: str
    time_ns: int

    @property
    def name(self) -> str:
        return dict(self.attributes).get("name", self.actor_id[:12])

    def attr(self, key: str) -> str | None:
        return dict(self.attributes).get(key)


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret or a config as ``GET /secrets`` / ``GET /configs`` lists it: metadata only.
    A secret's data never reaches the model (the engine does not return it); a config's
    data is read only when its content is asked for."""

    id: str
    version: int
    name: str
    created_ns: int | None = None
    updated_ns: int | None = None
    labels: Labels = ()
    driver: str = ""
    templating: str = ""
