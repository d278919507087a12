"""An in-memory swarm manager for node-operation tests, with tests/uistate.py's fixed nodes.

:class:`FakeNodeEngine` extends service_fakes' FakeSwarmEngine with what the node actions read
and write, answered as the engine does: ``GET /nodes``, ``GET /nodes/{id|hostname}``,
``GET /services``, ``GET /tasks`` (filters ``service``, ``node``, ``desired-state``),
``POST /nodes/{id}/update?version=N`` (a stale version: "update out of sequence"; demoting the
last manager refused) and ``DELETE /nodes/{id}`` (only a down worker).

The swarm: lab-node1 (leader, the only manager), lab-node2, lab-node3 (drained), lab-node4
(down). lab-node2 runs shop_web.2 and .3, shop_api.1 and .2 (shop_api is pinned to
``node.hostname==lab-node2``: nowhere else to go) and agent's task (global).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from service_fakes import AGENT, API, WEB, FakeSwarmEngine, raw_service, service_spec

from swarmtui.engine.client import EngineError, WritePermit


def raw_node(i: int, *, role: str | None = None, availability: str = "active",
             state: str = "ready", labels: Mapping[str, str] | None = None,
             version: int = 20) -> dict[str, Any]:
    role = role or ("manager" if i == 1 else "worker")
    node: dict[str, Any] = {
        "ID": f"node{i:02d}id", "Version": {"Index": version},
        "Spec": {"Labels": dict(labels or {}), "Role": role, "Availability": availability},
        "Description": {"Hostname": f"lab-node{i}",
                        "Platform": {"Architecture": "x86_64", "OS": "linux"},
                        "Resources": {"NanoCPUs": 2 * 10**9, "MemoryBytes": 25276502016},
                        "Engine": {"EngineVersion": "20.10.24+dfsg1"}},
        "Status": {"State": state, "Addr": f"10.231.7.1{i}"},
    }
    if role == "manager":
        node["ManagerStatus"] = {"Leader": i == 1, "Reachability": "reachable",
                                 "Addr": f"10.231.7.1{i}:2377"}
    return node


def node_task(tid: str, sid: str, node: int, slot: int | None,
              desired: str = "running") -> dict[str, Any]:
    return {"ID": tid, "ServiceID": sid, "NodeID": f"node{node:02d}id", "Slot": slot or 0,
            "DesiredState": desired, "Status": {"State": desired}}


def default_nodes() -> list[dict[str, Any]]:
    return [raw_node(1, labels={"zone": "a"}), raw_node(2, labels={"zone": "b"}),
            raw_node(3, availability="drain"), raw_node(4, state="down")]


def node_services() -> list[dict[str, Any]]:
    api = service_spec("shop_api", "registry.example.com/shop/api:2", 2)
    api["TaskTemplate"]["Placement"] = {"Constraints": ["node.hostname==lab-node2"]}
    return [raw_service(WEB, service_spec("shop_web")), raw_service(API, api),
            raw_service(AGENT, service_spec("agent", replicas=None))]


def node_tasks() -> list[dict[str, Any]]:
    return [
        node_task("taskweb1aaaaaaaaaaaaaaaaaa", WEB, 1, 1),
        node_task("taskweb2aaaaaaaaaaaaaaaaaa", WEB, 2, 2),
        node_task("taskweb3aaaaaaaaaaaaaaaaaa", WEB, 2, 3),
        node_task("taskweb3oldaaaaaaaaaaaaaaa", WEB, 1, 3, desired="shutdown"),
        node_task("taskapi1aaaaaaaaaaaaaaaaaa", API, 2, 1),
        node_task("taskapi2aaaaaaaaaaaaaaaaaa", API, 2, 2),
        node_task("taskagt1aaaaaaaaaaaaaaaaaa", AGENT, 1, None),
        node_task("taskagt2aaaaaaaaaaaaaaaaaa", AGENT, 2, None),
    ]


class FakeNodeEngine(FakeSwarmEngine):
    """A manager in memory with nodes (see the module docstring)."""

    def __init__(self, nodes: list[dict[str, Any]] | None = None,
                 services: list[dict[str, Any]] | None = None,
                 tasks: list[dict[str, Any]] | None = None) -> None:
        super().__init__(services if services is not None else node_services(),
                         tasks if tasks is not None else node_tasks())
        self.nodes: dict[str, dict[str, Any]] = {
            n["ID"]: copy.deepcopy(n) for n in (nodes if nodes is not None else default_nodes())}

    def find_node(self, ref: str) -> dict[str, Any] | None:
        for node in self.nodes.values():
            if ref in (node["ID"], node["Description"]["Hostname"]):
                return node
        return None

    def bump_node(self, ref: str, **spec: Any) -> None:
        """Another client's node update: the spec changes and so does the version."""
        node = self.find_node(ref)
        assert node is not None
        node["Spec"].update(spec)
        node["Version"]["Index"] += 1

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = 15.0, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any:
        parts = path.strip("/").split("/")
        p = dict(params or {})
        method = method.upper()
        if parts[0] == "services" and len(parts) == 1 and method == "GET":
            self.calls.append((method, path, p, None))
            return [copy.deepcopy(s) for s in self.services.values()]
        if parts[0] == "tasks" and method == "GET":
            self.calls.append((method, path, p, None))
            return self._tasks(json.loads(p.get("filters") or "{}"))
        if parts[0] != "nodes":
            return await super().request(method, path, params, timeout, body=body,
                                         permit=permit)
        self.calls.append((method, path, p, copy.deepcopy(body)))
        if method != "GET" and (permit is None or not permit.live):
            raise EngineError(f"refused {method} /{path}: changes are made only by a "
                              "confirmed operation")
        if method == "GET" and len(parts) == 1:
            return [copy.deepcopy(n) for n in self.nodes.values()]
        node = self.find_node(parts[1]) if len(parts) > 1 else None
        if node is None:
            raise EngineError(f"node {parts[1] if len(parts) > 1 else ''} not found", 404)
        if method == "GET" and len(parts) == 2:
            return copy.deepcopy(node)
        if method == "POST" and parts[2:] == ["update"]:
            return self._update_node(node, p, body)
        if method == "DELETE" and len(parts) == 2:
            if node["Status"]["State"] != "down":
                raise EngineError(f"rpc error: code = FailedPrecondition desc = node "
                                  f"{node['ID']} is not down and can't be removed", 400)
            del self.nodes[node["ID"]]
            return None
        raise EngineError(f"fake engine: no {method} /{path}", 404)

    def _tasks(self, filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        out = []
        for task in self.tasks:
            if filters.get("service") and task["ServiceID"] not in filters["service"]:
                continue
            if filters.get("node") and task.get("NodeID") not in filters["node"]:
                continue
            if filters.get("desired-state") and \
                    task["DesiredState"] not in filters["desired-state"]:
                continue
            out.append(copy.deepcopy(task))
        return out

    def _update_node(self, node: dict[str, Any], params: Mapping[str, Any], body: Any) -> Any:
        if str(params.get("version")) != str(node["Version"]["Index"]):
            raise EngineError("rpc error: code = Unknown desc = update out of sequence", 500)
        managers = [n for n in self.nodes.values() if n["Spec"]["Role"] == "manager"]
        if body.get("Role") == "worker" and node["Spec"]["Role"] == "manager" \
                and len(managers) == 1:
            raise EngineError("rpc error: code = FailedPrecondition desc = attempting to "
                              "demote the last manager of the swarm", 400)
        node["Spec"] = copy.deepcopy(body)
        node["Version"]["Index"] += 1
        if body.get("Role") == "manager":
            node["ManagerStatus"] = {"Leader": False, "Reachability": "reachable"}
        else:
            node.pop("ManagerStatus", None)
        return None
