"""The metrics view (f2) against the simulated demo swarm. With no endpoint configured, as on
a real swarm without ``[metrics]``: ``p`` previews a node probe, confirming it reads every node
the probe reaches from the sim's metrics endpoints (the figures are the sim's: its running
containers per node, its nodes and tasks on the managers), worker-1 -- whose daemon runs
without ``--metrics-addr`` -- says how to enable it, the drained and the down node say why the
probe did not cover them. Also the snapshots of that view after a probe (80x24, 200x60); and
``--demo``'s own endpoints (the sim's nodes served on loopback, configured as ``--metrics``
would be), which is how ``--kiosk --demo`` -- read-only, no probes -- shows figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_thread import ThreadedSim, threaded_demo
from test_disk_probe_ui import CLOCK_NS, run_probe, wait_for
from uistate import make_app, text, wait_screen

from swarmtui.app import SwarmApp
from swarmtui.demo import demo_engine
from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.metrics import MetricsError, MetricsFleet, fetch_direct
from swarmtui.engine.probe import ProbeConfig
from swarmtui.runtime import build_runtime
from swarmtui.screens.metrics import MetricsScreen
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.settings import KioskSettings, Settings
from swarmtui.sim import metrics as simmetrics

SIZE = (160, 60)
READ = ("manager-1", "manager-2")  # the ready nodes the probe reaches that have an endpoint


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with threaded_demo() as s:
        yield s


@pytest.fixture
def one_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """One probe in the test: the view's period would probe again (and wait for the sim's
    frozen clock) before a slow machine finishes. (The snapshots keep the period they show:
    they are taken at once after the probe, well within it.)"""
    monkeypatch.setattr(MetricsScreen, "PERIOD_S", 600.0)


def demo_app(sim: ThreadedSim) -> Any:
    return make_app(LiveSwarm(EngineClient(sim.target)), start_mode="metrics",
                    clock_ns=lambda: CLOCK_NS)


async def probe_and_confirm(pilot: Any, sim: ThreadedSim) -> None:
    await wait_screen(pilot, MetricsScreen)
    await wait_for(pilot, lambda: pilot.app.runtime.live.store.state.has_full_state
                   and len(pilot.app.runtime.metrics.board.nodes) == 5, "the swarm's nodes")
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmOperationScreen),
                   "the preview")
    await pilot.click("#confirm-yes")
    await run_probe(pilot, sim)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutcomeScreen), "the outcome")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MetricsScreen)
                   and all(pilot.app.runtime.metrics.board.node(h).readings for h in READ)
                   and not pilot.app.runtime.metrics.board.reading, "the probed figures")
    for _ in range(3):  # the panels redraw
        await pilot.pause()


def panel(shown: str, host: str) -> str:
    """The lines of ``host``'s panel (from its heading to the next panel's)."""
    lines = shown.splitlines()
    start = next(i for i, x in enumerate(lines) if f" {host}  " in x)
    end = next((i for i in range(start + 1, len(lines))
                if any(f" {h}  " in lines[i] for h in ("manager-", "worker-"))), len(lines))
    return "\n".join(lines[start:end])


@pytest.mark.usefixtures("one_probe")
async def test_a_confirmed_probe_reads_the_sims_figures_for_every_node(sim: ThreadedSim) -> None:
    app = demo_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, MetricsScreen)
        await wait_for(pilot, lambda: "no metrics yet" in text(app), "the hints")
        assert "press p to read them through a node probe" in text(app)
        await probe_and_confirm(pilot, sim)
        shown = text(app)
        c = sim.cluster
        for host in READ:
            nid = next(n.id for n in c.nodes.values() if n.hostname == host)
            want = sim.call(simmetrics.container_states, c, nid)
            mine = panel(shown, host)
            assert "via probe" in mine and "Docker 20.10.24" in mine and "4 CPUs" in mine
            assert f"containers     running {want['running']}  paused 0  " \
                   f"stopped {want['stopped']}" in mine
            assert "swarm nodes    ready 4  down 1" in mine
            running = sim.call(lambda: sum(1 for t in c.tasks.values() if t.state == "running"))
            assert f"swarm tasks    running {running}" in mine
            assert "raft tx" in mine and "create " in mine
        assert "manager, leader" in panel(shown, "manager-1")
        assert "manager, leader" not in panel(shown, "manager-2")
        # worker-1 runs without --metrics-addr: the probe's wget was refused.
        w1 = panel(shown, "worker-1")
        assert "no metrics endpoint at http://127.0.0.1:9323/metrics" in w1
        assert "--metrics-addr 127.0.0.1:9323" in w1
        assert "not covered by the probe: drained" in panel(shown, "worker-2")
        assert "not covered by the probe: down" in panel(shown, "worker-3")
        assert sim.probe_services() == []


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_metrics_after_probe_snapshot(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    with threaded_demo() as s:
        async def probe(pilot: Any) -> None:
            await probe_and_confirm(pilot, s)

        assert snap_compare(demo_app(s), run_before=probe, terminal_size=size)


# -- --demo's own endpoints: what a kiosk (read-only: no probes) shows ----------------------


async def test_a_direct_reading_stays_when_the_node_list_comes_after_it() -> None:
    """The first read may finish before the swarm's first node listing (an empty one): the
    configured node's reading must not be dropped with it."""
    async def fetch(url: str) -> str:
        return (Path(__file__).parent / "fixtures" / "metrics" / "worker.txt").read_text()

    fleet = MetricsFleet({"node-a": "http://127.0.0.1:1/metrics"}, ProbeConfig(), fetch=fetch)
    await fleet.read_direct()
    fleet.set_nodes([])
    assert [(n.hostname, len(n.readings)) for n in fleet.board.nodes] == [("node-a", 1)]
    fleet.set_nodes([("node-b", "manager")])
    assert [(n.hostname, len(n.readings)) for n in fleet.board.nodes] == [
        ("node-b", 0), ("node-a", 1)]


async def test_the_demo_serves_every_nodes_endpoint_but_worker_1s() -> None:
    async with demo_engine("demo", scripted=False) as target:
        urls = dict(target.metrics)
        assert sorted(urls) == ["manager-1", "manager-2", "worker-2", "worker-3"]
        assert all(u.startswith("http://127.0.0.1:") and u.endswith("/metrics")
                   for u in urls.values())
        fleet = MetricsFleet(urls, ProbeConfig())
        board = await fleet.read_direct()
        assert board.node("manager-1").last.is_leader  # type: ignore[union-attr]
        assert board.node("worker-2").last.containers["running"] == 0  # type: ignore[union-attr]
        # worker-3 is down: its daemon does not answer.
        assert "Server disconnected" in (board.node("worker-3").error or "")  # type: ignore[union-attr]
    with pytest.raises(MetricsError, match="cannot reach"):  # gone with the demo
        await fetch_direct(urls["manager-1"], timeout=2)


async def test_kiosk_demo_shows_the_sims_figures_without_a_probe() -> None:
    """``--kiosk --demo``: read-only, so no probe; the demo's endpoints are read directly and
    worker-1, which has none, says how to enable one."""
    settings = Settings(read_only=True, kiosk=KioskSettings(views=("metrics",)))
    async with demo_engine("demo", scripted=False) as target:
        runtime = build_runtime(settings, target, clock_ns=lambda: CLOCK_NS)
        app = SwarmApp(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await wait_screen(pilot, MetricsScreen)
            await wait_for(pilot, lambda: all(
                (n := runtime.metrics.board.node(h)) is not None and n.readings
                for h in ("manager-1", "manager-2", "worker-2")), "the direct readings")
            for _ in range(3):
                await pilot.pause()
            shown = text(app)
            assert "4 endpoint(s) read directly; read-only: no node probes" in shown
            leader = panel(shown, "manager-1")
            assert "containers     running " in leader and "raft tx" in leader
            w1 = panel(shown, "worker-1")
            assert "read-only mode: node probes are off" in w1 and "--metrics-addr" in w1
            assert "Probe nodes" not in shown  # the key is hidden in read-only mode
        await runtime.stop()
