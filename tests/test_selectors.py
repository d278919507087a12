"""What the header reports as needing attention (model/selectors.attention)."""

from __future__ import annotations

from dataclasses import replace

from uistate import NOW, _node, _svc, _task, fixed_swarm

from swarmtui.model.selectors import Attention, attention, failing_services
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
