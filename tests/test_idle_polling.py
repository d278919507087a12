"""At idle the reconciler asks only for what may have changed (no full ``GET /tasks`` on a
timer: ~45 MB at 1,000 nodes), and still shows a task crashing on a worker within ~10 s.

Against the simulated engine in real time (the restart delay and the polling periods are
both wall-clock seconds), behind the counting proxy that sees every request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from counting_proxy import CountingProxy

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm, Rates
from swarmtui.engine.target import EngineTarget
from swarmtui.sim.core import SimCore
from swarmtui.sim.objects import SimTask
from swarmtui.sim.scenarios import build, build_ending_at
from swarmtui.sim.server import start_sim_server

# These 240 tasks stand in for a big swarm: the reconciler treats any swarm above
# small_swarm_tasks as big, so setting it to -1 tests the big swarm's idle polling cheaply.
BIG = Rates(small_swarm_tasks=-1)


def task_filters(requests: list[tuple[str, str]]) -> list[dict[str, list[str]]]:
    """The ``filters`` of every ``GET /tasks`` ({} for a full listing)."""
    out = []
    for method, target in requests:
        url = urlsplit(target)
        if method == "GET" and url.path.rstrip("/").endswith("/tasks"):
            raw = parse_qs(url.query).get("filters", ["{}"])[0]
            out.append(json.loads(raw))
    return out


@contextlib.asynccontextmanager
async def idle_swarm(
    rates: Rates | None = None,
) -> AsyncIterator[tuple[SimCore, LiveSwarm, CountingProxy]]:
    """A 240-task simulated swarm in real time, followed through the counting proxy until
    nothing converges any more; the proxy is reset, so it counts what the idle swarm costs."""
    cluster = build("scale", nodes=12, tasks=240)
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=True,
                                        tick_s=0.05)
        try:
            with CountingProxy(server.socket_path) as proxy:
                live = LiveSwarm(EngineClient(EngineTarget(proxy.url, "test")),
                                 rates=rates or Rates())
                live.start()
                try:
                    await live.wait_full_state(20)
                    deadline = time.monotonic() + 20
                    while live.reconciler.converging and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    assert not live.reconciler.converging
                    proxy.reset()
                    yield cluster, live, proxy
                finally:
                    await live.stop()
        finally:
            await server.stop()


async def crash_a_worker_task(cluster: SimCore, live: LiveSwarm) -> tuple[SimTask, float]:
    """Crash a running task on a worker; returns it and when, once the store shows it failed
    (within 10 s)."""
    victim = next(t for t in cluster.tasks.values()
                  if t.state == "running" and t.slot and t.node_id != cluster.local_node_id)
    cluster.crash_task(victim.id)
    started = time.monotonic()
    while True:
        seen = live.store.state.tasks.get(victim.id)
        if seen is not None and seen.state == "failed":
            return victim, started
        assert time.monotonic() - started < 10, "crash not shown within 10 s"
        await asyncio.sleep(0.05)


async def test_a_crash_on_a_worker_at_idle_shows_within_10_s_without_full_listings() -> None:
    async with idle_swarm(BIG) as (cluster, live, proxy):
        victim, started = await crash_a_worker_task(cluster, live)
        # The replacement follows (after the 5 s restart delay), listed fast.
        while not any(t.slot == victim.slot and t.service_id == victim.service_id
                      and t.state == "running" and t.id != victim.id
                      for t in live.store.state.tasks.values()):
            assert time.monotonic() - started < 20, "replacement not shown"
            await asyncio.sleep(0.05)
        filters = task_filters(proxy.seen())
    assert filters, "the crashed service's tasks were listed"
    assert all(f.get("service") or f.get("node") for f in filters), filters


async def test_a_node_event_lists_that_nodes_tasks_not_all() -> None:
    cluster = build("scale", nodes=12, tasks=240)
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=True,
                                        tick_s=0.05)
        try:
            with CountingProxy(server.socket_path) as proxy:
                live = LiveSwarm(EngineClient(EngineTarget(proxy.url, "test")), rates=BIG)
                live.start()
                try:
                    await live.wait_full_state(20)
                    proxy.reset()
                    node = next(n for n in cluster.nodes.values() if n.role == "worker")
                    cluster.set_availability(node.id, "drain")
                    # Every task on the drained node is shut down, as the store shows it.
                    started = time.monotonic()
                    while True:
                        state = live.store.state
                        on_node = [t for t in state.tasks.values() if t.node_id == node.id]
                        if on_node and all(t.desired_state == "shutdown"
                                           and t.state == "shutdown" for t in on_node):
                            break
                        assert time.monotonic() - started < 15, "drain not shown"
                        await asyncio.sleep(0.05)
                    filters = task_filters(proxy.seen())
                finally:
                    await live.stop()
        finally:
            await server.stop()
    assert {"node": [node.id]} in filters
    assert all(f.get("service") or f.get("node") for f in filters), filters


async def test_a_small_swarm_at_idle_costs_under_7_requests_a_minute_and_shows_a_crash() -> None:
    """Up to small_swarm_tasks, the idle poll is one full task listing every idle_tasks_s
    (cheap at this size) and nothing else unless it changed something."""
    async with idle_swarm() as (cluster, live, proxy):
        await asyncio.sleep(18.5)  # two idle periods of 9 s
        idle = [r for r in proxy.seen() if "/events" not in r[1]]
        await crash_a_worker_task(cluster, live)
    # 18.5 s of idle: at most 3 requests (2 expected), i.e. under 7 a minute.
    assert 1 <= len(idle) <= 3, idle
    assert all(r[1].split("?")[0].rstrip("/").endswith("/tasks") for r in idle), idle


async def test_the_replayed_history_arms_no_fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """On connect the event stream replays the last 15 minutes; those node and service events
    are covered by the full listing that follows. They used to arm 30 s of node-task and
    services polling at 0.5 s (4 requests a second) on every start."""

    async def node_watch_after_start() -> dict[str, float]:
        # Its history ends now, as --demo's does: the 15 minutes replayed hold node events.
        cluster = build_ending_at("scale", time.time_ns(), nodes=12, tasks=240)
        with tempfile.TemporaryDirectory() as tmp:
            server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"),
                                            realtime=True, tick_s=0.05)
            live = LiveSwarm(EngineClient(EngineTarget(server.url, "test")))
            live.start()
            try:
                await live.wait_full_state(20)
                await asyncio.sleep(1)  # the replayed events have been read by now
                return dict(live.reconciler.node_watch)
            finally:
                await live.stop()
                await server.stop()

    assert await node_watch_after_start() == {}, "old node events armed node polling"
    # Every replayed event taken as recent arms it: the scenario's history has node events.
    monkeypatch.setattr("swarmtui.engine.live.HINT_MAX_AGE_S", 1e9)
    assert await node_watch_after_start()
