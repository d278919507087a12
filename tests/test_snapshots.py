"""SVG snapshots of every screen (pytest-textual-snapshot). Review diffs by looking at them:
`pytest tests/test_snapshots.py --snapshot-update` rewrites the baselines."""

from __future__ import annotations

import pytest
from uistate import fixed_app

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}


@pytest.mark.parametrize("density", ["cards", "lines", "counts"])
@pytest.mark.parametrize("size", list(SIZES))
def test_grid(snap_compare, density: str, size: str) -> None:  # type: ignore[no-untyped-def]
    presses = {"cards": [], "lines": ["d"], "counts": ["d", "d"]}[density]
    assert snap_compare(fixed_app(), press=presses, terminal_size=SIZES[size])


def test_grid_all_tasks_by_stack(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app(), press=["a", "s"], terminal_size=(200, 60))


def test_task_details(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_pending(pilot) -> None:  # type: ignore[no-untyped-def]
        from swarmtui.widgets.task_grid import TaskGrid

        pilot.app.screen.query_one(TaskGrid).cursor = (0, "taskgpu1aaaaaaaaaaaaaaaaaa")
        await pilot.press("enter")

    assert snap_compare(fixed_app(), run_before=open_pending, terminal_size=(120, 36))


def test_services(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app(), press=["2"], terminal_size=(120, 30))


@pytest.mark.parametrize("size", list(SIZES))
def test_nodes(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app(), press=["6"], terminal_size=SIZES[size])


# NO_COLOR: Textual reads it once when the app is made; meaning moves to attributes + glyphs.
def test_grid_no_color(snap_compare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(fixed_app(), press=["a"], terminal_size=(120, 36))


def test_logs_no_color(snap_compare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from test_logs_ui import API, logs_app, make_line, open_logs, sample_lines

    monkeypatch.setenv("NO_COLOR", "1")
    lines = [
        *sample_lines(12),
        make_line(40, API, "rpc error: code = Unknown desc = stream closed", "daemon"),
    ]

    async def setup(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_logs(pilot)
        await pilot.press("slash", *"order", "enter")
        await pilot.pause()

    assert snap_compare(logs_app(lines), run_before=setup, terminal_size=(100, 24))
