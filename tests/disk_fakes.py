"""An in-memory engine for disk usage / prune tests without a daemon.

:class:`FakeEngine` implements :class:`swarmtui.engine.disk.DiskTransport`: the GETs return
its lists (``/system/df`` in the API 1.41 shape), the prune endpoints and
``DELETE /images/{x}`` change them (pruning what the model's planner says the engine would,
without service protection -- the engine knows nothing about services) and answer like the
engine. Every call is recorded in ``calls``; ``mutations`` are the non-GET ones.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.disk import DiskEngine, DiskFleet
from swarmtui.model.disk.engine_state import EngineState, engine_state_from_json
from swarmtui.model.disk.prune_images import plan_images_prune
from swarmtui.model.disk.prune_plan import (
    PrunePlan,
    plan_build_cache_prune,
    plan_containers_prune,
    plan_networks_prune,
    plan_volumes_prune,
)

NOW_S = 1_800_000_000
NOW = NOW_S * 10**9


def H(c: str) -> str:
    return "sha256:" + c * 64


def image(c: str, tags: tuple[str, ...] = (), size: int = 1000, containers: int = 0,
          created: int = NOW_S - 86400 * 3, shared: int = 0) -> dict[str, Any]:
    return {"Id": H(c), "RepoTags": list(tags), "RepoDigests": [], "ParentId": "",
            "Created": created, "Size": size, "SharedSize": shared, "VirtualSize": size,
            "Containers": containers, "Labels": None}


def container(cid: str, name: str, img: str, img_id: str, state: str, size_rw: int = 0,
              labels: Mapping[str, str] | None = None, mounts: list[Any] | None = None,
              created: int = NOW_S - 3600) -> dict[str, Any]:
    status = {"running": "Up 2 hours", "exited": "Exited (0) 1 hour ago",
              "created": "Created"}.get(state, state)
    return {"Id": cid * 64 if len(cid) == 1 else cid, "Names": [f"/{name}"], "Image": img,
            "ImageID": img_id, "Command": "sh -c 'sleep 1'", "Created": created,
            "State": state, "Status": status, "SizeRw": size_rw, "SizeRootFs": 2_000_000,
            "Labels": dict(labels or {}), "Mounts": mounts or [],
            "NetworkSettings": {"Networks": {"bridge": {"NetworkID": "netbridge"}}}}


def volume(name: str, size: int, refs: int = 0, driver: str = "local",
           labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"Name": name, "Driver": driver, "Scope": "local", "Labels": dict(labels or {}),
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data", "Options": None,
            "CreatedAt": "2027-01-10T08:00:00Z", "UsageData": {"Size": size, "RefCount": refs}}


def network(name: str, nid: str, driver: str = "bridge", scope: str = "local") -> dict[str, Any]:
    return {"Name": name, "Id": nid, "Driver": driver, "Scope": scope,
            "Created": "2027-01-10T08:00:00Z", "Labels": {}}


def cache(cid: str, size: int, *, in_use: bool = False, shared: bool = False,
          kind: str = "regular") -> dict[str, Any]:
    return {"ID": cid, "Parent": "", "Type": kind, "Description": f"{kind} {cid}",
            "InUse": in_use, "Shared": shared, "Size": size,
            "CreatedAt": "2027-01-12T08:00:00Z", "LastUsedAt": "2027-01-14T08:00:00Z",
            "UsageCount": 2}


def service(sid: str, name: str, img: str, previous: str | None = None) -> dict[str, Any]:
    def spec(i: str) -> dict[str, Any]:
        return {"Name": name, "TaskTemplate": {"ContainerSpec": {"Image": i}}}

    out: dict[str, Any] = {"ID": sid, "Version": {"Index": 10}, "Spec": spec(img)}
    if previous:
        out["PreviousSpec"] = spec(previous)
    return out


class FakeEngine:
    """A daemon in memory (see the module docstring)."""

    def __init__(
        self,
        name: str,
        node_id: str,
        *,
        manager: bool = False,
        api: str = "1.41",
        images: list[Any] | None = None,
        containers: list[Any] | None = None,
        volumes: list[Any] | None = None,
        networks: list[Any] | None = None,
        build_cache: list[Any] | None = None,
        services: list[Any] | None = None,
        nodes: list[Any] | None = None,
        connect_error: str | None = None,
        fail: Mapping[tuple[str, str], EngineError] | None = None,
    ) -> None:
        self.name = name
        self.node_id = node_id
        self.manager = manager
        self._api = api
        self.images = copy.deepcopy(images or [])
        self.containers = copy.deepcopy(containers or [])
        self.volumes = copy.deepcopy(volumes or [])
        self.networks = copy.deepcopy(networks or [])
        self.build_cache = copy.deepcopy(build_cache or [])
        self.services = copy.deepcopy(services or [])
        self.nodes = copy.deepcopy(nodes or [])
        self.connect_error = connect_error
        self.fail = dict(fail or {})
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    # -- DiskTransport ------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"unix:///run/{self.name}/docker.sock"

    @property
    def api_version(self) -> str:
        return self._api

    async def connect(self) -> str:
        if self.connect_error:
            raise EngineError(self.connect_error)
        return self._api

    async def close(self) -> None:
        pass

    @property
    def mutations(self) -> list[tuple[str, str, dict[str, str]]]:
        return [c for c in self.calls if c[0] != "GET"]

    def snapshot(self) -> str:
        """Everything that a prune could change, to compare before/after."""
        return json.dumps([self.images, self.containers, self.volumes, self.networks,
                           self.build_cache], sort_keys=True)

    async def call(self, method: str, path: str, params: Mapping[str, str] | None = None,
                   timeout: float = 30.0, permit: WritePermit | None = None) -> Any:
        path = path.lstrip("/")
        params = dict(params or {})
        if method != "GET" and (permit is None or not permit.live):
            # As EngineClient.request: no write without the executor's permit.
            raise EngineError(f"fake engine: {method} /{path} without a write permit")
        self.calls.append((method, path, params))
        if (method, path) in self.fail:
            raise self.fail[(method, path)]
        if method == "GET":
            return self._get(path)
        if method == "POST" and path.endswith("/prune"):
            return self._prune(path.split("/")[0], params)
        if method == "DELETE" and path.startswith("images/"):
            return self._delete_image(path[len("images/"):])
        raise EngineError(f"fake engine: unsupported {method} /{path}", 404)

    # -- reads --------------------------------------------------------------------------
    def _get(self, path: str) -> Any:
        if path == "version":
            return {"Version": "20.10.24+dfsg1", "ApiVersion": self._api}
        if path == "info":
            return {"Name": self.name, "Swarm": {
                "NodeID": self.node_id, "LocalNodeState": "active" if self.node_id else "inactive",
                "ControlAvailable": self.manager}}
        if path == "system/df":
            return {"LayersSize": sum(i["Size"] - i["SharedSize"] for i in self.images)
                    + max((i["SharedSize"] for i in self.images), default=0),
                    "Images": self.images, "Containers": self.containers,
                    "Volumes": self.volumes, "BuildCache": self.build_cache}
        if path == "containers/json":
            return [{k: v for k, v in c.items() if k not in ("SizeRw", "SizeRootFs")}
                    for c in self.containers]
        if path == "images/json":
            return [{**i, "Containers": -1, "SharedSize": -1} for i in self.images]
        if path == "volumes":
            return {"Volumes": [{k: v for k, v in x.items() if k != "UsageData"}
                                for x in self.volumes]}
        if path == "networks":
            return self.networks
        if path == "services" and self.manager:
            return self.services
        if path == "nodes" and self.manager:
            return self.nodes
        raise EngineError(f"fake engine: no {path}", 404)

    # -- writes -------------------------------------------------------------------------
    def _state(self) -> EngineState:
        return engine_state_from_json(
            self._api, containers=self.containers, images=self.images,
            df=self._get("system/df"), volumes=self._get("volumes"), networks=self.networks,
            is_manager=self.manager)

    def _prune(self, kind: str, params: dict[str, str]) -> Any:
        st = self._state()
        filters = json.loads(params.get("filters") or "{}")
        if kind == "containers":
            plan = plan_containers_prune(st)
            gone = set(plan.item_ids)
            self.containers = [c for c in self.containers if c["Id"] not in gone]
            return {"ContainersDeleted": list(plan.item_ids),
                    "SpaceReclaimed": plan.estimated_bytes}
        if kind == "images":
            all_unused = "false" in filters.get("dangling", {})
            plan = plan_images_prune(st, all_unused=all_unused, protect_services=False)
            recs: list[dict[str, str]] = []
            for it in plan.items:
                recs += [{"Untagged": u} for u in it.untags]
                if it.action == "delete":
                    recs.append({"Deleted": it.id})
            self._apply_images(plan)
            return {"ImagesDeleted": recs or None, "SpaceReclaimed": plan.estimated_bytes}
        if kind == "volumes":
            plan = plan_volumes_prune(st, all_volumes="all" in filters)
            gone = set(plan.item_ids)
            self.volumes = [v for v in self.volumes if v["Name"] not in gone]
            return {"VolumesDeleted": list(plan.item_ids), "SpaceReclaimed": plan.estimated_bytes}
        if kind == "networks":
            plan = plan_networks_prune(st)
            gone = set(plan.item_ids)
            self.networks = [n for n in self.networks if n["Name"] not in gone]
            return {"NetworksDeleted": list(plan.item_ids)}
        if kind == "build":
            plan = plan_build_cache_prune(st, all_cache=params.get("all") == "1")
            gone = set(plan.item_ids)
            self.build_cache = [b for b in self.build_cache if b["ID"] not in gone]
            return {"CachesDeleted": list(plan.item_ids), "SpaceReclaimed": plan.estimated_bytes}
        raise EngineError(f"fake engine: no prune for {kind}", 404)

    def _apply_images(self, plan: PrunePlan) -> None:
        for it in plan.items:
            for img in self.images:
                if img["Id"] == it.id:
                    img["RepoTags"] = [t for t in img["RepoTags"] if t not in it.untags]
        gone = {it.id for it in plan.items if it.action == "delete"}
        self.images = [i for i in self.images if i["Id"] not in gone]

    def _delete_image(self, target: str) -> Any:
        for img in self.images:
            if target in img["RepoTags"] or img["Id"] == target:
                used = any(c["ImageID"] == img["Id"] for c in self.containers)
                if target in img["RepoTags"] and (len(img["RepoTags"]) > 1 or used):
                    img["RepoTags"].remove(target)
                    return [{"Untagged": target}]
                if used:
                    raise EngineError(
                        f"conflict: unable to delete {target[:19]} (must be forced) - image is "
                        "being used by a container", 409)
                self.images.remove(img)
                out = [{"Untagged": t} for t in img["RepoTags"]]
                return [*out, {"Deleted": img["Id"]}]
        raise EngineError(f"No such image: {target}", 404)


# ----------------------------------------------------------------------------- a fixed fleet

SERVICES = [
    service("svcweb00000000000000000001", "shop_web", "busybox:lab"),
    service("svcapi00000000000000000001", "shop_api", "registry.example.com/shop/api:2",
            previous="registry.example.com/shop/api:1"),
]
NODES = [
    {"ID": f"node0{i}id", "Description": {"Hostname": f"lab-node{i}"},
     "Spec": {"Role": "manager" if i == 1 else "worker"}, "Status": {"State": "ready"}}
    for i in (1, 2, 3, 4)
]


def manager_engine() -> FakeEngine:
    return FakeEngine(
        "lab-node1", "node01id", manager=True, services=SERVICES, nodes=NODES,
        images=[
            image("b", ("busybox:lab", "busybox:lab2"), 1_984_260, containers=1),
            image("1", ("registry.example.com/shop/api:1",), 48_200_000),
            image("2", ("registry.example.com/shop/api:2",), 48_900_000, containers=1),
            image("3", ("tools/report:0.9",), 12_345_678),
            image("4", (), 3_456_789),
            image("5", ("tools/lint:1",), 6_543_210, created=NOW_S - 86400 * 40),
        ],
        containers=[
            container("a", "shop_web.1.taskweb1", "busybox:lab", H("b"), "running", 0,
                      {"com.docker.swarm.service.name": "shop_web"}),
            container("c", "shop_api.1.taskapi1", "registry.example.com/shop/api:2", H("2"),
                      "running", 12_000),
            container("e", "report-once", "tools/report:0.9", H("3"), "exited", 2_500_000,
                      created=NOW_S - 7200),
            container("f", "scratchpad", "busybox:lab", H("b"), "created", 0,
                      created=NOW_S - 600),
        ],
        volumes=[
            volume("pgdata", 104_857_600, refs=1),
            volume("reports", 31_457_280),
            volume("0f" * 32, 2048),
            volume("shared-nfs", -1, driver="nfs"),
        ],
        networks=[
            network("bridge", "netbridge"), network("host", "nethost", "host"),
            network("none", "netnone", "null"), network("old-frontend", "netold"),
        ],
        build_cache=[
            cache("k7m2x9p4q1w8e5r3t6y0u2i4o", 30_123_456),
            cache("a1s2d3f4g5h6j7k8l9z0x1c2v", 4096, in_use=True, kind="source.local"),
            cache("q9w8e7r6t5y4u3i2o1p0a9s8d", 7_377_000, shared=True),
        ],
    )


def worker_engine() -> FakeEngine:
    return FakeEngine(
        "lab-node2", "node02id",
        images=[
            image("b", ("busybox:lab", "busybox:lab2"), 1_984_260, containers=1),
            image("5", ("busybox:old",), 1_900_000),
            image("6", (), 800_000),
        ],
        containers=[
            container("g", "shop_web.2.taskweb2", "busybox:lab", H("b"), "running", 0),
            container("h", "shop_web.2.oldtask", "busybox:lab", H("b"), "exited", 4096),
        ],
        volumes=[volume("cache", 5_000_000)],
        networks=[network("bridge", "netbridge")],
    )


def unreachable_engine() -> FakeEngine:
    return FakeEngine("edge", "", connect_error=(
        "no Docker engine at unix:///run/edge/docker.sock (the socket does not exist): start "
        "dockerd, or point swarmtui at one with --host, --context or DOCKER_HOST"))


def fake_fleet(*fakes: FakeEngine, fetched_ago_s: int = 42, **kw: Any) -> DiskFleet:
    """A fleet over fakes whose df is always ``fetched_ago_s`` old at :data:`NOW`."""
    fakes = fakes or (manager_engine(), worker_engine(), unreachable_engine())
    engines = [
        DiskEngine(f, name=f.name if i else None, source="test",
                   clock_ns=lambda: NOW - fetched_ago_s * 10**9)
        for i, f in enumerate(fakes)
    ]
    return DiskFleet(engines, **kw)


def permit_for_tests() -> WritePermit:
    """A permit for engine-layer tests that call DiskEngine.execute directly (the app and the
    CLI get theirs from the executor only)."""
    return WritePermit._issue("test")


async def execute_confirmed(fleet: DiskFleet, planned: Any, *, read_only: bool = False) -> Any:
    """Run a confirmed preview the way the app and the CLI do: as a prune operation through
    an executor. Returns the engine's PruneOutcome (or one carrying the executor's refusal)."""
    from swarmtui.model.disk.view import PruneOutcome
    from swarmtui.ops.base import Plan
    from swarmtui.ops.executor import Executor
    from swarmtui.ops.prune import PruneOperation, prune_preview

    engine = fleet.find(planned.engine)
    op = PruneOperation(fleet, [engine] if engine else [], planned.kind, planned.options)
    outcome = await Executor(read_only=read_only).execute(
        Plan(op, prune_preview([planned], ()), (planned,))
    )
    if outcome.detail:
        return outcome.detail[0]
    return PruneOutcome(planned.engine, planned.kind, planned.title, refused=outcome.refused)
