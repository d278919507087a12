"""`--demo`'s script on the simulator's virtual clock: one loop shows a rolling update that
completes, an update to a crashing release that rolls back, a node drained and brought back,
and a scale — and the loop can go round again."""

from __future__ import annotations

import pytest

from swarmtui.demo import DEMO_STEP_S, DRAINED_NODE, _demo_script
from swarmtui.model.parse import parse_service, parse_tasks
from swarmtui.model.timeline import COMPLETED, ROLLED_BACK, timeline_for
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import DEMO_BAD_RELEASE, build

pytestmark = pytest.mark.timeout(120)


def _states(c: SimCluster, service: str) -> list[str]:
    sid = c.resolve_service(service).id
    out = []
    for e in c.events_since(filters={"type": ["service"], "service": [sid]}):
        state = e["Actor"]["Attributes"].get("updatestate.new")
        if state:
            out.append(state)
    return out


def _run_loop(c: SimCluster) -> dict[str, list[str]]:
    """Every step, then DEMO_STEP_S of virtual time in 0.5 s polls; what the screen saw."""
    seen: dict[str, list[str]] = {"shop_web": [], "shop_api": [], "availability": [],
                                  "whoami": []}
    for step in _demo_script(c):
        step()
        for _ in range(int(DEMO_STEP_S / 0.5)):
            c.advance(0.5)
            for name in ("shop_web", "shop_api"):
                state = (c.service_json(name).get("UpdateStatus") or {}).get("State", "")
                if state and (not seen[name] or seen[name][-1] != state):
                    seen[name].append(state)
            avail = c.node_json(DRAINED_NODE)["Spec"]["Availability"]
            if not seen["availability"] or seen["availability"][-1] != avail:
                seen["availability"].append(avail)
            replicas = str(c.service_json("whoami")["Spec"]["Mode"]["Replicated"]["Replicas"])
            if not seen["whoami"] or seen["whoami"][-1] != replicas:
                seen["whoami"].append(replicas)
    return seen


def _verdict(c: SimCluster, service: str) -> str:
    svc = c.service_json(service)
    tl = timeline_for(parse_service(svc), parse_tasks(c.tasks_json({"service": [svc["ID"]]})),
                      c.now_ns)
    assert tl is not None
    return tl.outcome


def test_one_loop_updates_rolls_back_drains_undrains_and_scales() -> None:
    c = build("demo")
    start = c.now_ns
    seen = _run_loop(c)
    assert seen["shop_web"] == ["updating", "completed"]
    assert seen["shop_api"] == ["updating", "rollback_started", "rollback_completed"]
    assert seen["availability"] == ["active", "drain", "active"]
    assert seen["whoami"] == ["2", "4"]
    assert _verdict(c, "shop_web") == COMPLETED
    assert _verdict(c, "shop_api") == ROLLED_BACK
    api = c.service_json("shop_api")
    assert api["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].endswith(":2.4.1")
    assert api["UpdateStatus"]["Message"] == "rollback completed"
    failed = [t for t in c.tasks_json({"service": ["shop_api"]})
              if t["Spec"]["ContainerSpec"]["Image"] == DEMO_BAD_RELEASE
              and t["Status"]["State"] == "failed"]
    assert failed and failed[0]["Status"]["Err"] == "task: non-zero exit (3)"
    assert failed[0]["Status"]["ContainerStatus"]["ExitCode"] == 3
    node_events = [e["Actor"]["Attributes"] for e in c.events_since(start)
                   if e["Type"] == "node" and "availability.new" in e["Actor"]["Attributes"]]
    assert [a["availability.new"] for a in node_events] == ["drain", "active"]
    # Nothing of the drained node's is left running while it was drained; it is back now.
    assert c.service_status(c.resolve_service("whoami"))["RunningTasks"] == 4


def test_the_loop_goes_round_again() -> None:
    c = build("demo")
    _run_loop(c)
    seen = _run_loop(c)
    assert seen["shop_web"][-1] == "completed" and "updating" in seen["shop_web"]
    assert seen["shop_api"][-3:] == ["updating", "rollback_started", "rollback_completed"]
    assert seen["availability"] == ["active", "drain", "active"]
    assert seen["whoami"] == ["4", "2"]
