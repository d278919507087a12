"""A fixed swarm for UI tests: a LiveSwarm double that never touches an engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.disk import DiskFleet
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.model.actions import Connected, NodesListed, ServicesListed, TasksListed
from swarmtui.model.types import EngineEvent, EngineInfo, Node, Service, SwarmInfo, Task
from swarmtui.runtime import Runtime, build_runtime
from swarmtui.settings import Settings
from swarmtui.shot import render_screen
from swarmtui.views import ViewRegistry

NOW = 1_800_000_000 * 10**9


class StaticSwarm(LiveSwarm):
    """Serves whatever was dispatched into its store; start/stop do nothing."""

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


def _node(i: int, **kw: object) -> Node:
    n = Node(id=f"node{i:02d}id", version=1, hostname=f"lab-node{i}", name=f"lab-node{i}",
             role="manager" if i == 1 else "worker", availability="active", state="ready",
             addr=f"10.231.7.1{i}", engine_version="20.10.24+dfsg1", nano_cpus=2 * 10**9,
             memory_bytes=25276502016, os="linux", arch="x86_64", leader=i == 1,
             reachability="reachable" if i == 1 else None)
    return replace(n, **kw)  # type: ignore[arg-type]


def _svc(sid: str, name: str, replicas: int | None, stack: str | None = None,
         mode: str = "replicated", running: int = 0, desired: int = 0) -> Service:
    labels = (("com.docker.stack.namespace", stack),) if stack else ()
    return Service(id=sid, version=1, name=name, image="busybox:lab", mode=mode,
                   replicas=replicas, labels=labels, running=running, desired=desired)


def _task(tid: str, sid: str, slot: int | None, node: str | None, state: str = "running",
          desired: str = "running", age_s: int = 300, **kw: object) -> Task:
    t = Task(id=tid, version=1, service_id=sid, slot=slot, node_id=node, state=state,
             desired_state=desired, image="busybox:lab", status_ns=NOW - age_s * 10**9,
             created_ns=NOW - age_s * 10**9)
    return replace(t, **kw)  # type: ignore[arg-type]


def fixed_swarm() -> StaticSwarm:
    live = StaticSwarm(EngineClient(EngineTarget("unix:///tmp/lab/n1/docker.sock", "test")))
    engine = EngineInfo(endpoint="unix:///tmp/lab/n1/docker.sock", version="20.10.24+dfsg1",
                        api_version="1.41", min_api_version="1.12", os="linux", arch="amd64",
                        swarm=SwarmInfo(node_id="node01id", local_node_state="active",
                                        control_available=True, cluster_id="0tije8lzpt54o5cj",
                                        managers=1, nodes=4))
    d = live.store.dispatch
    d(Connected(engine, NOW))
    d(NodesListed((_node(1), _node(2), _node(3, availability="drain"),
                   _node(4, state="down")), NOW))
    d(ServicesListed((
        _svc("svcweb00000000000000000001", "shop_web", 3, "shop", running=3, desired=3),
        _svc("svcapi00000000000000000001", "shop_api", 2, "shop", running=2, desired=2),
        _svc("svcagent000000000000000001", "agent", None, mode="global", running=2, desired=2),
        _svc("svcbad000000000000000000001", "cron_backup", 1, "ops", running=0, desired=1),
        _svc("svcgpu000000000000000000001", "gpu_job", 1, "ops", running=0, desired=1),
    ), NOW))
    d(TasksListed((
        _task("taskweb1aaaaaaaaaaaaaaaaaa", "svcweb00000000000000000001", 1, "node01id"),
        _task("taskweb2aaaaaaaaaaaaaaaaaa", "svcweb00000000000000000001", 2, "node02id"),
        _task("taskweb3aaaaaaaaaaaaaaaaaa", "svcweb00000000000000000001", 3, "node02id",
              state="starting", age_s=2),
        _task("taskweb3oldaaaaaaaaaaaaaaa", "svcweb00000000000000000001", 3, "node01id",
              desired="shutdown", age_s=4000),
        _task("taskapi1aaaaaaaaaaaaaaaaaa", "svcapi00000000000000000001", 1, "node01id"),
        _task("taskapi2aaaaaaaaaaaaaaaaaa", "svcapi00000000000000000001", 2, "node02id"),
        _task("taskagt1aaaaaaaaaaaaaaaaaa", "svcagent000000000000000001", None, "node01id"),
        _task("taskagt2aaaaaaaaaaaaaaaaaa", "svcagent000000000000000001", None, "node02id"),
        _task("taskbad1aaaaaaaaaaaaaaaaaa", "svcbad000000000000000000001", 1, "node02id",
              state="failed", desired="shutdown", age_s=20, err="task: non-zero exit (1)",
              exit_code=1),
        _task("taskbad2aaaaaaaaaaaaaaaaaa", "svcbad000000000000000000001", 1, "node01id",
              state="starting", age_s=1),
        _task("taskgpu1aaaaaaaaaaaaaaaaaa", "svcgpu000000000000000000001", 1, None,
              state="pending", age_s=600,
              err="no suitable node (scheduling constraints not satisfied on 4 nodes)"),
        _task("taskstale1aaaaaaaaaaaaaaaa", "svcweb00000000000000000001", 4, "node04id",
              age_s=900),
    ), NOW))
    return live


def make_app(live: LiveSwarm, *, read_only: bool = False, disk: DiskFleet | None = None,
             start_mode: str | None = None, views: ViewRegistry | None = None,
             clock_ns: Callable[[], int] = time.time_ns) -> SwarmApp:
    """The app over ``live`` the way the CLI builds it: one runtime from the settings."""
    runtime = build_runtime(Settings(read_only=read_only), live, fleet=disk, clock_ns=clock_ns)
    return SwarmApp(runtime, views, start_mode=start_mode)


def fixed_runtime(*, read_only: bool = False, disk: DiskFleet | None = None) -> Runtime:
    return build_runtime(Settings(read_only=read_only), fixed_swarm(), fleet=disk,
                         clock_ns=lambda: NOW)


def fixed_app(*, read_only: bool = False, disk: DiskFleet | None = None,
              start_mode: str | None = None, views: ViewRegistry | None = None) -> SwarmApp:
    """The app over the fixed swarm, its clock stopped at NOW."""
    return make_app(fixed_swarm(), read_only=read_only, disk=disk, start_mode=start_mode,
                    views=views, clock_ns=lambda: NOW)


# -- Pilot helpers shared by the UI tests -------------------------------------------------
def text(app: Any) -> str:
    """What the terminal shows, one line per row."""
    return render_screen(app, as_svg=False)


def notices(app: Any) -> list[str]:
    """The notifications (toasts) the app has shown."""
    return [n.message for n in app._notifications]


async def wait_screen(pilot: Any, cls: type, tries: int = 300) -> Any:
    """The screen once it is a ``cls`` (a dialog or view opened by a worker)."""
    for _ in range(tries):
        await pilot.pause()
        if isinstance(pilot.app.screen, cls):
            return pilot.app.screen
    raise AssertionError(f"{cls.__name__} did not open (screen: {pilot.app.screen!r})")


async def wait_notice(pilot: Any, tries: int = 100) -> list[str]:
    """The notifications, once there is at least one."""
    for _ in range(tries):
        await pilot.pause()
        if notices(pilot.app):
            break
    return notices(pilot.app)


def fixed_events() -> tuple[EngineEvent, ...]:
    """Events of the fixed swarm's last minutes, in the shapes the lab recorded
    (tests/fixtures/engine/v1.41/events_updates.jsonl)."""
    s = 10**9
    web, bad = "svcweb00000000000000000001", "svcbad000000000000000000001"

    def ev(kind: str, action: str, actor: str, attrs: dict[str, str], scope: str,
           ago_s: int) -> EngineEvent:
        return EngineEvent(kind, action, actor, tuple(sorted(attrs.items())), scope,
                           NOW - ago_s * s)

    task = {"com.docker.swarm.service.id": bad, "com.docker.swarm.service.name": "cron_backup",
            "com.docker.swarm.node.id": "node02id", "image": "busybox:lab",
            "com.docker.swarm.task.name": "cron_backup.1.taskbad1aaaaaaaaaaaaaaaaaa",
            "name": "cron_backup.1.taskbad1aaaaaaaaaaaaaaaaaa"}
    return (
        ev("service", "update", web, {"name": "shop_web", "image.old": "busybox:lab",
                                      "image.new": "busybox:lab2"}, "swarm", 300),
        ev("service", "update", web, {"name": "shop_web", "updatestate.new": "updating"},
           "swarm", 299),
        ev("service", "update", web, {"name": "shop_web", "replicas.old": "2",
                                      "replicas.new": "3"}, "swarm", 240),
        ev("node", "update", "node03id", {"name": "lab-node3", "availability.old": "active",
                                          "availability.new": "drain"}, "swarm", 200),
        ev("container", "die", "c0ffee000001", {**task, "exitCode": "1"}, "local", 20),
        ev("secret", "create", "sec00000000000000000001", {"name": "shop_db_password"},
           "swarm", 15),
        ev("network", "create", "net00000000000000000001", {"name": "shop_default"}, "swarm", 10),
        ev("service", "update", web, {"name": "shop_web", "updatestate.old": "updating",
                                      "updatestate.new": "completed"}, "swarm", 5),
        ev("node", "update", "node04id", {"name": "lab-node4", "state.old": "ready",
                                          "state.new": "down"}, "swarm", 2),
    )
