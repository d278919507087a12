"""Engine metrics on the real swarm lab: every lab dockerd listens on 127.0.0.1:9323 inside
its own network namespace, which only a task on the *host network* of that node reaches. The
metrics probe (a global service, host network, no socket mount) reads every node; its figures
equal what ``lab.metrics(node)`` fetches inside the node's netns, and no probe service or
task is left afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lab_plugin import wait_until
from swarmlab import Lab
from test_probe_lab import probe_services, probe_tasks

from swarmtui.engine.client import EngineClient
from swarmtui.engine.metrics import PROBE_REQUESTS, MetricsFleet, parse_samples
from swarmtui.engine.probe import ProbeConfig
from swarmtui.engine.target import EngineTarget
from swarmtui.model.metrics import figures
from swarmtui.ops.executor import Executor
from swarmtui.ops.probe import ProbeOperation, ProbeResult

pytestmark = pytest.mark.lab


@pytest.fixture
async def client(swarm: Lab) -> AsyncIterator[EngineClient]:
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    yield c
    await c.close()


def hostnames(lab: Lab) -> list[str]:
    return [n["Description"]["Hostname"] for n in lab.api("/nodes")]


async def probe_metrics(lab: Lab, client: EngineClient) -> MetricsFleet:
    image, sock = lab.ensure_probe_image()
    fleet = MetricsFleet({}, ProbeConfig(image, sock))
    op = ProbeOperation(client, fleet.probe_config(), PROBE_REQUESTS, purpose="engine metrics")
    plan = await op.plan()
    # The preview wraps its sentences to the dialog's width: compare words, not line breaks.
    assert "without the engine socket, on the host network" in " ".join(
        plan.preview.blocks[0].split())
    outcome = await Executor().execute(plan)
    assert outcome.errors == ()
    assert isinstance(outcome.detail, ProbeResult)
    fleet.apply_probe(outcome.detail.run)
    return fleet


async def test_the_probe_reads_every_node_s_metrics_on_its_loopback(
        swarm: Lab, client: EngineClient) -> None:
    fleet = await probe_metrics(swarm, client)
    names = hostnames(swarm)
    assert sorted(n.hostname for n in fleet.board.nodes) == sorted(names)
    for i, node in enumerate(swarm.nodes):
        direct = figures(parse_samples(swarm.metrics(i)))
        got = fleet.board.node(node.name)
        assert got is not None and got.error is None, got
        assert got.last is not None
        assert got.last.cpus == direct.cpus and got.last.cpus is not None
        assert got.last.is_manager == direct.is_manager
        if direct.is_manager:
            assert got.last.swarm_nodes["ready"] == direct.swarm_nodes["ready"] == len(names)
    assert probe_services(swarm) == []
    wait_until(lambda: not probe_tasks(swarm), 30, "the probe's tasks to be removed")


async def test_the_view_reads_every_node_through_a_confirmed_probe(swarm: Lab) -> None:
    """f2 on the lab, no endpoint configured: ``p`` previews the probe, the confirmed run
    fills every node's panel with the figures ``lab.metrics(node)`` reads in its netns."""
    from textual.widgets import Button
    from uistate import text, wait_screen

    from swarmtui.app import SwarmApp
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.runtime import build_runtime
    from swarmtui.screens.metrics import MetricsScreen
    from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
    from swarmtui.settings import Settings

    image, sock = swarm.ensure_probe_image()
    runtime = build_runtime(Settings(probe_image=image, probe_socket=sock),
                            LiveSwarm(EngineClient(EngineTarget(swarm.manager_host, "test"))))
    app = SwarmApp(runtime, start_mode="metrics")
    names = hostnames(swarm)
    async with app.run_test(size=(160, 80)) as pilot:
        await wait_screen(pilot, MetricsScreen)
        for _ in range(200):
            await pilot.pause(0.05)
            if len(runtime.metrics.board.nodes) == len(names):
                break
        assert "press p to read them through a node probe" in text(app)
        await pilot.press("p")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Probe 3 node(s) for engine metrics" in shown
        # The dialog wraps the sentence inside its border: drop the border, compare words.
        words = " ".join(shown.replace("│", " ").replace("┃", " ").replace("▌", " ").split())
        assert "without the engine socket" in words and "host network" in words
        app.screen.query_one("#confirm-yes", Button).press()
        await wait_screen(pilot, OutcomeScreen, tries=1200)
        await pilot.press("escape")
        await wait_screen(pilot, MetricsScreen)
        await pilot.pause(0.2)
        board = runtime.metrics.board
        for i, node in enumerate(swarm.nodes):
            direct = figures(parse_samples(swarm.metrics(i)))
            got = board.node(node.name)
            assert got is not None and got.error is None and got.last is not None, got
            assert got.last.cpus == direct.cpus
            if direct.is_manager:
                assert got.last.swarm_nodes["ready"] == direct.swarm_nodes["ready"] == len(names)
        shown = text(app)
        assert "swarm nodes    ready 3" in shown and shown.count("via probe") == len(names)
        # Confirmed once, the next read probes again without a preview; quitting while it
        # runs must not leave its service behind (runtime.stop waits for it).
        runs = runtime.executor.executed
        await pilot.press("r")
        for _ in range(100):  # the loop must run meanwhile: no blocking wait here
            await pilot.pause(0.2)
            if probe_services(swarm):
                break
        assert probe_services(swarm), "the second probe did not start"
        assert not isinstance(app.screen, ConfirmOperationScreen)
    await runtime.stop()
    assert runtime.executor.executed == runs + 1
    assert probe_services(swarm) == []
    wait_until(lambda: not probe_tasks(swarm), 30, "the probe's tasks to be removed")
