"""The events screen: it opens on the engine's recent history (read through ``since`` on the
first connect, deduplicated against the live stream), and says so when there is none."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from uistate import NOW, fixed_app, fixed_events, notices, text

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import BACKLOG_S, LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.model.actions import EventReceived
from swarmtui.model.events import EVENT_HISTORY
from swarmtui.model.types import EngineEvent
from swarmtui.screens.events import EventsScreen
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


def events_app() -> Any:
    app = fixed_app()
    for event in fixed_events():
        app.runtime.live.store.dispatch(EventReceived(event))
    return app


def rows(app: Any) -> list[tuple[str, ...]]:
    table = app.screen.table
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_rows_say_what_changed() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        shown = rows(app)
        assert shown[0][1:] == ("service", "update", "shop_web",
                                "image busybox:lab → busybox:lab2", "swarm")
        assert ("node", "update", "lab-node3", "availability active → drain", "lab-node3") in [
            r[1:] for r in shown]
        assert ("container", "die", "cron_backup.1", "exit 1", "lab-node2") in [
            r[1:] for r in shown]
        assert "9 events (the newest 1,000 are kept)" in text(app)
        assert app.screen.table.cursor_row == len(shown) - 1  # on the newest


async def test_a_typed_filter_narrows_live_and_esc_clears_it() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        await pilot.press("slash", *"type:node")
        await pilot.pause()
        assert [r[1] for r in rows(app)] == ["node", "node"]  # live, before Enter
        await pilot.press("enter")
        await pilot.pause()
        assert [r[3] for r in rows(app)] == ["lab-node3", "lab-node4"]
        assert "filter type:node  ·  2 of 9 shown" in text(app)
        # a new event that passes the filter appends one row; one that does not, none
        store = app.runtime.live.store
        store.dispatch(EventReceived(EngineEvent(
            "node", "update", "node02id", (("availability.new", "pause"),
                                           ("availability.old", "active"),
                                           ("name", "lab-node2")), "swarm", NOW)))
        store.dispatch(EventReceived(EngineEvent(
            "service", "remove", "svcgpu000000000000000000001", (("name", "gpu_job"),),
            "swarm", NOW)))
        await pilot.pause()
        assert [r[3] for r in rows(app)] == ["lab-node3", "lab-node4", "lab-node2"]
        assert "3 of 11 shown" in text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 11
        assert "filter" not in text(app).split("\n")[1]


async def test_esc_in_the_prompt_restores_the_filter_before() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.press("slash", *"~^shop_", "enter")
        await pilot.pause()
        assert {r[3] for r in rows(app)} == {"shop_web", "shop_db_password", "shop_default"}
        await pilot.press("slash", "space", *"action:create")
        await pilot.pause()
        assert {r[3] for r in rows(app)} == {"shop_db_password", "shop_default"}
        await pilot.press("escape")
        await pilot.pause()
        assert len(rows(app)) == 6  # ~^shop_ again
        assert "filter ~^shop_  ·  6 of 9 shown" in text(app)


async def test_a_filter_that_hides_everything_says_how_many() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.press("slash", *"type:volume", "enter")
        await pilot.pause()
        assert rows(app) == []
        assert "The filter hides 9 events. Esc clears it, / edits it." in text(app)


async def test_a_bad_filter_is_refused_in_one_line() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.press("slash", *"type:servce", "enter")
        await pilot.pause()
        assert any("unknown event type 'servce'" in n for n in notices(app))
        assert app.screen.filter_prompt.is_open  # to fix it
        assert len(rows(app)) == 9


async def test_an_event_flood_keeps_the_newest_and_appends_one_row_each() -> None:
    app = events_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        store = app.runtime.live.store

        def flood(n: int, start: int) -> None:
            for i in range(start, start + n):
                store.dispatch(EventReceived(EngineEvent(
                    "container", "start", f"c{i:06d}", (("name", f"flood{i}"),), "local",
                    NOW + i)))

        flood(3 * EVENT_HISTORY, 0)
        await pilot.pause()
        assert screen.table.row_count == EVENT_HISTORY
        assert rows(app)[-1][3] == f"flood{3 * EVENT_HISTORY - 1}"
        assert f"{EVENT_HISTORY:,} events (the newest {EVENT_HISTORY:,} are kept)" in text(app)
        cleared: list[int] = []
        real_clear = screen.table.clear
        screen.table.clear = lambda *a, **k: cleared.append(1) or real_clear(*a, **k)
        for i in range(5):  # one at a time: the oldest row goes, one row comes
            flood(1, 3 * EVENT_HISTORY + i)
            await pilot.pause()
            assert screen.table.row_count == EVENT_HISTORY
            assert rows(app)[0][3] == f"flood{2 * EVENT_HISTORY + i + 1}"
        assert cleared == []
