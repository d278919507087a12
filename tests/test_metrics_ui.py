"""The metrics view (f2): a panel per node from the fleet's board, reads only while shown,
and a node probe that read-only mode refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from metrics_fakes import FakeMetrics
from uistate import fixed_app, notices, text, wait_screen

from swarmtui.screens.grid import GridScreen
from swarmtui.screens.metrics import MetricsScreen


def metrics_app(fleet: FakeMetrics | None = None, **kw: Any) -> Any:
    app = fixed_app(start_mode="metrics", **kw)
    app.runtime.metrics_fleet = fleet or FakeMetrics()
    return app


async def settle(pilot: Any) -> None:
    """The view shown, its first read done and drawn."""
    await wait_screen(pilot, MetricsScreen)
    fleet = pilot.app.runtime.metrics
    for _ in range(100):
        await pilot.pause()
        if fleet.fetched and not fleet.board.reading:
            break
    for _ in range(3):  # the panels mount
        await pilot.pause()


async def test_the_view_shows_a_panel_per_node_with_the_figures() -> None:
    app = metrics_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        shown = text(app)
        assert "lab-node1  manager, leader · Docker 20.10.24 · 2 CPUs" in shown
        assert "containers     running 4  paused 0  stopped 0  " in shown
        assert "swarm nodes    ready 3  down 0  " in shown
        assert "swarm tasks    running 11  " in shown
        assert "health checks  failed 0/min (0 of 0)" in shown
        assert "create           5 ×  10.6 ms  [▅█▅▅▁▁▁▁▁▁▁▁]" in shown
        assert "lab-node2  worker" in shown
        # The drained and the down node have no endpoint: the panel says how to get one.
        assert "lab-node3  worker" in shown and "press p to read them through a node probe" \
            in shown and "--metrics-addr 127.0.0.1:9323" in shown
        assert shown.count("swarm nodes") == 1  # the worker's zeros are not shown


async def test_nothing_is_read_while_the_view_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MetricsScreen, "PERIOD_S", 0.2)
    fleet = FakeMetrics()
    app = metrics_app(fleet)
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_screen(pilot, MetricsScreen)
        await asyncio.sleep(0.7)
        assert len(fleet.fetched) >= 6  # the period runs while shown (2 endpoints a read)
        await pilot.press("1")
        await wait_screen(pilot, GridScreen)
        hidden = len(fleet.fetched)
        await asyncio.sleep(0.7)
        assert len(fleet.fetched) == hidden
        await pilot.press("f2")
        await wait_screen(pilot, MetricsScreen)
        await asyncio.sleep(0.1)
        assert len(fleet.fetched) > hidden


async def test_read_only_cannot_start_a_probe() -> None:
    fleet = FakeMetrics()
    app = metrics_app(fleet, read_only=True)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        assert "read-only mode: node probes are off" in text(app)
        await pilot.press("p")
        await pilot.pause()
        assert "Read-only mode: Probe nodes is disabled." in notices(app)
        assert fleet.probe_runs == 0 and app.runtime.executor.executed == 0
        assert isinstance(app.screen, MetricsScreen)
