"""The list screens' rows (model/tables): what each column says, in the docker CLI's order."""

from __future__ import annotations

from dataclasses import replace

from uistate import _node, _svc, fixed_swarm

from swarmtui.model.state import ClusterState
from swarmtui.model.tables import NODE_COLUMNS, SERVICE_COLUMNS, node_rows, service_rows
from swarmtui.model.types import PortMapping, UpdateStatus


def test_service_rows_by_name_with_replicas_image_stack_update_and_ports() -> None:
    web = replace(_svc("svcweb", "shop_web", 3, "shop", running=2, desired=3),
                  image="nginx:1.25@sha256:abc",
                  update_status=UpdateStatus(state="updating"),
                  ports=(PortMapping(target=80, published=8080, protocol="tcp"),))
    agent = _svc("svcagent", "agent", None, mode="global", running=2, desired=2)
    rows = service_rows(ClusterState(services={s.id: s for s in (web, agent)}))
    assert rows == [
        ("svcagent", ("agent", "global", "2/2", "busybox:lab", "-", "-", "-")),
        ("svcweb", ("shop_web", "replicated", "2/3", "nginx:1.25", "shop", "updating",
                    "*:8080->80/tcp")),
    ]
    assert all(len(cells) == len(SERVICE_COLUMNS) for _, cells in rows)


def test_node_rows_are_docker_node_ls() -> None:
    state = fixed_swarm().store.state  # we talk to node01id, the leader
    rows = node_rows(state)
    assert rows[0] == ("node01id", ("node01id *", "lab-node1", "Ready", "Active", "Leader",
                                    "20.10.24+dfsg1", "2", "23.54GiB", "-"))
    assert [cells[1:5] for _, cells in rows[1:]] == [
        ("lab-node2", "Ready", "Active", ""),
        ("lab-node3", "Ready", "Drain", ""),
        ("lab-node4", "Down", "Active", ""),
    ]
    assert all(len(cells) == len(NODE_COLUMNS) for _, cells in rows)


def test_node_rows_list_labels_sorted_and_cut_to_fit() -> None:
    nodes = [_node(1, labels=(("zone", "b"), ("ssd", ""))),
             _node(2, id="n2", hostname="lab-node2", labels=(("k", "v" * 60),))]
    rows = node_rows(ClusterState(nodes={n.id: n for n in nodes}))
    assert rows[0][1][8] == "ssd,zone=b"
    assert len(rows[1][1][8]) == 40 and rows[1][1][8].endswith("…")


def test_node_rows_sort_hostnames_naturally_and_say_manager_reachability() -> None:
    nodes = [
        _node(1, id="n10", hostname="node10"),
        _node(2, id="n2", hostname="node2", role="manager", reachability="reachable"),
        _node(3, id="n3", hostname="node3", role="manager", reachability="unreachable"),
    ]
    rows = node_rows(ClusterState(nodes={n.id: n for n in nodes}))  # no engine: no "*"
    assert [(key, cells[0], cells[4]) for key, cells in rows] == [
        ("n2", "n2", "Reachable"),
        ("n3", "n3", "Unreachable"),
        ("n10", "n10", "Leader"),
    ]
