"""Node probes against the real 3-node lab, with no engine configured but the manager's:
``swarmtui df --all-nodes`` covers every node through a global service on the swarm itself,
each node's numbers equal ``docker -H NODE system df`` (and ``-v``), and no probe service (nor
any of its tasks: a removed global *job* would leave them, moby#42789) is left after success,
a timeout, a failure or Ctrl-C; ``--read-only`` sends no mutating request.

The probe image is ``swarmtui-probe:lab`` (busybox + the host's docker CLI, imported on
every node by ``Lab.ensure_probe_image``); each node's socket is reached through a
``{{.Node.Hostname}}`` template over per-hostname symlinks in the lab dir.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from counting_proxy import CountingProxy
from lab_plugin import wait_until
from swarmlab import Lab
from test_disk_lab import df_rows, swarmtui

pytestmark = pytest.mark.lab

LABEL_FILTER = "?filters=" + quote(json.dumps({"label": ["swarmtui.probe=1"]}))
RECENT_AGE = re.compile(r"(Less than a second|About a minute|\d+ (?:seconds|minutes)) ago")


def recent_ages_masked(table: str) -> list[list[str]]:
    """The table's cells, with docker's go-units ages of under an hour as one token (the
    column padding may then differ by a character, so cells, not text, are compared)."""
    return [RECENT_AGE.sub("<recent>", line).split() for line in table.splitlines()]


@pytest.fixture
def probe(swarm: Lab, tmp_path: Path) -> Iterator[tuple[Lab, list[str], dict[str, str]]]:
    """The lab, the probe flags and an environment without any configured engine."""
    image, sock = swarm.ensure_probe_image()
    env = {**swarm.docker_env(0), "XDG_CONFIG_HOME": str(tmp_path)}
    yield swarm, ["--probe-image", image, "--probe-socket", sock], env
    assert probe_services(swarm) == []
    wait_until(lambda: not probe_tasks(swarm), 30, "the probe's tasks to be removed")


def probe_tasks(lab: Lab) -> list[str]:
    return [t["ID"] for t in lab.api("/tasks")
            if ((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels", {}).get(
                "swarmtui.probe") == "1"]


def probe_services(lab: Lab) -> list[str]:
    return [s["Spec"]["Name"] for s in lab.api("/services" + LABEL_FILTER)]


def summary_rows(obj: dict[str, Any]) -> list[list[str]]:
    return [[s["type"], str(s["total_count"]), str(s["active_count"]), s["size"],
             s["reclaimable"]] for s in obj["df"]["summary"]]


def wait_probe_containers_gone(lab: Lab) -> None:
    """The job's task containers are removed by each node's agent shortly after the job."""
    def gone() -> bool:
        return all(not lab.api("/containers/json" + LABEL_FILTER + "&all=1", node=i)
                   for i in range(len(lab.nodes)))
    wait_until(gone, 30, "probe task containers to be removed")


def test_df_all_nodes_covers_every_node_like_docker_system_df(probe: Any) -> None:
    lab, flags, env = probe
    res = swarmtui(*flags, "df", "--all-nodes", "--json", "--yes", env=env)
    assert res.returncode == 0, res.stderr
    assert probe_services(lab) == []  # removed before the command returned
    data = json.loads(res.stdout)
    assert sorted(o["engine"] for o in data) == sorted(lab.hostnames)
    assert all(o["covered"] and o["reachable"] and o["error"] is None for o in data)
    by_name = {o["engine"]: o for o in data}
    assert by_name[lab.nodes[0].name]["source"] != "probe"  # the manager's own engine wins
    for n in lab.nodes[1:]:
        obj = by_name[n.name]
        assert (obj["source"], obj["url"]) == ("probe", f"probe://{n.name}")
        assert obj["node"]["hostname"] == n.name and obj["api_version"] == "1.41"
    wait_probe_containers_gone(lab)
    for n in lab.nodes:
        assert summary_rows(by_name[n.name]) == df_rows(
            lab.docker("system", "df", node=n.index).stdout), n.name

    # -v: the same tables as docker system df -v on a probed node. Ages under an hour are
    # masked: the probe image may have been imported seconds ago (another test removes it),
    # and two reads a few seconds apart then say "4 seconds" and "7 seconds".
    out = swarmtui(*flags, "df", "--all-nodes", "-v", "--yes", env=env)
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.split("==> ")
    mine = next(b for b in blocks if b.startswith(f"{lab.nodes[2].name} (probe://"))
    wait_probe_containers_gone(lab)
    theirs = lab.docker("system", "df", "-v", node=2).stdout
    assert recent_ages_masked(mine.split("<==\n", 1)[1].rstrip("\n")) == recent_ages_masked(
        theirs.rstrip("\n"))


def test_drained_node_is_not_covered_with_the_reason(probe: Any) -> None:
    lab, flags, env = probe
    lab.docker("node", "update", "--availability", "drain", lab.nodes[2].name)
    res = swarmtui(*flags, "df", "--all-nodes", "--json", "--yes", env=env)
    assert res.returncode == 0, res.stderr
    data = {(o["node"] or {}).get("hostname"): o for o in json.loads(res.stdout)}
    assert data[lab.nodes[1].name]["reachable"]
    drained = data[lab.nodes[2].name]
    assert (drained["covered"], drained["error"]) == (False,
                                                     "not covered: drained: it runs no tasks")


def test_no_probe_service_after_a_timeout_or_a_failure(probe: Any) -> None:
    lab, flags, env = probe
    res = swarmtui(*flags, "df", "--all-nodes", "--probe-timeout", "0.05", "--yes", env=env)
    assert res.returncode == 1
    assert "no answer from the probe within 0.05s" in res.stderr
    assert probe_services(lab) == []

    bad = [flags[0], "swarmtui-probe:missing", *flags[2:]]
    res = swarmtui(*bad, "df", "--all-nodes", "--yes", env=env)
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("swarmtui: error: not every node answered the probe: ")
    assert "probe task rejected" in last or "probe task failed" in last, last
    assert probe_services(lab) == []
    # stdout still has the manager's own df
    assert f"==> {lab.nodes[0].name} (unix://" in res.stdout


@pytest.fixture
def silent_socket(tmp_path: Path) -> Iterator[Path]:
    """A unix socket that accepts and never answers: the probe's tasks wait forever."""
    path = Path("/tmp") / f"swt-silent-{os.getpid()}.sock"
    path.unlink(missing_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield path
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()
        path.unlink(missing_ok=True)


def test_no_probe_service_after_ctrl_c(probe: Any, silent_socket: Path) -> None:
    lab, flags, env = probe
    argv = [flags[0], flags[1], "--probe-socket", str(silent_socket)]
    proc = subprocess.Popen([sys.executable, "-m", "swarmtui", *argv, "df", "--all-nodes",
                             "--yes"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: probe_services(lab), 30, "the probe service to exist")
        time.sleep(0.5)  # the tasks are talking to the silent socket now
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert probe_services(lab) == []


def test_read_only_creates_no_service(probe: Any) -> None:
    lab, flags, env = probe
    with CountingProxy(lab.manager.sock) as proxy:
        res = swarmtui("--read-only", *flags, "df", "--all-nodes", "--yes",
                       env={**env, "DOCKER_HOST": proxy.url})
    assert res.returncode == 1
    assert res.stderr == ("swarmtui: error: --all-nodes needs to create a probe service; "
                          "refused in read-only\n")
    assert proxy.mutating() == []
    assert probe_services(lab) == []


def test_without_a_terminal_and_without_yes_it_refuses(probe: Any) -> None:
    lab, flags, env = probe
    with CountingProxy(lab.manager.sock) as proxy:
        res = swarmtui(*flags, "df", "--all-nodes", env={**env, "DOCKER_HOST": proxy.url})
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "stdin is not a terminal" in res.stderr
    assert proxy.mutating() == []
