"""Smoke tests of the swarm lab itself (tests/swarmlab.py + tests/lab_plugin.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from lab_plugin import wait_until as wait_for
from swarmlab import IMAGE, IMAGE2, Lab

# Harmless if tests/conftest.py already loads it; lets this file run on its own too.
pytest_plugins = ["lab_plugin"]
pytestmark = pytest.mark.lab




def running_tasks(lab: Lab, service: str) -> list[dict[str, Any]]:
    filters = quote(json.dumps({"service": [service], "desired-state": ["running"]}))
    tasks: list[dict[str, Any]] = lab.api(f"/tasks?filters={filters}")
    return [t for t in tasks if t["Status"]["State"] == "running"]


def test_nodes_ready_with_hostnames(swarm: Lab) -> None:
    lab = swarm
    out = lab.docker(
        "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}"
    ).stdout
    rows = sorted(line.split() for line in out.splitlines())
    assert rows == [
        ["lab-node1", "Ready", "Active", "Leader"],
        ["lab-node2", "Ready", "Active"],
        ["lab-node3", "Ready", "Active"],
    ]
    for i, node in enumerate(lab.nodes):
        info = lab.docker("info", "--format", "{{.Name}} {{.Swarm.LocalNodeState}}", node=i)
        assert info.stdout.split() == [node.name, "active"]
        assert node.host == f"unix://{node.sock}"
    assert lab.manager_host == lab.nodes[0].host


def test_images_and_metrics_on_every_node(swarm: Lab) -> None:
    lab = swarm
    for i in range(len(lab.nodes)):
        tags = lab.docker("images", "--format", "{{.Repository}}:{{.Tag}}", node=i).stdout
        assert {IMAGE, IMAGE2} <= set(tags.split())
        assert "engine_daemon_engine_info" in lab.metrics(i)


def test_replicated_service_spreads_over_nodes(swarm: Lab) -> None:
    swarm.docker(
        "service",
        "create",
        "--detach",
        "--name",
        "smoke",
        "--replicas",
        "3",
        "--no-resolve-image",
        IMAGE,
    )
    tasks = wait_for(
        lambda: len(running_tasks(swarm, "smoke")) == 3 and running_tasks(swarm, "smoke"),
        30,
        "3 running tasks",
    )
    assert len({t["NodeID"] for t in tasks}) == 3
    replicas = swarm.docker(
        "service", "ls", "--filter", "name=smoke", "--format", "{{.Replicas}}"
    ).stdout.strip()
    assert replicas == "3/3"


def test_manager_restart_is_survived(swarm: Lab) -> None:
    swarm.docker(
        "service",
        "create",
        "--detach",
        "--name",
        "survivor",
        "--replicas",
        "3",
        "--no-resolve-image",
        IMAGE,
    )
    wait_for(lambda: len(running_tasks(swarm, "survivor")) == 3, 30, "3 running tasks")
    seconds = swarm.restart_daemon(0)
    assert seconds < 60
    out = swarm.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    assert sorted(out.splitlines()) == [f"lab-node{i} Ready" for i in (1, 2, 3)]
    # The service is still in the raft store and its tasks come back.
    wait_for(lambda: len(running_tasks(swarm, "survivor")) == 3, 60, "3 running tasks again")


def test_worker_stop_and_start(swarm: Lab) -> None:
    swarm.stop_daemon(2)
    assert not swarm.daemon_running(2)
    swarm.start_daemon(2)
    assert swarm.daemon_running(2)
    assert swarm.node_states()["lab-node3"] == ("ready", "active")


def test_stack_and_cleanup(swarm: Lab, tmp_path: Any) -> None:
    # Imported here: importing the plugin at module level defeats its assert rewriting.
    from lab_plugin import clean_swarm

    compose = tmp_path / "stack.yml"
    compose.write_text(
        "version: '3.8'\n"
        "services:\n"
        "  web:\n"
        f"    image: {IMAGE}\n"
        '    command: ["sh", "-c", "echo $$HOSTNAME; exec httpd -f -p 8080"]\n'
        "    networks: [back]\n"
        "    secrets: [token]\n"
        "    configs: [conf]\n"
        "    deploy: {replicas: 2}\n"
        "networks:\n"
        "  back: {driver: overlay}\n"
        "secrets:\n"
        f"  token: {{file: {compose}}}\n"
        "configs:\n"
        f"  conf: {{file: {compose}}}\n"
    )
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(compose), "smk")
    wait_for(lambda: len(running_tasks(swarm, "smk_web")) == 2, 60, "stack tasks running")
    swarm.docker("node", "update", "--availability", "drain", "--label-add", "x=1", "lab-node2")

    clean_swarm(swarm)

    assert swarm.api("/services") == []
    assert swarm.api("/secrets") == [] and swarm.api("/configs") == []
    assert swarm.api("/tasks") == []
    nets = {n["Name"] for n in swarm.api("/networks")}
    assert nets <= {"bridge", "host", "none", "docker_gwbridge", "ingress"}
    for i in range(len(swarm.nodes)):
        assert swarm.api("/containers/json?all=1", node=i) == []
    assert all(state == ("ready", "active") for state in swarm.node_states().values())
    labels = [n["Spec"].get("Labels") for n in swarm.api("/nodes")]
    assert not any(labels)


def test_newer_engine_single_node_swarm(newer_swarm: Lab) -> None:
    version = newer_swarm.docker(
        "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}"
    ).stdout.split()
    assert version[0].startswith("26.1") and version[1] == "1.45"
    assert newer_swarm.node_states() == {"lab-newer": ("ready", "active")}
    newer_swarm.docker(
        "service",
        "create",
        "--detach",
        "--name",
        "nsmoke",
        "--replicas",
        "2",
        "--no-resolve-image",
        IMAGE2,
    )
    wait_for(lambda: len(running_tasks(newer_swarm, "nsmoke")) == 2, 30, "2 running tasks")
