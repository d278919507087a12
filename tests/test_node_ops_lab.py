"""Nodes on the real swarm lab: the nodes view's rows are what ``docker node ls`` prints; a
drain previews the tasks it moves (and flags a pinned one with nowhere to go), then they run
elsewhere; demoting the only manager is refused with nothing sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from lab_plugin import wait_until
from swarmlab import Lab

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.target import EngineTarget
from swarmtui.model.parse import parse_nodes
from swarmtui.model.state import ClusterState
from swarmtui.model.tables import node_rows
from swarmtui.model.types import EngineInfo, SwarmInfo
from swarmtui.ops.executor import Executor
from swarmtui.ops.node import Demote, SetAvailability

pytestmark = pytest.mark.lab

WEB, PINNED = "swt-node-web", "swt-node-pinned"
CMD = ["busybox:lab", "sh", "-c", "while true; do sleep 5; done"]


@pytest.fixture
async def client(swarm: Lab) -> AsyncIterator[EngineClient]:
    c = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await c.connect()
    yield c
    await c.close()


def running(lab: Lab, service: str) -> list[tuple[str, str]]:
    """(task ID, node hostname) of the service's tasks that run, per docker service ps."""
    out = lab.docker("service", "ps", "--no-trunc", "--filter", "desired-state=running",
                     "--format", "{{.ID}} {{.Node}} {{.CurrentState}}", service).stdout
    return [(f[0], f[1]) for f in (line.split() for line in out.splitlines())
            if len(f) > 2 and f[2] == "Running"]


def test_the_nodes_view_agrees_with_docker_node_ls(swarm: Lab) -> None:
    swarm.docker("node", "update", "--availability", "pause", "--label-add", "zone=b",
                 "lab-node3")
    self_id = swarm.api("/info")["Swarm"]["NodeID"]
    state = ClusterState(
        engine=EngineInfo(endpoint=swarm.manager_host, version="", api_version="",
                          min_api_version="", os="", arch="", swarm=SwarmInfo(node_id=self_id)),
        nodes={n.id: n for n in parse_nodes(swarm.api("/nodes"))})
    ours = [cells[:6] for _, cells in node_rows(state)]
    fmt = ("{{.ID}}{{if .Self}} *{{end}}|{{.Hostname}}|{{.Status}}|{{.Availability}}|"
           "{{.ManagerStatus}}|{{.EngineVersion}}")
    theirs = [tuple(line.split("|")) for line in
              swarm.docker("node", "ls", "--format", fmt).stdout.splitlines()]
    assert ours == theirs
    assert ("Pause" in ours[2][3]) and node_rows(state)[2][1][8] == "zone=b"


async def test_a_drain_previews_its_tasks_and_moves_them(swarm: Lab,
                                                         client: EngineClient) -> None:
    swarm.docker("service", "create", "--detach", "--no-resolve-image", "--name", WEB,
                 "--replicas", "3", *CMD)
    swarm.docker("service", "create", "--detach", "--no-resolve-image", "--name", PINNED,
                 "--constraint", "node.hostname==lab-node2", *CMD)
    wait_until(lambda: len(running(swarm, WEB)) == 3 and len(running(swarm, PINNED)) == 1,
               60, "4 tasks running")
    on_node2 = [tid for tid, host in running(swarm, WEB) if host == "lab-node2"]
    assert on_node2, "the spread put a web task on lab-node2"
    executor = Executor()
    plan = await executor.plan(SetAvailability(client, "lab-node2", "drain"))
    preview: Any = plan.preview
    shown = "\n".join(preview.blocks)
    for tid in on_node2:
        line = next(x for x in shown.splitlines() if tid[:12] in x)
        assert "moves to lab-node1 or lab-node3" in line, shown
    pinned = next(x for x in shown.splitlines() if PINNED in x)
    assert ("NOWHERE TO GO: lab-node2 is the only node that satisfies "
            "node.hostname==lab-node2") in pinned
    assert "1 have NOWHERE TO GO" in preview.summary

    assert (await executor.execute(plan)).ok
    wait_until(lambda: (tasks := running(swarm, WEB)) and len(tasks) == 3
               and all(host != "lab-node2" for _, host in tasks), 60,
               "the web tasks run on the other nodes")
    assert swarm.docker("node", "inspect", "--format", "{{.Spec.Availability}}",
                        "lab-node2").stdout.strip() == "drain"
    assert running(swarm, PINNED) == []

    back = await executor.plan(SetAvailability(client, "lab-node2", "active"))
    assert "Availability: drain → active" in back.preview.blocks[0]
    assert (await executor.execute(back)).ok
    wait_until(lambda: running(swarm, PINNED), 60, "the pinned task runs again on lab-node2")


async def test_demoting_the_only_manager_is_refused(swarm: Lab, client: EngineClient) -> None:
    with pytest.raises(EngineError, match="lab-node1 is the only manager"):
        await Executor().plan(Demote(client, "lab-node1"))
    managers = swarm.docker("node", "ls", "--filter", "role=manager", "-q").stdout.split()
    assert len(managers) == 1
