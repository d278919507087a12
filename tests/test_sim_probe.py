"""The simulator runs swarmtui's node probes: a service labelled ``swarmtui.probe`` gets one
task per node it may run on, and each task's log carries the framed HTTP answers of its
script's requests from that node's own simulated engine, so the model's collector
(reassemble, parse_http) reads them like a real probe's. Also ``swarmtui --demo df
--all-nodes`` covering every node a probe can reach."""

from __future__ import annotations

import json
import subprocess
import sys

from swarmtui.engine.probe import DF_REQUESTS, NodeProbe, ProbeConfig
from swarmtui.model.probe import (
    answer_json,
    frame_lines,
    parse_http,
    probe_script,
    reassemble,
    without_probe_containers,
)
from swarmtui.sim import inventory
from swarmtui.sim.probe import answer as sim_answer
from swarmtui.sim.probe import frame_lines as sim_frame_lines
from swarmtui.sim.probe import requests_of
from swarmtui.sim.scenarios import build


def test_sim_framing_is_the_models() -> None:
    payload = bytes(range(256)) * 100
    assert sim_frame_lines("df", payload) == frame_lines("df", payload)
    assert sim_frame_lines("x", b"") == frame_lines("x", b"")


def test_requests_are_read_back_from_the_script() -> None:
    assert requests_of(probe_script(DF_REQUESTS)) == [
        (r.key, r.method, r.path) for r in DF_REQUESTS]


def test_probe_tasks_answer_from_their_own_node() -> None:
    c = build("demo")
    leader = c.local_node_id
    spec = NodeProbe(None, ProbeConfig(), DF_REQUESTS,  # type: ignore[arg-type]
                     clock=lambda: c.now_ns / 1e9).service_spec([leader])
    sid = c.create_service(spec)["ID"]
    c.advance(8)
    tasks = list(c.services[sid].tasks.values())
    hosts = sorted(c.nodes[t.node_id].hostname for t in tasks)
    assert hosts == ["manager-2", "worker-1"]  # not the leader (constraint), drained, down
    for t in tasks:
        assert t.state == "running"
        got = reassemble(line.text for line in c.task_logs(t.id).lines)
        assert sorted(got.answers) == ["df", "info", "version"] and not got.incomplete
        assert parse_http(got.answers["df"]).status == 200
        info = answer_json(got.answers["info"], "info")
        assert info["Name"] == c.nodes[t.node_id].hostname
        assert info["Swarm"]["NodeID"] == t.node_id
        df = answer_json(got.answers["df"], "df")
        # That node's inventory, its own probe container among the containers (as on a real
        # node), which the collector leaves out.
        mine = inventory.df_json(c, t.node_id)
        assert [i["Id"] for i in df["Images"]] == [i["Id"] for i in mine["Images"]]
        assert any(x["Labels"].get("swarmtui.probe") == "1" for x in df["Containers"])
        assert len(without_probe_containers(df)["Containers"]) == len(df["Containers"]) - 1
        # A worker's engine knows no cluster object.
        role = c.nodes[t.node_id].role
        assert ("Cluster" in info["Swarm"]) == (role == "manager")
    # The answers differ per node: not the leader's df everywhere.
    leader_df = inventory.df_json(c, leader)
    assert all(answer_json(reassemble(line.text for line in c.task_logs(t.id).lines)
                           .answers["df"], "df")["Containers"] != leader_df["Containers"]
               for t in tasks)
    c.remove_service(sid)
    c.advance(5)
    assert sid not in c.services and not any(t.service_id == sid for t in c.tasks.values())


def test_demo_df_all_nodes_covers_every_probeable_node() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmtui", "--demo", "df", "--all-nodes", "--yes", "--json"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    covered = {r["node"]["hostname"]: r for r in rows if r["covered"]}
    assert sorted(covered) == ["manager-1", "manager-2", "worker-1"]
    assert all(r["df"] is not None for r in covered.values())
    assert covered["worker-1"]["source"] == "probe"
    assert covered["worker-1"]["url"] == "probe://worker-1"
    missing = {r["node"]["hostname"]: r["error"] for r in rows if not r["covered"]}
    assert missing == {"worker-2": "not covered: drained: it runs no tasks",
                       "worker-3": "not covered: down: a probe cannot start there"}


def test_probe_listings_answer_from_their_own_node() -> None:
    """A prune preview's and the images view's probe ask for the node's lists, not only df:
    each is that node's own, the same objects its df counts."""
    c = build("demo")
    worker = next(n for n in c.nodes.values() if n.hostname == "worker-1").id
    df = inventory.df_json(c, worker)
    for path, ids in (
        ("/v1.41/containers/json?all=1", [x["Id"] for x in df["Containers"]]),
        ("/v1.41/images/json?all=1", [x["Id"] for x in df["Images"]]),
    ):
        got = parse_http(sim_answer(c, worker, "GET", path))
        assert got.status == 200, path
        assert sorted(x["Id"] for x in json.loads(got.body)) == sorted(ids)
    volumes = parse_http(sim_answer(c, worker, "GET", "/v1.41/volumes"))
    assert volumes.status == 200
    assert [v["Name"] for v in json.loads(volumes.body)["Volumes"]] == [
        v["Name"] for v in df["Volumes"]]
    assert parse_http(sim_answer(c, worker, "GET", "/v1.41/networks")).status == 200


def test_demo_prune_all_nodes_previews_every_probed_node() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmtui", "--demo", "prune", "images", "--all-nodes",
         "--dry-run", "--yes"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "cannot preview" not in proc.stderr
    assert "worker-1" in proc.stdout and "manager-2" in proc.stdout


def test_demo_prune_one_node_lists_only_that_node() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmtui", "--demo", "prune", "images", "--node", "worker-1",
         "--dry-run", "--yes"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "probe   worker-1" in proc.stderr
    # The other nodes have no engine configured: they were listed as "direct … configured".
    assert "direct  worker-2" not in proc.stderr and "worker-2" not in proc.stdout


def test_demo_prune_a_node_no_probe_reaches_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmtui", "--demo", "prune", "images", "--node", "worker-3",
         "--dry-run", "--yes"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "swarmtui: error: worker-3 is not covered: down: a probe cannot start there")
    assert "Creates" not in proc.stderr + proc.stdout
