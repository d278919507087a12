"""What the header reports as needing attention (model/selectors.attention)."""

from __future__ import annotations

from dataclasses import replace

from uistate import NOW, _node, _svc, _task, fixed_swarm

from swarmtui.model.parse import parse_service
from swarmtui.model.selectors import Attention, FailingWatch, attention, failing_services
from swarmtui.model.state import ClusterState, Connection
from swarmtui.model.types import UpdateStatus


def state_of(nodes=(), services=(), tasks=(), **kw) -> ClusterState:  # type: ignore[no-untyped-def]
    return ClusterState(
        nodes={n.id: n for n in nodes},
        services={s.id: s for s in services},
        tasks={t.id: t for t in tasks},
        **kw,
    )


def test_fixed_swarm_reports_down_drained_and_failing() -> None:
    state = fixed_swarm().store.state
    assert sorted(failing_services(state)) == [
        "svcbad000000000000000000001",  # crash loop: 0/1, newest attempt failed
        "svcgpu000000000000000000001",  # pending: no node can take it
    ]
    needs = attention(state)
    assert needs == Attention(nodes_down=1, nodes_drained=1, services_failing=2)
    assert needs.summary() == "1 down, 1 drained, 2 failing"


def test_all_well_says_nothing() -> None:
    svc = _svc("s1", "web", 1, running=1, desired=1)
    state = state_of([_node(1)], [svc], [_task("t1", "s1", 1, "node01id")])
    assert attention(state) == Attention() and attention(state).summary() == ""


def test_an_old_failure_is_history_not_failing() -> None:
    svc = _svc("s1", "web", 1, running=1, desired=1)
    old = _task("t0", "s1", 1, "node01id", state="failed", desired="shutdown", age_s=600)
    new = _task("t1", "s1", 1, "node01id", age_s=60)
    assert failing_services(state_of([_node(1)], [svc], [old, new])) == []


def test_newest_attempt_failed_is_failing_even_for_a_job() -> None:
    job = _svc("j1", "migrate", 1, mode="replicated-job", running=0, desired=1)
    failed = _task("t1", "j1", 1, "node01id", state="failed", desired="shutdown", age_s=5)
    assert failing_services(state_of([_node(1)], [job], [failed])) == ["j1"]
    done = replace(failed, state="complete")
    assert failing_services(state_of([_node(1)], [job], [done])) == []


def test_rolling_update_is_not_failing_but_a_paused_one_is() -> None:
    rolling = _svc("s1", "web", 2, running=1, desired=2)
    rolling = replace(rolling, update_status=UpdateStatus("updating"))
    assert failing_services(state_of([_node(1)], [rolling])) == []
    paused = replace(rolling, running=2, update_status=UpdateStatus("paused", "update paused"))
    assert failing_services(state_of([_node(1)], [paused])) == ["s1"]


def test_global_task_on_a_down_node_blames_the_node_only() -> None:
    agent = _svc("g1", "agent", None, mode="global", running=1, desired=2)
    tasks = [_task("t1", "g1", None, "node01id"), _task("t2", "g1", None, "node02id")]
    state = state_of([_node(1), _node(2, state="down")], [agent], tasks)
    assert attention(state) == Attention(nodes_down=1)


def test_paused_node_and_lost_connection() -> None:
    state = state_of(
        [_node(1), _node(2, availability="pause"), _node(3, state="down", availability="drain")],
        connection=Connection(status="disconnected", error="refused", since_ns=NOW),
    )
    needs = attention(state)
    assert needs == Attention(disconnected=True, nodes_down=1, nodes_paused=1)
    assert needs.summary() == "disconnected, 1 down, 1 paused"


def test_a_reconnect_attempt_after_a_loss_still_reads_disconnected() -> None:
    """A reconnect to a hung engine sits in "connecting" for its whole timeout (15 s): the
    header must keep saying DISCONNECTED, not show the stale picture as if it were live."""
    from swarmtui.engine.store import Store
    from swarmtui.model.actions import Connecting, Disconnected
    from swarmtui.widgets.status_bar import status_text

    store = Store()
    store.dispatch(Connecting(NOW, 0))
    assert not attention(store.state).disconnected  # the very first connect: not lost yet
    store.dispatch(Disconnected("the engine stopped answering: GET /services timed out", NOW))
    store.dispatch(Connecting(NOW, 1))
    assert attention(store.state).disconnected
    line = status_text(store.state, NOW, False, "grid")
    assert "DISCONNECTED" in line and "stopped answering" in line and "reconnecting…" in line

# --------------------------------------------------------------------------- steady failing

S = 10**9


def crash_loop() -> list[tuple[int, ClusterState]]:
    """A crash-looping service (one replica, restart delay 5 s) as the poller sees it: the
    task fails, its replacement is made, starts, runs a second and fails again. Between a
    failure and the next, one snapshot's own reading says "fine" (the newest task is the
    replacement, the counts say 1/1 while it runs)."""
    node = _node(1)
    out = []
    for cycle in range(3):
        base = cycle * 8
        failed = _task(f"a{cycle}", "s1", 1, "node01id", state="failed", desired="shutdown",
                       status_ns=NOW + base * S, created_ns=NOW + (base - 2) * S)
        fresh = _task(f"b{cycle}", "s1", 1, "node01id", state="starting",
                      created_ns=NOW + (base + 5) * S, status_ns=NOW + (base + 5) * S)
        up = replace(fresh, state="running", status_ns=NOW + (base + 6) * S)
        down = _svc("s1", "web", 1, running=0, desired=1)
        runs = _svc("s1", "web", 1, running=1, desired=1)
        out += [(base, state_of([node], [down], [replace(failed, desired_state="running")])),
                (base + 5, state_of([node], [runs], [failed, fresh])),
                (base + 6, state_of([node], [runs], [up]))]  # history not listed (big swarm)
    return out


def test_one_snapshot_alone_flickers_through_a_crash_loop() -> None:
    seen = [bool(failing_services(state)) for _, state in crash_loop()]
    assert seen == [True, False, False] * 3


def test_a_crash_loop_counts_as_failing_steadily_then_clears_after_running_cleanly() -> None:
    watch = FailingWatch()
    for at, state in crash_loop():
        watch = watch.observe(state, NOW + at * S)
        assert watch.failing(NOW + at * S) == ("s1",), at
        assert attention(state, watch.failing(NOW + at * S)).services_failing == 1
    last_failure = 16  # the third cycle's failed task
    healthy = state_of([_node(1)], [_svc("s1", "web", 1, running=1, desired=1)],
                       [_task("c", "s1", 1, "node01id", created_ns=NOW + 21 * S,
                              status_ns=NOW + 22 * S)])
    watch = watch.observe(healthy, NOW + 25 * S)
    assert watch.failing(NOW + (last_failure + 29) * S) == ("s1",)
    assert watch.failing(NOW + (last_failure + 30) * S) == ()  # ran cleanly for 30 s


def test_the_hold_covers_a_long_restart_delay_and_a_scale_up_is_not_held() -> None:
    spec = {"Name": "web", "TaskTemplate": {"RestartPolicy": {"Delay": 60 * S}}}
    assert parse_service({"ID": "s1", "Spec": spec}).restart_delay_ns == 60 * S
    assert parse_service({"ID": "s1", "Spec": {"Name": "web"}}).restart_delay_ns == 5 * S
    slow = replace(_svc("s1", "web", 1, running=1, desired=1), restart_delay_ns=60 * S)
    failed = _task("a", "s1", 1, "node01id", state="failed", desired="shutdown",
                   status_ns=NOW, created_ns=NOW - S)
    fresh = _task("b", "s1", 1, "node01id", status_ns=NOW, created_ns=NOW)
    watch = FailingWatch().observe(state_of([_node(1)], [slow], [failed, fresh]), NOW)
    assert watch.failing(NOW + 64 * S) == ("s1",)  # restart delay + the 5 s monitor
    assert watch.failing(NOW + 65 * S) == ()
    # Tasks of a scale-up still starting: failing only while that lasts.
    scaling = _svc("s2", "api", 3, running=1, desired=3)
    watch = FailingWatch().observe(state_of([_node(1)], [scaling]), NOW)
    assert watch.failing(NOW) == ("s2",)
    started = replace(scaling, running=3)
    assert FailingWatch().observe(state_of([_node(1)], [started]), NOW + S).failing(
        NOW + S) == ()
    assert watch.observe(state_of([_node(1)], [started]), NOW + S).failing(NOW + S) == ()


def test_a_removed_service_is_forgotten() -> None:
    failed = _task("a", "s1", 1, "node01id", state="failed", status_ns=NOW)
    watch = FailingWatch().observe(
        state_of([_node(1)], [_svc("s1", "web", 1, running=0, desired=1)], [failed]), NOW)
    assert watch.observe(state_of([_node(1)]), NOW + S).failing(NOW + S) == ()
