"""Service actions on the real swarm lab: what each operation does is what the docker CLI
then reports, and a plan made stale by another client is refused and changes nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from swarmlab import Lab

from swarmtui.engine.client import EngineClient
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

pytestmark = pytest.mark.lab

NAME = "swt-ops"


@pytest.fixture
async def client(swarm: Lab) -> AsyncIterator[EngineClient]:
    # Short updates: 2 replicas, one at a time, 1 s apart; busybox:lab's default command
    # stops within a second.
    swarm.docker("service", "create", "--detach", "--no-resolve-image", "--name", NAME,
                 "--replicas", "2", "--update-parallelism", "1", "--update-delay", "1s",
                 "busybox:lab")
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    yield c
    await c.close()


def inspect(lab: Lab, fmt: str) -> str:
    return lab.docker("service", "inspect", "--format", fmt, NAME).stdout.strip()


def running_task_ids(lab: Lab) -> set[str]:
    out = lab.docker("service", "ps", "-q", "--no-trunc", "--filter", "desired-state=running",
                     NAME).stdout
    return set(out.split())


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout:g}s: {what}")


async def run(op: Any) -> Any:
    executor = Executor()
    return await executor.execute(await executor.plan(op))


async def test_scale_shows_in_service_ls(swarm: Lab, client: EngineClient) -> None:
    outcome = await run(ScaleService(client, NAME, 3))
    assert outcome.ok, outcome
    wait_until(lambda: f"{NAME} 3/3" in swarm.docker(
        "service", "ls", "--format", "{{.Name}} {{.Replicas}}").stdout, 60, "3/3 replicas")


async def test_update_image_then_rollback(swarm: Lab, client: EngineClient) -> None:
    image = "{{.Spec.TaskTemplate.ContainerSpec.Image}}"
    assert (await run(UpdateImage(client, NAME, "busybox:lab2"))).ok
    assert inspect(swarm, image) == "busybox:lab2"
    assert inspect(swarm, "{{.PreviousSpec.TaskTemplate.ContainerSpec.Image}}") == "busybox:lab"
    outcome = await run(RollbackService(client, NAME))
    assert outcome.ok, outcome
    assert inspect(swarm, image) == "busybox:lab"
    assert inspect(swarm, "{{.UpdateStatus.Message}}") == "manually requested rollback"


async def test_force_update_redeploys_every_task(swarm: Lab, client: EngineClient) -> None:
    before = wait_until(lambda: (ids := running_task_ids(swarm)) and len(ids) == 2 and ids,
                        60, "2 running tasks")
    assert (await run(ForceUpdate(client, NAME))).ok
    assert inspect(swarm, "{{.Spec.TaskTemplate.ForceUpdate}}") == "1"
    wait_until(lambda: (ids := running_task_ids(swarm)) and len(ids) == 2
               and not ids & before, 90, "2 new tasks replacing the old ones")


async def test_remove_removes(swarm: Lab, client: EngineClient) -> None:
    assert (await run(RemoveService(client, NAME))).ok
    names = swarm.docker("service", "ls", "--format", "{{.Name}}").stdout.split()
    assert NAME not in names


async def test_a_stale_plan_is_refused_and_planned_again(swarm: Lab, client: EngineClient) -> None:
    executor = Executor()
    op = ScaleService(client, NAME, 3)
    plan = await executor.plan(op)
    # Another client changes the service between the preview and the confirmation.
    swarm.docker("service", "update", "--detach", "--env-add", "SWT_MEANWHILE=1", NAME)
    outcome = await executor.execute(plan)
    assert outcome.stale and outcome.refused == STALE_REFUSAL, outcome
    assert inspect(swarm, "{{.Spec.Mode.Replicated.Replicas}}") == "2", "nothing changed"
    again = await executor.plan(op)
    assert again.based_on[0][1] > plan.based_on[0][1]
    assert (await executor.execute(again)).ok
    assert inspect(swarm, "{{.Spec.Mode.Replicated.Replicas}}") == "3"
    env = inspect(swarm, "{{json .Spec.TaskTemplate.ContainerSpec.Env}}")
    assert "SWT_MEANWHILE=1" in env, "the other client's change is kept"
