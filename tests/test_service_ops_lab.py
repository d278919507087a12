"""Service actions on the real swarm lab: what each operation does is what the docker CLI
then reports, and a plan made stale by another client is refused and changes nothing."""

from __future__ import annotations

import asyncio
import json
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
    ReapplyUpdate,
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


def wait_until(pred: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.3)
    said = what() if callable(what) else what  # a function: what it saw when it gave up
    raise AssertionError(f"not within {timeout:g}s: {said}")


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


def service_json(lab: Lab, name: str) -> dict[str, Any]:
    return json.loads(lab.docker("service", "inspect", name).stdout)[0]  # type: ignore[no-any-return]


async def test_a_paused_update_resumes_with_its_spec_sent_unchanged(swarm: Lab) -> None:
    """What "update again" relies on (docker-api brief §5.4): a paused update resumes when its
    own spec is sent back unchanged, and that makes the update's spec the previous one."""
    name = "swt-resume"
    swarm.docker("service", "create", "--detach", "--no-resolve-image", "--name", name,
                 "--replicas", "2", "--update-parallelism", "1", "--update-monitor", "4s",
                 "--update-failure-action", "pause", "--restart-delay", "1s",
                 "--stop-grace-period", "1s", "busybox:lab", "sleep", "1d")
    wait_until(lambda: f"{name} 2/2" in swarm.docker(
        "service", "ls", "--format", "{{.Name}} {{.Replicas}}").stdout, 60, "2/2 replicas")
    # The new version fails until `gate` (a cause fixed meanwhile): the update pauses on its
    # first task, and after `gate` the same spec runs.
    gate = int(time.time()) + 10
    swarm.docker("service", "update", "--detach", "--no-resolve-image", "--image",
                 "busybox:lab2", "--args",
                 f"sh -c '[ $(date +%s) -ge {gate} ] || exit 3; exec sleep 1d'", name)
    wait_until(lambda: (service_json(swarm, name).get("UpdateStatus") or {}).get("State")
               == "paused", 60, "the update paused")
    # Past the gate by a restart delay and a monitor period: the paused task, restarting,
    # has run cleanly by then, so no failure is fresh when the update resumes (a CI run
    # resumed 1 s past the gate and the update never completed).
    await asyncio.sleep(max(0.0, gate + 6 - time.time()))
    held = service_json(swarm, name)["Spec"]
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    try:
        executor = Executor()
        plan = await executor.plan(ReapplyUpdate(c, name, "busybox:lab2"))
        assert plan.preview.title == f"Resume the paused update of {name}"
        assert ("TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2"
                in plan.preview.blocks[0])
        assert (await executor.execute(plan)).ok
    finally:
        await c.close()
    seen: list[object] = []

    def running_images() -> list[str]:
        ids = swarm.docker("service", "ps", "-q", "--no-trunc", "--filter",
                           "desired-state=running", name).stdout.split()
        tasks = json.loads(swarm.docker("inspect", *ids).stdout) if ids else []
        return [str(t["Spec"]["ContainerSpec"]["Image"]) for t in tasks
                if t["Status"]["State"] == "running"]

    def done() -> dict[str, object] | None:
        # Sending the spec resets UpdateStatus (swarmkit controlapi); the updater then sets
        # "updating" and "completed", unless it finds no task left to replace, when the
        # status stays empty (seen on the lab): what counts is every task on the new image.
        svc = service_json(swarm, name)
        state = (svc.get("UpdateStatus") or {}).get("State")
        images = running_images()
        seen[:] = [state, images]
        finished = state in (None, "completed") and len(images) == 2
        return svc if finished and all(i.startswith("busybox:lab2") for i in images) else None

    after = wait_until(done, 120, lambda: f"the update done (status, images: {seen})")
    assert after["Spec"] == held, "the spec was sent unchanged"
    assert after["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"].startswith(
        "busybox:lab2"), "after a resume, a rollback no longer returns to busybox:lab"
    ids = swarm.docker("service", "ps", "-q", "--no-trunc", "--filter",
                       "desired-state=running", name).stdout.split()
    tasks = json.loads(swarm.docker("inspect", *ids).stdout)
    assert len(tasks) == 2 and all(
        t["Spec"]["ContainerSpec"]["Image"].startswith("busybox:lab2") for t in tasks)
