"""The reducer keeps identities of what did not change and drops ghosts."""

from __future__ import annotations

from dataclasses import replace

from conftest import load_fixture

from swarmtui.model import parse
from swarmtui.model.actions import (
    Disconnected,
    NodesListed,
    ServicesListed,
    TasksListed,
)
from swarmtui.model.reducer import reduce
from swarmtui.model.selectors import service_converged, services_needing_attention
from swarmtui.model.state import EMPTY_STATE


def _loaded():
    s = EMPTY_STATE
    s = reduce(s, NodesListed(tuple(parse.parse_nodes(load_fixture("v1.41", "nodes.json"))), 1))
    services = parse.parse_services(load_fixture("v1.41", "services_status.json"))
    s = reduce(s, ServicesListed(tuple(services), 2))
    tasks = parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json"))
    return reduce(s, TasksListed(tuple(tasks), 3))


def test_same_listing_keeps_identity() -> None:
    s = _loaded()
    again = reduce(s, NodesListed(tuple(parse.parse_nodes(load_fixture("v1.41", "nodes.json"))),
                                  5))
    assert again.nodes is s.nodes and again.nodes_listed_ns == 5


def test_changed_task_replaces_only_itself() -> None:
    s = _loaded()
    tasks = list(s.tasks.values())
    changed = replace(tasks[0], state="failed", err="boom", version=tasks[0].version + 1)
    s2 = reduce(s, TasksListed((changed, *tasks[1:]), 9))
    assert s2.tasks[changed.id].state == "failed"
    assert all(s2.tasks[t.id] is t for t in tasks[1:])


def test_task_with_same_version_is_the_same_task() -> None:
    """swarmkit bumps Version.Index on every write: equal versions mean equal content."""
    s = _loaded()
    tasks = list(s.tasks.values())
    relisted = tuple(replace(t) for t in tasks)  # new objects, same content and versions
    assert reduce(s, TasksListed(relisted, 9)).tasks is s.tasks


def test_partial_task_listing_keeps_other_services() -> None:
    s = _loaded()
    sid = next(iter(s.tasks.values())).service_id
    s2 = reduce(s, TasksListed((), 9, frozenset({"other"})))
    assert s2.tasks is s.tasks
    s3 = reduce(s, TasksListed((), 9, frozenset({sid})))
    assert not any(t.service_id == sid for t in s3.tasks.values())
    assert s3.tasks_listed_ns == s.tasks_listed_ns  # a partial listing is not a full refresh


def test_node_task_listing_replaces_only_that_nodes_tasks() -> None:
    """``GET /tasks?filters={"node":[id]}``: what it omits is gone from that node only."""
    s = _loaded()
    nid = next(t.node_id for t in s.tasks.values() if t.node_id)
    on_node = [t for t in s.tasks.values() if t.node_id == nid]
    others = {tid: t for tid, t in s.tasks.items() if t.node_id != nid}
    assert reduce(s, TasksListed(tuple(replace(t) for t in on_node), 9,
                                 node_ids=frozenset({nid}))).tasks is s.tasks
    changed = replace(on_node[0], state="failed", version=on_node[0].version + 1)
    s2 = reduce(s, TasksListed((changed,), 9, node_ids=frozenset({nid})))
    assert s2.tasks[changed.id].state == "failed"
    assert {tid for tid, t in s2.tasks.items() if t.node_id == nid} == {changed.id}
    assert all(s2.tasks[tid] is t for tid, t in others.items())
    assert s2.tasks_listed_ns == s.tasks_listed_ns


def test_removed_service_drops_its_tasks() -> None:
    s = _loaded()
    sid = next(iter(s.tasks.values())).service_id
    remaining = tuple(v for v in s.services.values() if v.id != sid)
    s2 = reduce(s, ServicesListed(remaining, 10))
    assert sid not in s2.services
    assert not any(t.service_id == sid for t in s2.tasks.values())


def test_disconnect_keeps_last_picture() -> None:
    s = _loaded()
    s2 = reduce(s, Disconnected("gone", 11))
    assert s2.connection.status == "disconnected" and s2.nodes is s.nodes
    assert s2.has_full_state is False or s2.engine is None


def test_convergence_signals() -> None:
    s = _loaded()
    peer = s.service_by_name("peer_a")
    assert peer is not None
    assert service_converged(peer, [])
    scaling = replace(peer, running=2, desired=4)
    s2 = reduce(s, ServicesListed(tuple(replace(v, running=2, desired=4) if v.id == peer.id
                                        else v for v in s.services.values()), 12))
    assert not service_converged(scaling, [])
    assert services_needing_attention(s2) == [peer.id]


# -- swarmtui's node probes never enter a snapshot -------------------------------------------

def _probe_json() -> tuple[dict, list[dict]]:
    """A probe service and its tasks as the engine lists them (engine/probe.py's spec)."""
    labels = {"swarmtui.probe": "1", "swarmtui.probe.expires": "1900000000"}
    svc = {"ID": "probesvc1", "Version": {"Index": 50},
           "Spec": {"Name": "swarmtui-probe-0a1b2c3d", "Labels": labels, "Mode": {"Global": {}},
                    "TaskTemplate": {"ContainerSpec": {"Image": "docker:cli",
                                                       "Labels": {"swarmtui.probe": "1"}}}}}
    tasks = [{"ID": f"probetask{i}", "Version": {"Index": 51 + i}, "ServiceID": "probesvc1",
              "NodeID": f"node{i}", "DesiredState": "running",
              "Status": {"State": "running"},
              "Spec": {"ContainerSpec": {"Image": "docker:cli",
                                         "Labels": {"swarmtui.probe": "1"}}}}
             for i in range(3)]
    return svc, tasks


def test_probe_services_and_tasks_are_hidden() -> None:
    s = _loaded()
    svc, tasks = _probe_json()
    user_services = parse.parse_services(load_fixture("v1.41", "services_status.json"))
    listed = (*user_services, parse.parse_service(svc))
    s2 = reduce(s, ServicesListed(listed, 10))
    assert "probesvc1" not in s2.services
    assert set(s2.services) == {x.id for x in user_services}
    user_tasks = parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json"))
    s3 = reduce(s2, TasksListed((*user_tasks, *parse.parse_tasks(tasks)), 11))
    assert not any(t.service_id == "probesvc1" for t in s3.tasks.values())
    assert set(s3.tasks) == {t.id for t in user_tasks}
    # A partial listing of the probe's own service (before its service was listed) too.
    s4 = reduce(s3, TasksListed(tuple(parse.parse_tasks(tasks)), 12, frozenset({"probesvc1"})))
    assert s4.tasks is s3.tasks


def test_probe_listing_keeps_identity() -> None:
    """A listing that differs only by a probe is no change: the views repaint nothing."""
    s = _loaded()
    svc, tasks = _probe_json()
    services = parse.parse_services(load_fixture("v1.41", "services_status.json"))
    s2 = reduce(s, ServicesListed((*services, parse.parse_service(svc)), 10))
    assert s2.services is s.services
    all_tasks = parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json"))
    s3 = reduce(s2, TasksListed((*all_tasks, *parse.parse_tasks(tasks)), 3))
    assert s3.tasks is s2.tasks


def test_task_probe_flag_from_its_container_labels() -> None:
    _, tasks = _probe_json()
    assert all(t.probe for t in parse.parse_tasks(tasks))
    assert not any(t.probe for t in parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json")))
