"""``SimCluster``: a deterministic simulated swarm whose getters return the Engine API's JSON.

Pure stdlib, no IO. Time is virtual: :meth:`advance` runs the orchestrator. Mutations behave
as the API does (optimistic ``version``, the events dockerd emits, the same error texts), so
an HTTP layer (:mod:`swarmtui.sim.server`) only has to translate requests.

Getters return fresh JSON-shaped data (lists/dicts) exactly as dockerd would send it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from swarmtui.sim import inventory, system
from swarmtui.sim import local as simlocal
from swarmtui.sim import logs as simlogs
from swarmtui.sim.core import ingress_ports
from swarmtui.sim.objects import (
    SimNetwork,
    SimNode,
    SimSecret,
    SimService,
    SimTask,
    mode_of,
    normalize_service_spec,
)
from swarmtui.sim.orchestrator import LIVE_DESIRED, TERMINAL
from swarmtui.sim.updater import Updater
from swarmtui.sim.util import (
    Filters,
    Json,
    SimError,
    exact_match,
    fuzzy_match,
    go_json,
    invalid,
    labels_match,
    not_found,
    ordered,
    rfc3339,
    validate_filters,
)

ENGINE_VERSION = "20.10.24+dfsg1"
OUT_OF_SEQUENCE = "rpc error: code = Unknown desc = update out of sequence"
_TASK_STATES = (
    "new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting",
    "running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned",
)


def _fresh(data: Any) -> Any:
    """A deep, JSON-faithful copy (what a client would decode from the wire)."""
    return json.loads(go_json(data))


class SimCluster(Updater):
    """A simulated swarm manager (the leader) and everything it knows."""

    def __init__(self, seed: int, now_ns: int) -> None:
        super().__init__(seed, now_ns)
        self._next_port = 30000
        self._vxlan = 4096

    # ================================================================== building
    def add_node(
        self,
        hostname: str,
        role: str = "worker",
        addr: str = "",
        *,
        nano_cpus: int = 4_000_000_000,
        memory_bytes: int = 8 * 1024**3,
        labels: Mapping[str, str] | None = None,
        availability: str = "active",
        leader: bool = False,
    ) -> SimNode:
        """A node joins (the first manager added is the node whose socket we serve)."""
        meta = self.new_meta()
        node = SimNode(
            meta=meta,
            spec={"Labels": dict(sorted((labels or {}).items())), "Role": role,
                  "Availability": availability},
            hostname=hostname,
            addr=addr or f"10.10.0.{len(self.nodes) + 11}",
            nano_cpus=nano_cpus,
            memory_bytes=memory_bytes,
            engine_version=ENGINE_VERSION,
            tls=self.tls,
            state="ready",
            leader=leader,
        )
        first = not self.nodes
        self.nodes[node.id] = node
        if first:
            self.local_node_id = node.id
            node.leader = True
        else:
            self.emit("node", "create", node.id, {"name": ""}, meta.created_ns)
        ts = self.touch(meta)
        self.emit("node", "update", node.id,
                  {"name": hostname, "state.old": "unknown", "state.new": "ready"}, ts)
        if first:
            self._create_ingress()
        self.reconcile_all()
        return node

    def _create_ingress(self) -> None:
        net = self.create_network("ingress", subnet="10.0.0.0/24", ingress=True, event=False)
        self.emit("network", "create", net.meta.id, {"name": "ingress", "type": "overlay"},
                  net.meta.created_ns, scope="local")

    def create_network(self, name: str, labels: Mapping[str, str] | None = None, *,
                       subnet: str = "", ingress: bool = False, attachable: bool = False,
                       event: bool = True) -> SimNetwork:
        if not subnet:
            subnet = f"10.0.{len(self.networks) + 1}.0/24"
        self._vxlan += 1
        net = SimNetwork(
            meta=self.new_meta(),
            name=name,
            subnet=subnet,
            gateway=subnet.rsplit(".", 1)[0] + ".1",
            labels=dict(sorted((labels or {}).items())),
            vxlan=self._vxlan,
            ingress=ingress,
            attachable=attachable,
        )
        self.networks[net.meta.id] = net
        if event:
            self.emit("network", "create", net.meta.id, {"name": name}, net.meta.created_ns)
        return net

    def create_secret(self, name: str, labels: Mapping[str, str] | None = None,
                      data: bytes = b"", config: bool = False) -> SimSecret:
        import base64

        store = self.configs if config else self.secrets
        if any(s.name == name for s in store.values()):
            kind = "config" if config else "secret"
            raise SimError(
                409, f"rpc error: code = AlreadyExists desc = {kind} {name} already exists"
            )
        obj = SimSecret(self.new_meta(), name, dict(sorted((labels or {}).items())),
                        base64.b64encode(data).decode(), config)
        store[obj.meta.id] = obj
        self.emit("config" if config else "secret", "create", obj.meta.id, {"name": name},
                  obj.meta.created_ns)
        return obj

    def create_config(self, name: str, labels: Mapping[str, str] | None = None,
                      data: bytes = b"") -> SimSecret:
        return self.create_secret(name, labels, data, config=True)

    # ================================================================== resolution
    def resolve_service(self, ref: str) -> SimService:
        svc = self.services.get(ref)
        if svc is not None:
            return svc
        for svc in self.services.values():
            if svc.name == ref:
                return svc
        matches = [s for s in self.services.values() if ref and s.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise invalid(f"service {ref} is ambiguous ({len(matches)} matches found)")
        raise not_found(f"service {ref} not found")

    def resolve_node(self, ref: str) -> SimNode:
        node = self.nodes.get(ref)
        if node is not None:
            return node
        named = [n for n in self.nodes.values() if n.name == ref or n.hostname == ref]
        if len(named) == 1:
            return named[0]
        matches = named or [n for n in self.nodes.values() if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise invalid(f"node {ref} is ambiguous ({len(matches)} matches found)")
        raise not_found(f"node {ref} not found")

    def resolve_task(self, ref: str) -> SimTask:
        task = self.tasks.get(ref)
        if task is not None:
            return task
        matches = [t for t in self.tasks.values() if ref and t.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise invalid(f"task {ref} is ambiguous ({len(matches)} matches found)")
        raise not_found(f"task {ref} not found")

    # ================================================================== getters
    def nodes_list(self, filters: Filters | None = None) -> list[SimNode]:
        f = filters or {}
        validate_filters(f, ("id", "label", "membership", "name", "node.label", "role"))
        out = []
        for node in sorted(self.nodes.values(), key=lambda n: n.id):  # memdb ID order
            if not fuzzy_match(f, "id", node.id) or not fuzzy_match(f, "name", node.name):
                continue
            if not exact_match(f, "role", node.role):
                continue
            if not exact_match(f, "membership", "accepted"):
                continue
            if not labels_match(f, node.engine_labels):
                continue
            if not labels_match(f, node.labels, "node.label"):
                continue
            out.append(node)
        return out

    def nodes_json(self, filters: Filters | None = None) -> list[Json]:
        return list(_fresh([n.to_json() for n in self.nodes_list(filters)]))

    def node_json(self, ref: str) -> Json:
        return dict(_fresh(self.resolve_node(ref).to_json()))

    def service_status(self, svc: SimService) -> Json:
        """``ServiceStatus`` as dockerd computes it for ``GET /services?status=true``."""
        running = desired = completed = 0
        for t in svc.tasks.values():
            if t.state == "running" and t.desired == "running" and self.node_up(t.node_id):
                running += 1
            if t.state == "complete":
                completed += 1
            if t.desired == "running":
                desired += 1
        replicas = (svc.spec.get("Mode") or {}).get("Replicated")
        if isinstance(replicas, dict):
            desired = int(replicas.get("Replicas", 1))
        return {"RunningTasks": running, "DesiredTasks": desired, "CompletedTasks": completed}

    def services_list(self, filters: Filters | None = None) -> list[SimService]:
        f = filters or {}
        validate_filters(f, ("id", "label", "mode", "name", "runtime"))
        for mode in f.get("mode", ()):
            if mode not in ("replicated", "global", "replicated-job", "global-job"):
                raise invalid(f"Invalid filter: 'mode'='{mode}'")
        out = []
        for svc in sorted(self.services.values(), key=lambda s: s.id):
            if not fuzzy_match(f, "id", svc.id) or not fuzzy_match(f, "name", svc.name):
                continue
            if not exact_match(f, "mode", mode_of(svc.spec)) or not labels_match(f, svc.labels):
                continue
            if not exact_match(f, "runtime", str(svc.template.get("Runtime", "container"))):
                continue
            out.append(svc)
        return out

    def services_json(self, status: bool = False, filters: Filters | None = None) -> list[Json]:
        return list(_fresh(self._services_raw(status, filters)))

    def _services_raw(self, status: bool, filters: Filters | None) -> list[Json]:
        return [s.to_json(self.service_status(s) if status else None)
                for s in self.services_list(filters)]

    def service_json(self, ref: str) -> Json:
        return dict(_fresh(self.resolve_service(ref).to_json()))

    def tasks_list(self, filters: Filters | None = None) -> list[SimTask]:
        f = dict(filters or {})
        validate_filters(f, ("_up-to-date", "desired-state", "id", "label", "name", "node",
                             "service", "runtime"))
        for state in f.get("desired-state", ()):
            if state not in _TASK_STATES:
                raise invalid(f"Invalid desired-state filter value: {state}")
        service_ids = {self.resolve_service(ref).id for ref in f.get("service", ())}
        node_ids = {self.resolve_node(ref).id for ref in f.get("node", ())}
        source: Iterable[SimTask]
        if service_ids:
            source = [t for sid in service_ids for t in self.services[sid].tasks.values()]
        else:
            source = self.tasks.values()
        source = sorted(source, key=lambda t: t.meta.id)  # memdb ID order, like dockerd
        up_to_date = "_up-to-date" in f
        out = []
        for t in source:
            if node_ids and t.node_id not in node_ids:
                continue
            if not fuzzy_match(f, "id", t.id) or not exact_match(f, "desired-state", t.desired):
                continue
            if "name" in f and not fuzzy_match(f, "name", t.name):
                continue
            svc = self.services.get(t.service_id)
            if "label" in f and not labels_match(f, svc.labels if svc else {}):
                continue
            if up_to_date and (svc is None or t.template_key != svc.template_key):
                continue
            out.append(t)
        return out

    def tasks_json(self, filters: Filters | None = None) -> list[Json]:
        return list(_fresh([t.to_json() for t in self.tasks_list(filters)]))

    def tasks_bytes(self, filters: Filters | None = None) -> bytes:
        """``GET /tasks`` body, encoded once per task version (the scale path)."""
        return b"[" + b",".join(t.raw() for t in self.tasks_list(filters)) + b"]\n"

    def task_json(self, ref: str) -> Json:
        return dict(_fresh(self.resolve_task(ref).to_json()))

    def events_since(self, since_ns: int | None = None, until_ns: int | None = None,
                     filters: Filters | None = None) -> list[Json]:
        """Replay from the ring of the last 256 events (``since`` inclusive)."""
        f = filters or {}
        out = []
        for ev in self.events:
            t = int(ev["timeNano"])
            if (since_ns is not None and t < since_ns) or (until_ns is not None and t > until_ns):
                continue
            if event_matches(ev, f):
                out.append(ev)
        return list(_fresh(out))

    def secrets_json(self, filters: Filters | None = None, configs: bool = False) -> list[Json]:
        f = filters or {}
        validate_filters(f, ("id", "label", "name", "names"))
        store = self.configs if configs else self.secrets
        out = []
        for s in sorted(store.values(), key=lambda s: s.meta.id):
            if not fuzzy_match(f, "id", s.meta.id) or not fuzzy_match(f, "name", s.name):
                continue
            if "names" in f and s.name not in f["names"]:
                continue
            if labels_match(f, s.labels):
                out.append(s.to_json())
        return list(_fresh(out))

    def configs_json(self, filters: Filters | None = None) -> list[Json]:
        return self.secrets_json(filters, configs=True)

    def secret_json(self, ref: str, configs: bool = False) -> Json:
        store = self.configs if configs else self.secrets
        for s in store.values():
            if ref in (s.meta.id, s.name) or (ref and s.meta.id.startswith(ref)):
                return dict(_fresh(s.to_json()))
        raise not_found(f"{'config' if configs else 'secret'} {ref} not found")

    def networks_json(self, filters: Filters | None = None) -> list[Json]:
        return list(_fresh(system.networks_json(self, filters or {})))

    def network_json(self, ref: str) -> Json:
        for net in system.networks_json(self, {}):
            if ref in (net["Id"], net["Name"]) or (ref and str(net["Id"]).startswith(ref)):
                return dict(_fresh(net))
        raise not_found(f"network {ref} not found")

    def info_json(self) -> Json:
        return dict(_fresh(system.info_json(self)))

    def version_json(self) -> Json:
        return dict(_fresh(system.version_json()))

    def swarm_json(self) -> Json:
        return dict(_fresh(system.swarm_json(self)))

    def system_df_json(self) -> Json:
        return dict(_fresh(inventory.df_json(self)))

    # ================================================================== local engine
    def containers_json(self, all_: bool = False, size: bool = False,
                        filters: Filters | None = None) -> list[Json]:
        return list(_fresh(simlocal.containers_json(self, all_, size, filters or {})))

    def images_json(self, all_: bool = False, filters: Filters | None = None) -> list[Json]:
        return list(_fresh(simlocal.images_json(self, all_, filters or {})))

    def volumes_json(self, filters: Filters | None = None) -> Json:
        return dict(_fresh(simlocal.volumes_json(self, filters or {})))

    def prune(self, kind: str, filters: Filters | None = None) -> Json:
        """``POST /{kind}/prune`` (containers, images, volumes, networks, build)."""
        fn = {"containers": simlocal.prune_containers, "images": simlocal.prune_images,
              "volumes": simlocal.prune_volumes, "networks": simlocal.prune_networks,
              "build": simlocal.prune_build_cache}[kind]
        return dict(_fresh(fn(self, filters or {})))

    def image_inspect(self, ref: str) -> Json:
        return dict(_fresh(simlocal.image_inspect(self, ref)))

    def image_history(self, ref: str) -> list[Json]:
        return list(_fresh(simlocal.image_history(self, ref)))

    def delete_image(self, ref: str) -> list[Json]:
        return list(_fresh(simlocal.delete_image(self, ref)))

    def delete_container(self, ref: str) -> None:
        simlocal.delete_container(self, ref)

    # ================================================================== logs
    def service_logs(self, ref: str, **opts: Any) -> simlogs.LogResult:
        svc = self.resolve_service(ref)
        return simlogs.collect(self, list(svc.tasks.values()), simlogs.LogOptions(**opts))

    def task_logs(self, ref: str, **opts: Any) -> simlogs.LogResult:
        return simlogs.collect(self, [self.resolve_task(ref)], simlogs.LogOptions(**opts))

    # ================================================================== mutations
    def task_networks(self, svc: SimService) -> list[SimNetwork]:
        nets = [net for net, _ in svc.vips]
        return nets or self.networks_of(svc.spec)

    def _allocate_endpoint(self, svc: SimService) -> None:
        nets = self.networks_of(svc.spec)
        svc.vips = [(net, net.allocate()) for net in nets]
        ports = ingress_ports(svc.spec)
        for port in ports:
            if not port.get("PublishedPort"):
                port["PublishedPort"] = self._next_port
                self._next_port += 1

    def create_service(self, spec: Any) -> Json:
        """``POST /services/create`` → ``{"ID": ...}``."""
        spec = normalize_service_spec(spec)
        name = str(spec.get("Name") or "")
        if not name:
            name = f"svc_{self.rng.token(8)}"
            spec["Name"] = name
            spec = ordered(spec, ("Name",))
        if any(s.name == name for s in self.services.values()):
            raise SimError(409, "rpc error: code = AlreadyExists desc = name conflicts with an "
                                f"existing object: service {name} already exists")
        self.networks_of(spec)  # 404 before anything is created
        svc = SimService(meta=self.new_meta(), spec={}, template_key="")
        self.set_spec(svc, spec)
        self.services[svc.id] = svc
        self.emit("service", "create", svc.id, {"name": name}, svc.meta.created_ns)
        self._allocate_endpoint(svc)
        if svc.vips:  # the allocator's write right after the create
            ts = self.touch(svc.meta)
            self.emit("service", "update", svc.id, {"name": name}, ts)
        self.reconcile(svc)
        self.request_scheduling()
        return {"ID": svc.id}

    def update_service(self, ref: str, version: int, spec: Any,
                       rollback: str | None = None) -> Json:
        """``POST /services/{id}/update?version=N[&rollback=previous]``."""
        svc = self.resolve_service(ref)
        if version != svc.meta.version:
            raise SimError(500, OUT_OF_SEQUENCE)
        before = self.service_snapshot(svc)
        if rollback == "previous":
            if svc.previous_spec is None:
                raise invalid(f"rpc error: code = FailedPrecondition desc = service {svc.id} "
                              "does not have a previous spec")
            current = svc.spec
            self.set_spec(svc, svc.previous_spec)
            svc.previous_spec = current
            svc.update_status = {"State": "rollback_started", "StartedAt": rfc3339(self.stamp()),
                                 "Message": "manually requested rollback"}
        else:
            if rollback:
                raise invalid(f"unrecognized rollback value {rollback!r}")
            new = normalize_service_spec(spec)
            if not new.get("Name"):
                new["Name"] = svc.name
                new = ordered(new, ("Name",))
            if new.get("Name") != svc.name:
                raise SimError(501, "rpc error: code = Unimplemented desc = renaming services "
                                    "is not supported")
            if mode_of(new) != svc.mode:
                raise invalid("rpc error: code = Unimplemented desc = service mode change is "
                              "not allowed")
            self.networks_of(new)
            svc.previous_spec = svc.spec
            self.set_spec(svc, new)
            svc.update_status = None
        ts = self.touch(svc.meta)
        if rollback or self.networks_of(svc.spec) != [n for n, _ in svc.vips]:
            self._allocate_endpoint(svc)
        self.emit_service_update(svc, before, ts)
        self.reconcile(svc)
        self.start_update(svc, rollback=rollback == "previous")
        self.request_scheduling()
        return {"Warnings": None}

    def scale_service(self, ref: str, replicas: int) -> Json:
        """Convenience: what ``docker service scale`` sends (the full spec, new Replicas)."""
        svc = self.resolve_service(ref)
        spec = json.loads(json.dumps(svc.spec))
        spec["Mode"] = {"Replicated": {"Replicas": replicas}}
        return self.update_service(svc.id, svc.meta.version, spec)

    def set_image(self, ref: str, image: str, force: bool = False) -> Json:
        """Convenience: ``docker service update --image`` (``force``: ``--force``)."""
        svc = self.resolve_service(ref)
        spec = json.loads(json.dumps(svc.spec))
        spec["TaskTemplate"]["ContainerSpec"]["Image"] = image
        if force:
            template = spec["TaskTemplate"]
            template["ForceUpdate"] = int(template.get("ForceUpdate", 0)) + 1
        return self.update_service(svc.id, svc.meta.version, spec)

    def rollback_service(self, ref: str) -> Json:
        svc = self.resolve_service(ref)
        return self.update_service(svc.id, svc.meta.version, svc.spec, rollback="previous")

    def remove_service(self, ref: str) -> None:
        """``DELETE /services/{id}``: the service goes now, its tasks shortly after."""
        svc = self.resolve_service(ref)
        run = self.runs.pop(svc.id, None)
        if run is not None:
            run.stopped = True
        del self.services[svc.id]
        self.emit("service", "remove", svc.id, {"name": svc.name}, self.stamp())
        for t in list(svc.tasks.values()):
            if t.state in TERMINAL or not t.node_id or not self.node_up(t.node_id):
                self.delete_task(t)
            else:
                self.set_desired(t, "remove")

    def update_node(self, ref: str, version: int, spec: Any) -> None:
        """``POST /nodes/{id}/update?version=N`` — the body replaces the whole NodeSpec."""
        node = self.resolve_node(ref)
        if version != node.meta.version:
            raise SimError(500, OUT_OF_SEQUENCE)
        if not isinstance(spec, dict):
            raise invalid("json: cannot unmarshal into Go value of type swarm.NodeSpec")
        role = spec.get("Role") or node.role
        availability = spec.get("Availability") or node.availability
        if role not in ("worker", "manager"):
            raise invalid(f"invalid role {role!r}")
        if availability not in ("active", "pause", "drain"):
            raise invalid(f"invalid availability {availability!r}")
        if role == "worker" and node.role == "manager":
            managers = [n for n in self.nodes.values() if n.role == "manager"]
            if len(managers) == 1:
                raise invalid("rpc error: code = FailedPrecondition desc = attempting to demote "
                              "the last manager of the swarm")
        before = (node.availability, node.role)
        labels = spec.get("Labels")
        new: Json = {}
        if spec.get("Name"):
            new["Name"] = spec["Name"]
        new["Labels"] = dict(sorted(labels.items())) if isinstance(labels, dict) else {}
        new["Role"] = role
        new["Availability"] = availability
        node.spec = new
        if role == "worker":
            node.leader = False
        ts = self.touch(node.meta)
        attrs = {"name": node.name}
        if before[0] != availability:
            attrs.update({"availability.old": before[0], "availability.new": availability})
        if before[1] != role:
            attrs.update({"role.old": before[1], "role.new": role})
        self.emit("node", "update", node.id, attrs, ts)
        self.reconcile_all()

    def set_availability(self, ref: str, availability: str) -> None:
        """Convenience: ``docker node update --availability`` (the whole spec, with its version)."""
        node = self.resolve_node(ref)
        self.update_node(node.id, node.meta.version, {**node.spec, "Availability": availability})

    def set_node_state(self, ref: str, state: str) -> None:
        """Simulate the node's heartbeat: ``down`` (agent lost) or ``ready`` (back)."""
        node = self.resolve_node(ref)
        if node.state == state:
            return
        old_state, old_reach = node.state, node.reachability
        node.state = state
        node.message = "heartbeat failure" if state == "down" else ""
        if node.role == "manager" and not node.leader:
            node.reachability = "unreachable" if state == "down" else "reachable"
        ts = self.touch(node.meta)
        attrs = {"name": node.name, "state.old": old_state, "state.new": state}
        if node.reachability != old_reach:
            attrs.update({"reachability.old": old_reach, "reachability.new": node.reachability})
        self.emit("node", "update", node.id, attrs, ts)
        if state == "ready":
            self.resume_node_tasks(node)
        self.reconcile_all()

    def crash_task(self, ref: str, exit_code: int = 137,
                   err: str = "task: non-zero exit (137)") -> None:
        """The task's container dies on its own (OOM-killed, a crash): the agent reports
        ``failed`` and the restart supervisor replaces it after the restart delay."""
        task = self.resolve_task(ref)
        if task.state != "running":
            raise invalid(f"task {task.id} is not running")
        task.pid = 0
        task.exit_code = exit_code
        task.ended_ns = self.now_ns
        self.container_event(task, "die", {"exitCode": str(exit_code)})
        self.set_state(task, "failed", "started", err)
        self.on_task_ended(task)

    # ================================================================== views
    def running_tasks(self, service: str) -> list[SimTask]:
        svc = self.resolve_service(service)
        return [t for t in svc.tasks.values()
                if t.state == "running" and t.desired in LIVE_DESIRED]


def event_matches(ev: Json, f: Filters) -> bool:
    """moby ``daemon/events/filter.go (Filter.Include)``."""
    if not f:
        return True
    type_ = str(ev.get("Type", ""))
    action = str(ev.get("Action", ""))
    actor = ev.get("Actor") or {}
    actor_id = str(actor.get("ID", ""))
    attrs = actor.get("Attributes") or {}
    name = str(attrs.get("name", ""))
    events = f.get("event", [])
    if any(e in ("health_status", "exec_create", "exec_start") for e in events):
        if not fuzzy_match(f, "event", action):
            return False
    elif not exact_match(f, "event", action):
        return False
    if not exact_match(f, "type", type_) or not exact_match(f, "scope", str(ev.get("scope", ""))):
        return False
    for key in ("container", "plugin", "volume", "network", "node", "service", "secret",
                "config", "daemon"):
        if key in f and not (fuzzy_match(f, key, actor_id) or fuzzy_match(f, key, name)):
            return False
    if "image" in f:
        image = str(attrs.get("image", ""))
        if not (fuzzy_match(f, "image", actor_id) or fuzzy_match(f, "image", image)
                or fuzzy_match(f, "image", image.split(":")[0])):
            return False
    return labels_match(f, {str(k): str(v) for k, v in attrs.items()})
