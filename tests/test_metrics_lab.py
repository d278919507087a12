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
    assert "without the engine socket, on the host network" in plan.preview.blocks[0]
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
