"""Bytes on the wire (issue 13): what a change costs on the terminal, measured as the bytes
Textual would write (each update rendered the way the driver renders it), and the coarse
ages that keep an idle screen quiet. benchmarks/wire_bytes.py measures the real app in tmux.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from textual._compositor import LayoutUpdate
from uistate import NOW, fixed_app, text

from swarmtui.model.actions import ServicesListed, TasksListed
from swarmtui.model.times import NS_PER_S, coarse_age, coarse_age_changes_at
from swarmtui.widgets.status_bar import status_text


class WireMeter:
    """Counts what the app sends to its terminal from now on: bytes, and how many of the
    updates repainted the whole screen."""

    def __init__(self, app: Any) -> None:
        self.bytes = 0
        self.full_updates = 0
        self.updates = 0
        display = app._display

        def counting(screen: Any, renderable: Any) -> None:
            if renderable is not None and hasattr(renderable, "render_segments"):
                self.updates += 1
                self.full_updates += isinstance(renderable, LayoutUpdate)
                self.bytes += len(renderable.render_segments(app.console).encode())
            display(screen, renderable)

        app._display = counting


async def settled(pilot: Any, app: Any, quiet: float = 0.15, timeout: float = 5.0) -> None:
    """Waits until the app has sent nothing to its terminal for ``quiet`` seconds. The
    start-up's last frame (the first view's switch ends in a whole-screen repaint, 50 ms
    after the batches open at that moment end) would otherwise count as the change's."""
    meter = WireMeter(app)  # stays wrapped: it only counts
    deadline = time.monotonic() + timeout
    while True:
        seen = meter.updates
        await pilot.pause(quiet)
        if meter.updates == seen or time.monotonic() > deadline:
            return


def full_frame_bytes(app: Any) -> int:
    update = app.screen._compositor.render_update(full=True)
    return len(update.render_segments(app.console).encode())


async def test_a_state_change_repaints_only_what_changed_not_the_screen() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot, app)
        live = app.runtime.live
        frame = full_frame_bytes(app)
        meter = WireMeter(app)
        # A new snapshot whose services read the same (the 10 s safety-net poll at idle).
        state = live.store.state
        live.store.dispatch(ServicesListed(tuple(state.services.values()), NOW))
        await pilot.pause()
        assert live.store.state is not state
        assert meter.full_updates == 0
        assert meter.bytes < frame / 10, (meter.bytes, frame)


async def test_a_column_growing_by_a_card_repaints_only_that_column() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settled(pilot, app)
        live = app.runtime.live
        frame = full_frame_bytes(app)
        meter = WireMeter(app)
        tasks = list(live.store.state.tasks.values())
        extra = replace(tasks[0], id="taskweb9aaaaaaaaaaaaaaaaaa", slot=9,
                        version=tasks[0].version + 1)
        live.store.dispatch(TasksListed((*tasks, extra), NOW))  # the grid's body grows
        await pilot.pause()
        assert "shop_web.9" in text(app)
        assert meter.full_updates == 0
        assert 0 < meter.bytes < frame / 4, (meter.bytes, frame)


def test_ages_past_ten_seconds_move_in_ten_second_steps() -> None:
    then = NOW - 37 * NS_PER_S
    assert coarse_age(NOW, then) == "30s"
    assert coarse_age(NOW, NOW - 4 * NS_PER_S) == "0s"
    assert coarse_age(NOW, NOW - 4 * NS_PER_S, exact_below_s=10) == "4s"
    assert coarse_age(NOW, NOW - 125 * NS_PER_S) == "2m"
    assert coarse_age_changes_at(NOW, then) == then + 40 * NS_PER_S
    assert coarse_age_changes_at(NOW, NOW - 4 * NS_PER_S, 10) == NOW + NS_PER_S


def test_the_header_data_age_changes_every_ten_seconds_not_every_second() -> None:
    app = fixed_app()
    state = app.runtime.live.store.state
    texts = {status_text(state, NOW + s * NS_PER_S, False, "grid") for s in range(10)}
    assert len(texts) == 1 and "data 0s old" in texts.pop()
    assert "data 10s old" in status_text(state, NOW + 15 * NS_PER_S, False, "grid")


# -- the log pane ---------------------------------------------------------------------------
def test_low_bandwidth_from_the_flag_or_an_ssh_login(tmp_path: Any) -> None:
    from swarmtui.cli import build_parser
    from swarmtui.settings import Settings

    def load(argv: list[str], env: dict[str, str]) -> Settings:
        env = {"XDG_CONFIG_HOME": str(tmp_path), **env}
        return Settings.load(build_parser().parse_args(argv), env)

    assert not load([], {}).low_bandwidth
    assert load(["--low-bandwidth"], {}).low_bandwidth
    assert load(["--ssh"], {}).low_bandwidth
    assert load([], {"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}).low_bandwidth
    assert load([], {"SSH_TTY": "/dev/pts/3"}).low_bandwidth
    assert not load([], {"SSH_TTY": ""}).low_bandwidth


async def test_a_paused_log_pane_does_not_repaint_for_lines_below_it() -> None:
    from test_logs_ui import logs_app, open_logs, sample_lines

    app = logs_app()
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_logs(pilot)
        view = screen.view
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        screen.flush()
        await pilot.pause()
        assert "PAUSED  0 new lines" in text(app)  # the pause line laid out: not measured
        frame = full_frame_bytes(app)
        meter = WireMeter(app)
        app.runtime.logs.ingest(sample_lines(5, start=60))
        screen.flush()
        await pilot.pause()
        assert "PAUSED  5 new lines" in text(app)
        # The new-line count and the health line (a few rows), not the pane (~40 rows).
        assert meter.bytes < frame / 3, (meter.bytes, frame)


async def test_following_over_ssh_takes_lines_in_once_a_second() -> None:
    from test_logs_ui import logs_app, open_logs, sample_lines

    from swarmtui.screens.logs import FLUSH_S, LOW_BANDWIDTH_FLUSH_S

    app = logs_app()
    app.runtime.settings = replace(app.runtime.settings, low_bandwidth=True)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_logs(pilot)
        assert screen.frame_s == LOW_BANDWIDTH_FLUSH_S > FLUSH_S
        frame = full_frame_bytes(app)
        meter = WireMeter(app)
        for i in range(30):  # ~20 lines/s for 1.5 s, the ticker alone moving them in
            app.runtime.logs.ingest(sample_lines(1, start=60 + i))
            await pilot.pause(0.05)
        await pilot.pause(1.1)
        assert "GET /api/orders/84 200" in text(app)  # every line arrived
        # 2-3 frames of the pane in ~2.6 s (the 10 Hz local ticker would make ~25).
        assert meter.bytes < 5 * frame, (meter.bytes, frame)
