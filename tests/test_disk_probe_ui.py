"""The disk view's node probe (``a``) against the simulated demo swarm, in which no engine is
configured but the manager's: preview, confirm, a panel per probed node marked "via probe",
the nodes a probe cannot reach named with the reason, no probe service left; ``R`` probes
again without asking once the preview said so; read-only hides the key and creates nothing.
Also the snapshots of the disk view after a probe (80x24, 200x60)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sim_thread import ThreadedSim, threaded_demo
from uistate import make_app, notices, text

from swarmtui.engine.client import EngineClient
from swarmtui.engine.disk import ClientTransport, DiskEngine, DiskFleet
from swarmtui.engine.live import LiveSwarm
from swarmtui.screens.disk import PROBE_NOTE, EnginePanel
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen

PROBED = ("manager-2", "worker-1")  # the demo's other ready, active nodes
SIZE = (160, 50)
# The app's clocks, stopped before any real listing time (the live swarm stamps those with the
# wall clock): every age reads 0s, and the probe's read time is this one.
CLOCK_NS = 1_767_236_400 * 10**9  # 2026-01-01T03:00:00Z


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with threaded_demo() as s:
        yield s


def demo_app(sim: ThreadedSim, *, read_only: bool = False) -> Any:
    """The app as ``swarmtui --demo`` builds it (the manager's engine only), clocks fixed."""
    target = sim.target
    fleet = DiskFleet([DiskEngine(ClientTransport(target), source=target.source,
                                  clock_ns=lambda: CLOCK_NS)])
    return make_app(LiveSwarm(EngineClient(target)), read_only=read_only, disk=fleet,
                    start_mode="disk", clock_ns=lambda: CLOCK_NS)


async def wait_for(pilot: Any, cond: Any, what: str, timeout_s: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        await pilot.pause()
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} (screen: {text(pilot.app)})")


async def settle(pilot: Any) -> None:
    fleet = pilot.app.runtime.fleet
    await wait_for(pilot, lambda: fleet.engines and all(
        e.df.usage is not None and not e.df.refreshing for e in fleet.engines)
        and pilot.app.runtime.live.store.state.has_full_state, "the manager's df")


async def run_probe(pilot: Any, sim: ThreadedSim, nth: int = 1) -> None:
    """Let the probe service's tasks start and answer: move the sim's clock once it exists."""
    await asyncio.to_thread(sim.wait_probe_created, nth)
    await asyncio.to_thread(sim.advance, 8.0)


def panel_names(app: Any) -> list[str]:
    return [e.name for e in app.runtime.fleet.store.state.engines]


async def probe_and_confirm(pilot: Any, sim: ThreadedSim) -> None:
    await settle(pilot)
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmOperationScreen),
                   "the preview")
    await pilot.click("#confirm-yes")
    await run_probe(pilot, sim)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutcomeScreen), "the outcome")
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(pilot.app.screen.query(EnginePanel)) == 3,
                   "a panel per probed node")


async def test_probe_previews_confirms_and_shows_every_node(sim: ThreadedSim) -> None:
    app = demo_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = text(app)
        assert "Probe all nodes" in before and "press a to probe every node" in before
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmOperationScreen),
                       "the preview")
        shown = text(app)
        assert "Probe 2 node(s) for disk usage" in shown
        for host in PROBED:
            assert f"probe   {host}" in shown
        assert "direct  manager-1 (an engine is configured for it)" in shown
        assert "not covered  worker-2: drained: it runs no tasks" in shown
        assert "not covered  worker-3: down: a probe cannot start there" in shown
        assert "re-run this probe" in shown  # PROBE_NOTE, what confirming agrees to
        assert sim.probe_services() == []  # a preview creates nothing
        await pilot.click("#confirm-yes")
        await run_probe(pilot, sim)
        await wait_for(pilot, lambda: isinstance(app.screen, OutcomeScreen), "the outcome")
        assert "Done" in text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.screen.query(EnginePanel)) == 3,
                       "a panel per probed node")
        await pilot.pause()
        shown = text(app)
        assert sorted(panel_names(app)) == ["manager-1", *PROBED]
        for host in PROBED:
            line = next(x for x in shown.splitlines() if f" {host}  " in x)
            assert f"probe://{host}" in line and "via probe " in line and " UTC" in line
        state = app.runtime.fleet.store.state
        probed = [e for e in state.engines if e.probed]
        assert all(e.df.usage is not None for e in probed)
        assert "Not covered by the node probe: worker-2 (worker, ready): drained" in shown
        assert "worker-3 (worker, down): down: a probe cannot start there" in shown
        assert "2 node(s) via probe" in shown
        # The probe service is gone and never was the user's: no service counts it.
        assert sim.probe_services() == []
        assert not any(s.name.startswith("swarmtui-probe-")
                       for s in app.runtime.live.store.state.services.values())
        # p on a probed panel: a probe only reads.
        await pilot.press("down")
        await pilot.press("p")
        await pilot.pause()
        assert any("read through a node probe" in n for n in notices(app))


async def test_refresh_all_probes_again_without_asking(sim: ThreadedSim) -> None:
    app = demo_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await probe_and_confirm(pilot, sim)
        assert app.runtime.fleet.probe_confirmed
        first = app.runtime.fleet.probed
        await pilot.press("R")
        await run_probe(pilot, sim, nth=2)
        await wait_for(pilot, lambda: app.runtime.fleet.probed is not first
                       and not app.runtime.fleet.probing, "the second probe")
        assert not isinstance(app.screen, ConfirmOperationScreen)
        assert sorted(panel_names(app)) == ["manager-1", *PROBED]
        assert sim.probes_created() == 2 and sim.probe_services() == []


async def test_cancel_creates_nothing(sim: ThreadedSim) -> None:
    app = demo_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmOperationScreen),
                       "the preview")
        await pilot.click("#confirm-no")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmOperationScreen),
                       "the preview to close")
        await asyncio.sleep(0.3)
        assert sim.probes_created() == 0
        assert not app.runtime.fleet.probe_confirmed
        await pilot.press("R")  # without a confirmed preview, R probes nothing
        await asyncio.sleep(0.5)
        assert sim.probes_created() == 0 and panel_names(app) == ["manager-1"]


async def test_read_only_hides_the_key_and_creates_nothing(sim: ThreadedSim) -> None:
    app = demo_app(sim, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = text(app)
        assert "Probe all nodes" not in shown and "press a to probe" not in shown
        await pilot.press("a")
        await pilot.pause()
        assert "Read-only mode: Probe all nodes is disabled." in notices(app)
        assert not isinstance(app.screen, ConfirmOperationScreen)
        await asyncio.sleep(0.3)
        assert sim.probes_created() == 0 and panel_names(app) == ["manager-1"]


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_disk_after_probe_snapshot(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    with threaded_demo() as s:
        async def probe(pilot: Any) -> None:
            await probe_and_confirm(pilot, s)
            await pilot.pause()

        assert snap_compare(demo_app(s), run_before=probe, terminal_size=size)


def test_preview_note_is_what_the_screen_says() -> None:
    assert "R" in PROBE_NOTE and "without asking again" in PROBE_NOTE


# -- leftovers of a killed run, removed when the app connects ---------------------------------

def _leave_probes(sim: ThreadedSim) -> None:
    """An expired probe service (a killed run's) and a live one (another swarmtui's)."""
    import time

    from swarmtui.engine.probe import DF_REQUESTS, NodeProbe, ProbeConfig

    expired = NodeProbe(None, ProbeConfig(), DF_REQUESTS, name="swarmtui-probe-dead0001",  # type: ignore[arg-type]
                        clock=lambda: 1_000.0).service_spec()
    running = NodeProbe(None, ProbeConfig(), DF_REQUESTS, name="swarmtui-probe-live0001",  # type: ignore[arg-type]
                        clock=time.time).service_spec()
    sim.call(sim.cluster.create_service, expired)
    sim.call(sim.cluster.create_service, running)


async def test_expired_leftover_probes_are_removed_on_connect(sim: ThreadedSim) -> None:
    _leave_probes(sim)
    app = demo_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("leftover" in n.lower() for n in notices(app)),
                       "a notice")
        assert ("Removed 1 leftover probe service(s) of an earlier run: swarmtui-probe-dead0001."
                in notices(app))
        assert sim.probe_services() == ["swarmtui-probe-live0001"]  # not expired: left alone
        # Neither was ever shown as the user's.
        assert not any(s.name.startswith("swarmtui-probe-")
                       for s in app.runtime.live.store.state.services.values())


async def test_read_only_only_says_leftovers_exist(sim: ThreadedSim) -> None:
    _leave_probes(sim)
    app = demo_app(sim, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("leftover" in n.lower() for n in notices(app)),
                       "a notice")
        assert ("Leftover probe service(s) of an earlier run remain: swarmtui-probe-dead0001 "
                "(read-only: not removed)." in notices(app))
        assert sorted(sim.probe_services()) == ["swarmtui-probe-dead0001",
                                                "swarmtui-probe-live0001"]
