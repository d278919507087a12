"""The log pane, driven with Pilot over a LogSession fed by hand (no engine), plus SVG
snapshots at 100x30. Deterministic: fixed lines, fixed timestamps, the app's fixed clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input
from uistate import NOW, fixed_app, fixed_swarm

from swarmtui.app import SwarmApp
from swarmtui.engine.logs import FollowOptions, LogSession, StreamHealth
from swarmtui.model.log_targets import LogTargets
from swarmtui.model.logs import NS_PER_S, LogLine, sanitize
from swarmtui.runtime import build_runtime
from swarmtui.screens.logs import LogsScreen
from swarmtui.settings import Settings
from swarmtui.shot import render_screen
from swarmtui.widgets.log_view import LogView

WEB = "svcweb00000000000000000001"
API = "svcapi00000000000000000001"
AGENT = "svcagent000000000000000001"
TASKS = {
    WEB: [("taskweb1aaaaaaaaaaaaaaaaaa", 1, "node01id", "lab-node1"),
          ("taskweb2aaaaaaaaaaaaaaaaaa", 2, "node02id", "lab-node2")],
    API: [("taskapi1aaaaaaaaaaaaaaaaaa", 1, "node01id", "lab-node1"),
          ("taskapi2aaaaaaaaaaaaaaaaaa", 2, "node02id", "lab-node2")],
    AGENT: [("taskagt1aaaaaaaaaaaaaaaaaa", None, "node01id", "lab-node1")],
}
NAMES = {WEB: "shop_web", API: "shop_api", AGENT: "agent"}
T0 = NOW - 600 * NS_PER_S


def stamp(ns: int) -> str:
    import datetime as dt

    when = dt.datetime.fromtimestamp(ns // NS_PER_S, tz=dt.UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{ns % NS_PER_S:09d}Z"


def make_line(i: int, sid: str, text: str, stream: str = "stdout", task: int = 0) -> LogLine:
    tid, slot, nid, node = TASKS[sid][task]
    ns = T0 + i * 250_000_000
    return LogLine(-1, ns, stamp(ns), stream, sid, NAMES[sid], tid, slot, nid, node,  # type: ignore[arg-type]
                   sanitize(text))


def sample_lines(n: int = 60, start: int = 0) -> list[LogLine]:
    out = []
    for i in range(start, start + n):
        k = i % 6
        if k in (0, 1):
            out.append(make_line(i, WEB, f"GET /api/orders/{i} 200 {i % 7}ms", task=k))
        elif k == 2:
            out.append(make_line(i, API, f"order {i} accepted", task=i % 2))
        elif k == 3:
            out.append(make_line(i, API, f"warn: slow query {i} took {i * 3}ms", "stderr",
                                 task=i % 2))
        elif k == 4:
            out.append(make_line(i, AGENT, f"heartbeat {i} ok"))
        else:
            out.append(make_line(i, WEB, f"GET /health {i} 200", task=1))
    return out


def logs_app(lines: list[LogLine] | None = None, capacity: int = 1000) -> SwarmApp:
    app = fixed_app()
    session = LogSession(None, app.runtime.live.store, capacity=capacity)
    session.start(LogTargets(), FollowOptions(tail=200))
    session.ingest(sample_lines() if lines is None else lines)
    session.report(StreamHealth(WEB, "shop_web", "live", lines=30))
    session.report(StreamHealth(API, "shop_api", "stalled", "stream hung: resuming", 20,
                                reconnects=1))
    session.report(StreamHealth(AGENT, "agent", "node unavailable",
                                "node lab-node4 is not available", 10))
    app.runtime.log_session = session
    return app


def prompt(pilot: Any) -> Input:
    return pilot.app.screen.query_one("#logs-prompt", Input)


def screen_text(app: Any) -> str:
    return render_screen(app, as_svg=False)


async def open_logs(pilot: Any) -> LogsScreen:
    await pilot.press("3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LogsScreen)
    screen.flush()
    await pilot.pause()
    return screen


async def test_merged_lines_prefixes_stderr_and_health() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        text = screen_text(app)
        assert "shop_web.2.taskweb2aaaa@lab-node2    | GET /health 59 200" in text
        assert "shop_api.2.taskapi2aaaa@lab-node2    ! warn: slow query 57 took 171ms" in text
        assert "agent.0.taskagt1aaaa@lab-node1    | heartbeat 58 ok" in text
        assert "following all services" in text and "last 200 lines per task" in text
        assert "shop_api stalled (stream hung:" in text
        assert "agent node unavailable (node lab-node4 is not available)" in text
        assert "60/1,000 lines kept · 0 dropped" in text
        assert screen.view.following and screen.view.row_count == 60


def test_health_per_task_warns_and_is_red_only_when_nothing_streams() -> None:
    from swarmtui.screens.logs import health_markup

    partial = StreamHealth(WEB, "shop_web", "node unavailable", "node lab-node4 is down",
                           tasks=4, unreachable=1, nodes_down=("lab-node4",))
    none = StreamHealth(API, "shop_api", "node unavailable", "2 nodes down",
                        tasks=2, unreachable=2, nodes_down=("lab-node3", "lab-node4"))
    markup = health_markup([partial, none], 0, 100, 0)
    assert ("[$warning]●[/] shop_web [$warning]3/4 live · 1 node down[/] "
            "[$text-muted](lab-node4)[/]") in markup
    assert ("[$error]✕[/] shop_api [$error]0/2 live · 2 nodes down[/] "
            "[$text-muted](lab-node3, lab-node4)[/]") in markup


async def test_a_service_with_one_task_on_a_down_node_shows_what_still_streams() -> None:
    app = logs_app()
    app.runtime.logs.report(StreamHealth(
        WEB, "shop_web", "node unavailable", "node lab-node4 is down", 30,
        tasks=4, unreachable=1, nodes_down=("lab-node4",)))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_logs(pilot)
        text = screen_text(app)
        assert "● shop_web 3/4 live · 1 node down (lab-node4)" in text
        assert "✕ shop_web" not in text


async def test_scrolling_up_pauses_counts_new_lines_and_end_resumes() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        top = view.scroll_offset.y
        app.runtime.logs.ingest(sample_lines(7, start=60))
        screen.flush()
        await pilot.pause()
        assert view.scroll_offset.y == top, "paused: the view stays where the user is"
        assert "PAUSED  7 new lines · End follows the newest again" in screen_text(app)
        await pilot.press("end")
        screen.flush()
        await pilot.pause()
        assert view.following and view.scroll_offset.y == view.max_scroll_y
        text = screen_text(app)
        assert "PAUSED" not in text and "GET /api/orders/66 200" in text


async def test_a_backlog_landing_in_one_batch_shows_its_tail() -> None:
    """The first big batch comes before the view has a scrollbar: it must still show the
    newest lines (a following pane is pinned to its tail, every time)."""
    app = logs_app([])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        assert view.row_count == 0
        app.runtime.logs.ingest(sample_lines(300))
        screen.flush()
        await pilot.pause()
        assert view.following and view.scroll_offset.y == view.max_scroll_y > 0
        text = screen_text(app)
        assert "GET /health 299 200" in text and "GET /api/orders/0 200" not in text


async def test_search_highlights_and_moves_with_n() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        await pilot.press("slash", *"slow query", "enter")
        await pilot.pause()
        assert view.search is not None and view.match_count() == 10
        first = view.current_match
        assert first is not None and not view.following
        await pilot.press("n")
        second = view.current_match
        assert second is not None and second != first
        await pilot.press("N")
        assert view.current_match == first
        assert "search slow query (10)" in screen_text(app)
        await pilot.press("escape")
        assert view.search is None


async def test_filter_regex_and_invert() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        await pilot.press("ampersand", *r"heartbeat \d+", "enter")
        await pilot.pause()
        assert view.row_count == 10
        assert "filter heartbeat" in screen_text(app)
        await pilot.press("ampersand", "ctrl+u", *"!^GET", "enter")
        await pilot.pause()
        assert view.row_count == 30  # api (20) and agent (10)
        await pilot.press("ampersand", "ctrl+u", "enter")
        await pilot.pause()
        assert view.row_count == 60


async def test_wrap_timestamps_and_task_ids_toggle() -> None:
    long = make_line(100, WEB, "x" * 250)
    app = logs_app([*sample_lines(5), long])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        assert view.row_count == 6
        await pilot.press("w")
        await pilot.pause()
        assert view.wrap and view.row_count > 6
        await pilot.press("t", "i")
        await pilot.pause()
        text = screen_text(app)
        assert "07:50:00.000 shop_web.1@lab-node1    | GET /api/orders/0 200 0ms" in text
        assert "wrap time" in text
        await pilot.press("w")
        await pilot.pause()
        assert view.row_count == 6


async def test_export_shown_and_everything(tmp_path: Path) -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_logs(pilot)
        await pilot.press("ampersand", *"heartbeat", "enter")
        shown, everything = tmp_path / "shown.log", tmp_path / "all.log"
        for key, path in (("e", shown), ("E", everything)):
            await pilot.press(key)
            assert prompt(pilot).value.startswith("swarmtui-logs-20270115-")
            prompt(pilot).value = str(path)  # typing a long path key by key is slow
            await pilot.press("enter")
        await pilot.pause()
    shown_lines = shown.read_text().splitlines()
    assert len(shown_lines) == 10
    assert shown_lines[0] == "agent.0.taskagt1aaaa@lab-node1    | heartbeat 4 ok"
    all_lines = everything.read_text().splitlines()
    assert len(all_lines) == 60
    assert "shop_api.2.taskapi2aaaa@lab-node2    | warn: slow query 3 took 9ms" in all_lines


async def test_lines_reach_the_view_only_while_it_is_shown() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        await pilot.press("1")
        await pilot.pause()
        app.runtime.logs.ingest(sample_lines(12, start=60))
        screen.flush()
        assert screen.view.row_count == 60, "hidden: nothing written"
        await pilot.press("3")
        await pilot.pause()
        assert screen.view.row_count == 72


async def test_ring_bound_drops_oldest_and_counts() -> None:
    app = logs_app(capacity=50)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        assert view.row_count == 50
        await pilot.press("pageup")
        app.runtime.logs.ingest(sample_lines(20, start=60))
        screen.flush()
        await pilot.pause()
        assert view.row_count == 50
        assert "50/50 lines kept · 30 dropped" in screen_text(app)


async def test_follow_and_since_prompts_restart_the_session() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        session: LogSession = app.runtime.logs
        await pilot.press("f", "ctrl+u", *"stack:shop agent", "enter")
        await pilot.pause()
        assert session.targets == LogTargets(stacks=("shop",), services=("agent",))
        assert len(session.ring) == 0 and screen.view.row_count == 0
        await pilot.press("s", *"5m", "enter")
        await pilot.pause()
        assert session.options.since_ns == NOW - 300 * NS_PER_S and session.options.tail is None
        assert "since 5m ago" in screen_text(app)
        await pilot.press("s", *"1000", "enter")
        assert session.options.tail == 1000 and session.options.since_ns is None
        await pilot.press("s", *"yesterday", "enter")
        await pilot.pause()
        assert screen.prompt_mode == "window", "a bad value keeps the prompt open"


def notes(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def test_follow_a_bare_name_says_what_it_matched() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_logs(pilot)
        session: LogSession = app.runtime.logs
        await pilot.press("f")
        assert str(prompt(pilot).border_title).startswith("follow: NAME (stack or service)")
        assert "~regex" in str(prompt(pilot).border_title)
        await pilot.press("ctrl+u", *"shop", "enter")
        await pilot.pause()
        assert session.targets == LogTargets(stacks=("shop",))
        assert notes(app)[-1] == "following stack shop (2 services)"
        assert "following stack shop" in screen_text(app)
        await pilot.press("f")
        assert prompt(pilot).value == "stack:shop"
        await pilot.press("ctrl+u", *"~^shop_w", "enter")
        await pilot.pause()
        assert session.targets == LogTargets(pattern="^shop_w")
        assert notes(app)[-1] == "following ~^shop_w (1 service)"


async def test_follow_a_name_that_matches_nothing_changes_nothing() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        session: LogSession = app.runtime.logs
        generation = session.generation
        await pilot.press("f", "ctrl+u", *"shpo", "enter")
        await pilot.pause()
        assert notes(app)[-1] == "nothing matches 'shpo': still following all services"
        assert session.targets == LogTargets() and session.generation == generation
        assert screen.view.row_count == 60, "the buffer is kept"
        assert screen.prompt_mode == "follow", "the prompt stays open to fix the name"


async def test_l_on_task_details_opens_that_tasks_logs() -> None:
    app = logs_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        from swarmtui.widgets.task_grid import TaskGrid

        app.screen.query_one(TaskGrid).cursor = (0, "taskapi1aaaaaaaaaaaaaaaaaa")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        session: LogSession = app.runtime.logs
        assert session.targets == LogTargets(services=(API,))
        assert screen.view.task_focus == "taskapi1aaaaaaaaaaaaaaaaaa"
        assert "following service shop_api" in screen_text(app)
        assert API not in screen_text(app), "the service by name, never its ID"
        session.ingest(sample_lines(12))
        screen.flush()
        await pilot.pause()
        assert screen.view.row_count == 2  # only taskapi1's lines
        assert "task taskapi1aaaa only" in screen_text(app)
        await pilot.press("a")
        assert screen.view.row_count == 12


def test_view_never_emits_control_characters() -> None:
    """The view paints sanitised text as is; a hostile line stays inert on screen."""
    import re

    hostile = b"\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\xc2\x9b\xe2\x80\xae evil\x00"
    line = make_line(1, WEB, hostile.decode("utf-8", "replace"))
    assert re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e]", line.text) is None
    assert LogView is not None


# ------------------------------------------------------------------------------ snapshots


def test_snapshot_following(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(logs_app(), press=["3"], terminal_size=(100, 30))


def test_snapshot_paused_search_timestamps(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def setup(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = await open_logs(pilot)
        await pilot.press("t", "slash", *"order", "enter")
        pilot.app.runtime.logs.ingest(sample_lines(4, start=60))
        screen.flush()
        await pilot.pause()

    assert snap_compare(logs_app(), run_before=setup, terminal_size=(100, 30))


def test_snapshot_wrapped_and_filtered(snap_compare) -> None:  # type: ignore[no-untyped-def]
    lines = [*sample_lines(20), make_line(30, API, "payload=" + "0123456789" * 20, "stderr")]

    async def setup(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_logs(pilot)
        await pilot.press("w", "ampersand", *"api|payload", "enter")
        await pilot.pause()

    assert snap_compare(logs_app(lines), run_before=setup, terminal_size=(100, 30))


async def test_c_clears_the_pane_through_the_session_and_new_lines_still_come() -> None:
    app = logs_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        session = app.runtime.logs
        version = session.version
        await pilot.press("c")
        screen.flush()
        await pilot.pause()
        assert len(session.ring) == 0 and session.version > version
        assert screen.view.row_count == 0
        assert "GET /health 59 200" not in screen_text(app)
        session.ingest([make_line(70, WEB, "after the clear")])
        screen.flush()
        await pilot.pause()
        assert screen.view.row_count == 1 and "after the clear" in screen_text(app)


def test_session_clear_forgets_the_lines_and_keeps_counting() -> None:
    session = LogSession(None, fixed_app().runtime.live.store, capacity=100)
    session.start(LogTargets(), FollowOptions(tail=200))
    session.ingest(sample_lines(10))
    version = session.version
    session.clear()
    assert len(session.ring) == 0 and session.version == version + 1
    session.ingest(sample_lines(1, start=10))
    assert [line.seq for line in session.ring.slice(0, 100)] == [10]


async def test_pane_keeps_the_settings_line_count_not_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SWARMTUI_LOG_LINES is read once, into the Settings: the pane never reads it again."""
    monkeypatch.setenv("SWARMTUI_LOG_LINES", "150")
    runtime = build_runtime(Settings(log_lines=500), fixed_swarm(), clock_ns=lambda: NOW)
    app = SwarmApp(runtime, start_mode="logs")
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert runtime.logs.ring.capacity == 500
        assert "0/500 lines kept" in render_screen(app, as_svg=False)
    assert build_runtime(Settings(), fixed_swarm()).logs.ring.capacity == 20_000


def tint_of(widget: Any, starts: str, glyph: str | None = None) -> Any:
    """The colour of the first segment (or of ``glyph``) on the widget's first row whose
    text starts with ``starts`` (after the glyph)."""
    for y in range(widget.size.height):
        segments = list(widget.render_line(y))
        text = "".join(s.text for s in segments)
        if text.lstrip(" ▌").startswith(starts):
            seg = next(s for s in segments if glyph is None or s.text == glyph)
            return seg.style.color
    raise AssertionError(f"no row starting {starts!r}")


async def test_a_service_has_the_same_tint_in_the_grid_and_the_logs() -> None:
    # shop_web and cron_backup are services the grid gives another tint than their
    # name's own (a neighbour in name order has it): the logs must follow the grid.
    from swarmtui.model.grid import service_tint, service_tints
    from swarmtui.widgets.task_grid import TaskGrid

    app = logs_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        assert service_tints(app.runtime.live.store.state.services)[WEB] != service_tint(
            "shop_web"), "the case this test is about"
        in_grid = tint_of(grid, "shop_web", "▌")
        screen = await open_logs(pilot)
        in_logs = tint_of(screen.view, "shop_web")
        assert in_grid is not None and in_logs == in_grid
        api_logs = tint_of(screen.view, "shop_api")
        assert api_logs != in_logs
