"""The node actions' impact, pure: constraints as swarmkit reads them, where a drained node's
tasks can go and why some cannot, managers and raft quorum of a demote, label parsing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from swarmtui.model.impact import (
    Placement,
    bytes_size,
    constraint_matches,
    demote_impact,
    drain_impact,
    parse_label,
    parse_label_key,
    placement_of,
    quorum,
    render_drain,
)
from swarmtui.model.types import Node, Task

GIB = 1024**3


def node(i: int, **kw: object) -> Node:
    n = Node(id=f"n{i}", version=1, hostname=f"lab-node{i}", name=f"lab-node{i}",
             role="manager" if i == 1 else "worker", availability="active", state="ready",
             addr="", engine_version="20.10", nano_cpus=2 * 10**9, memory_bytes=4 * GIB,
             os="linux", arch="x86_64", leader=i == 1,
             reachability="reachable" if i == 1 else None)
    return replace(n, **kw)  # type: ignore[arg-type]


def task(tid: str, sid: str, on: int, slot: int | None = 1, desired: str = "running",
         state: str = "running") -> Task:
    return Task(id=tid, version=1, service_id=sid, slot=slot, node_id=f"n{on}", state=state,
                desired_state=desired)


def test_constraints_match_as_swarmkit_reads_them() -> None:
    n = node(2, labels=(("zone", "b"),), engine_labels=(("disk", "ssd"),))
    assert constraint_matches("node.hostname==lab-node2", n) is True
    assert constraint_matches("node.hostname == LAB-NODE2", n) is True  # case-insensitive
    assert constraint_matches("node.hostname!=lab-node2", n) is False
    assert constraint_matches("node.role==manager", n) is False
    assert constraint_matches("node.role==worker", n) is True
    assert constraint_matches("node.id==n2", n) is True
    assert constraint_matches("node.labels.zone==b", n) is True
    assert constraint_matches("node.labels.rack==1", n) is False  # a missing label: never ==
    assert constraint_matches("node.labels.rack!=1", n) is True
    assert constraint_matches("engine.labels.disk==ssd", n) is True
    assert constraint_matches("node.platform.os==linux", n) is True
    assert constraint_matches("something.else==x", n) is None  # the engine decides


def test_placement_is_read_from_the_service_spec() -> None:
    raw = {"ID": "s1", "Spec": {"Name": "db", "Mode": {"Replicated": {"Replicas": 1}},
                                "TaskTemplate": {
                                    "Placement": {"Constraints": ["node.labels.db==1"],
                                                  "MaxReplicas": 1},
                                    "Resources": {"Reservations": {"NanoCPUs": 10**9,
                                                                   "MemoryBytes": GIB}}}}}
    assert placement_of(raw) == Placement("s1", "db", "replicated", ("node.labels.db==1",),
                                          10**9, GIB, 1)
    assert placement_of({"ID": "g", "Spec": {"Name": "g", "Mode": {"Global": {}}}}).is_global


def test_drain_moves_replicated_tasks_and_stops_global_ones() -> None:
    nodes = [node(1), node(2), node(3)]
    web = Placement("web", "web", "replicated")
    agent = Placement("agt", "agent", "global")
    tasks = [task("w1", "web", 2, 1), task("w2", "web", 2, 2), task("w3", "web", 1, 3),
             task("a2", "agt", 2, None), task("old", "web", 2, 4, desired="shutdown",
                                              state="shutdown")]
    impact = drain_impact(nodes[1], nodes, [web, agent], tasks)
    assert [m.task_id for m in impact.moving] == ["w1", "w2"]
    assert impact.moving[0].candidates == ("lab-node1", "lab-node3")
    assert [m.task_id for m in impact.stopping] == ["a2"]
    assert not impact.stranded
    text = render_drain(impact)
    assert "web.1" in text and "moves to lab-node1 or lab-node3" in text
    assert "agent" in text and "stops (global service" in text


def test_the_last_node_that_satisfies_a_constraint_is_flagged() -> None:
    nodes = [node(1), node(2), node(3)]
    pinned = Placement("api", "api", "replicated", ("node.hostname==lab-node2",))
    impact = drain_impact(nodes[1], nodes, [pinned], [task("a1", "api", 2)])
    assert impact.stranded[0].nowhere == \
        "lab-node2 is the only node that satisfies node.hostname==lab-node2"
    assert "NOWHERE TO GO: lab-node2 is the only node" in render_drain(impact)


def test_nodes_that_satisfy_but_take_no_tasks_are_named() -> None:
    nodes = [node(1), node(2, labels=(("db", "1"),)),
             node(3, labels=(("db", "1"),), availability="drain"),
             node(4, labels=(("db", "1"),), state="down")]
    db = Placement("db", "db", "replicated", ("node.labels.db==1",))
    impact = drain_impact(nodes[1], nodes, [db], [task("d1", "db", 2)])
    assert impact.stranded[0].nowhere == ("the nodes that satisfy node.labels.db==1 take no "
                                          "tasks (lab-node3 drained, lab-node4 down)")


def test_reservations_must_fit_what_other_nodes_have_left() -> None:
    nodes = [node(1), node(2), node(3)]
    big = Placement("big", "big", "replicated", nano_cpus=15 * 10**8, memory_bytes=GIB)
    # lab-node1 and lab-node3 each run one already: 0.5 CPU left on each.
    tasks = [task("b1", "big", 1, 1), task("b3", "big", 3, 3), task("b2", "big", 2, 2)]
    impact = drain_impact(nodes[1], nodes, [big], tasks)
    assert impact.stranded[0].nowhere == "no node has 1.5 CPU and 1GiB free (reserved)"


def test_two_tasks_do_not_both_count_on_the_last_free_cpu() -> None:
    nodes = [node(1), node(2, nano_cpus=4 * 10**9)]
    half = Placement("h", "h", "replicated", nano_cpus=15 * 10**8)
    tasks = [task("h1", "h", 2, 1), task("h2", "h", 2, 2)]
    impact = drain_impact(nodes[1], nodes, [half], tasks)
    assert [m.task_id for m in impact.moving] == ["h1"]
    assert [m.task_id for m in impact.stranded] == ["h2"]


def test_max_replicas_per_node_is_kept() -> None:
    nodes = [node(1), node(2)]
    spread = Placement("s", "s", "replicated", max_replicas=1)
    impact = drain_impact(nodes[1], nodes, [spread], [task("s1", "s", 1, 1),
                                                     task("s2", "s", 2, 2)])
    assert impact.stranded[0].nowhere == \
        "every node already runs 1 (max replicas per node)"


def test_a_node_without_tasks_moves_nothing() -> None:
    assert render_drain(drain_impact(node(2), [node(1), node(2)], [], [])) == \
        "No running tasks on lab-node2: nothing moves.\n"


@pytest.mark.parametrize(("managers", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_quorum_is_a_majority(managers: int, needed: int) -> None:
    assert quorum(managers) == needed


def test_demote_counts_managers_and_the_quorum_left() -> None:
    one = [node(1), node(2)]
    assert demote_impact(one[0], one).last_manager
    three = [node(1), node(2, role="manager", reachability="reachable", leader=False),
             node(3, role="manager", reachability="reachable", leader=False)]
    fine = demote_impact(three[2], three)
    assert (fine.managers_before, fine.managers_after, fine.quorum_after) == (3, 2, 2)
    assert not fine.costs_quorum and not fine.last_manager
    # One of three already unreachable: demoting a reachable one leaves 1 of 2 reachable.
    three[1] = replace(three[1], reachability="unreachable")
    assert demote_impact(three[2], three).costs_quorum
    assert not demote_impact(three[1], three).costs_quorum  # demoting the unreachable one


def test_labels_need_a_key() -> None:
    assert parse_label("zone=a") == ("zone", "a")
    assert parse_label("ssd") == ("ssd", "")
    assert parse_label(" a=b=c ") == ("a", "b=c")
    for bad in ("", "=a", "  =x"):
        with pytest.raises(ValueError, match="a label needs a key"):
            parse_label(bad)
    assert parse_label_key("zone") == "zone"
    with pytest.raises(ValueError):
        parse_label_key("zone=a")


def test_bytes_size_is_go_units_binary() -> None:
    assert bytes_size(25276502016) == "23.54GiB"
    assert bytes_size(512) == "512B"
