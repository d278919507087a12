"""The operations layer: the executor alone issues write permits, read-only refuses, and the
engine client sends nothing but GET without a live permit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.target import EngineTarget
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.executor import READ_ONLY_REFUSAL, Executor

PACKAGE = Path(__file__).resolve().parent.parent / "swarmtui"


class Toy(Operation[str]):
    """Records what it was allowed to do."""

    title = "toy"

    def __init__(self) -> None:
        self.permits: list[WritePermit] = []

    async def plan(self) -> Plan[str]:
        return Plan(self, Preview("Toy change", blocks=("a -> b",), changes=1), "payload")

    async def execute(self, plan: Plan[str], permit: WritePermit) -> Outcome:
        assert permit.live
        self.permits.append(permit)
        return Outcome(plan.preview.title, blocks=("done",))


async def test_executor_runs_with_a_permit_that_dies_after_the_operation() -> None:
    op = Toy()
    executor = Executor()
    plan = await executor.plan(op)
    outcome = await executor.execute(plan)
    assert outcome.ok and outcome.blocks == ("done",)
    (permit,) = op.permits
    assert not permit.live, "a permit lives for one operation only"
    assert executor.executed == 1


async def test_read_only_executor_plans_but_never_executes() -> None:
    op = Toy()
    executor = Executor(read_only=True)
    plan = await executor.plan(op)  # a preview is allowed
    assert plan.preview.changes == 1
    outcome = await executor.execute(plan)
    assert outcome.refused == READ_ONLY_REFUSAL and not outcome.ok
    assert op.permits == [] and executor.executed == 0


def test_permits_are_made_by_the_executor_only() -> None:
    with pytest.raises(TypeError):
        WritePermit(object(), "forged")
    issuers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "_issue":
                issuers.append(path.relative_to(PACKAGE).as_posix())
    assert issuers == ["ops/executor.py"]


async def test_engine_client_refuses_writes_without_a_live_permit() -> None:
    client = EngineClient(EngineTarget(url="unix:///nonexistent.sock", source="test"))
    for method in ("POST", "PUT", "DELETE", "post"):
        with pytest.raises(EngineError, match="only by a confirmed operation"):
            await client.request(method, "containers/prune")
    dead = WritePermit._issue("test")
    dead._revoke()
    with pytest.raises(EngineError, match="only by a confirmed operation"):
        await client.request("POST", "containers/prune", permit=dead)
    assert client.requests == 0, "nothing was sent"
