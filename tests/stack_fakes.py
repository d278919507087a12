"""A manager in memory that also knows stacks: services listed by label, and the stacks'
networks, secrets and configs (listed by label, removed by ID), for the stack operations.

Stack ``shop`` (tests/uistate.py's fixed swarm: shop_web, shop_api) has network
``shop_default``, secret ``shop_token`` and config ``shop_settings``; ``agent`` has no stack.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from service_fakes import FakeSwarmEngine

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.target import EngineTarget

STACK_LABEL = "com.docker.stack.namespace"


def _labels(obj: Mapping[str, Any], kind: str) -> Mapping[str, str]:
    return obj.get("Labels") or {} if kind == "networks" else obj["Spec"].get("Labels") or {}


def _matches(labels: Mapping[str, str], wanted: list[str]) -> bool:
    for want in wanted:
        key, sep, value = want.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def network(nid: str, name: str, stack: str | None) -> dict[str, Any]:
    return {"Id": nid, "Name": name, "Driver": "overlay", "Scope": "swarm",
            "Labels": {STACK_LABEL: stack} if stack else {}}


def secret(sid: str, name: str, stack: str | None) -> dict[str, Any]:
    return {"ID": sid, "Version": {"Index": 5},
            "Spec": {"Name": name, "Labels": {STACK_LABEL: stack} if stack else {}}}


class FakeStackEngine(FakeSwarmEngine):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.target = EngineTarget("unix:///tmp/lab/n1/docker.sock", "test")
        agent = self.find("agent")
        if agent is not None:
            agent["Spec"]["Labels"] = {}  # as in the fixed swarm: no stack
        self.objects: dict[str, list[dict[str, Any]]] = {
            "networks": [network("netshop00000000000000001", "shop_default", "shop"),
                         network("netother0000000000000001", "other", None)],
            "secrets": [secret("secshop00000000000000001", "shop_token", "shop")],
            "configs": [secret("cfgshop00000000000000001", "shop_settings", "shop")],
        }
        self.in_use_once: set[str] = set()  # network IDs refused once as "in use"

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = 15.0, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any:
        method, path = method.upper(), path.lstrip("/")
        p = dict(params or {})
        parts = path.split("/")
        wanted = json.loads(p.get("filters") or "{}").get("label", [])
        if method == "GET" and path == "services":
            self.calls.append((method, path, p, None))
            return [copy.deepcopy(s) for s in self.services.values()
                    if _matches(s["Spec"].get("Labels") or {}, wanted)]
        if parts[0] in self.objects:
            self.calls.append((method, path, p, None))
            items = self.objects[parts[0]]
            if method == "GET" and len(parts) == 1:
                return [copy.deepcopy(o) for o in items if _matches(_labels(o, parts[0]), wanted)]
            if method == "DELETE" and len(parts) == 2:
                if permit is None or not permit.live:
                    raise EngineError("refused: no permit")
                if parts[1] in self.in_use_once:
                    self.in_use_once.discard(parts[1])
                    raise EngineError(f"rpc error: network {parts[1]} is in use by task x", 400)
                for o in items:
                    if (o.get("Id") or o.get("ID")) == parts[1]:
                        items.remove(o)
                        return None
                raise EngineError(f"{parts[0][:-1]} {parts[1]} not found", 404)
        return await super().request(method, path, params, timeout, body=body, permit=permit)
