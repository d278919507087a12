"""Engine JSON -> model types, tolerant of every shape from API 1.41 (Docker 20.10) to 1.55.

The engine's schemas only grew between those versions, so every field is read with a default
and unknown fields are ignored. Nothing here raises on odd input: a malformed entry becomes an
object with empty fields rather than taking the whole listing down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from swarmtui.model.dockerfmt import parse_time_ns
from swarmtui.model.jsonval import as_int as _int
from swarmtui.model.jsonval import as_labels as _labels
from swarmtui.model.jsonval import as_map as _map
from swarmtui.model.jsonval import as_str as _str
from swarmtui.model.probe import PROBE_LABEL
from swarmtui.model.types import (
    EngineEvent,
    EngineInfo,
    FileRef,
    NetworkAttachment,
    Node,
    PortMapping,
    Secret,
    Service,
    SwarmInfo,
    Task,
    UpdateConfig,
    UpdateStatus,
)

Json = Mapping[str, Any]


def _version(obj: Json) -> int:
    return _int(_map(obj.get("Version")).get("Index"))


def parse_node(raw: Json) -> Node:
    spec = _map(raw.get("Spec"))
    desc = _map(raw.get("Description"))
    status = _map(raw.get("Status"))
    resources = _map(desc.get("Resources"))
    platform = _map(desc.get("Platform"))
    engine = _map(desc.get("Engine"))
    manager = raw.get("ManagerStatus")
    hostname = _str(desc.get("Hostname"))
    node_id = _str(raw.get("ID"))
    return Node(
        id=node_id,
        version=_version(raw),
        hostname=hostname,
        # The docker CLI's idresolver prefers Spec.Name, then the hostname, then the ID.
        name=_str(spec.get("Name")) or hostname or node_id,
        role=_str(spec.get("Role"), "worker"),
        availability=_str(spec.get("Availability"), "active"),
        state=_str(status.get("State"), "unknown"),
        addr=_str(status.get("Addr")),
        engine_version=_str(engine.get("EngineVersion")),
        nano_cpus=_int(resources.get("NanoCPUs")),
        memory_bytes=_int(resources.get("MemoryBytes")),
        os=_str(platform.get("OS")),
        arch=_str(platform.get("Architecture")),
        labels=_labels(spec.get("Labels")),
        engine_labels=_labels(engine.get("Labels")),
        leader=bool(_map(manager).get("Leader", False)),
        reachability=_str(_map(manager).get("Reachability")) or None if manager else None,
        manager_addr=_str(_map(manager).get("Addr")) or None if manager else None,
        message=_str(status.get("Message")),
    )


def _update_config(raw: object) -> UpdateConfig:
    cfg = _map(raw)
    if not cfg:
        return UpdateConfig()
    ratio = cfg.get("MaxFailureRatio", 0.0)
    return UpdateConfig(
        parallelism=_int(cfg.get("Parallelism"), 1) if "Parallelism" in cfg else 1,
        delay_ns=_int(cfg.get("Delay")),
        failure_action=_str(cfg.get("FailureAction"), "pause") or "pause",
        monitor_ns=_int(cfg.get("Monitor")) or 5_000_000_000,
        max_failure_ratio=float(ratio) if isinstance(ratio, int | float) else 0.0,
        order=_str(cfg.get("Order"), "stop-first") or "stop-first",
    )


def _mode(spec: Json) -> tuple[str, int | None]:
    mode = _map(spec.get("Mode"))
    if "Replicated" in mode:
        return "replicated", _int(_map(mode["Replicated"]).get("Replicas"), 1)
    if "Global" in mode:
        return "global", None
    if "ReplicatedJob" in mode:
        job = _map(mode["ReplicatedJob"])
        return "replicated-job", _int(job.get("TotalCompletions"), 1)
    if "GlobalJob" in mode:
        return "global-job", None
    return "replicated", 1


def _ports(raw: object) -> tuple[PortMapping, ...]:
    ports = []
    for p in raw if isinstance(raw, list) else []:
        pm = _map(p)
        published = pm.get("PublishedPort")
        ports.append(
            PortMapping(
                published=_int(published) if published is not None else None,
                target=_int(pm.get("TargetPort")),
                protocol=_str(pm.get("Protocol"), "tcp"),
                mode=_str(pm.get("PublishMode"), "ingress"),
            )
        )
    return tuple(ports)


def _container_spec(spec: Json) -> Json:
    return _map(_map(spec.get("TaskTemplate")).get("ContainerSpec"))


def _file_refs(raw: object, kind: str) -> tuple[FileRef, ...]:
    """``ContainerSpec.Secrets`` (kind ``Secret``) or ``Configs`` (``Config``)."""
    refs = []
    for item in raw if isinstance(raw, list) else ():
        ref = _map(item)
        file = _map(ref.get("File"))
        refs.append(FileRef(
            id=_str(ref.get(f"{kind}ID")), name=_str(ref.get(f"{kind}Name")),
            target=_str(file.get("Name")), uid=_str(file.get("UID"), "0"),
            gid=_str(file.get("GID"), "0"), mode=_int(file.get("Mode"), 0o444),
        ))
    return tuple(refs)


def parse_secret(raw: Json) -> Secret:
    """One entry of ``GET /secrets`` or ``GET /configs`` (``Spec.Data`` is never kept)."""
    spec = _map(raw.get("Spec"))
    return Secret(
        id=_str(raw.get("ID")),
        version=_version(raw),
        name=_str(spec.get("Name")),
        created_ns=parse_time_ns(raw.get("CreatedAt")),
        updated_ns=parse_time_ns(raw.get("UpdatedAt")),
        labels=_labels(spec.get("Labels")),
        driver=_str(_map(spec.get("Driver")).get("Name")),
        templating=_str(_map(spec.get("Templating")).get("Name")),
    )


def parse_secrets(items: Iterable[Json]) -> list[Secret]:
    return [parse_secret(i) for i in items]


def parse_service(raw: Json) -> Service:
    spec = _map(raw.get("Spec"))
    prev = raw.get("PreviousSpec")
    template = _map(spec.get("TaskTemplate"))
    mode, replicas = _mode(spec)
    status = raw.get("ServiceStatus")
    upd = raw.get("UpdateStatus")
    update_status = None
    if isinstance(upd, Mapping) and upd.get("State"):
        update_status = UpdateStatus(
            state=_str(upd.get("State")),
            message=_str(upd.get("Message")),
            started_ns=parse_time_ns(upd.get("StartedAt")),
            completed_ns=parse_time_ns(upd.get("CompletedAt")),
        )
    endpoint = _map(raw.get("Endpoint"))
    ports = _ports(endpoint.get("Ports")) or _ports(_map(spec.get("EndpointSpec")).get("Ports"))
    placement = _map(template.get("Placement"))
    constraints = placement.get("Constraints")
    return Service(
        id=_str(raw.get("ID")),
        version=_version(raw),
        name=_str(spec.get("Name")),
        image=_str(_container_spec(spec).get("Image")),
        mode=mode,
        replicas=replicas,
        labels=_labels(spec.get("Labels")),
        running=_int(_map(status).get("RunningTasks")) if isinstance(status, Mapping) else None,
        desired=_int(_map(status).get("DesiredTasks")) if isinstance(status, Mapping) else None,
        completed=_int(_map(status).get("CompletedTasks")) if isinstance(status, Mapping) else None,
        update_status=update_status,
        update_config=_update_config(spec.get("UpdateConfig")),
        rollback_config=_update_config(spec.get("RollbackConfig")),
        previous_image=(_str(_container_spec(_map(prev)).get("Image")) or None)
        if isinstance(prev, Mapping)
        else None,
        created_ns=parse_time_ns(raw.get("CreatedAt")),
        updated_ns=parse_time_ns(raw.get("UpdatedAt")),
        constraints=tuple(str(c) for c in constraints) if isinstance(constraints, list) else (),
        ports=ports,
        tty=bool(_container_spec(spec).get("TTY", False)),
        force_update=_int(template.get("ForceUpdate")),
        restart_delay_ns=_int(_map(template.get("RestartPolicy")).get("Delay"), 5_000_000_000),
        secrets=_file_refs(_container_spec(spec).get("Secrets"), "Secret"),
        configs=_file_refs(_container_spec(spec).get("Configs"), "Config"),
    )


def _attachment(raw: object) -> NetworkAttachment:
    a = _map(raw)
    net = _map(a.get("Network"))
    addrs = a.get("Addresses")
    return NetworkAttachment(
        network=_str(_map(net.get("Spec")).get("Name")) or _str(net.get("ID")),
        addresses=tuple(str(x) for x in addrs) if isinstance(addrs, list) else (),
    )


def parse_task(raw: Json) -> Task:
    # The hot loop of the first frame (30,000 calls at 1,000 nodes): each sub-map is read
    # once, and the common empty cases (no ports, no networks) cost no call.
    get = raw.get
    status = _map(get("Status"))
    container = _map(status.get("ContainerStatus"))
    container_spec = _map(_map(get("Spec")).get("ContainerSpec"))
    attachments = get("NetworksAttachments")
    port_status = status.get("PortStatus")
    slot = get("Slot")
    exit_code = container.get("ExitCode")
    labels = container_spec.get("Labels")
    return Task(
        id=_str(get("ID")),
        version=_version(raw),
        service_id=_str(get("ServiceID")),
        slot=_int(slot) if isinstance(slot, int) and slot > 0 else None,
        node_id=_str(get("NodeID")) or None,
        state=_str(status.get("State"), "new"),
        desired_state=_str(get("DesiredState"), "running"),
        message=_str(status.get("Message")),
        err=_str(status.get("Err")),
        status_ns=parse_time_ns(status.get("Timestamp")),
        created_ns=parse_time_ns(get("CreatedAt")),
        updated_ns=parse_time_ns(get("UpdatedAt")),
        container_id=_str(container.get("ContainerID")) or None,
        exit_code=_int(exit_code) if exit_code is not None else None,
        image=_str(container_spec.get("Image")),
        networks=tuple(_attachment(a) for a in attachments) if attachments else (),
        ports=_ports(_map(port_status).get("Ports")) if port_status else (),
        probe=bool(labels) and _map(labels).get(PROBE_LABEL) is not None,
    )


def parse_event(raw: Json) -> EngineEvent:
    actor = _map(raw.get("Actor"))
    time_ns = _int(raw.get("timeNano")) or _int(raw.get("time")) * 1_000_000_000
    return EngineEvent(
        # API >= 1.52 dropped the legacy status/id/from fields: read Type/Action/Actor only.
        type=_str(raw.get("Type")),
        action=_str(raw.get("Action")),
        actor_id=_str(actor.get("ID")),
        attributes=_labels(actor.get("Attributes")),
        scope=_str(raw.get("scope"), "local"),
        time_ns=time_ns,
    )


def parse_swarm_info(info: Json) -> SwarmInfo:
    swarm = _map(info.get("Swarm"))
    return SwarmInfo(
        node_id=_str(swarm.get("NodeID")),
        node_addr=_str(swarm.get("NodeAddr")),
        local_node_state=_str(swarm.get("LocalNodeState"), "inactive") or "inactive",
        control_available=bool(swarm.get("ControlAvailable", False)),
        cluster_id=_str(_map(swarm.get("Cluster")).get("ID")),
        managers=_int(swarm.get("Managers")),
        nodes=_int(swarm.get("Nodes")),
        error=_str(swarm.get("Error")),
    )


def parse_engine_info(endpoint: str, version: Json, info: Json) -> EngineInfo:
    return EngineInfo(
        endpoint=endpoint,
        version=_str(version.get("Version")),
        api_version=_str(version.get("ApiVersion")),
        min_api_version=_str(version.get("MinAPIVersion")),
        os=_str(version.get("Os")),
        arch=_str(version.get("Arch")),
        name=_str(info.get("Name")),
        swarm=parse_swarm_info(info),
    )


def parse_nodes(items: Iterable[Json]) -> list[Node]:
    return [parse_node(_map(i)) for i in items]


def parse_services(items: Iterable[Json]) -> list[Service]:
    return [parse_service(_map(i)) for i in items]


def parse_tasks(items: Iterable[Json]) -> list[Task]:
    return [parse_task(_map(i)) for i in items]
