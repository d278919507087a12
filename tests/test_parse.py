"""Parsing recorded engine JSON from API 1.41 (real lab captures) and 1.52 (newer shapes)."""

from __future__ import annotations

from conftest import load_fixture

from swarmtui.model import parse
from swarmtui.model.dockerfmt import parse_time_ns

TASKS = {"v1.41": "tasks_w8.json", "v1.52": "tasks.json"}
EVENTS = {"v1.41": "events_all.jsonl", "v1.52": "events.jsonl"}


def test_nodes_parse_with_roles_and_leader(api_version: str) -> None:
    nodes = parse.parse_nodes(load_fixture(api_version, "nodes.json"))
    assert sorted(n.hostname for n in nodes) == ["lab-node1", "lab-node2", "lab-node3"]
    leader = [n for n in nodes if n.leader]
    assert len(leader) == 1 and leader[0].is_manager and leader[0].hostname == "lab-node1"
    assert leader[0].reachability == "reachable"
    worker = next(n for n in nodes if n.hostname == "lab-node3")
    assert worker.role == "worker" and worker.reachability is None
    assert worker.nano_cpus == 2_000_000_000 and worker.memory_bytes == 25276502016
    assert all(n.state == "ready" and n.availability == "active" for n in nodes)


def test_services_carry_live_counts(api_version: str) -> None:
    services = {s.name: s for s in parse.parse_services(load_fixture(api_version,
                                                                      "services_status.json"))}
    peer = services["peer_a"]
    assert (peer.mode, peer.replicas, peer.running, peer.desired) == ("replicated", 4, 4, 4)
    assert peer.previous_image == "busybox:lab"
    assert peer.replicas_text == "4/4"


def test_newer_shapes_update_status_and_jobs() -> None:
    services = {s.name: s for s in parse.parse_services(load_fixture("v1.52",
                                                                      "services_status.json"))}
    upd = services["web_updating"]
    assert upd.update_status is not None and upd.update_status.in_progress
    assert upd.update_config.parallelism == 2 and upd.update_config.order == "start-first"
    assert upd.update_config.delay_ns == 10_000_000_000
    job = services["migrate"]
    assert job.mode == "replicated-job" and job.replicas_text == "1/1 (2/3 completed)"


def test_tasks_parse(api_version: str) -> None:
    tasks = parse.parse_tasks(load_fixture(api_version, TASKS[api_version]))
    assert len(tasks) == 4
    t = next(t for t in tasks if t.id == "1n7j8lkaz3y8p7qtpfqmt81qt")
    assert (t.slot, t.state, t.desired_state, t.image) == (3, "running", "running", "busybox:lab")
    assert t.container_id and t.container_id.startswith("5515c7e0ff42")
    assert t.status_ns == parse_time_ns("2026-11-25T12:35:17.848380567Z")


def test_events_parse_without_legacy_fields(api_version: str) -> None:
    events = [parse.parse_event(e) for e in load_fixture(api_version, EVENTS[api_version])]
    kinds = {e.type for e in events}
    assert {"node", "service", "container"} <= kinds
    assert "task" not in kinds  # the engine has no task events
    svc = next(e for e in events if e.type == "service" and e.action == "create")
    assert svc.scope == "swarm" and svc.name and svc.time_ns > 1_700_000_000 * 10**9


def test_version_and_info() -> None:
    info = {"Name": "lab-node1", "Swarm": {"NodeID": "x", "LocalNodeState": "active",
                                           "ControlAvailable": True, "Cluster": {"ID": "c1"},
                                           "Nodes": 3, "Managers": 1}}
    engine = parse.parse_engine_info("unix:///s", load_fixture("v1.41", "version.json"), info)
    assert engine.api_version == "1.41" and engine.swarm.is_manager
    worker = parse.parse_swarm_info({"Swarm": {"LocalNodeState": "active",
                                               "ControlAvailable": False}})
    assert not worker.is_manager


def test_garbage_never_raises() -> None:
    assert parse.parse_node({}).id == ""
    assert parse.parse_service({"Spec": None, "ServiceStatus": "x"}).name == ""
    assert parse.parse_task({"Slot": "3", "Status": []}).slot is None
    assert parse.parse_event({"Actor": None}).actor_id == ""


def test_timestamps() -> None:
    assert parse_time_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert parse_time_ns("1970-01-01T01:00:00+01:00") == 0
    assert parse_time_ns("0001-01-01T00:00:00Z") is None
    assert parse_time_ns("nonsense") is None


def test_age_changes_at_matches_format_age() -> None:
    from swarmtui.model.times import age_changes_at, format_age

    then = 1_000 * 10**9
    for age_s in (0, 1, 59, 60, 61, 3599, 3600, 86399, 86400, 200000):
        now = then + age_s * 10**9 + 123
        nxt = age_changes_at(now, then)
        assert nxt > now
        assert format_age(nxt - 1, then) == format_age(now, then)
        assert format_age(nxt, then) != format_age(now, then)
