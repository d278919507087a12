"""What a view switch costs: the footer is not rebuilt when its keys did not change, and the
logs view shown again after a flood takes in the rows it shows before the backlog (work
bounded by the pane's height, the rest caught up by the next frames)."""

from __future__ import annotations

from typing import Any

import pytest
from test_logs_ui import logs_app, open_logs
from textual.app import ComposeResult
from textual.widgets._footer import FooterKey
from uistate import fixed_app

from swarmtui.screens.base import KeyFooter


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
