"""The reducer's task index (model/taskindex.py) always equals the naive computation from the
snapshot's tasks, keeps unchanged buckets as the same objects, and the selectors and grid
built on it say what the full passes over every task said."""

from __future__ import annotations

import random
from dataclasses import replace

from conftest import load_fixture

from swarmtui.model import parse
from swarmtui.model.actions import NodesListed, ServicesListed, TasksListed
from swarmtui.model.grid import GridLayouter, GridOptions, column_text
from swarmtui.model.reducer import reduce
from swarmtui.model.selectors import FailingWatch, failing_services
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.model.taskindex import UNASSIGNED_NODE
from swarmtui.model.types import LIVE_DESIRED_STATES, Node, Service, Task

FAILED = ("failed", "rejected")
STATES = ("running", "running", "running", "failed", "rejected", "shutdown", "pending",
          "starting", "complete")


# --- the naive computations, as the selectors and the grid did them before the index ----

def naive_failed_now(tasks: list[Task]) -> set[str]:
    newest: dict[tuple[str, int | None, str | None], Task] = {}
    for t in tasks:
        key = (t.service_id, t.slot, t.node_id if t.slot is None else None)
        prev = newest.get(key)
        if prev is None or (t.created_ns or 0) > (prev.created_ns or 0):
            newest[key] = t
    return {key[0] for key, t in newest.items() if t.state in FAILED}


def naive_last_failures(tasks: list[Task]) -> set[str]:
    def slot(t: Task) -> tuple[str, str]:
        return t.service_id, str(t.slot) if t.slot is not None else f"@{t.node_id}"

    newest: dict[tuple[str, str], Task] = {}
    for t in tasks:
        if t.state in FAILED:
            prev = newest.get(slot(t))
            if prev is None or (t.created_ns or 0) > (prev.created_ns or 0):
                newest[slot(t)] = t
    running = {slot(t) for t in tasks if t.state == "running"}
    return {t.id for key, t in newest.items() if key not in running}


def naive_failing(state: ClusterState) -> list[str]:
    down = {nid for nid, n in state.nodes.items() if n.state != "ready"}
    tasks = list(state.tasks.values())
    failed_now = naive_failed_now(tasks)
    on_down: dict[str, int] = {}
    for t in tasks:
        if t.state == "running" and t.node_id in down:
            on_down[t.service_id] = on_down.get(t.service_id, 0) + 1
    return [sid for sid, svc in state.services.items()
            if sid in failed_now or (svc.running is not None and svc.desired is not None
                                     and svc.running + on_down.get(sid, 0) < svc.desired)]


def assert_index_consistent(state: ClusterState) -> None:
    index = state.task_index
    assert index.tasks is state.tasks
    by_service: dict[str, list[Task]] = {}
    by_node: dict[str, dict[str, Task]] = {}
    for t in state.tasks.values():
        by_service.setdefault(t.service_id, []).append(t)
        by_node.setdefault(t.node_id or UNASSIGNED_NODE, {})[t.id] = t
    assert set(index.by_service) == set(by_service)
    for sid, tasks in by_service.items():
        facts = index.by_service[sid]
        # A task never changes service: its bucket is in the snapshot's own order.
        assert list(facts.tasks.values()) == tasks
        assert facts.failed_now == (sid in naive_failed_now(tasks))
        assert facts.last_failures == naive_last_failures(tasks)
        failed = [t for t in tasks if t.state in FAILED]
        dated = [t.status_ns for t in failed if t.status_ns]
        assert facts.failed_at_ns == (max(dated) if dated else None)
        assert facts.failed_undated == any(not t.status_ns for t in failed)
    assert {k: dict(v) for k, v in index.by_node.items()} == by_node
    assert index.last_failures == naive_last_failures(list(state.tasks.values()))
    assert index.failed_now == naive_failed_now(list(state.tasks.values()))
    assert failing_services(state) == naive_failing(state)


# --- generated swarms ----------------------------------------------------------------

def _node(i: int, state: str = "ready") -> Node:
    return Node(id=f"n{i}", version=1, name=f"node{i}", hostname=f"node{i}", role="worker",
                availability="active", state=state, addr="", engine_version="27.0",
                nano_cpus=2 * 10**9, memory_bytes=2**30, os="linux", arch="x86_64")


def _service(i: int, running: int = 2, desired: int = 2) -> Service:
    return replace(SERVICE, id=f"s{i}", name=f"svc{i}", running=running, desired=desired)


def _task(rng: random.Random, n: int, services: int, nodes: int, version: int = 1) -> Task:
    node = rng.randrange(nodes + 1)
    return Task(id=f"t{n}", version=version, service_id=f"s{rng.randrange(services)}",
                slot=rng.choice([None, 1, 2, 3]), node_id=None if node == nodes else f"n{node}",
                state=rng.choice(STATES), desired_state=rng.choice(["running", "shutdown"]),
                err=rng.choice(["", "boom"]), status_ns=rng.choice([None, 0, *range(1, 50)]),
                created_ns=rng.choice([None, *range(1, 50)]))


def _fixture_service() -> Service:
    return parse.parse_services(load_fixture("v1.41", "services_status.json"))[0]


SERVICE = _fixture_service()


def _mutate(rng: random.Random, task: Task) -> Task:
    return replace(task, version=task.version + 1, state=rng.choice(STATES),
                   node_id=task.node_id or rng.choice([None, "n0", "n1"]),
                   created_ns=rng.choice([task.created_ns, rng.randrange(1, 80)]),
                   status_ns=rng.choice([task.status_ns, None, rng.randrange(1, 80)]))


def test_the_index_equals_the_naive_computation_through_random_listings() -> None:
    for seed in range(12):
        rng = random.Random(seed)
        nodes, services = 5, 4
        state = reduce(EMPTY_STATE, NodesListed(tuple(_node(i) for i in range(nodes)), 1))
        state = reduce(state, ServicesListed(tuple(_service(i) for i in range(services)), 1))
        counter = 0
        tasks: dict[str, Task] = {}
        for _ in range(40):
            tasks[f"t{counter}"] = _task(rng, counter, services, nodes)
            counter += 1
        state = reduce(state, TasksListed(tuple(tasks.values()), 2))
        assert_index_consistent(state)
        for step in range(60):
            kind = rng.choice(["service", "service", "node", "full", "services", "nodes"])
            live = dict(state.tasks)
            if kind in ("service", "node"):
                if kind == "service":
                    scope = frozenset({f"s{rng.randrange(services)}"})
                    inside = [t for t in live.values() if t.service_id in scope]
                else:
                    scope = frozenset({rng.choice([f"n{rng.randrange(nodes)}"])})
                    inside = [t for t in live.values() if t.node_id in scope]
                listing = [_mutate(rng, t) if rng.random() < 0.3 else t for t in inside
                           if rng.random() > 0.15]  # some removed
                for _ in range(rng.randrange(3)):  # and some new, inside the scope
                    new = _task(rng, counter, services, nodes)
                    counter += 1
                    if kind == "service":
                        new = replace(new, service_id=next(iter(scope)))
                    else:
                        new = replace(new, node_id=next(iter(scope)))
                    listing.append(new)
                before = state
                state = reduce(state, TasksListed(
                    tuple(listing), 3 + step,
                    service_ids=scope if kind == "service" else None,
                    node_ids=scope if kind == "node" else None))
                if kind == "service":
                    # Buckets of other services are the same objects.
                    for sid, facts in before.task_index.by_service.items():
                        if sid not in scope and sid in state.task_index.by_service:
                            assert state.task_index.by_service[sid] is facts
            elif kind == "full":
                listing = [_mutate(rng, t) if rng.random() < 0.1 else t for t in live.values()
                           if rng.random() > 0.05]
                rng.shuffle(listing)
                state = reduce(state, TasksListed(tuple(listing), 3 + step))
            elif kind == "services":
                # A service removed (its tasks go with it), or back again.
                keep = [s for s in state.services.values() if rng.random() > 0.2]
                if len(keep) < 2:
                    keep = [_service(i) for i in range(services)]
                keep = [replace(s, running=rng.randrange(3)) for s in keep]
                state = reduce(state, ServicesListed(tuple(keep), 3 + step))
            else:
                # A node removed, or down: its tasks stay until a listing drops them.
                listed = [_node(i, rng.choice(["ready", "ready", "down"])) for i in range(nodes)
                          if rng.random() > 0.15]
                state = reduce(state, NodesListed(tuple(listed), 3 + step))
            assert_index_consistent(state)


def _spread(seed: int, nodes: int, services: int, count: int) -> tuple[ClusterState, list[Task]]:
    """A listed swarm whose task i runs on node i % nodes for service i % services."""
    rng = random.Random(seed)
    state = reduce(EMPTY_STATE, NodesListed(tuple(_node(i) for i in range(nodes)), 1))
    state = reduce(state, ServicesListed(tuple(_service(i) for i in range(services)), 1))
    tasks = [replace(_task(rng, i, services, nodes), node_id=f"n{i % nodes}",
                     service_id=f"s{i % services}") for i in range(count)]
    return reduce(state, TasksListed(tuple(tasks), 2)), tasks


def test_a_service_filtered_listing_rebuilds_only_that_services_and_nodes_buckets() -> None:
    state, tasks = _spread(7, nodes=4, services=3, count=24)
    before = state.task_index
    target = next(t for t in tasks if t.service_id == "s1" and t.node_id == "n2")
    listing = tuple(replace(t, state="failed", version=t.version + 1) if t is target else t
                    for t in tasks if t.service_id == "s1")
    after = reduce(state, TasksListed(listing, 3, service_ids=frozenset({"s1"}))).task_index
    assert after.by_service["s0"] is before.by_service["s0"]
    assert after.by_service["s2"] is before.by_service["s2"]
    assert after.by_service["s1"] is not before.by_service["s1"]
    assert [k for k in after.by_node if after.by_node[k] is not before.by_node[k]] == ["n2"]
    # Nothing changed: the very same snapshot.
    again = reduce(state, TasksListed(tuple(t for t in tasks if t.service_id == "s1"), 4,
                                      service_ids=frozenset({"s1"})))
    assert again is state


def test_a_full_listing_keeps_the_buckets_it_did_not_change() -> None:
    state, tasks = _spread(3, nodes=3, services=2, count=12)
    before = state.task_index
    changed = [replace(t, state="failed", version=t.version + 1) if t.id == "t0" else t
               for t in tasks]  # t0: s0 on n0
    after = reduce(state, TasksListed(tuple(changed), 3)).task_index
    assert after.by_service["s1"] is before.by_service["s1"]
    assert after.by_node["n1"] is before.by_node["n1"]
    assert after.by_node["n0"] is not before.by_node["n0"]


def test_a_snapshot_made_with_replace_gets_its_index_rebuilt() -> None:
    tasks = parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json"))
    state = reduce(EMPTY_STATE, TasksListed(tuple(tasks), 3))
    fewer = replace(state, tasks={t.id: t for t in tasks[1:]})
    assert tasks[0].id not in fewer.task_index.by_service.get(tasks[0].service_id).tasks  # type: ignore[union-attr]
    assert_index_consistent(fewer)


def test_recorded_swarm_index_and_failing_services_match_the_naive_ones() -> None:
    s = reduce(EMPTY_STATE,
               NodesListed(tuple(parse.parse_nodes(load_fixture("v1.41", "nodes.json"))), 1))
    s = reduce(s, ServicesListed(tuple(parse.parse_services(
        load_fixture("v1.41", "services_status.json"))), 2))
    s = reduce(s, TasksListed(tuple(parse.parse_tasks(load_fixture("v1.41", "tasks_w8.json"))),
                              3))
    assert_index_consistent(s)


def test_the_failing_watch_takes_each_services_newest_failure_time() -> None:
    state = reduce(EMPTY_STATE, NodesListed((_node(0),), 1))
    state = reduce(state, ServicesListed((_service(0), _service(1)), 1))
    base = Task(id="a", version=1, service_id="s0", slot=1, node_id="n0", state="failed",
                desired_state="shutdown", status_ns=100, created_ns=1)
    tasks = (base, replace(base, id="b", status_ns=300, created_ns=2),
             replace(base, id="c", service_id="s1", status_ns=None), replace(base, id="d",
             service_id="s1", state="running", status_ns=10**6))
    state = reduce(state, TasksListed(tasks, 2))
    watch = FailingWatch().observe(state, 1000)
    # s0: its newest failure (300); s1: a failure without a time counts as now.
    assert dict(watch.last_failed_ns) == {"s0": 300, "s1": 1000}
    assert FailingWatch().observe(state, 200).last_failed_ns["s0"] == 200  # never past now


OPTIONS = (GridOptions(), GridOptions(show="all"), GridOptions(text="boom"),
           GridOptions(node="node1", text="svc1"), GridOptions(show="failed"),
           GridOptions(density="counts"))


def test_the_grid_kept_across_changes_equals_a_fresh_layout() -> None:
    rng = random.Random(11)
    nodes, services = 4, 3
    state = reduce(EMPTY_STATE, NodesListed(tuple(_node(i) for i in range(nodes)), 1))
    state = reduce(state, ServicesListed(tuple(_service(i) for i in range(services)), 1))
    tasks = [_task(rng, i, services, nodes) for i in range(30)]
    state = reduce(state, TasksListed(tuple(tasks), 2))
    kept = {opts: GridLayouter() for opts in OPTIONS}
    counter = 30
    for step in range(40):
        sid = f"s{rng.randrange(services)}"
        listing = [_mutate(rng, t) if rng.random() < 0.3 else t
                   for t in state.tasks.values() if t.service_id == sid and rng.random() > 0.1]
        if rng.random() < 0.5:
            listing.append(replace(_task(rng, counter, services, nodes), service_id=sid))
            counter += 1
        state = reduce(state, TasksListed(tuple(listing), 3 + step,
                                          service_ids=frozenset({sid})))
        for opts in OPTIONS:
            now = 10**12
            got = kept[opts].layout(state, opts, now)
            fresh = GridLayouter().layout(replace(state, index=None), opts, now)
            assert list(column_text(got)) == list(column_text(fresh)), (step, opts)
            assert got.hidden_tasks == fresh.hidden_tasks
        # What "running" mode shows, computed the old way: live or up tasks, and the newest
        # failed attempt of a slot with nothing running.
        failures = naive_last_failures(list(state.tasks.values()))
        expected = {t.id for t in state.tasks.values()
                    if t.service_id in state.services
                    and (t.node_id is None or t.node_id in state.nodes)
                    and (t.desired_state in LIVE_DESIRED_STATES or t.id in failures
                         or t.state in ("running", "starting", "preparing", "ready"))}
        shown = {tid for c in kept[OPTIONS[0]].layout(state, OPTIONS[0], 10**12).columns
                 for tid in c.task_at if tid}
        assert shown == expected, step
