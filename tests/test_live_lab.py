"""Live state against the real multi-node swarm lab: the app's picture equals the CLI's."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest
from swarmlab import Lab

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.model.state import ClusterState

pytestmark = pytest.mark.lab


def service_create(lab: Lab, name: str, *args: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name, *args,
               "busybox:lab", "sh", "-c", "while true; do echo $HOSTNAME; sleep 5; done")


async def wait_for(live: LiveSwarm, predicate: Callable[[ClusterState], bool],
                   timeout: float = 30.0) -> float:
    """Wait until the store satisfies ``predicate``; returns how long it took."""
    start = time.monotonic()
    while not predicate(live.store.state):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"state not reached in {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def running_tasks(state: ClusterState, service: str) -> int:
    svc = state.service_by_name(service)
    if svc is None:
        return -1
    return sum(1 for t in state.tasks.values()
               if t.service_id == svc.id and t.state == "running" and t.desired_state == "running")


@pytest.fixture
async def live(swarm: Lab) -> AsyncIterator[LiveSwarm]:
    live = LiveSwarm(EngineClient(EngineTarget(swarm.manager_host, "test")))
    live.start()
    await live.wait_full_state(30)
    yield live
    await live.stop()


def cli_lines(lab: Lab, *args: str) -> set[str]:
    out = lab.docker(*args).stdout
    return {" ".join(line.split()) for line in out.splitlines() if line.strip()}


Picture = dict[str, set[str]]


def cli_picture(lab: Lab, services: Iterable[str]) -> Picture:
    """``docker node ls``, ``service ls`` and ``service ps NAME`` for each of ``services``,
    in the fields the app shows, as sets of normalised lines."""
    picture = {
        "nodes": cli_lines(lab, "node", "ls", "--format",
                           "{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}"),
        "services": cli_lines(lab, "service", "ls", "--format",
                              "{{.Name}} {{.Mode}} {{.Replicas}}"),
    }
    for name in services:
        picture[f"ps {name}"] = cli_lines(lab, "service", "ps", name, "--no-trunc", "--format",
                                          "{{.ID}} {{.Node}} {{.DesiredState}}")
    return picture


def app_picture(state: ClusterState, services: Iterable[str]) -> Picture:
    """The same picture from the app's snapshot (see :func:`cli_picture`)."""
    picture = {
        "nodes": {
            " ".join(f"{n.hostname} {n.state.title()} {n.availability.title()} "
                     f"{'Leader' if n.leader else (n.reachability or '').title()}".split())
            for n in state.nodes.values()
        },
        "services": {f"{s.name} {s.mode} {s.replicas_text}" for s in state.services.values()},
    }
    for name in services:
        svc = state.service_by_name(name)
        picture[f"ps {name}"] = set() if svc is None else {
            f"{t.id} {state.nodes[t.node_id].hostname if t.node_id in state.nodes else '?'} "
            f"{t.desired_state.title()}"
            for t in state.tasks.values() if t.service_id == svc.id and t.node_id}
    return picture


async def agrees_with_cli(lab: Lab, live: LiveSwarm, services: Iterable[str],
                          timeout: float = 30.0) -> None:
    """Wait until the app's picture equals the CLI's (both settle after a change);
    on timeout fail showing what differs."""
    names = tuple(services)
    deadline = time.monotonic() + timeout
    while True:
        cli = await asyncio.to_thread(cli_picture, lab, names)
        app = app_picture(live.store.state, names)
        if app == cli:
            return
        if time.monotonic() > deadline:
            diff = {k: {"app only": sorted(app[k] - cli[k]), "cli only": sorted(cli[k] - app[k])}
                    for k in cli if app.get(k) != cli[k]}
            raise AssertionError(f"the app disagrees with the docker CLI after {timeout}s: {diff}")
        await asyncio.sleep(0.5)


async def test_state_matches_docker_cli(swarm: Lab, live: LiveSwarm) -> None:
    service_create(swarm, "web", "--replicas", "3")
    service_create(swarm, "agent", "--mode", "global")
    await wait_for(live, lambda s: running_tasks(s, "web") == 3 and running_tasks(s, "agent") == 3)
    await asyncio.sleep(1.0)  # let the idle/converge loop settle the counts too
    await wait_for(live, lambda s: all(v.running == v.desired for v in s.services.values()))
    assert app_picture(live.store.state, ("web", "agent")) == cli_picture(swarm, ("web", "agent"))


async def test_scale_shows_up_live(swarm: Lab, live: LiveSwarm) -> None:
    service_create(swarm, "scaler", "--replicas", "1")
    await wait_for(live, lambda s: running_tasks(s, "scaler") == 1)
    swarm.docker("service", "scale", "--detach", "scaler=4")
    took = await wait_for(live, lambda s: running_tasks(s, "scaler") == 4, timeout=30)
    print(f"scale 1->4 visible after {took:.2f}s")
    swarm.docker("service", "scale", "--detach", "scaler=2")
    await wait_for(live, lambda s: running_tasks(s, "scaler") == 2, timeout=30)


async def test_node_drain_shows_up_live(swarm: Lab, live: LiveSwarm) -> None:
    node3 = swarm.nodes[2].name
    swarm.docker("node", "update", "--availability", "drain", node3)
    await wait_for(live, lambda s: any(n.hostname == node3 and n.availability == "drain"
                                       for n in s.nodes.values()), timeout=10)


async def test_manager_restart_is_survived(swarm: Lab, live: LiveSwarm) -> None:
    service_create(swarm, "survivor", "--replicas", "2")
    await wait_for(live, lambda s: running_tasks(s, "survivor") == 2)
    seen: list[str] = []
    live.store.subscribe(lambda s: seen.append(s.connection.status))
    swarm.restart_daemon(0)
    await wait_for(live, lambda s: "disconnected" in seen and s.connection.status == "connected",
                   timeout=60)
    # The truth after the restart: a change made now still reaches the app.
    swarm.wait_ready(60)
    swarm.docker("service", "scale", "--detach", "survivor=3")
    await wait_for(live, lambda s: running_tasks(s, "survivor") == 3, timeout=60)


def test_shot_grid_names_every_lab_node(swarm: Lab, tmp_path: Path) -> None:
    service_create(swarm, "shotweb", "--replicas", "3")
    out = tmp_path / "grid.txt"
    proc = subprocess.run([sys.executable, "-m", "swarmtui", "-H", swarm.manager_host, "shot",
                           "grid", "--output", str(out), "--size", "140x40", "--delay", "3"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for name in swarm.hostnames:
        assert name in text
    assert "shotweb." in text


async def test_idle_is_cheap(swarm: Lab, live: LiveSwarm) -> None:
    """At idle the reconciler lists rarely (counted requests, not timed)."""
    service_create(swarm, "idle", "--replicas", "2")
    await wait_for(live, lambda s: running_tasks(s, "idle") == 2)
    # Node events from an earlier test (a fault test restarts nodes) rightly watch those nodes
    # fast for 30 s; the idle window starts when nothing converges and no node is watched.
    reconciler = live.reconciler
    await wait_for(live, lambda s: not reconciler.converging and not reconciler.node_watch,
                   timeout=60)
    before = live.client.requests
    await asyncio.sleep(12)
    sent = live.client.requests - before
    assert sent <= 4, list(live.client.recent_requests)[-sent:]  # small swarm: tasks per 9 s



async def test_newer_engine_api_1_45_parses_live(newer_swarm: Lab) -> None:
    """Docker 26.1 (API 1.45): the same code path reaches a full, correct picture."""
    newer_swarm.docker("service", "create", "--detach", "--no-resolve-image", "--name", "n1",
                       "--replicas", "2", "busybox:lab", "sleep", "600")
    live = LiveSwarm(EngineClient(EngineTarget(newer_swarm.manager_host, "test")))
    live.start()
    try:
        await live.wait_full_state(30)
        engine = live.store.state.engine
        assert engine is not None and engine.api_version == "1.45"
        await wait_for(live, lambda s: running_tasks(s, "n1") == 2, timeout=60)
        # The engine's counts come with the next services listing, just after the tasks.
        await wait_for(live, lambda s: (svc := s.service_by_name("n1")) is not None
                       and svc.replicas_text == "2/2", timeout=30)
        node = next(iter(live.store.state.nodes.values()))
        assert node.engine_version.startswith("26.1") and node.leader
    finally:
        await live.stop()


async def test_node_going_down_shows_up_live(swarm: Lab, live: LiveSwarm) -> None:
    worker = swarm.nodes[2]
    swarm.stop_daemon(2)
    took = await wait_for(live, lambda s: any(n.hostname == worker.name and n.state == "down"
                                              for n in s.nodes.values()), timeout=90)
    print(f"{worker.name} down visible after {took:.1f}s (the manager's heartbeat timeout)")
    swarm.start_daemon(2)
    await wait_for(live, lambda s: all(n.state == "ready" for n in s.nodes.values()), timeout=90)
