"""The simulated engine's JSON holds the live lab's shapes: every key path (and JSON type)
the real engine returns for the same kinds of objects, the simulator returns too."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest
from swarmlab import Lab
from test_sim import assert_shape

from swarmtui.sim.scenarios import build, cli_service
from swarmtui.sim.util import NS

pytestmark = pytest.mark.lab


def _service(lab: Lab, *args: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", *args, "busybox:lab",
               "sh", "-c", "while true; do echo tick; sleep 2; done")


def test_sim_shapes_hold_against_the_live_lab(swarm: Lab) -> None:
    _service(swarm, "--name", "web", "--replicas", "3", "--label", "team=a",
             "--update-parallelism", "1", "--update-delay", "2s")
    _service(swarm, "--name", "agent", "--mode", "global")
    swarm.docker("service", "update", "--detach", "--replicas", "2", "web")  # a PreviousSpec

    def listed(path: str) -> list[Any]:
        data = swarm.api(path)
        assert isinstance(data, list)
        return data

    sim = build("demo")
    assert_shape(listed("/nodes"), sim.nodes_json())
    assert_shape(listed("/services?status=true"), sim.services_json(status=True))
    assert_shape(listed("/tasks"), sim.tasks_json())
    assert_shape([swarm.api("/info")["Swarm"]], [sim.info_json()["Swarm"]])
    assert_shape([swarm.api("/version")], [sim.version_json()])


def test_update_status_and_previous_spec_shapes_hold_against_the_live_lab(swarm: Lab) -> None:
    """A finished image update (UpdateStatus with CompletedAt, PreviousSpec, the old task shut
    down) and a manual rollback's status: the sim's JSON has every key path of the lab's."""
    _service(swarm, "--name", "upd", "--replicas", "1", "--update-delay", "1s",
             "--update-monitor", "1s")
    swarm.docker("service", "update", "--detach", "--image", "busybox:lab2", "upd")

    def state() -> str:
        return str((swarm.api("/services/upd").get("UpdateStatus") or {}).get("State", ""))

    deadline = time.monotonic() + 90
    while state() != "completed":
        assert time.monotonic() < deadline, f"lab update stuck in {state()!r}"
        time.sleep(0.5)
    completed = swarm.api("/services/upd")
    flt = urllib.parse.quote(json.dumps({"service": ["upd"]}))
    tasks = swarm.api(f"/tasks?filters={flt}")
    swarm.docker("service", "rollback", "--detach", "upd")
    rolled = swarm.api("/services/upd")
    assert rolled["UpdateStatus"]["State"] in ("rollback_started", "rollback_completed")

    sim = build("demo")
    spec = cli_service("upd", "busybox:lab", 1, args=["sh", "-c", "while true; do echo tick; "
                                                      "sleep 2; done"])
    spec["UpdateConfig"] = {"Parallelism": 1, "Delay": NS, "FailureAction": "pause",
                            "Monitor": NS, "MaxFailureRatio": 0, "Order": "stop-first"}
    sim.create_service(spec)
    sim.advance(10)
    sim.set_image("upd", "busybox:lab2")
    for _ in range(120):
        sim.advance(0.5)
        if sim.service_json("upd")["UpdateStatus"]["State"] == "completed":
            break
    svc = sim.service_json("upd")
    assert svc["UpdateStatus"]["State"] == "completed" and "PreviousSpec" in svc
    assert_shape([completed], [svc])
    assert_shape(tasks, sim.tasks_json({"service": ["upd"]}))
    sim.rollback_service("upd")
    assert_shape([rolled], [sim.service_json("upd")])


def test_task_node_filter_matches_the_live_lab(swarm: Lab) -> None:
    """The reconciler lists a node's tasks with ``{"node": [id]}`` after a node event: the
    engine takes ids or hostnames (ORed), and answers 404 for a node it does not know (so the
    reconciler never asks for a removed node). The sim behaves the same way."""
    from swarmlab import api_request

    from swarmtui.sim.util import SimError

    _service(swarm, "--name", "spread", "--replicas", "6")
    deadline = time.monotonic() + 60
    while sum(t["Status"]["State"] == "running" for t in swarm.api("/tasks")) < 6:
        assert time.monotonic() < deadline, "lab tasks did not start"
        time.sleep(0.5)

    def by_node(*refs: str) -> list[dict[str, Any]]:
        flt = urllib.parse.quote(json.dumps({"node": list(refs)}))
        data = swarm.api(f"/tasks?filters={flt}")
        assert isinstance(data, list)
        return data

    nodes = swarm.api("/nodes")
    first, second = nodes[0], nodes[1]
    mine = by_node(first["ID"])
    assert mine and {t["NodeID"] for t in mine} == {first["ID"]}
    assert {t["ID"] for t in by_node(first["Description"]["Hostname"])} == {t["ID"] for t in mine}
    both = by_node(first["ID"], second["ID"])
    assert {t["NodeID"] for t in both} == {first["ID"], second["ID"]}
    flt = urllib.parse.quote(json.dumps({"node": ["nosuchnode"]}))
    status, _ = api_request(swarm.nodes[0].sock, "GET", f"/tasks?filters={flt}")
    assert status == 404

    sim = build("demo")
    node = next(iter(sim.nodes.values()))
    listed = sim.tasks_json({"node": [node.id]})
    assert listed and {t["NodeID"] for t in listed} == {node.id}
    assert sim.tasks_json({"node": [node.name]}) == listed
    with pytest.raises(SimError) as err:
        sim.tasks_json({"node": ["nosuchnode"]})
    assert err.value.status == 404
