"""An in-memory manager with secrets and configs, for secret-operation tests without a daemon.

:class:`FakeSecretsEngine` extends :class:`service_fakes.FakeSwarmEngine` with ``GET
/secrets|configs[/{id}]``, ``POST /secrets|configs/create``, ``DELETE /secrets|configs/{id}``
(refused while a service uses it, in the engine's words), ``GET /services``, and rollouts
that end at once: an update sets UpdateStatus ``completed``, or ``paused`` with a failed task
(exit 3) for the services named in ``failing``; ``rollback=previous`` ends
``rollback_completed``. The fixed swarm's web and api services use secret ``db_pass``.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import Any

from service_fakes import API, WEB, FakeSwarmEngine, default_services, default_tasks
from uistate import NOW

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.model.actions import SecretsListed, ServicesListed
from swarmtui.model.parse import parse_secrets, parse_services

DB_PASS = "secdbpass00000000000000001"
UNUSED = "secunused00000000000000001"
NGINX_CONF = "cfgnginx00000000000000001"
CREATED = "2026-11-25T12:34:57.334735978Z"


def raw_item(item_id: str, name: str, data: str | None = None, **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"Name": name, "Labels": dict(labels)}
    if data is not None:
        spec["Data"] = base64.b64encode(data.encode()).decode()
    return {"ID": item_id, "Version": {"Index": 11}, "CreatedAt": CREATED,
            "UpdatedAt": CREATED, "Spec": spec}


def secret_ref(item_id: str, name: str, target: str, kind: str = "Secret") -> dict[str, Any]:
    return {"File": {"Name": target, "UID": "0", "GID": "0", "Mode": 0o444},
            f"{kind}ID": item_id, f"{kind}Name": name}


def secret_services() -> list[dict[str, Any]]:
    services = default_services()
    for svc in services:
        container = svc["Spec"]["TaskTemplate"]["ContainerSpec"]
        if svc["ID"] in (WEB, API):
            container["Secrets"] = [secret_ref(DB_PASS, "db_pass", "db_pass")]
        if svc["ID"] == WEB:
            container["Configs"] = [secret_ref(NGINX_CONF, "nginx_conf", "/etc/nginx.conf",
                                               "Config")]
    return services


class FakeSecretsEngine(FakeSwarmEngine):
    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        super().__init__(secret_services(), default_tasks())
        self.items: dict[str, dict[str, dict[str, Any]]] = {
            "secrets": {DB_PASS: raw_item(DB_PASS, "db_pass"),
                        UNUSED: raw_item(UNUSED, "old_token", env="lab")},
            "configs": {NGINX_CONF: raw_item(NGINX_CONF, "nginx_conf",
                                             "server {\n  listen 80;\x1b[2J\n}\n")},
        }
        self.failing = failing
        self.clock = 1_800_000_000
        self.next_id = 1

    def _stamp(self) -> str:
        self.clock += 1
        return f"2027-01-15T08:{(self.clock // 60) % 60:02d}:{self.clock % 60:02d}Z"

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = 15.0, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any:
        method = method.upper()
        parts = path.lstrip("/").split("/")
        if parts[0] in ("secrets", "configs") or (method == "GET" and parts == ["services"]):
            self.calls.append((method, path.lstrip("/"), dict(params or {}), copy.deepcopy(body)))
            if method != "GET" and (permit is None or not permit.live):
                raise EngineError(f"refused {method} /{path}")
            return self._items(method, parts, dict(params or {}), body)
        answer = await super().request(method, path, params, timeout, body=body, permit=permit)
        if method == "POST" and parts[2:] == ["update"]:
            self._rollout(parts[1], dict(params or {}))
        return answer

    def _items(self, method: str, parts: list[str], params: dict[str, Any], body: Any) -> Any:
        if parts == ["services"]:
            return [copy.deepcopy(s) for s in self.services.values()]
        store = self.items[parts[0]]
        noun = parts[0][:-1]
        if method == "GET" and len(parts) == 1:
            names = json.loads(params.get("filters") or "{}").get("name", [])
            return [copy.deepcopy(i) for i in store.values()
                    if not names or any(i["Spec"]["Name"].startswith(n) for n in names)]
        if method == "POST" and parts[1:] == ["create"]:
            if any(i["Spec"]["Name"] == body["Name"] for i in store.values()):
                raise EngineError(f"rpc error: code = AlreadyExists desc = {noun} "
                                  f"{body['Name']} already exists", 409)
            new_id = f"new{noun}{self.next_id:020d}"
            self.next_id += 1
            store[new_id] = {"ID": new_id, "Version": {"Index": 50}, "CreatedAt": CREATED,
                             "UpdatedAt": CREATED, "Spec": copy.deepcopy(body)}
            return {"ID": new_id}
        found = next((i for i in store.values() if parts[1] in (i["ID"], i["Spec"]["Name"])),
                     None)
        if found is None:
            raise EngineError(f"{noun} {parts[1]} not found", 404)
        if method == "GET":
            out = copy.deepcopy(found)
            if noun == "secret":
                out["Spec"].pop("Data", None)  # the engine never returns a secret's data
            return out
        if method == "DELETE":
            key = f"{noun.capitalize()}ID"
            users = [s["Spec"]["Name"] for s in self.services.values()
                     if any(r.get(key) == found["ID"] for r in
                            s["Spec"]["TaskTemplate"]["ContainerSpec"].get(f"{noun.capitalize()}s")
                            or [])]
            if users:
                raise EngineError(f"rpc error: code = InvalidArgument desc = {noun} "
                                  f"'{found['Spec']['Name']}' is in use by the following "
                                  f"service: {', '.join(users)}", 400)
            del store[found["ID"]]
            return None
        raise EngineError(f"fake engine: no {method} /{'/'.join(parts)}", 404)

    def _rollout(self, ref: str, params: dict[str, Any]) -> None:
        svc = self.find(ref)
        assert svc is not None
        started = self._stamp()
        if params.get("rollback") == "previous":
            svc["UpdateStatus"] = {"State": "rollback_completed", "StartedAt": started,
                                   "CompletedAt": self._stamp(),
                                   "Message": "rollback completed"}
        elif svc["Spec"]["Name"] in self.failing:
            tid = f"failed{svc['ID'][:6]}".ljust(25, "0")  # a task ID as swarmkit makes them
            self.tasks.append({"ID": tid, "ServiceID": svc["ID"], "DesiredState": "shutdown",
                               "Slot": 1, "Spec": {"ContainerSpec": {"Image": "busybox:lab"}},
                               "CreatedAt": started,
                               "Status": {"State": "failed", "Err": "task: non-zero exit (3)",
                                          "ContainerStatus": {"ExitCode": 3},
                                          "Timestamp": started}})
            svc["UpdateStatus"] = {"State": "paused", "StartedAt": started,
                                   "Message": "update paused due to failure or early "
                                   f"termination of task {tid}"}
        else:
            svc["UpdateStatus"] = {"State": "completed", "StartedAt": started,
                                   "CompletedAt": self._stamp(), "Message": "update completed"}
        svc["Version"]["Index"] += 1

    def dispatch_into(self, store: Any) -> None:
        """Put this engine's services, secrets and configs into a live store (as listed)."""
        store.dispatch(ServicesListed(tuple(parse_services(self.services.values())), NOW))
        for kind in ("secret", "config"):
            store.dispatch(SecretsListed(kind, tuple(parse_secrets(
                self.items[f"{kind}s"].values())), NOW))
