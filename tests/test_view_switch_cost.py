"""What a view switch costs: the footer is not rebuilt when its keys did not change, and the
logs view shown again after a flood takes in the rows it shows before the backlog (work
bounded by the pane's height, the rest caught up by the next frames)."""

from __future__ import annotations

from typing import Any

import pytest
from test_logs_ui import logs_app, open_logs, sample_lines, screen_text
from textual.app import ComposeResult
from textual.widgets._footer import FooterKey
from uistate import fixed_app

from swarmtui.model.logs import LogLine
from swarmtui.screens.base import KeyFooter
from swarmtui.screens.logs import LogsScreen
from swarmtui.widgets.log_view import CATCH_UP_LINES, LogView


def footer_keys(app: Any) -> list[str]:
    return [f"{k.key_display} {k.description}".strip()
            for k in app.screen.query_one(KeyFooter).query(FooterKey)]


async def test_switching_views_back_and_forth_does_not_recompose_the_footer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed: list[KeyFooter] = []
    compose = KeyFooter.compose

    def counted(self: KeyFooter) -> ComposeResult:
        composed.append(self)
        return compose(self)

    monkeypatch.setattr(KeyFooter, "compose", counted)
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        for key in "231":  # every screen shown once: its footer composed
            await pilot.press(key)
            await pilot.pause()
        before = len(composed)
        assert before >= 3
        for _ in range(3):
            for key in "231":
                await pilot.press(key)
                await pilot.pause()
        assert len(composed) == before


async def test_the_footer_still_shows_each_views_keys_after_switches() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        shown: dict[str, list[str]] = {}
        for key in "231":
            await pilot.press(key)
            await pilot.pause()
            shown[key] = footer_keys(app)
        assert any("Follow" in k for k in shown["3"]) and not any(
            "Follow" in k for k in shown["1"])
        for key in "2313":
            await pilot.press(key)
            await pilot.pause()
            assert footer_keys(app) == shown[key], key


async def test_a_prompt_still_changes_the_footer() -> None:
    app = logs_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await open_logs(pilot)
        keys = footer_keys(app)
        await pilot.press("slash")  # the search prompt: the pane's keys are off
        await pilot.pause()
        assert footer_keys(app) != keys
        await pilot.press("escape")
        await pilot.pause()
        assert footer_keys(app) == keys


def count_lines_looked_at(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts LogView's per-line work (every line it looks at goes through ``_shows``), in
    total and during the logs screen's last resume."""
    seen = {"lines": 0, "resume": 0}
    shows, resume = LogView._shows, LogsScreen.on_screen_resume

    def counted_shows(self: LogView, line: LogLine) -> bool:
        seen["lines"] += 1
        return shows(self, line)

    def counted_resume(self: LogsScreen) -> None:
        before = seen["lines"]
        resume(self)
        seen["resume"] = seen["lines"] - before

    monkeypatch.setattr(LogView, "_shows", counted_shows)
    monkeypatch.setattr(LogsScreen, "on_screen_resume", counted_resume)
    return seen


async def test_the_logs_view_shown_after_a_flood_first_takes_in_only_what_it_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = count_lines_looked_at(monkeypatch)
    app = logs_app(capacity=30_000)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        await pilot.press("2")
        await pilot.pause()
        flood = sample_lines(20_000, start=60)
        app.runtime.logs.ingest(flood)  # arrived while the services view was shown
        await pilot.press("3")
        await pilot.pause()
        # Bounded by the pane (twice the terminal's 30 rows) and one catch-up slice, not by
        # the 20,000 lines the ring gained meanwhile.
        # (The tail is looked at twice: once to find where it starts, once taken in.)
        assert seen["resume"] <= 2 * (2 * 30) + CATCH_UP_LINES
        assert flood[-1].text in screen_text(app), "the newest line is on screen at once"
        view = screen.view
        for _ in range(40):  # the frames catch up the rest
            if not view.catching_up:
                break
            screen.flush()
            await pilot.pause()
        assert view.row_count == 20_060 and view.shown_seqs() == list(range(20_060))


async def test_scrolling_up_while_catching_up_finds_every_line_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No frames: on a loaded machine they would catch up everything before the key.
    monkeypatch.setattr(LogsScreen, "_tick", lambda self: None)
    app = logs_app(capacity=30_000)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        await pilot.press("2")
        await pilot.pause()
        app.runtime.logs.ingest(sample_lines(5_000, start=60))
        await pilot.press("3")
        await pilot.pause()
        view = screen.view
        assert view.catching_up
        bottom = screen_text(app)
        await pilot.press("pageup")  # pauses: every row is taken in, the pane stays near
        await pilot.pause()
        assert not view.catching_up and not view.following
        assert view.row_count == 5_060 and view._rows == [(s, 0) for s in range(5_060)]
        assert view.max_scroll_y - 30 <= view.scroll_offset.y < view.max_scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert screen_text(app).splitlines()[2:-3] == bottom.splitlines()[2:-3]


async def test_a_view_shown_before_is_painted_once_resumed_not_after_a_fixed_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual masks a switch with a 50 ms batch; a view composed before needs it only until
    it has handled its resume. The mask's timer is stretched to a minute here: the new view's
    frame must still be drawn (before: nothing was drawn until the timer ended the batch)."""
    app = fixed_app()
    drawn: list[str] = []
    async with app.run_test(size=(160, 40)) as pilot:
        for key in "231":  # each view composed once (a first compose keeps the timer)
            await pilot.press(key)
            await pilot.pause()
        while app._batch_count:
            await pilot.pause(0.02)
        set_timer = app.set_timer

        def stretched(delay: float, *args: Any, name: str | None = None, **kw: Any) -> Any:
            return set_timer(60.0 if name == "delay_update" else delay, *args, name=name, **kw)

        display = app._display

        def counted(screen: Any, update: Any) -> None:
            if not app._batch_count:  # Textual drops a frame drawn inside a batch
                drawn.append(getattr(screen, "SCREEN_NAME", "?"))
            display(screen, update)

        monkeypatch.setattr(app, "set_timer", stretched)
        monkeypatch.setattr(app, "_display", counted)
        for key, name in (("2", "services"), ("3", "logs"), ("1", "grid")):
            drawn.clear()
            await pilot.press(key)
            for _ in range(50):
                if name in drawn:
                    break
                await pilot.pause(0.02)
            assert name == app.screen.SCREEN_NAME  # type: ignore[attr-defined]
            assert name in drawn, f"{name}: no frame drawn while the switch's mask is open"
            assert f"swarmtui · {name}" in screen_text(app)


async def test_a_view_key_holds_log_intake_until_its_view_is_painted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Input first: under a flood the followers' slices of decoding ran at every turn of
    the event loop a view switch takes; a view key holds them until the new view's first
    frame is drawn, then releases them (the bound is stretched here: the release is the
    paint's). A key that stays on the view holds nothing."""
    monkeypatch.setattr("swarmtui.app.INPUT_FIRST_S", 30.0)
    app = logs_app()
    session = app.runtime.logs
    drawn: list[tuple[str, bool]] = []  # (view, intake open) per frame written
    async with app.run_test(size=(160, 40)) as pilot:
        await open_logs(pilot)
        for key in "23":  # both composed once
            await pilot.press(key)
            await pilot.pause()
        gate = session.intake
        for _ in range(50):
            if gate.is_open:
                break
            await pilot.pause(0.02)
        assert gate.is_open
        display = app._display

        def counted(screen: Any, update: Any) -> None:
            if not app._batch_count:
                drawn.append((getattr(screen, "SCREEN_NAME", "?"), gate.is_open))
            display(screen, update)

        monkeypatch.setattr(app, "_display", counted)
        holds = gate.holds
        for key, name in (("2", "services"), ("3", "logs")):
            drawn.clear()
            await pilot.press(key)
            await pilot.pause()
            assert gate.holds == holds + 1
            holds = gate.holds
            first = next(open_ for view, open_ in drawn if view == name)
            assert not first, f"{name}: intake was running while the view was drawn"
            for _ in range(50):
                if gate.is_open:
                    break
                await pilot.pause(0.02)
            assert gate.is_open, "released once the view was painted"
        await pilot.press("w", "3")  # a toggle, and the key of the view shown
        await pilot.pause()
        assert gate.holds == holds and gate.is_open
        await pilot.press("slash", "2")  # a digit typed into the search prompt
        await pilot.pause()
        assert gate.holds == holds and gate.is_open
        assert app.screen.SCREEN_NAME == "logs"  # type: ignore[attr-defined]


async def test_a_follow_frame_builds_strips_only_for_the_lines_that_arrived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While following, each frame scrolls every row, so every row is drawn again; the
    lines already shown come from the strip cache (keyed by ring seq), and only the new
    lines are laid out as segments (a guard: a cache keyed by row would redo them all)."""
    import swarmtui.widgets.log_view as log_view

    built: list[int] = []

    class CountedStrip(log_view.Strip):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(1)
            super().__init__(*args, **kwargs)

    app = logs_app(capacity=5_000)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_logs(pilot)
        await pilot.pause()
        monkeypatch.setattr(log_view, "Strip", CountedStrip)
        for i in range(4):
            built.clear()
            app.runtime.logs.ingest(sample_lines(3, start=60 + 3 * i))
            screen.flush()
            await pilot.pause()
            assert sample_lines(3, start=60 + 3 * i)[-1].text in screen_text(app)
            assert len(built) == 3, f"frame {i}: {len(built)} strips built for 3 new lines"


async def test_what_a_composed_view_holds_is_frozen_out_of_gc_passes_until_the_app_ends() -> None:
    """A flood makes full garbage-collector passes frequent, and each walked every object
    of the app (100-400 ms pauses under the simulator flood); what exists once a view is
    composed is frozen out of them, and unfrozen when the app ends."""
    import gc

    gc.unfreeze()
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        for _ in range(50):
            if gc.get_freeze_count():
                break
            await pilot.pause(0.02)
        after_start = gc.get_freeze_count()
        assert after_start > 10_000, "the start-up view's objects are frozen"
        await pilot.press("2")  # a first compose: its widgets frozen too
        for _ in range(50):
            if gc.get_freeze_count() > after_start:
                break
            await pilot.pause(0.02)
        assert gc.get_freeze_count() > after_start
    assert gc.get_freeze_count() == 0, "unfrozen when the app ended"
