"""An in-memory swarm manager for service-operation tests without a daemon.

:class:`FakeSwarmEngine` answers :meth:`EngineClient.request` the way the engine does for
services: ``GET /services/{id|name}``, ``GET /tasks``, ``POST /services/{id}/update``
(``version`` checked: a stale one fails with the engine's "update out of sequence",
``rollback=previous`` swaps Spec and PreviousSpec) and ``DELETE /services/{id}``. It refuses
writes without a live permit, as the real client does. Every call is in ``calls``;
``mutations`` are the non-GET ones. ``before_write`` runs before each write is applied (to
change the service "meanwhile", as another user would).

The services match tests/uistate.py's fixed swarm (same IDs and names).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from swarmtui.engine.client import EngineError, WritePermit

WEB = "svcweb00000000000000000001"
API = "svcapi00000000000000000001"
AGENT = "svcagent000000000000000001"


def service_spec(name: str, image: str = "busybox:lab", replicas: int | None = 3,
                 update_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Name": name,
        "Labels": {"com.docker.stack.namespace": "shop"},
        "TaskTemplate": {"ContainerSpec": {"Image": image, "Args": ["sleep", "1d"]},
                         "ForceUpdate": 0},
        "Mode": {"Replicated": {"Replicas": replicas}} if replicas is not None
        else {"Global": {}},
    }
    if update_config is not None:
        spec["UpdateConfig"] = dict(update_config)
    return spec


def raw_service(sid: str, spec: dict[str, Any], previous: dict[str, Any] | None = None,
                version: int = 10) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": sid, "Version": {"Index": version}, "Spec": spec}
    if previous is not None:
        out["PreviousSpec"] = previous
    return out


def raw_task(tid: str, sid: str, desired: str = "running") -> dict[str, Any]:
    return {"ID": tid, "ServiceID": sid, "DesiredState": desired,
            "Status": {"State": desired}}


class FakeSwarmEngine:
    """A manager in memory (see the module docstring)."""

    def __init__(self, services: list[dict[str, Any]] | None = None,
                 tasks: list[dict[str, Any]] | None = None) -> None:
        self.services: dict[str, dict[str, Any]] = {
            s["ID"]: copy.deepcopy(s) for s in (services if services is not None
                                                 else default_services())}
        self.tasks = copy.deepcopy(tasks if tasks is not None else default_tasks())
        self.calls: list[tuple[str, str, dict[str, Any], Any]] = []
        self.before_write: Callable[[FakeSwarmEngine], None] | None = None

    @property
    def mutations(self) -> list[tuple[str, str, dict[str, Any], Any]]:
        return [c for c in self.calls if c[0] != "GET"]

    def find(self, ref: str) -> dict[str, Any] | None:
        for svc in self.services.values():
            if ref in (svc["ID"], svc["Spec"]["Name"]):
                return svc
        return None

    def bump(self, sid: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Another client's update: changes the spec, moves PreviousSpec and the version."""
        svc = self.services[sid]
        svc["PreviousSpec"] = copy.deepcopy(svc["Spec"])
        change(svc["Spec"])
        svc["Version"]["Index"] += 1

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = 15.0, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any:
        method = method.upper()
        path = path.lstrip("/")
        p = dict(params or {})
        self.calls.append((method, path, p, copy.deepcopy(body)))
        if method != "GET":
            if permit is None or not permit.live:
                raise EngineError(f"refused {method} /{path}: changes are made only by a "
                                  "confirmed operation")
            if self.before_write is not None:
                hook, self.before_write = self.before_write, None
                hook(self)
        parts = path.split("/")
        if method == "GET" and parts[0] == "services" and len(parts) == 2:
            svc = self.find(parts[1])
            if svc is None:
                raise EngineError(f"service {parts[1]} not found", 404)
            return copy.deepcopy(svc)
        if method == "GET" and path == "tasks":
            wanted = json.loads(p.get("filters") or "{}").get("service", [])
            return [copy.deepcopy(t) for t in self.tasks
                    if not wanted or t["ServiceID"] in wanted]
        if method == "POST" and parts[0] == "services" and parts[2:] == ["update"]:
            return self._update(parts[1], p, body)
        if method == "DELETE" and parts[0] == "services" and len(parts) == 2:
            svc = self.find(parts[1])
            if svc is None:
                raise EngineError(f"service {parts[1]} not found", 404)
            del self.services[svc["ID"]]
            self.tasks = [t for t in self.tasks if t["ServiceID"] != svc["ID"]]
            return None
        raise EngineError(f"fake engine: no {method} /{path}", 404)

    def _update(self, ref: str, params: dict[str, Any], body: Any) -> Any:
        svc = self.find(ref)
        if svc is None:
            raise EngineError(f"service {ref} not found", 404)
        if str(params.get("version")) != str(svc["Version"]["Index"]):
            raise EngineError("rpc error: code = Unknown desc = update out of sequence", 500)
        if params.get("rollback") == "previous":
            previous = svc.get("PreviousSpec")
            if not previous:
                raise EngineError(f"rpc error: code = FailedPrecondition desc = service "
                                  f"{svc['ID']} does not have a previous spec", 500)
            svc["Spec"], svc["PreviousSpec"] = previous, svc["Spec"]
        else:
            svc["PreviousSpec"] = svc["Spec"]
            svc["Spec"] = copy.deepcopy(body)
        svc["Version"]["Index"] += 1
        return {"Warnings": None}


def default_services() -> list[dict[str, Any]]:
    return [
        raw_service(WEB, service_spec("shop_web")),
        raw_service(API, service_spec("shop_api", "registry.example.com/shop/api:2", 2),
                    previous=service_spec("shop_api", "registry.example.com/shop/api:1", 2)),
        raw_service(AGENT, service_spec("agent", replicas=None)),
    ]


def default_tasks() -> list[dict[str, Any]]:
    return [
        raw_task("taskweb1", WEB), raw_task("taskweb2", WEB), raw_task("taskweb3", WEB),
        raw_task("taskweb3old", WEB, desired="shutdown"),
        raw_task("taskapi1", API), raw_task("taskapi2", API),
    ]
