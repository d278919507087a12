"""The events screen: it opens on the engine's recent history (read through ``since`` on the
first connect, deduplicated against the live stream), and says so when there is none."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator

import pytest
from uistate import NOW, fixed_app

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import BACKLOG_S, LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.model.actions import EventReceived
from swarmtui.model.types import EngineEvent
from swarmtui.shot import render_screen
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import build_ending_at
from swarmtui.sim.server import SimServer, start_sim_server

NS = 1_000_000_000


@pytest.fixture
async def recent_sim() -> AsyncIterator[tuple[SimCluster, SimServer]]:
    """The demo swarm whose history (deploys, an update, a node going down) ends now."""
    cluster = build_ending_at("demo", time.time_ns())
    tmp = tempfile.mkdtemp(prefix="swev")
    server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=False)
    try:
        yield cluster, server
    finally:
        await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def settle_events(live: LiveSwarm, count: int) -> None:
    for _ in range(200):
        if len(live.store.state.events) >= count:
            await asyncio.sleep(0.1)  # and nothing more (no repeats) arrives
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(live.store.state.events)} events, expected {count}")


async def test_first_connect_reads_the_recent_history_once(
    recent_sim: tuple[SimCluster, SimServer],
) -> None:
    cluster, server = recent_sim
    history = cluster.events_since(time.time_ns() - BACKLOG_S * NS)
    assert history, "the demo has recent events"
    live = LiveSwarm(EngineClient(EngineTarget(server.url, "sim")))
    live.start()
    try:
        await live.wait_full_state(10)
        await settle_events(live, len(history))
        feed = live.store.state.events
        assert [(e.time_ns, e.action, e.actor_id) for e in feed] == [
            (int(e["timeNano"]), e["Action"], e["Actor"]["ID"]) for e in history
        ]
        # a live event after the backlog comes once, after it
        cluster.scale_service("whoami", 3)
        await settle_events(live, len(history) + 1)
        feed = live.store.state.events
        assert feed[-1].type == "service" and feed[-1].attr("replicas.new") == "3"
        assert len({(e.time_ns, e.type, e.action, e.actor_id) for e in feed}) == len(feed)
    finally:
        await live.stop()


async def test_backlog_window_is_bounded() -> None:
    live = LiveSwarm(EngineClient(EngineTarget("unix:///nonexistent.sock", "t")))
    before = time.time_ns()
    since = live._since()
    assert since is not None
    start_ns = int(float(since) * NS)
    assert abs(before - BACKLOG_S * NS - start_ns) < 5 * NS
    live._last_event_ns = before
    assert live._since() == f"{before // NS}.{before % NS:09d}"  # a reconnect resumes


async def test_empty_feed_says_why() -> None:
    app = fixed_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        text = render_screen(app, as_svg=False)
        assert (
            "No events in the last 15 minutes. Events appear here as the swarm changes." in text
        )
        app.runtime.live.store.dispatch(EventReceived(EngineEvent(
            "service", "update", "svcweb00000000000000000001",
            (("name", "shop_web"), ("replicas.new", "4"), ("replicas.old", "3")),
            "swarm", NOW - 5 * NS)))
        await pilot.pause()
        await pilot.pause()
        text = render_screen(app, as_svg=False)
        assert "No events in the last" not in text
        assert "shop_web" in text and "replicas 3 → 4" in text
