"""The images view's readers against the real lab: a layered image (busybox + two ``docker
commit`` steps) and its flattened copy (``docker export | docker import``), built on a node
(tests/image_lab.py), read directly from the manager's engine and, on a worker, through the
node probe; side by side they show their own layer counts, equal to ``docker history`` of
each, and our history rows equal ``docker history --no-trunc`` (ages of under an hour masked:
seconds pass between the two reads)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import pytest
from image_lab import FLAT, LAYERED, build_images, remove_images
from lab_plugin import wait_until
from swarmlab import Lab
from test_probe_lab import probe_services, probe_tasks

from swarmtui.engine.disk import ClientTransport, DiskEngine
from swarmtui.engine.images import EngineImages, ImageSource
from swarmtui.engine.probe import ProbeConfig
from swarmtui.engine.target import EngineTarget
from swarmtui.model.disk.render import tabwrite
from swarmtui.model.images import HISTORY_COLUMNS, compare, history_rows, image_users
from swarmtui.model.types import Service
from swarmtui.ops.executor import Executor
from swarmtui.ops.images import ImagesProbeOperation, ImagesProbeResult

pytestmark = pytest.mark.lab

RECENT_AGE = re.compile(r"(Less than a second|About a minute|\d+ (?:seconds|minutes)) ago")


@pytest.fixture(autouse=True)
def _images_removed_after(swarm: Lab) -> Iterator[None]:
    """Every node is left without the test's images, whatever the test did."""
    yield
    for node in range(len(swarm.nodes)):
        remove_images(swarm, node)


def cells(table: str) -> list[list[str]]:
    return [re.split(r"\s{3,}", RECENT_AGE.sub("<recent>", line).strip())
            for line in table.splitlines()]


def probe_task_states(lab: Lab) -> list[str]:
    """What the swarm holds of the probes' tasks, to say why a node gave no answer (a
    lab run once saw a worker silent for the whole 60 s)."""
    nodes = {n["ID"]: n["Description"]["Hostname"] for n in lab.api("/nodes")}
    return [f"{nodes.get(t.get('NodeID'), t.get('NodeID'))}: {t['Status'].get('State')}"
            f" ({t['Status'].get('Message')}; {t['Status'].get('Err', '')})"
            f" desired {t.get('DesiredState')}, {t['Status'].get('Timestamp')}"
            for t in lab.api("/tasks")
            if ((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels", {}).get(
                "swarmtui.probe") == "1"]


def history_count(lab: Lab, ref: str, node: int) -> int:
    return len(lab.docker("history", "-q", ref, node=node).stdout.split())


async def check_side_by_side(lab: Lab, source: ImageSource, node: int) -> None:
    images = {tag: i for i in await source.images() for tag in i.repo_tags}
    assert LAYERED in images and FLAT in images
    layered = await source.layers(images[LAYERED].id)
    flat = await source.layers(images[FLAT].id)
    cmp = compare(layered, flat)
    assert cmp.shared_layers == 0  # the flattened copy shares no layer with its original
    assert len(layered.layers) == 3 and len(flat.layers) == 1
    assert len(layered.history) == history_count(lab, LAYERED, node) == 3
    assert len(flat.history) == history_count(lab, FLAT, node) == 1
    for ref, image in ((LAYERED, layered), (FLAT, flat)):
        cli = lab.docker("history", "--no-trunc", ref, node=node).stdout
        ours = tabwrite([HISTORY_COLUMNS, *history_rows(image, time.time_ns(), trunc=False)])
        assert cells(ours) == cells(cli)


@pytest.mark.lab
def test_engine_reader_shows_layered_and_flat_like_docker_history(swarm: Lab) -> None:
    build_images(swarm, node=0)
    engine = DiskEngine(ClientTransport(EngineTarget(swarm.manager_host, "test")))
    source = EngineImages(engine)

    async def run() -> None:
        try:
            await check_side_by_side(swarm, source, 0)
            items = {t: i for i in await source.images() for t in i.repo_tags}
            users = (Service(id="s", version=1, name="web", image=f"{LAYERED}@sha256:" + "0" * 64,
                             mode="replicated", replicas=1),)
            assert image_users(items[LAYERED], users) == ("web",)
            assert items[LAYERED].shared_size >= 0  # from /system/df on API 1.41
        finally:
            await engine.close()

    asyncio.run(run())


@pytest.mark.lab
def test_a_worker_s_images_through_the_node_probe(swarm: Lab) -> None:
    image, sock = swarm.ensure_probe_image()
    build_images(swarm, node=1)
    engine = DiskEngine(ClientTransport(EngineTarget(swarm.manager_host, "test")))

    async def run() -> ImagesProbeResult:
        await engine.connect()
        client = engine.transport.client  # type: ignore[attr-defined]
        op = ImagesProbeOperation(client, ProbeConfig(image, sock, timeout_s=60))
        executor = Executor(read_only=False)
        plan = await executor.plan(op)
        assert "2 services created and removed again" in plan.preview.summary
        outcome = await executor.execute(plan)
        assert outcome.ok, (outcome.errors, probe_task_states(swarm))
        result = outcome.detail
        assert isinstance(result, ImagesProbeResult)
        worker = next(s for s in result.sources if s.listing.node.hostname == "lab-node2")
        await check_side_by_side(swarm, worker, 1)
        await engine.close()
        return result

    result = asyncio.run(run())
    assert {s.listing.node.hostname for s in result.sources} == set(swarm.hostnames)
    assert probe_services(swarm) == []
    wait_until(lambda: not probe_tasks(swarm), 30, "the probe's tasks to be removed")


@pytest.mark.lab
def test_the_probe_is_refused_in_read_only(swarm: Lab) -> None:
    image, sock = swarm.ensure_probe_image()
    engine = DiskEngine(ClientTransport(EngineTarget(swarm.manager_host, "test")))

    async def run() -> None:
        await engine.connect()
        client = engine.transport.client  # type: ignore[attr-defined]
        executor = Executor(read_only=True)
        plan = await executor.plan(ImagesProbeOperation(client, ProbeConfig(image, sock)))
        outcome = await executor.execute(plan)
        assert outcome.refused and not outcome.ok
        await engine.close()

    asyncio.run(run())
    assert probe_services(swarm) == []
