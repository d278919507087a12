"""The app's write calls on the simulator (what `--demo` drives): the service operations of
swarmtui/ops/service.py and a node availability update, sent over the sim's socket by the
real EngineClient, answered as the lab answers them (tests/test_service_ops_lab.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from disk_fakes import permit_for_tests
from test_sim import until

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.target import EngineTarget
from swarmtui.ops.executor import Executor
from swarmtui.ops.service import (
    STALE_REFUSAL,
    ForceUpdate,
    RemoveService,
    RollbackService,
    ScaleService,
    UpdateImage,
)
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import build
from swarmtui.sim.server import start_sim_server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SimCluster, EngineClient]]:
    cluster = build("demo")
    tmp = tempfile.mkdtemp(prefix="swsimops")
    server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=False)
    client = EngineClient(EngineTarget(server.url, "test"))
    await client.connect()
    try:
        yield cluster, client
    finally:
        await client.close()
        await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def run(op: Any) -> Any:
    executor = Executor()
    return await executor.execute(await executor.plan(op))


def running_ids(c: SimCluster, service: str) -> set[str]:
    return {t["ID"] for t in c.tasks_json({"service": [service], "desired-state": ["running"]})}


async def test_scale_image_rollback_force_remove(sim: tuple[SimCluster, EngineClient]) -> None:
    c, client = sim
    assert (await run(ScaleService(client, "whoami", 3))).ok
    assert c.service_json("whoami")["Spec"]["Mode"]["Replicated"]["Replicas"] == 3
    until(c, lambda: c.service_status(c.resolve_service("whoami"))["RunningTasks"] == 3)

    assert (await run(UpdateImage(client, "whoami", "traefik/whoami:v1.10.2"))).ok
    svc = c.service_json("whoami")
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "traefik/whoami:v1.10.2"
    assert svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "traefik/whoami:v1.10.1"
    assert svc["UpdateStatus"]["State"] == "updating"
    until(c, lambda: c.service_json("whoami")["UpdateStatus"]["State"] == "completed")

    assert (await run(RollbackService(client, "whoami"))).ok
    svc = c.service_json("whoami")
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "traefik/whoami:v1.10.1"
    assert svc["UpdateStatus"]["Message"] == "manually requested rollback"
    until(c, lambda: c.service_json("whoami")["UpdateStatus"]["State"] == "rollback_completed")

    before = running_ids(c, "whoami")
    assert (await run(ForceUpdate(client, "whoami"))).ok
    assert c.service_json("whoami")["Spec"]["TaskTemplate"]["ForceUpdate"] == 1
    until(c, lambda: len(ids := running_ids(c, "whoami")) == 3 and not ids & before)

    assert (await run(RemoveService(client, "whoami"))).ok
    assert "whoami" not in {s["Spec"]["Name"] for s in c.services_json()}
    c.advance(3)
    assert not [t for t in c.tasks.values() if t.service_id == svc["ID"]]


async def test_a_stale_plan_is_refused_and_planned_again(
        sim: tuple[SimCluster, EngineClient]) -> None:
    c, client = sim
    executor = Executor()
    op = ScaleService(client, "whoami", 3)
    plan = await executor.plan(op)
    # Another client changes the service between the preview and the confirmation.
    spec = c.service_json("whoami")["Spec"]
    spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["SWT_MEANWHILE=1"]
    c.update_service("whoami", c.resolve_service("whoami").meta.version, spec)
    outcome = await executor.execute(plan)
    assert outcome.stale and outcome.refused == STALE_REFUSAL, outcome
    assert c.service_json("whoami")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    again = await executor.plan(op)
    assert again.based_on[0][1] > plan.based_on[0][1]
    assert (await executor.execute(again)).ok
    svc = c.service_json("whoami")
    assert svc["Spec"]["Mode"]["Replicated"]["Replicas"] == 3
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["SWT_MEANWHILE=1"]


async def test_node_drain_and_back_with_version(sim: tuple[SimCluster, EngineClient]) -> None:
    c, client = sim
    node = await client.request("GET", "nodes/worker-1")
    spec = {**node["Spec"], "Availability": "drain"}
    path = f"nodes/{node['ID']}/update"
    await client.request("POST", path, {"version": str(node["Version"]["Index"])}, body=spec,
                         permit=permit_for_tests())
    assert c.node_json("worker-1")["Spec"]["Availability"] == "drain"
    c.advance(10)
    assert not [t for t in c.tasks.values() if t.node_id == node["ID"] and t.desired == "running"]
    with pytest.raises(EngineError, match="update out of sequence"):
        await client.request("POST", path, {"version": str(node["Version"]["Index"])},
                             body={**spec, "Availability": "active"}, permit=permit_for_tests())
    now = c.node_json("worker-1")
    await client.request("POST", path, {"version": str(now["Version"]["Index"])},
                         body={**spec, "Availability": "active"}, permit=permit_for_tests())
    assert c.node_json("worker-1")["Spec"]["Availability"] == "active"
