"""SVG snapshots of the disk screen and the prune dialogs, with fixed data and clocks
(tests/disk_fakes.py). `pytest tests/test_disk_snapshots.py --snapshot-update` rewrites them."""

from __future__ import annotations

from typing import Any

from disk_fakes import fake_fleet
from test_disk_ui import CHOICE_KEYS, settle, wait_screen
from uistate import fixed_app

from swarmtui.screens.confirm_prune import PruneChooser
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen


def disk_app(**kw: Any) -> Any:
    return fixed_app(disk=fake_fleet(), start_mode="disk", **kw)


def test_disk_panels(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(disk_app(), run_before=settle, terminal_size=(140, 44))


def test_disk_panels_verbose(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def verbose(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(disk_app(), run_before=verbose, terminal_size=(170, 72))


def test_disk_panels_read_only(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(disk_app(read_only=True), run_before=settle, terminal_size=(120, 30))


def test_prune_chooser(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def chooser(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("p")
        await wait_screen(pilot, PruneChooser)

    assert snap_compare(disk_app(), run_before=chooser, terminal_size=(120, 36))


def _preview(choice: str, key: str = "p"):  # type: ignore[no-untyped-def]
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(key)
        await wait_screen(pilot, PruneChooser)
        await pilot.press(*CHOICE_KEYS[choice], "enter")
        await wait_screen(pilot, ConfirmOperationScreen)
        await pilot.pause()

    return run


def test_confirm_images_all_with_protected(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(disk_app(), run_before=_preview("images-all"), terminal_size=(130, 40))


def test_confirm_volumes_typed(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(disk_app(), run_before=_preview("volumes"), terminal_size=(130, 40))


def test_confirm_system_every_engine(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(disk_app(), run_before=_preview("system-all", key="P"),
                        terminal_size=(130, 60))


def test_prune_result(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _preview("containers")(pilot)
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        await pilot.pause()

    assert snap_compare(disk_app(), run_before=run, terminal_size=(120, 36))
