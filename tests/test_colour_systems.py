"""Colour systems (issue 13): with NO_COLOR what a colour said is carried by a glyph, a word
or bold/reverse (asserted on the painted cells' text and style); a 256-colour terminal
(TERM=xterm-256color, no COLORTERM) gets 256 colours and the grid still reads.

The grid's and the logs' NO_COLOR snapshots are in tests/test_snapshots.py; the tints after
quantisation to xterm-256 in tests/test_tints.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.color import ColorSystem
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from uistate import fixed_app

Cell = tuple[str, Style]


def painted(app: Any) -> list[list[Cell]]:
    """The screen as painted, after the app's filters (NO_COLOR's among them): per row, the
    segments' text and style."""
    update = app.screen._compositor.render_update(full=True,
                                                  screen_stack=app._background_screens)
    return [[(seg.text, seg.style or Style()) for strip in line for seg in strip]
            for line in update.strips]


def row_with(app: Any, needle: str) -> list[Cell]:
    rows = [row for row in painted(app) if needle in "".join(t for t, _ in row)]
    assert rows, f"no row shows {needle!r}"
    return rows[0]


def style_of(row: list[Cell], needle: str) -> Style:
    """The style of the segment of ``row`` holding ``needle``."""
    for text, style in row:
        if needle in text:
            return style
    raise AssertionError(f"{needle!r} is not one segment of {[t for t, _ in row]}")


def line_text(row: list[Cell]) -> str:
    return "".join(t for t, _ in row)


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # Textual reads it when the app is made


# -- NO_COLOR ------------------------------------------------------------------------------
@pytest.mark.usefixtures("no_color")
async def test_nodes_view_says_state_in_words_and_the_cursor_in_bold() -> None:
    app = fixed_app(start_mode="nodes")
    async with app.run_test(size=(120, 12)) as pilot:
        await pilot.pause()
        assert app.no_color
        for host, words in {"lab-node1": ("Ready", "Active", "Leader"),
                            "lab-node3": ("Ready", "Drain"), "lab-node4": ("Down",)}.items():
            shown = line_text(row_with(app, host)).split()
            assert all(w in shown for w in words), (host, shown)
        # The cursor row (the first) stands out by bold, not by its (grey) background only.
        assert style_of(row_with(app, "lab-node1"), "lab-node1").bold
        assert not style_of(row_with(app, "lab-node2"), "lab-node2").bold


@pytest.mark.usefixtures("no_color")
async def test_disk_bars_say_in_use_and_reclaimable_by_glyph_and_errors_by_reverse() -> None:
    from disk_fakes import fake_fleet
    from test_disk_ui import settle

    app = fixed_app(disk=fake_fleet(), start_mode="disk")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.pause()
        images = line_text(row_with(app, "70.55MB (58%)"))  # lab-node1: 42 % in use
        bar = images.split("(58%)")[1].strip(" ▎")
        assert set(bar) == {"█", "░"} and bar.count("█") == 10 and bar.count("░") == 14, bar
        empty = line_text(row_with(app, "Build Cache          0"))
        assert "·" * 20 in empty and "█" not in empty and "░" not in empty, empty
        error = style_of(row_with(app, "unreachable:"), "unreachable:")
        assert error.bold and error.reverse, error


@pytest.mark.usefixtures("no_color")
async def test_updates_timeline_says_phases_by_glyph_and_trouble_in_bold() -> None:
    from timeline_state import timeline_app

    app = timeline_app("ok", 8)
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(5):
            await pilot.pause()
        replaced = line_text(row_with(app, "slot 1"))
        # old task running ─, new one started ▸, starting ·, running ━
        assert "─" in replaced and "▸" in replaced and "·" in replaced and "━" in replaced
        assert "━" not in line_text(row_with(app, "slot 2"))  # not replaced yet
        assert "IN PROGRESS" in line_text(row_with(app, "tl-ok"))

    app = timeline_app("pause", None)
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(5):  # the stop cause's log tail arrives from a worker
            await pilot.pause()
        head = row_with(app, "tl-pause")
        assert style_of(head, "PAUSED").bold  # was only orange: plain text without colour
        cause = row_with(app, "stopped because")
        assert line_text(cause).strip().startswith("✗") and style_of(cause, "stopped").bold
        failed = row_with(app, "slot 4")
        assert "✗" in line_text(failed) and style_of(failed, "✗").bold


# -- 256 colours ---------------------------------------------------------------------------
def test_a_256_colour_terminal_gets_256_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    app = fixed_app()
    # What the driver writes with: nothing in swarmtui forces truecolour.
    assert app.console.color_system == "256"


class In256Colours:
    """A renderable whose colours are those a 256-colour terminal shows: each mapped to the
    nearest xterm-256 one, as Rich does when it writes for such a terminal. (Not by writing
    ANSI with a 256-colour console and reading it back: Rich caches a style's escape codes
    on the style, so one written in truecolour before stays truecolour.)"""

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for seg in console.render(self.renderable, options):
            style = seg.style
            if style is None or seg.control:
                yield seg
                continue
            colour = style.color and style.color.downgrade(ColorSystem.EIGHT_BIT)
            background = style.bgcolor and style.bgcolor.downgrade(ColorSystem.EIGHT_BIT)
            yield Segment(seg.text, style + Style.from_color(colour, background))


def in_256_colours(app: Any) -> Any:
    """``app`` whose screenshots show what a 256-colour terminal shows."""

    def export_screenshot(*, title: str | None = None, simplify: bool = False) -> str:
        width, height = app.size
        update = app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens, simplify=simplify)
        svg = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
        svg.print(In256Colours(update))
        return svg.export_svg(title=title or app.title)

    app.export_screenshot = export_screenshot
    return app


def test_grid_in_256_colours(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(in_256_colours(fixed_app()), press=["a"], terminal_size=(120, 36))
