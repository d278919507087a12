"""Service actions as operations, against an in-memory manager: each action's preview and
what it sends, each refusal's one line with nothing but GET sent, and a stale version."""

from __future__ import annotations

from typing import Any

import pytest
from service_fakes import AGENT, API, WEB, FakeSwarmEngine, raw_service, service_spec

from swarmtui.engine.client import EngineError
from swarmtui.model.servicespec import UpdateConfigChange
from swarmtui.ops.base import Operation
from swarmtui.ops.executor import READ_ONLY_REFUSAL, Executor
from swarmtui.ops.service import (
    STALE_REFUSAL,
    ForceUpdate,
    ReapplyUpdate,
    RemoveService,
    RollbackService,
    ScaleService,
    UpdateConfig,
    UpdateImage,
)


async def run(op: Operation[Any], *, read_only: bool = False) -> Any:
    executor = Executor(read_only=read_only)
    plan = await executor.plan(op)
    return plan, await executor.execute(plan)


def only_gets(fake: FakeSwarmEngine) -> bool:
    return fake.calls != [] and fake.mutations == []


async def test_scale_previews_the_replica_change_and_sends_the_version() -> None:
    fake = FakeSwarmEngine()
    plan, outcome = await run(ScaleService(fake, WEB, 5))
    assert plan.preview.title == "Scale shop_web to 5"
    assert "Mode.Replicated.Replicas: 3 → 5" in plan.preview.blocks[0]
    assert plan.preview.changes == 1 and plan.based_on == ((WEB, 10),)
    assert outcome.ok and outcome.blocks == ("shop_web: scaled to 5 replica(s).",)
    ((method, path, params, body),) = fake.mutations
    assert (method, path, params["version"]) == ("POST", f"services/{WEB}/update", "10")
    assert body["Mode"]["Replicated"]["Replicas"] == 5
    assert body["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "1d"], "the full spec"
    assert fake.services[WEB]["Spec"]["Mode"]["Replicated"]["Replicas"] == 5


async def test_scale_by_name_and_to_the_same_count_has_nothing_to_confirm() -> None:
    fake = FakeSwarmEngine()
    plan = await Executor().plan(ScaleService(fake, "shop_web", 3))
    assert plan.preview.empty and plan.preview.summary == "Nothing to change."
    assert only_gets(fake)


async def test_update_image_then_rollback() -> None:
    fake = FakeSwarmEngine()
    plan, outcome = await run(UpdateImage(fake, WEB, "busybox:lab2"))
    assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in plan.preview.blocks[0]
    assert outcome.ok
    assert fake.services[WEB]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab2"
    plan, outcome = await run(RollbackService(fake, WEB))
    assert "TaskTemplate.ContainerSpec.Image: busybox:lab2 → busybox:lab" in plan.preview.blocks[0]
    assert outcome.ok
    method, path, params, body = fake.mutations[-1]
    assert (method, path) == ("POST", f"services/{WEB}/update")
    assert params == {"rollback": "previous", "version": "11"}
    assert body["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab2", "the current spec"
    assert fake.services[WEB]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab"


async def test_force_update_increments_force_update() -> None:
    fake = FakeSwarmEngine()
    plan, outcome = await run(ForceUpdate(fake, API))
    assert "TaskTemplate.ForceUpdate: 0 → 1" in plan.preview.blocks[0]
    assert "Every task is replaced" in plan.preview.summary
    assert outcome.ok and fake.services[API]["Spec"]["TaskTemplate"]["ForceUpdate"] == 1


def stopped(state: str, spec_image: str, previous_image: str | None) -> FakeSwarmEngine:
    """shop_web as the engine holds it after an update stopped in ``state``."""
    previous = service_spec("shop_web", previous_image) if previous_image else None
    svc = raw_service(WEB, service_spec("shop_web", spec_image), previous)
    svc["UpdateStatus"] = {"State": state, "Message": "..."}
    return FakeSwarmEngine(services=[svc], tasks=[])


async def test_reapply_resumes_a_paused_update_by_sending_its_spec_unchanged() -> None:
    fake = stopped("paused", "busybox:lab2", "busybox:lab")
    held = fake.services[WEB]["Spec"]
    plan, outcome = await run(ReapplyUpdate(fake, WEB, "busybox:lab2"))
    assert plan.preview.title == "Resume the paused update of shop_web"
    # The preview shows the update's own change (previous spec -> spec), not an empty diff.
    assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in plan.preview.blocks[0]
    assert "ForceUpdate" not in plan.preview.blocks[0] and not plan.preview.empty
    assert "a rollback no longer returns to the old spec" in plan.preview.summary
    ((method, _, params, body),) = fake.mutations
    assert (method, params) == ("POST", {"version": "10"}) and body == held
    assert outcome.ok and "update resumed" in outcome.blocks[0]


async def test_reapply_after_a_manual_rollback_sends_the_spec_rolled_back_from() -> None:
    # docker service rollback swapped the specs: PreviousSpec is the update's.
    fake = stopped("rollback_completed", "busybox:lab", "busybox:lab2")
    plan, outcome = await run(ReapplyUpdate(fake, WEB, "busybox:lab2"))
    assert plan.preview.title == "Update shop_web again to the spec it rolled back from"
    assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in plan.preview.blocks[0]
    ((_, _, params, body),) = fake.mutations
    assert "rollback" not in params and body["TaskTemplate"]["ContainerSpec"]["Image"] == (
        "busybox:lab2")
    assert outcome.ok and fake.services[WEB]["PreviousSpec"]["TaskTemplate"][
        "ContainerSpec"]["Image"] == "busybox:lab", "a rollback then returns to the old spec"


async def test_reapply_after_an_automatic_rollback_sets_the_image_again_and_says_so() -> None:
    # swarmkit drops PreviousSpec when it rolls back on its own (fixtures update_rollback/07).
    fake = stopped("rollback_completed", "busybox:lab", None)
    plan, outcome = await run(ReapplyUpdate(fake, WEB, "busybox:lab2"))
    assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in plan.preview.blocks[0]
    assert plan.preview.summary.startswith("Only the image is set again")
    assert outcome.ok


@pytest.mark.parametrize(("state", "image", "says"), [
    ("completed", "busybox:lab2", "no stopped update to re-apply (the engine says completed)"),
    ("rollback_completed", "busybox:lab", "the engine dropped the spec the rolled-back update"),
])
async def test_reapply_refuses_what_it_cannot_honestly_reapply(state: str, image: str,
                                                               says: str) -> None:
    fake = stopped(state, "busybox:lab2" if state == "completed" else "busybox:lab", None)
    with pytest.raises(EngineError, match=r"^shop_web: ") as err:
        await Executor().plan(ReapplyUpdate(fake, WEB, image))
    assert says in str(err.value)
    assert only_gets(fake)


async def test_update_config_previews_each_changed_field() -> None:
    fake = FakeSwarmEngine()
    change = UpdateConfigChange(parallelism=2, delay_ns=10**9, order="start-first",
                                failure_action="rollback")
    plan, outcome = await run(UpdateConfig(fake, WEB, change))
    block = plan.preview.blocks[0]
    for line in ("UpdateConfig.Parallelism: (unset) → 2", "UpdateConfig.Delay: (unset) → 1s",
                 "UpdateConfig.Order: (unset) → start-first",
                 "UpdateConfig.FailureAction: (unset) → rollback",
                 "UpdateConfig.Monitor: (unset) → 5s"):
        assert line in block
    assert outcome.ok
    cfg = fake.services[WEB]["Spec"]["UpdateConfig"]
    assert (cfg["Parallelism"], cfg["Delay"], cfg["Order"]) == (2, 10**9, "start-first")


async def test_remove_lists_what_goes_asks_for_the_name_and_deletes() -> None:
    fake = FakeSwarmEngine()
    plan, outcome = await run(RemoveService(fake, WEB))
    p = plan.preview
    assert p.title == "Remove service shop_web"
    assert "its 3 running task(s): stopped and removed" in p.blocks[0]
    assert "1 older task record(s)" in p.blocks[0]
    assert p.typed_confirmation == "shop_web" and p.changes == 4
    assert outcome.ok and WEB not in fake.services
    assert [(m, path) for m, path, _, _ in fake.mutations] == [("DELETE", f"services/{WEB}")]


@pytest.mark.parametrize("op, message", [
    (lambda f: ScaleService(f, AGENT, 3), "cannot scale agent: it is a global service"),
    (lambda f: ScaleService(f, WEB, -1), "replicas must be a whole number of 0 or more"),
    (lambda f: UpdateImage(f, WEB, "Busybox:Lab"), "the repository name must be lowercase"),
    (lambda f: UpdateImage(f, WEB, "busybox@sha256:12"), "sha256 needs 64 hex digits"),
    (lambda f: RollbackService(f, WEB), "cannot roll back shop_web: it has no previous spec"),
    (lambda f: ScaleService(f, "nope", 1), "no such service: nope"),
    (lambda f: RemoveService(f, "nope"), "no such service: nope"),
])
async def test_refusals_are_one_line_and_send_nothing_but_get(op: Any, message: str) -> None:
    fake = FakeSwarmEngine()
    with pytest.raises(EngineError) as err:
        await Executor().plan(op(fake))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert only_gets(fake)


def test_config_values_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="parallelism must be 0"):
        UpdateConfigChange(parallelism=-2)
    with pytest.raises(ValueError, match="order must be"):
        UpdateConfigChange(order="sideways")


async def test_stale_version_is_refused_as_stale_and_changes_nothing() -> None:
    fake = FakeSwarmEngine()
    op = ScaleService(fake, WEB, 5)
    executor = Executor()
    plan = await executor.plan(op)
    # Someone else changes the image between the preview and the confirmation.
    fake.bump(WEB, lambda s: s["TaskTemplate"]["ContainerSpec"].update(Image="busybox:other"))
    outcome = await executor.execute(plan)
    assert outcome.stale and outcome.refused == STALE_REFUSAL and not outcome.ok
    spec = fake.services[WEB]["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 3, "the stale plan changed nothing"
    # Read again: the new preview is based on the new version and keeps the other change.
    again = await executor.plan(op)
    assert again.based_on == ((WEB, 11),)
    assert (await executor.execute(again)).ok
    spec = fake.services[WEB]["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 5
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:other"


async def test_remove_of_a_service_changed_meanwhile_is_stale() -> None:
    fake = FakeSwarmEngine()
    executor = Executor()
    plan = await executor.plan(RemoveService(fake, WEB))
    fake.bump(WEB, lambda s: s["Mode"]["Replicated"].update(Replicas=9))
    outcome = await executor.execute(plan)
    assert outcome.stale and WEB in fake.services and fake.mutations == []


async def test_engine_errors_on_execute_are_one_line_errors() -> None:
    fake = FakeSwarmEngine()
    executor = Executor()
    plan = await executor.plan(ScaleService(fake, WEB, 4))
    del fake.services[WEB]
    outcome = await executor.execute(plan)
    assert outcome.errors == ("the service is gone (removed since the preview)",)


async def test_read_only_refuses_every_service_action() -> None:
    fake = FakeSwarmEngine()
    ops: list[Operation[Any]] = [
        ScaleService(fake, WEB, 5), UpdateImage(fake, WEB, "busybox:lab2"), ForceUpdate(fake, WEB),
        RollbackService(fake, API), RemoveService(fake, WEB),
        UpdateConfig(fake, WEB, UpdateConfigChange(parallelism=2)),
    ]
    for op in ops:
        _, outcome = await run(op, read_only=True)
        assert outcome.refused == READ_ONLY_REFUSAL
    assert only_gets(fake)
