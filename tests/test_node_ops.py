"""Node actions as operations against an in-memory manager: each action's preview (spec
old → new and its impact) and what it sends, each refusal's one line with nothing but GET
sent, a stale version read again, and read-only."""

from __future__ import annotations

from typing import Any

import pytest
from node_fakes import FakeNodeEngine, raw_node

from swarmtui.engine.client import EngineError
from swarmtui.ops.base import Operation
from swarmtui.ops.executor import READ_ONLY_REFUSAL, Executor
from swarmtui.ops.node import (
    QUORUM_WARNING,
    STALE_REFUSAL,
    AddLabel,
    Demote,
    Promote,
    RemoveLabel,
    RemoveNode,
    SetAvailability,
)

N1, N2, N3, N4 = "node01id", "node02id", "node03id", "node04id"


async def run(op: Operation[Any], *, read_only: bool = False) -> Any:
    executor = Executor(read_only=read_only)
    plan = await executor.plan(op)
    return plan, await executor.execute(plan)


async def refused(op: Operation[Any], fake: FakeNodeEngine, match: str) -> None:
    with pytest.raises(EngineError, match=match):
        await Executor().plan(op)
    assert fake.mutations == []


async def test_drain_previews_moves_stops_and_nowhere_and_sends_the_full_spec() -> None:
    fake = FakeNodeEngine()
    plan, outcome = await run(SetAvailability(fake, N2, "drain"))
    p = plan.preview
    assert p.title == "Drain node lab-node2"
    assert "Availability: active → drain" in p.blocks[0]
    impact = p.blocks[1]
    assert "shop_web.2" in impact and "shop_web.3" in impact
    assert "moves to lab-node1" in impact  # lab-node3 is drained, lab-node4 down
    assert "shop_api.1" in impact and "shop_api.2" in impact
    assert ("NOWHERE TO GO: lab-node2 is the only node that satisfies "
            "node.hostname==lab-node2" in impact)
    assert "agent" in impact and "stops (global service" in impact
    assert "taskweb3old" not in impact  # not running: nothing to move
    assert p.summary == ("2 task(s) move to other nodes, 1 stop (global services), "
                         "2 have NOWHERE TO GO.")
    assert "nowhere to go" in p.warning and p.typed_confirmation is None
    assert outcome.ok and outcome.blocks == (
        "lab-node2: drained; its tasks are rescheduled (see the grid).",)
    method, path, params, body = fake.mutations[0]
    assert (method, path, params) == ("POST", "nodes/node02id/update", {"version": "20"})
    assert body == {"Labels": {"zone": "b"}, "Role": "worker", "Availability": "drain"}


async def test_pause_and_active_say_what_happens_to_running_tasks() -> None:
    fake = FakeNodeEngine()
    plan, _ = await run(SetAvailability(fake, N2, "pause"))
    assert "keep running" in plan.preview.summary
    plan, _ = await run(SetAvailability(fake, N3, "active"))
    assert "Availability: drain → active" in plan.preview.blocks[0]
    assert "do not move back" in plan.preview.summary


async def test_drain_of_a_manager_says_quorum_is_not_affected() -> None:
    plan, _ = await run(SetAvailability(FakeNodeEngine(), N1, "drain"))
    assert "stays a manager: raft and its quorum are not affected" in plan.preview.blocks[2]


async def test_setting_what_is_already_set_changes_nothing() -> None:
    fake = FakeNodeEngine()
    plan = await Executor().plan(SetAvailability(fake, N3, "drain"))
    assert plan.preview.empty and plan.preview.summary == "Nothing to change."


def test_an_unknown_availability_is_refused() -> None:
    with pytest.raises(ValueError, match="availability is one of active, pause, drain"):
        SetAvailability(FakeNodeEngine(), N2, "off")


async def test_promote_shows_the_manager_count() -> None:
    fake = FakeNodeEngine()
    plan, outcome = await run(Promote(fake, N2))
    assert "Role: worker → manager" in plan.preview.blocks[0]
    assert "Managers: 1 → 2 (raft quorum: 1 → 2)" in plan.preview.blocks[1]
    assert outcome.ok and fake.nodes[N2]["Spec"]["Role"] == "manager"


async def test_demoting_the_only_manager_is_refused() -> None:
    fake = FakeNodeEngine()
    await refused(Demote(fake, N1), fake,
                  "^lab-node1 is the only manager: a swarm needs one "
                  r"\(promote another node first\)$")


async def test_demote_shows_managers_before_and_after() -> None:
    fake = FakeNodeEngine([raw_node(1), raw_node(2, role="manager"), raw_node(3, role="manager")])
    plan, outcome = await run(Demote(fake, N3))
    assert "Role: manager → worker" in plan.preview.blocks[0]
    assert "Managers: 3 → 2 (2 reachable; raft quorum needs 2)" in plan.preview.blocks[1]
    assert plan.preview.typed_confirmation is None and outcome.ok


async def test_a_demote_that_costs_the_quorum_needs_the_name_typed() -> None:
    nodes = [raw_node(1), raw_node(2, role="manager"), raw_node(3, role="manager")]
    nodes[1]["ManagerStatus"]["Reachability"] = "unreachable"
    plan = await Executor().plan(Demote(FakeNodeEngine(nodes), N3))
    assert plan.preview.typed_confirmation == "lab-node3"
    assert plan.preview.warning == QUORUM_WARNING
    assert "costs the raft quorum" in plan.preview.warning


async def test_labels_are_added_and_removed() -> None:
    fake = FakeNodeEngine()
    plan, outcome = await run(AddLabel(fake, N2, "disk=ssd"))
    assert plan.preview.title == "Label node lab-node2 disk=ssd"
    assert "Labels.disk: (unset) → ssd" in plan.preview.blocks[0]
    assert outcome.ok and fake.nodes[N2]["Spec"]["Labels"] == {"zone": "b", "disk": "ssd"}
    plan, outcome = await run(RemoveLabel(fake, "lab-node2", "zone"))
    assert "Labels.zone: b → (unset)" in plan.preview.blocks[0]
    assert outcome.ok and fake.nodes[N2]["Spec"]["Labels"] == {"disk": "ssd"}


async def test_label_refusals_are_one_line() -> None:
    fake = FakeNodeEngine()
    with pytest.raises(ValueError, match=r"^a label needs a key"):
        AddLabel(fake, N2, "=ssd")
    await refused(RemoveLabel(fake, N2, "rack"), fake, "^lab-node2 has no label 'rack'$")


async def test_a_node_that_does_not_exist_is_one_line() -> None:
    fake = FakeNodeEngine()
    await refused(SetAvailability(fake, "lab-node9", "drain"), fake, "^no such node: lab-node9$")


async def test_only_a_down_worker_can_be_removed() -> None:
    fake = FakeNodeEngine()
    await refused(RemoveNode(fake, N2), fake, "^lab-node2 is ready: only a down node can be "
                                              "removed")
    down_manager = FakeNodeEngine([raw_node(1, state="down"), raw_node(2)])
    await refused(RemoveNode(down_manager, N1), down_manager,
                  "^lab-node1 is a manager: demote it before removing it$")
    plan, outcome = await run(RemoveNode(fake, N4))
    assert plan.preview.typed_confirmation == "lab-node4"
    assert outcome.ok and N4 not in fake.nodes
    assert fake.mutations[-1][:2] == ("DELETE", "nodes/node04id")


async def test_a_node_changed_since_the_preview_is_stale() -> None:
    fake = FakeNodeEngine()
    executor = Executor()
    plan = await executor.plan(SetAvailability(fake, N2, "drain"))
    fake.bump_node(N2, Labels={"zone": "c"})
    outcome = await executor.execute(plan)
    assert outcome.stale and outcome.refused == STALE_REFUSAL
    assert fake.nodes[N2]["Spec"]["Availability"] == "active"
    plan = await executor.plan(SetAvailability(fake, N2, "drain"))  # planned again: goes
    assert (await executor.execute(plan)).ok
    assert fake.nodes[N2]["Spec"] == {"Labels": {"zone": "c"}, "Role": "worker",
                                      "Availability": "drain"}


async def test_a_removal_of_a_node_that_came_back_is_stale() -> None:
    fake = FakeNodeEngine()
    executor = Executor()
    plan = await executor.plan(RemoveNode(fake, N4))
    fake.nodes[N4]["Status"]["State"] = "ready"
    assert (await executor.execute(plan)).stale and N4 in fake.nodes


async def test_read_only_refuses_every_node_action() -> None:
    fake = FakeNodeEngine()
    for op in (SetAvailability(fake, N2, "drain"), Promote(fake, N2), AddLabel(fake, N2, "a=b"),
               RemoveLabel(fake, N2, "zone"), RemoveNode(fake, N4)):
        _, outcome = await run(op, read_only=True)
        assert outcome.refused == READ_ONLY_REFUSAL
    assert fake.mutations == []
