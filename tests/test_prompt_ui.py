"""The screens' prompts (grid filter; the log pane's follow, since/tail, search, filter,
export): shown exactly while focused, their own keys in the footer, and keys typed in one
burst (a paste, ``tmux send-keys``) landing where they would land typed one by one."""

from __future__ import annotations

from typing import Any

from test_logs_ui import logs_app, open_logs
from textual import events
from textual.widgets._footer import FooterKey
from uistate import fixed_app

from swarmtui.screens.grid import GridScreen
from swarmtui.shot import render_screen
from swarmtui.widgets.prompt import Prompt
from swarmtui.widgets.task_grid import TaskGrid

CHARACTERS = {"slash": "/", "ampersand": "&", "enter": "\r", "escape": "\x1b", "space": " "}


async def burst(pilot: Any, *keys: str) -> None:
    """Post every key before the app handles the first, as a terminal delivers a paste."""
    for key in keys:
        character = CHARACTERS.get(key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, character))
    for _ in range(5):
        await pilot.pause()


async def footer_keys(pilot: Any) -> dict[str, str]:
    """What the footer shows: key display -> description."""
    await pilot.pause()
    await pilot.pause()
    keys = {k.key_display: k.description for k in pilot.app.screen.query(FooterKey)}
    keys.pop("^p", None)  # the command palette, always offered
    return keys


def assert_visible_iff_focused(screen: Any) -> None:
    for prompt in screen.query(Prompt):
        assert bool(prompt.display) == prompt.has_focus, prompt


async def test_grid_filter_enter_keeps_it_closes_and_keys_go_back_to_the_grid() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GridScreen)
        await burst(pilot, "slash", *"shop", "enter", "a")
        prompt = screen.filter_prompt
        assert not prompt.display and isinstance(screen.focused, TaskGrid)
        assert screen.options.text == "shop"
        assert screen.options.show == "all", "`a` after Enter is the grid's key again"
        text = render_screen(app, as_svg=False)
        assert "text=shop" in text and "showing all" in text
        assert_visible_iff_focused(screen)
        # `/` again: the box comes back on the filter in force, focused
        await burst(pilot, "slash")
        assert prompt.display and prompt.has_focus and prompt.value == "shop"
        await burst(pilot, "space", *"service:shop_api", "enter")
        assert screen.options.service == "shop_api" and screen.options.text == "shop"
        await burst(pilot, "slash")
        assert prompt.value == "service:shop_api shop"
        await burst(pilot, "escape", "slash", *"x", "backspace", "y", "enter", "slash", "z")
        # keys run in the order typed: Escape, then `/` re-opens, x⌫y Enter, `/` re-opens, z
        assert prompt.display and prompt.value == "service:shop_api shopyz"
        assert screen.options.text == "shopyz"


async def test_grid_filter_escape_restores_the_filter_it_opened_on() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        await burst(pilot, "slash", *"web", "enter")
        await burst(pilot, "slash", "ctrl+u", *"cron", "escape", "d")
        assert screen.options.text == "web"
        assert screen.options.density == "lines", "`d` after Escape is the grid's key again"
        assert not screen.filter_prompt.display and isinstance(screen.focused, TaskGrid)
        # Escape on the grid itself clears the filter (as before)
        await pilot.press("escape")
        assert screen.options.text == ""


async def test_a_click_elsewhere_closes_the_prompt() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("slash", *"web")
        assert screen.filter_prompt.display
        await pilot.click(TaskGrid)
        await pilot.pause()
        assert not screen.filter_prompt.display
        assert_visible_iff_focused(screen)
        await pilot.press("a")
        assert screen.options.show == "all"


async def test_footer_shows_the_prompts_keys_not_the_screens() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        keys = await footer_keys(pilot)
        assert "Density" in keys.values() and "Filter" in keys.values()
        await pilot.press("slash")
        keys = await footer_keys(pilot)
        assert set(keys.values()) == {"Apply", "Cancel"}, keys
        await pilot.press("escape")
        assert "Density" in (await footer_keys(pilot)).values()


async def test_log_prompts_show_their_own_verb_and_escape() -> None:
    app = logs_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_logs(pilot)
        assert "Search" in (await footer_keys(pilot)).values()
        for key, verb in (("f", "Follow"), ("s", "Apply"), ("slash", "Find"),
                          ("ampersand", "Apply"), ("e", "Export")):
            await pilot.press(key)
            keys = await footer_keys(pilot)
            assert set(keys.values()) == {verb, "Cancel"}, (key, keys)
            prompt = screen.prompt
            assert prompt.display and prompt.has_focus
            assert prompt.border_title  # the hint, shown above a pre-filled value too
            await pilot.press("escape")
            await pilot.pause()
            assert not prompt.display and not prompt.has_focus
            assert screen.prompt_mode is None
        assert "Search" in (await footer_keys(pilot)).values()


async def test_log_prompt_prefilled_keeps_its_hint_and_a_bad_value_stays_to_fix() -> None:
    app = logs_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_logs(pilot)
        await pilot.press("e")
        text = render_screen(app, as_svg=False)
        assert "export to file" in text and "swarmtui-logs-" in text
        await pilot.press("escape")
        await burst(pilot, "s", *"yesterday", "enter", "w")
        prompt = screen.prompt
        assert prompt.display and prompt.has_focus and prompt.value == "yesterdayw"
        assert screen.prompt_mode == "window"
        await burst(pilot, "ctrl+u", *"5m", "enter", "w")
        assert not prompt.display and screen.prompt_mode is None
        assert screen.view.wrap, "`w` after Enter toggles wrap again"
        assert "since 5m ago" in render_screen(app, as_svg=False)
