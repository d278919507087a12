"""The app side of `swarmtui shot`: run the app headless, wait for live state, save one screen
as SVG or text. The command (flags, checks, engine) is :mod:`swarmtui.cli.shot`; the UI tests
use :func:`render_screen` too."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from rich.console import Console

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineError
from swarmtui.runtime import Runtime
from swarmtui.screens.logs import LogsScreen
from swarmtui.views import ViewRegistry, default_views


def render_screen(app: SwarmApp, as_svg: bool) -> str:
    """The current screen as SVG, or as plain text (one line per terminal row)."""
    if as_svg:
        return app.export_screenshot(title=f"swarmtui {app.current_mode}")
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    lines = console.export_text(styles=False).splitlines()
    return "\n".join(line.rstrip() for line in lines) + "\n"


async def _wait_for_log_backlog(app: SwarmApp, timeout: float) -> None:
    """A shot of the log pane shows its streams' backlog (merged), not an empty pane."""
    session = app.runtime.log_session
    if session is None or not isinstance(app.screen, LogsScreen):
        return
    try:
        await asyncio.wait_for(session.wait_backlog(), timeout)
    except TimeoutError:
        pass  # show what there is; the health strip says which streams are missing


async def take_shot(runtime: Runtime, screen: str, output: Path, size: tuple[int, int],
                    timeout: float, delay: float, views: ViewRegistry | None = None) -> None:
    """Raises EngineError when no full state arrives in time, ValueError for a bad screen."""
    views = default_views() if views is None else views
    if screen not in views:
        raise ValueError(f"unknown screen {screen!r} (choose from: {', '.join(views.names)})")
    app = SwarmApp(runtime, views, start_mode=screen)
    async with app.run_test(headless=True, size=size) as pilot:
        await runtime.live.wait_full_state(timeout)
        await _wait_for_log_backlog(app, timeout)
        if delay > 0:
            await asyncio.sleep(delay)
        # Let the last StateChanged reach the screen and the compositor paint it.
        for _ in range(3):
            await pilot.pause()
        shown = app.screen
        session = app.runtime.log_session
        if isinstance(shown, LogsScreen) and session is not None:
            # Lines keep arriving while the flushed ones are painted: shoot once a flush has
            # been painted with nothing new behind it (under load one pause is not enough).
            for _ in range(20):
                version = session.version
                shown.flush()  # the lines of the last tick, without waiting for the next one
                await pilot.pause()
                if session.version == version:
                    break
        text = render_screen(app, output.suffix.lower() == ".svg")
    # One small write at the end of a headless run; nothing else shares the loop by then.
    output.write_text(text, encoding="utf-8")  # noqa: ASYNC240


__all__ = ["EngineError", "render_screen", "take_shot"]
