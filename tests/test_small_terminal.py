"""An 80x24 terminal: what needs attention and how to get help or leave stay on screen."""

from __future__ import annotations

from dataclasses import replace

import pytest
from uistate import fixed_app

from swarmtui.model.state import Connection
from swarmtui.shot import render_screen
from swarmtui.widgets.status_bar import status_text


def footer_line(app) -> str:  # type: ignore[no-untyped-def]
    return render_screen(app, as_svg=False).rstrip("\n").splitlines()[-1]


@pytest.mark.parametrize("keys", [[], ["2"], ["3"], ["4"], ["9"]])
async def test_header_says_what_needs_attention_at_80_columns(keys: list[str]) -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        header = render_screen(app, as_svg=False).splitlines()[0]
        assert "⚠ 1 down, 1 drained, 2 failing" in header, header


def test_header_puts_a_lost_connection_first() -> None:
    state = fixed_app().runtime.live.store.state
    lost = replace(state, connection=Connection("disconnected", "connection refused", 1, 1))
    text = status_text(lost, 0, False, "grid")
    assert text.startswith("[b]swarmtui[/b] · grid  │  [b reverse] DISCONNECTED [/] [b]⚠ 1 down")
    assert "connection refused · retrying" in text


@pytest.mark.parametrize("keys", [[], ["2"], ["3"], ["9"]])
async def test_footer_keeps_help_and_quit_at_80_columns(keys: list[str]) -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        footer = footer_line(app)
        assert "? Keys" in footer and "q Quit" in footer, footer
        # A key that does not fit is left out whole, never cut mid-word.
        assert "s By▏" not in footer and "s By " not in footer.replace("s By stack", "")


async def test_footer_shows_every_key_when_wide() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 24)) as pilot:
        await pilot.pause()
        footer = footer_line(app)
        for key in ("⏎ Details", "d Density", "s By stack", "L Labels", "/ Filter", "? Keys",
                    "q Quit", "^p palette"):
            assert key in footer, footer
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        footer = footer_line(app)
        assert "? Keys" in footer and "L Labels" not in footer, footer
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        assert "L Labels" in footer_line(app)


@pytest.mark.parametrize(("width", "bar"), [(80, "USAGE"), (140, "IN USE / RECLAIMABLE")])
async def test_disk_table_stays_whole_and_the_bar_gives_way(width: int, bar: str) -> None:
    from disk_fakes import fake_fleet
    from test_disk_ui import settle

    app = fixed_app(disk=fake_fleet(), start_mode="disk")
    async with app.run_test(size=(width, 40)) as pilot:
        await settle(pilot)
        await pilot.pause()
        text = render_screen(app, as_svg=False)
        assert "TOTAL    ACTIVE" in text and "RECLAIMABLE" in text and bar in text, text
        rows = [line for line in text.splitlines() if "Local Volumes" in line or "Images" in line]
        assert rows and not any("…" in line for line in rows), text
        assert all("█" in line or "·" in line or "░" in line for line in rows), text


async def test_grid_info_names_nodes_scrolled_out_of_view() -> None:
    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        info = render_screen(app, as_svg=False).splitlines()[1]
        assert "→ 2 more nodes (1 down, 1 drained)" in info, info
        await pilot.press("right", "right", "right")  # the cursor drags the view along
        await pilot.pause()
        info = render_screen(app, as_svg=False).splitlines()[1]
        assert "← " in info and "(1 down" not in info, info


async def test_grid_info_shows_by_stack_and_labels_when_on() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 24)) as pilot:
        await pilot.pause()
        info = render_screen(app, as_svg=False).splitlines()[1]
        assert "by stack" not in info and "labels" not in info and "more node" not in info
        await pilot.press("s", "L")
        await pilot.pause()
        info = render_screen(app, as_svg=False).splitlines()[1]
        assert "by stack" in info and "labels" in info, info


async def test_footer_keys_are_born_with_the_footers_compactness() -> None:
    # Textual's data binding flipped each key's -compact class on mount: a style update per
    # key, several times at startup (63 style updates on the first frame, 7 now).
    from textual import dom
    from textual.widgets._footer import FooterKey

    updates: list[object] = []
    original = dom.DOMNode.update_node_styles

    def counted(self: dom.DOMNode, animate: bool = True) -> None:
        updates.append(self)
        original(self, animate)

    app = fixed_app()
    dom.DOMNode.update_node_styles = counted  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            keys = [k for k in app.screen.query(FooterKey)
                    if not k.has_class("-command-palette")]  # not bound: compact, as before
            assert keys and not any(k.has_class("-compact") for k in keys)
            assert all(k.compact is False for k in keys)
            assert not [n for n in updates if isinstance(n, FooterKey) and n in keys]
            assert "? Keys" in footer_line(app)
    finally:
        dom.DOMNode.update_node_styles = original  # type: ignore[method-assign]
