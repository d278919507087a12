"""A fixed swarm replaying a recorded rolling update (tests/fixtures/engine/v1.41/update_*/)
into a static store, snapshot by snapshot with the clock at each capture, so the app's update
history is what it would have recorded live. For the timeline screen's UI and snapshot tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from uistate import StaticSwarm

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.target import EngineTarget
from swarmtui.model.actions import Connected, NodesListed, ServicesListed, TasksListed
from swarmtui.model.parse import parse_nodes, parse_service, parse_tasks
from swarmtui.model.times import NS_PER_S
from swarmtui.model.types import EngineInfo, SwarmInfo
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "engine" / "v1.41"
TAIL = [("stdout", "starting the new version"), ("stderr", "config check failed: exit 3")]


class Clock:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def snapshots(scenario: str) -> list[dict[str, Any]]:
    return [json.loads(f.read_text())
            for f in sorted((FIXTURES / f"update_{scenario}").glob("[0-9]*.json"))]


def timeline_app(scenario: str, upto: int | None = None, *, later_s: float = 0.0,
                 read_only: bool = False, start_mode: str = "updates",
                 started_late: bool = False, no_update_status: bool = False) -> SwarmApp:
    """The app after snapshots ``0..upto`` of ``scenario`` (all when None), its clock
    ``later_s`` after the last capture and stopped there; with ``later_s`` the last listings
    are sent again then, as the poller would. ``started_late``: the app sees only the last
    snapshot (it started after the update); ``no_update_status``: the engine no longer
    reports it (a later scale resets UpdateStatus). Task logs answer :data:`TAIL`."""
    docs = snapshots(scenario)
    docs = docs if upto is None else docs[: upto + 1]
    if started_late:
        docs = docs[-1:]
    if no_update_status:
        docs = [{**d, "service": {k: v for k, v in d["service"].items()
                                  if k != "UpdateStatus"}} for d in docs]
    clock = Clock(docs[0]["now_ns"])
    live = StaticSwarm(EngineClient(EngineTarget("unix:///tmp/lab/n1/docker.sock", "test")))
    runtime = build_runtime(Settings(read_only=read_only), live, clock_ns=clock)

    async def tail(task_id: str, lines: int = 10) -> list[tuple[str, str]]:
        return TAIL[-lines:]

    runtime.task_log_tail = tail  # type: ignore[method-assign]
    nodes = parse_nodes(json.loads((FIXTURES / f"update_{scenario}" / "nodes.json").read_text()))
    manager = next(n for n in nodes if n.role == "manager")
    engine = EngineInfo(endpoint="unix:///tmp/lab/n1/docker.sock", version="20.10.24+dfsg1",
                        api_version="1.41", min_api_version="1.12", os="linux", arch="amd64",
                        swarm=SwarmInfo(node_id=manager.id, local_node_state="active",
                                        control_available=True, cluster_id="lab",
                                        managers=1, nodes=len(nodes)))
    d = live.store.dispatch
    d(Connected(engine, clock.now_ns))
    d(NodesListed(tuple(nodes), clock.now_ns))
    for doc in docs:
        clock.now_ns = doc["now_ns"]
        d(ServicesListed((parse_service(doc["service"]),), clock.now_ns))
        d(TasksListed(tuple(parse_tasks(doc["tasks"])), clock.now_ns))
    if later_s:
        clock.now_ns += int(later_s * NS_PER_S)
        d(ServicesListed((parse_service(docs[-1]["service"]),), clock.now_ns))
        d(TasksListed(tuple(parse_tasks(docs[-1]["tasks"])), clock.now_ns))
    return SwarmApp(runtime, start_mode=start_mode)


def raw_service(scenario: str, index: int = -1) -> dict[str, Any]:
    """The recorded ``GET /services/ID`` answer (for FakeSwarmEngine)."""
    return snapshots(scenario)[index]["service"]  # type: ignore[no-any-return]
