"""A view switch while another batch is open still paints the new view.

Textual drops a frame drawn inside a batch, and switch_mode's delay_update repaints at its
end only when no other batch is open then. On the lab a footer recompose (an async batch)
spanned it, and metrics -> images kept showing metrics (tests/test_tmux_e2e.py timed out).
Headless apps write nothing, so the test watches the new screen being laid out again."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual._compositor import LayoutUpdate
from uistate import fixed_app


async def test_a_switch_inside_another_batch_repaints_the_new_view_when_it_ends() -> None:
    app = fixed_app(start_mode="grid")
    async with app.run_test(headless=True, size=(120, 30)) as pilot:
        await pilot.pause()
        app._begin_batch()  # what a recompose spanning the switch does
        await app.switch_mode("services")
        await pilot.pause(0.2)  # delay_update's 50 ms end comes and goes inside the batch
        screen = app.screen
        layouts: list[Any] = []
        original = screen._refresh_layout
        screen._refresh_layout = lambda *a, **k: (layouts.append(a), original(*a, **k))[1]
        frames: list[str] = []
        display = app._display

        def shown(on: Any, renderable: Any) -> None:
            if isinstance(renderable, LayoutUpdate):
                frames.append(Text.from_ansi(renderable.render_segments(app.console)).plain)
            display(on, renderable)

        app._display = shown
        app._end_batch()
        await pilot.pause(0.3)
        # A whole-screen layout (at the app's size), not a widget's own relayout.
        assert (app.size,) in layouts, "the new view was not laid out again after the batch"
        # And a whole frame went out, showing the new view's content.
        assert frames and "swarmtui · services" in frames[-1], frames[-1:]
        assert "shop_web" in frames[-1]


async def test_a_plain_switch_repaints_only_the_usual_way() -> None:
    app = fixed_app(start_mode="grid")
    async with app.run_test(headless=True, size=(120, 30)) as pilot:
        await pilot.pause()
        await app.switch_mode("services")
        await pilot.pause(0.3)
        assert not app._view_unpainted
