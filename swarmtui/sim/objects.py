"""The simulated swarm's objects and their Engine API JSON (API 1.41, Docker 20.10 shapes).

Dicts are built in Go struct field order so the encoded bytes look like dockerd's. Spec dicts
are treated as immutable once stored: an update replaces them, so tasks can share the
template dict of the service version they were created from.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from swarmtui.sim.loggen import Profile
from swarmtui.sim.util import Json, go_json, invalid, ordered, rfc3339

_SERVICE_SPEC_ORDER = (
    "Name", "Labels", "TaskTemplate", "Mode", "UpdateConfig", "RollbackConfig", "Networks",
    "EndpointSpec",
)
_TASK_SPEC_ORDER = (
    "ContainerSpec", "PluginSpec", "NetworkAttachmentSpec", "Resources", "RestartPolicy",
    "Placement", "Networks", "LogDriver", "ForceUpdate", "Runtime",
)
_CONTAINER_SPEC_ORDER = (
    "Image", "Labels", "Command", "Args", "Hostname", "Env", "Dir", "User", "Groups",
    "Privileges", "Init", "StopSignal", "TTY", "OpenStdin", "ReadOnly", "Mounts",
    "StopGracePeriod", "Healthcheck", "Hosts", "DNSConfig", "Secrets", "Configs", "Isolation",
    "Sysctls", "CapabilityAdd", "CapabilityDrop", "Ulimits",
)
_UPDATE_CONFIG_ORDER = (
    "Parallelism", "Delay", "FailureAction", "Monitor", "MaxFailureRatio", "Order",
)
_NODE_SPEC_ORDER = ("Name", "Labels", "Role", "Availability")

UPDATE_DEFAULTS: Json = {
    "Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Monitor": 5_000_000_000,
    "MaxFailureRatio": 0, "Order": "stop-first",
}


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def normalize_service_spec(spec: Any) -> Json:
    """What the daemon stores for a submitted ServiceSpec (defaults filled, Go field order)."""
    if not isinstance(spec, dict):
        raise invalid("json: cannot unmarshal into Go value of type swarm.ServiceSpec")
    spec = copy.deepcopy(spec)
    template = spec.get("TaskTemplate")
    if not isinstance(template, dict):
        template = {}
    container = template.get("ContainerSpec")
    if not isinstance(container, dict) or not container.get("Image"):
        raise invalid(
            "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be "
            "provided"
        )
    container.setdefault("Isolation", "default")
    if isinstance(container.get("Labels"), dict):
        container["Labels"] = dict(sorted(container["Labels"].items()))
    template["ContainerSpec"] = ordered(container, _CONTAINER_SPEC_ORDER)
    force = template.get("ForceUpdate", 0)
    template["ForceUpdate"] = force if isinstance(force, int) else 0
    template["Runtime"] = template.get("Runtime") or "container"
    spec["TaskTemplate"] = ordered(template, _TASK_SPEC_ORDER)
    mode = spec.get("Mode")
    if not isinstance(mode, dict) or not mode:
        spec["Mode"] = {"Replicated": {"Replicas": 1}}
    elif "Replicated" in mode:
        rep = mode["Replicated"] if isinstance(mode["Replicated"], dict) else {}
        replicas = rep.get("Replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid("json: cannot unmarshal into Go struct field ReplicatedService.Replicas")
        spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    for key in ("UpdateConfig", "RollbackConfig"):
        if isinstance(spec.get(key), dict):
            spec[key] = ordered(spec[key], _UPDATE_CONFIG_ORDER)
    labels = spec.get("Labels")
    spec["Labels"] = dict(sorted(labels.items())) if isinstance(labels, dict) else {}
    return ordered(spec, _SERVICE_SPEC_ORDER)


def task_spec_of(template: Json) -> Json:
    """A task's ``Spec``: the service's TaskTemplate without ``Runtime`` (as dockerd shows it)."""
    return {k: v for k, v in template.items() if k != "Runtime"}


def mode_of(spec: Json) -> str:
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        return "global"
    if "ReplicatedJob" in mode:
        return "replicated-job"
    if "GlobalJob" in mode:
        return "global-job"
    return "replicated"


def replicas_of(spec: Json) -> int | None:
    rep = (spec.get("Mode") or {}).get("Replicated")
    if isinstance(rep, dict):
        n = rep.get("Replicas", 1)
        return n if isinstance(n, int) else 1
    return None


def image_of(spec: Json) -> str:
    return str(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", ""))


def update_config(spec: Json, rollback: bool) -> Json:
    cfg = spec.get("RollbackConfig" if rollback else "UpdateConfig")
    out = dict(UPDATE_DEFAULTS)
    if isinstance(cfg, dict):
        out.update({k: v for k, v in cfg.items() if v is not None})
        if not cfg.get("Monitor"):
            out["Monitor"] = UPDATE_DEFAULTS["Monitor"]
    return out


def restart_policy(template: Json) -> tuple[str, int, int]:
    """(condition, delay ns, max attempts) with the engine's defaults (any, 5 s, unlimited)."""
    rp = template.get("RestartPolicy")
    rp = rp if isinstance(rp, dict) else {}
    condition = str(rp.get("Condition") or "any")
    delay = rp.get("Delay")
    attempts = rp.get("MaxAttempts")
    return (
        condition,
        delay if isinstance(delay, int) else 5_000_000_000,
        attempts if isinstance(attempts, int) else 0,
    )


def constraints_of(template: Json) -> list[str]:
    placement = template.get("Placement")
    cons = placement.get("Constraints") if isinstance(placement, dict) else None
    return [str(c) for c in cons] if isinstance(cons, list) else []


# --------------------------------------------------------------------------- objects


@dataclass(slots=True)
class Meta:
    id: str
    version: int
    created_ns: int
    updated_ns: int

    def head(self) -> Json:
        return {
            "ID": self.id,
            "Version": {"Index": self.version},
            "CreatedAt": rfc3339(self.created_ns),
            "UpdatedAt": rfc3339(self.updated_ns),
        }


@dataclass(slots=True)
class SimNode:
    meta: Meta
    spec: Json  # Labels, Role, Availability (+ Name)
    hostname: str
    addr: str
    nano_cpus: int
    memory_bytes: int
    engine_version: str
    tls: Json
    state: str = "ready"
    message: str = ""
    leader: bool = False
    reachability: str = "reachable"
    os: str = "linux"
    arch: str = "x86_64"
    engine_labels: Json = field(default_factory=dict)
    images: set[str] = field(default_factory=set)  # pulled image refs (faster starts)
    metrics_addr: str = "127.0.0.1:9323"
    """``dockerd --metrics-addr`` (sim.metrics); "" for a daemon started without it."""

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def role(self) -> str:
        return str(self.spec.get("Role", "worker"))

    @property
    def availability(self) -> str:
        return str(self.spec.get("Availability", "active"))

    @property
    def labels(self) -> dict[str, str]:
        labels = self.spec.get("Labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def name(self) -> str:
        return str(self.spec.get("Name") or self.hostname)

    def to_json(self) -> Json:
        engine: Json = {"EngineVersion": self.engine_version}
        if self.engine_labels:
            engine["Labels"] = dict(self.engine_labels)
        engine["Plugins"] = [{"Type": t, "Name": n} for t, n in PLUGINS]
        status: Json = {"State": self.state}
        if self.message:
            status["Message"] = self.message
        status["Addr"] = self.addr
        out = self.meta.head()
        out["Spec"] = ordered(copy.deepcopy(self.spec), _NODE_SPEC_ORDER)
        out["Description"] = {
            "Hostname": self.hostname,
            "Platform": {"Architecture": self.arch, "OS": self.os},
            "Resources": {"NanoCPUs": self.nano_cpus, "MemoryBytes": self.memory_bytes},
            "Engine": engine,
            "TLSInfo": dict(self.tls),
        }
        out["Status"] = status
        if self.role == "manager":
            out["ManagerStatus"] = (
                {"Leader": True, "Reachability": self.reachability, "Addr": f"{self.addr}:2377"}
                if self.leader
                else {"Reachability": self.reachability, "Addr": f"{self.addr}:2377"}
            )
        return out


PLUGINS: tuple[tuple[str, str], ...] = (
    ("Log", "awslogs"), ("Log", "fluentd"), ("Log", "gcplogs"), ("Log", "gelf"),
    ("Log", "journald"), ("Log", "json-file"), ("Log", "local"), ("Log", "logentries"),
    ("Log", "splunk"), ("Log", "syslog"), ("Network", "bridge"), ("Network", "host"),
    ("Network", "ipvlan"), ("Network", "macvlan"), ("Network", "null"), ("Network", "overlay"),
    ("Volume", "local"),
)


@dataclass(slots=True)
class SimNetwork:
    meta: Meta
    name: str
    subnet: str
    gateway: str
    labels: dict[str, str]
    vxlan: int
    ingress: bool = False
    attachable: bool = False
    next_ip: int = 2
    _swarm: Json | None = None

    def allocate(self) -> str:
        """Next free address as ``a.b.c.d/24`` (one /24 per network, like the default pool)."""
        prefix = self.subnet.rsplit(".", 1)[0]
        ip = f"{prefix}.{self.next_ip}/24"
        self.next_ip = self.next_ip + 1 if self.next_ip < 254 else 2
        return ip

    def swarm_json(self) -> Json:
        """The swarmkit form embedded in a task's ``NetworksAttachments`` (cached)."""
        if self._swarm is None or self._swarm["Version"]["Index"] != self.meta.version:
            self._swarm = self._swarm_json()
        return self._swarm

    def _swarm_json(self) -> Json:
        out = self.meta.head()
        spec: Json = {"Name": self.name, "Labels": dict(self.labels)}
        spec["DriverConfiguration"] = {"Name": "overlay"}
        if self.ingress:
            spec["Ingress"] = True
        if self.attachable:
            spec["Attachable"] = True
        spec["IPAMOptions"] = {
            "Driver": {"Name": "default"},
            "Configs": [{"Subnet": self.subnet, "Gateway": self.gateway}],
        }
        spec["Scope"] = "swarm"
        out["Spec"] = spec
        out["DriverState"] = {
            "Name": "overlay",
            "Options": {"com.docker.network.driver.overlay.vxlanid_list": str(self.vxlan)},
        }
        out["IPAMOptions"] = {
            "Driver": {"Name": "default"},
            "Configs": [{"Subnet": self.subnet, "Gateway": self.gateway}],
        }
        return out

    def resource_json(self) -> Json:
        """The ``GET /networks`` (NetworkResource) form."""
        return {
            "Name": self.name,
            "Id": self.meta.id,
            "Created": rfc3339(self.meta.created_ns),
            "Scope": "swarm",
            "Driver": "overlay",
            "EnableIPv6": False,
            "IPAM": {
                "Driver": "default",
                "Options": None,
                "Config": [{"Subnet": self.subnet, "Gateway": self.gateway}],
            },
            "Internal": False,
            "Attachable": self.attachable,
            "Ingress": self.ingress,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": None,
            "Options": {"com.docker.network.driver.overlay.vxlanid_list": str(self.vxlan)},
            "Labels": dict(self.labels),
        }


@dataclass(slots=True)
class SimSecret:
    meta: Meta
    name: str
    labels: dict[str, str]
    data: str = ""  # base64; configs show it, secrets never do
    is_config: bool = False

    def to_json(self) -> Json:
        out = self.meta.head()
        spec: Json = {"Name": self.name, "Labels": dict(self.labels)}
        if self.is_config:
            spec["Data"] = self.data
        out["Spec"] = spec
        return out


@dataclass(slots=True, eq=False)
class SimTask:
    meta: Meta
    service_id: str
    service_name: str
    slot: int  # 0 for global services (omitted from the JSON)
    spec: Json  # the TaskTemplate this task was created from (shared, never mutated)
    template_key: str
    profile: Profile
    log_seed: int
    node_id: str = ""
    state: str = "new"
    desired: str = "running"
    message: str = "created"
    err: str = ""
    status_ns: int = 0
    container_id: str = ""
    pid: int = 0
    exit_code: int | None = None
    running_ns: int | None = None  # when it became running (its log starts here)
    ended_ns: int | None = None  # when it stopped running (its log ends here)
    networks: list[tuple[SimNetwork, str]] = field(default_factory=list)
    ports: list[Json] = field(default_factory=list)  # host-mode published ports
    _cache: Json | None = None
    _raw: bytes | None = None

    def invalidate(self) -> None:
        self._cache = None
        self._raw = None

    def raw(self) -> bytes:
        """This task's JSON as dockerd encodes it (cached until the task changes)."""
        if self._raw is None:
            self._raw = go_json(self.to_json())[:-1]
        return self._raw

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def name(self) -> str:
        """``service.slot.id`` (global: ``service.node.id``), the container name without '/'."""
        middle = str(self.slot) if self.slot else self.node_id
        return f"{self.service_name}.{middle}.{self.id}"

    def to_json(self) -> Json:
        if self._cache is not None:
            return self._cache
        status: Json = {
            "Timestamp": rfc3339(self.status_ns),
            "State": self.state,
            "Message": self.message,
        }
        if self.err:
            status["Err"] = self.err
        if self.container_id:
            status["ContainerStatus"] = {
                "ContainerID": self.container_id,
                "PID": self.pid,
                "ExitCode": self.exit_code or 0,
            }
        status["PortStatus"] = {"Ports": list(self.ports)} if self.ports else {}
        out = self.meta.head()
        out["Labels"] = {}
        out["Spec"] = self.spec
        out["ServiceID"] = self.service_id
        if self.slot:
            out["Slot"] = self.slot
        if self.node_id:
            out["NodeID"] = self.node_id
        out["Status"] = status
        out["DesiredState"] = self.desired
        if self.networks:
            out["NetworksAttachments"] = [
                {"Network": net.swarm_json(), "Addresses": [addr]} for net, addr in self.networks
            ]
        self._cache = out
        return out


@dataclass(slots=True, eq=False)
class SimService:
    meta: Meta
    spec: Json
    template_key: str
    previous_spec: Json | None = None
    update_status: Json | None = None
    vips: list[tuple[SimNetwork, str]] = field(default_factory=list)
    tasks: dict[str, SimTask] = field(default_factory=dict)
    task_spec: Json = field(default_factory=dict)  # TaskTemplate without Runtime (shared)
    restarts: dict[int | str, int] = field(default_factory=dict)  # slot/node -> restarts
    dead_slots: set[int] = field(default_factory=set)  # not restarted (restart policy)

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def name(self) -> str:
        return str(self.spec.get("Name", ""))

    @property
    def mode(self) -> str:
        return mode_of(self.spec)

    @property
    def template(self) -> Json:
        t = self.spec.get("TaskTemplate")
        return t if isinstance(t, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        labels = self.spec.get("Labels")
        return labels if isinstance(labels, dict) else {}

    def endpoint_json(self) -> Json:
        ep_spec = self.spec.get("EndpointSpec")
        ports = ep_spec.get("Ports") if isinstance(ep_spec, dict) else None
        if not self.vips:
            return {"Spec": {}}
        out: Json = {"Spec": copy.deepcopy(ep_spec) if isinstance(ep_spec, dict) else {}}
        if ports:
            out["Ports"] = [
                {
                    "Protocol": p.get("Protocol", "tcp"),
                    "TargetPort": p.get("TargetPort", 0),
                    "PublishedPort": p.get("PublishedPort", 0),
                    "PublishMode": p.get("PublishMode", "ingress"),
                }
                for p in ports
                if isinstance(p, dict)
            ]
        out["VirtualIPs"] = [{"NetworkID": net.meta.id, "Addr": addr} for net, addr in self.vips]
        return out

    def to_json(self, status: Json | None = None) -> Json:
        out = self.meta.head()
        out["Spec"] = copy.deepcopy(self.spec)
        if self.previous_spec is not None:
            out["PreviousSpec"] = copy.deepcopy(self.previous_spec)
        out["Endpoint"] = self.endpoint_json()
        if self.update_status is not None:
            out["UpdateStatus"] = dict(self.update_status)
        if status is not None:
            out["ServiceStatus"] = status
        return out


# --------------------------------------------------------------------------- leader-local
# The leader's local objects beyond its task containers (swarmtui.sim.local serves them).

NONE_TAG = "<none>:<none>"
NONE_DIGEST = "<none>@<none>"


@dataclass
class LocalContainer:
    """A non-running container on the leader that no swarm task of the store owns."""

    id: str
    name: str
    image: str
    command: str
    created_ns: int
    ended_ns: int
    exit_code: int
    labels: dict[str, str]
    size_rw: int


@dataclass
class LocalImage:
    id: str
    created_s: int
    size: int
    repo_tags: list[str] = field(default_factory=lambda: [NONE_TAG])
    repo_digests: list[str] = field(default_factory=lambda: [NONE_DIGEST])
    labels: dict[str, str] | None = None


@dataclass
class LocalVolume:
    name: str
    created_ns: int
    size: int
    labels: dict[str, str] | None = None


@dataclass
class LocalStore:
    containers: dict[str, LocalContainer] = field(default_factory=dict)
    images: dict[str, LocalImage] = field(default_factory=dict)
    volumes: dict[str, LocalVolume] = field(default_factory=dict)
    removed_containers: set[str] = field(default_factory=set)
    removed_volumes: set[str] = field(default_factory=set)
