"""SVG snapshots of the stacks view, its detail and remove's preview (the fixed swarm, and
the fake engine's networks, secrets and configs)."""

from __future__ import annotations

from typing import Any

from test_stacks_ui import select, stacks_app
from uistate import wait_screen

from swarmtui.screens.operation import ConfirmOperationScreen


def test_stacks(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _ = stacks_app()

    async def loaded(pilot: Any) -> None:
        await select(pilot, "shop")

    assert snap_compare(app, run_before=loaded, terminal_size=(120, 30))


def test_stack_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _ = stacks_app()

    async def detail(pilot: Any) -> None:
        await select(pilot, "ops")
        await pilot.press("v")

    assert snap_compare(app, run_before=detail, terminal_size=(140, 36))


def test_stack_remove_preview(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app, _ = stacks_app()

    async def preview(pilot: Any) -> None:
        await select(pilot, "shop")
        await pilot.press("D")
        # The plan is made by a worker; under load 20 pauses were not always enough.
        await wait_screen(pilot, ConfirmOperationScreen)
        for _ in range(5):
            await pilot.pause()

    assert snap_compare(app, run_before=preview, terminal_size=(120, 36))
