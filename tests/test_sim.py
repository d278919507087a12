"""The simulated engine: determinism, shape contract vs the lab captures, orchestrator
behaviour, and its HTTP server driven by aiodocker, the real docker CLI and the app itself."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
import pytest
from disk_fakes import permit_for_tests

from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import DEFAULT_START_NS, build, cli_service
from swarmtui.sim.server import SimServer, start_sim_server
from swarmtui.sim.util import NS, SimError, go_json

pytestmark = pytest.mark.timeout(120)
LAB = Path("/work/shared/reference/docker-api/lab")
ROOT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "engine"
START = DEFAULT_START_NS


def dump(c: SimCluster) -> bytes:
    return b"".join(go_json(x) for x in (
        c.nodes_json(), c.services_json(True), c.tasks_json(), c.events_since(),
        c.system_df_json(), c.info_json(), c.swarm_json(), c.secrets_json(), c.configs_json(),
        c.networks_json()))


def live_slots(c: SimCluster, service: str) -> Counter[int]:
    return Counter(t["Slot"] for t in c.tasks_json({"service": [service]})
                   if t["DesiredState"] in ("running", "ready"))


def image(t: dict[str, Any]) -> str:
    return str(t["Spec"]["ContainerSpec"]["Image"])


def until(c: SimCluster, pred: Any, limit_s: float = 300, step: float = 0.5) -> None:
    for _ in range(int(limit_s / step)):
        if pred():
            return
        c.advance(step)
    raise AssertionError("condition not reached in virtual time")


# ============================================================================ determinism


def test_build_ending_at_aligns_the_clock() -> None:
    from swarmtui.sim.scenarios import build_ending_at

    end = 1_795_610_000 * NS
    c = build_ending_at("demo", end)
    assert c.now_ns == end and dump(c) == dump(build_ending_at("demo", end))


def test_same_seed_same_bytes_and_seed_matters() -> None:
    assert dump(build("demo")) == dump(build("demo"))
    assert dump(build("demo", seed=2)) != dump(build("demo"))
    ids = [n["ID"] for n in build("demo").nodes_json()]
    assert all(re.fullmatch(r"[0-9a-z]{25}", i) for i in ids)


def test_advance_granularity_does_not_matter() -> None:
    a, b = build("demo"), build("demo")
    for c in (a, b):
        c.scale_service("whoami", 5)
    a.advance(30)
    for _ in range(120):
        b.advance(0.25)
    assert dump(a) == dump(b)


# ============================================================================ shape contract

MAP_KEYS = {"Labels", "Attributes", "Options", "Networks"}


def shape(obj: Any, path: str = "$", out: dict[str, set[str]] | None = None,
          is_map: bool = False) -> dict[str, set[str]]:
    out = {} if out is None else out
    kind = {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}.get(
        type(obj), "number")
    out.setdefault(path, set()).add(kind)
    if isinstance(obj, dict):
        for k, v in obj.items():
            shape(v, f"{path}.{'*' if is_map else k}", out, k in MAP_KEYS and isinstance(v, dict))
    elif isinstance(obj, list):
        for v in obj:
            shape(v, f"{path}[]", out)
    return out


def assert_shape(capture: list[Any], sim: list[Any]) -> None:
    want: dict[str, set[str]] = {}
    have: dict[str, set[str]] = {}
    for obj in capture:
        shape(obj, out=want)
    for obj in sim:
        shape(obj, out=have)
    missing = sorted(
        f"{path}: {kind}" for path, kinds in want.items() for kind in kinds
        if path not in have or (kind != "null" and kind not in have[path])
    )
    assert not missing, "sim lacks key paths of the capture:\n" + "\n".join(missing)


def lab(name: str) -> Any:
    path = LAB / name
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def demo() -> SimCluster:
    return build("demo")


def test_shapes_match_lab_captures(demo: SimCluster) -> None:
    assert_shape(lab("nodes.json"), demo.nodes_json())
    services = demo.services_json(status=True)
    assert_shape(lab("services_status.json"), services)
    assert_shape([lab("service_peer_a_with_PreviousSpec.json"),
                  lab("service_stack_03_www01.json")], services)
    assert_shape(lab("tasks_w8.json"), demo.tasks_json())
    produced = {"node", "service", "network", "secret", "container"}
    events = [e for e in lab("events_all.jsonl") + lab("events_live_scaling.jsonl")
              if e["Type"] in produced]
    assert_shape(events, demo.events_since())
    assert_shape([lab("df_lab.json")], [demo.system_df_json()])
    assert_shape([lab("version.json")], [demo.version_json()])
    assert_shape([lab("swarm.json")], [demo.swarm_json()])
    assert_shape(lab("secrets.json"), demo.secrets_json())


def test_json_formats(demo: SimCluster) -> None:
    task = demo.tasks_json()[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z", task["CreatedAt"])
    containers = [c["Id"] for c in demo.system_df_json()["Containers"]]
    assert containers and all(re.fullmatch(r"[0-9a-f]{64}", i) for i in containers)
    assert not any(e["Type"] == "task" for e in demo.events_since())


# ============================================================================ orchestrator


def test_demo_scenario_contents(demo: SimCluster) -> None:
    nodes = {n["Description"]["Hostname"]: n for n in demo.nodes_json()}
    assert sorted(nodes) == ["manager-1", "manager-2", "worker-1", "worker-2", "worker-3"]
    assert nodes["manager-1"]["ManagerStatus"]["Leader"] is True
    assert nodes["manager-2"]["ManagerStatus"]["Reachability"] == "reachable"
    assert nodes["worker-2"]["Spec"]["Availability"] == "drain"
    assert nodes["worker-3"]["Status"]["State"] == "down"
    stacks = Counter(s["Spec"]["Labels"].get("com.docker.stack.namespace", "-")
                     for s in demo.services_json())
    assert stacks == {"shop": 3, "monitoring": 2, "ops": 2, "-": 1}
    info = demo.info_json()["Swarm"]
    assert info["ControlAvailable"] and info["LocalNodeState"] == "active"
    assert info["NodeID"] == nodes["manager-1"]["ID"] and info["Nodes"] == 5
    assert demo.secrets_json() and demo.configs_json()
    status = {s["Spec"]["Name"]: s["ServiceStatus"] for s in demo.services_json(True)}
    assert status["shop_api"] == {"RunningTasks": 4, "DesiredTasks": 4, "CompletedTasks": 0}
    assert status["monitoring_node-exporter"]["RunningTasks"] == 3  # worker-3 is down


def test_failing_and_pending_tasks() -> None:
    c = build("demo")
    backup = c.tasks_json({"service": ["ops_cron-backup"]})
    failed = [t for t in backup if t["Status"]["State"] == "failed"]
    assert failed and all(t["Status"]["Err"] == "task: non-zero exit (1)" for t in failed)
    assert all(t["Status"]["ContainerStatus"]["ExitCode"] == 1 for t in failed)
    assert all(t["DesiredState"] == "shutdown" for t in failed)
    assert len(backup) == 5  # TaskHistoryRetentionLimit per slot
    (gpu,) = c.tasks_json({"service": ["ops_gpu-job"]})
    assert gpu["Status"]["State"] == "pending" and "NodeID" not in gpu
    assert gpu["Status"]["Err"].startswith("no suitable node (")
    assert "scheduling constraints not satisfied on 3 nodes" in gpu["Status"]["Err"]
    node = c.resolve_node("manager-2")
    c.update_node(node.id, node.meta.version, {**node.spec, "Labels": {"gpu": "true"}})
    c.advance(10)
    (gpu,) = c.tasks_json({"service": ["ops_gpu-job"]})
    assert gpu["Status"]["State"] == "running" and gpu["NodeID"] == node.id


def test_scale_up_and_down() -> None:
    c = build("demo")
    c.scale_service("whoami", 5)
    ev = c.events_since(filters={"type": ["service"]})[-1]
    assert ev["Actor"]["Attributes"] == {"name": "whoami", "replicas.new": "5", "replicas.old": "2"}
    c.advance(10)
    assert c.services_json(True, {"name": ["whoami"]})[0]["ServiceStatus"]["RunningTasks"] == 5
    c.scale_service("whoami", 1)
    c.advance(0.05)
    removing = [t for t in c.tasks_json({"service": ["whoami"]}) if t["DesiredState"] == "remove"]
    assert len(removing) == 4 and all(t["Status"]["State"] == "running" for t in removing)
    c.advance(5)
    tasks = c.tasks_json({"service": ["whoami"]})
    assert {t["Slot"] for t in tasks} == {1}  # removed slots leave no history


def _web(parallelism: int, delay_s: int, order: str, replicas: int = 6) -> SimCluster:
    c = SimCluster(7, START)
    for name in ("m1", "w1", "w2", "w3"):
        c.add_node(name, "manager" if name == "m1" else "worker")
    c.advance(1)
    spec = cli_service("web", "nginx:1.25", replicas)
    spec["UpdateConfig"] = {"Parallelism": parallelism, "Delay": delay_s * NS,
                            "FailureAction": "pause", "Monitor": 5 * NS, "Order": order}
    c.create_service(spec)
    c.advance(20)
    return c


def test_rolling_update_batches_by_parallelism_and_delay() -> None:
    c = _web(parallelism=2, delay_s=10, order="stop-first")
    c.set_image("web", "nginx:1.26")
    states, max_down = [], 0
    for _ in range(1200):
        c.advance(0.1)
        svc = c.service_json("web")
        states.append(svc["UpdateStatus"]["State"])
        live = [t for t in c.tasks_json({"service": ["web"]}) if t["DesiredState"] != "shutdown"]
        max_down = max(max_down, 6 - sum(t["Status"]["State"] == "running" for t in live))
    assert states[0] == "updating" and states[-1] == "completed"
    assert max_down == 2
    new = sorted((t for t in c.tasks_json({"service": ["web"]}) if image(t) == "nginx:1.26"),
                 key=lambda t: t["CreatedAt"])
    created = [c.tasks[t["ID"]].meta.created_ns for t in new]
    gaps = [(b - a) / NS for a, b in itertools.pairwise(created)]
    assert len(new) == 6 and sorted(gaps)[-2] >= 10 and sorted(gaps)[:4] < [1] * 4
    old = [t for t in c.tasks_json({"service": ["web"]}) if image(t) == "nginx:1.25"]
    assert len(old) == 6 and all(t["DesiredState"] == "shutdown" == t["Status"]["State"]
                                 for t in old)
    assert {t["ID"] for t in c.tasks_json({"service": ["web"], "_up-to-date": ["true"]})} == \
        {t["ID"] for t in new}
    status = c.service_json("web")["UpdateStatus"]
    assert status["Message"] == "update completed" and status["CompletedAt"] > status["StartedAt"]
    attrs = [e["Actor"]["Attributes"] for e in c.events_since(filters={"type": ["service"]})]
    assert {"name": "web", "updatestate.new": "updating"} in attrs
    assert {"name": "web", "updatestate.old": "updating", "updatestate.new": "completed"} in attrs


def test_start_first_overlaps_and_rollback_swaps_specs() -> None:
    c = _web(parallelism=1, delay_s=0, order="start-first", replicas=2)
    c.set_image("web", "nginx:1.26")
    overlap = False
    for _ in range(400):
        c.advance(0.1)
        overlap |= max(live_slots(c, "web").values()) > 1
    assert overlap and c.service_json("web")["UpdateStatus"]["State"] == "completed"
    c.rollback_service("web")
    svc = c.service_json("web")
    assert image({"Spec": svc["Spec"]["TaskTemplate"]}) == "nginx:1.25"
    assert image({"Spec": svc["PreviousSpec"]["TaskTemplate"]}) == "nginx:1.26"
    assert svc["UpdateStatus"]["State"] == "rollback_started"
    assert svc["UpdateStatus"]["Message"] == "manually requested rollback"
    ev = c.events_since(filters={"service": ["web"]})[-1]["Actor"]["Attributes"]
    assert ev["updatestate.old"] == "completed" and ev["updatestate.new"] == "rollback_started"
    assert ev["image.new"] == "nginx:1.25"
    until(c, lambda: c.service_json("web")["UpdateStatus"]["State"] == "rollback_completed")
    running = [t for t in c.tasks_json({"service": ["web"], "desired-state": ["running"]})]
    assert {image(t) for t in running} == {"nginx:1.25"}


def test_failed_update_rolls_back_or_pauses() -> None:
    c = build("demo")
    c.set_image("shop_api", "registry.example.com/shop/api:2.5.0-broken")
    seen: list[str] = []

    def done() -> bool:
        status = c.service_json("shop_api")["UpdateStatus"]
        if not seen or seen[-1] != status["State"]:
            seen.append(status["State"])
        assert max(live_slots(c, "shop_api").values()) == 1
        return bool(status["State"] == "rollback_completed")

    until(c, done)
    assert seen == ["updating", "rollback_started", "rollback_completed"]
    svc = c.service_json("shop_api")
    assert "PreviousSpec" not in svc and svc["Spec"]["TaskTemplate"]["ContainerSpec"][
        "Image"].endswith(":2.4.1")
    msg = [e for e in c.events_since() if e["Actor"]["Attributes"].get("updatestate.new")
           == "rollback_started"]
    assert msg and msg[0]["Actor"]["Attributes"]["image.new"].endswith(":2.4.1")
    c.set_image("shop_web", "nginx:1.25-broken")
    until(c, lambda: c.service_json("shop_web")["UpdateStatus"]["State"] == "paused")
    assert c.service_json("shop_web")["UpdateStatus"]["Message"].startswith(
        "update paused due to failure or early termination of task ")


def test_force_update_and_out_of_sequence() -> None:
    c = build("demo")
    before = {t["ID"] for t in c.tasks_json({"service": ["whoami"], "desired-state": ["running"]})}
    c.set_image("whoami", "traefik/whoami:v1.10.1", force=True)
    assert c.service_json("whoami")["Spec"]["TaskTemplate"]["ForceUpdate"] == 1
    until(c, lambda: c.service_json("whoami")["UpdateStatus"]["State"] == "completed")
    after = {t["ID"] for t in c.tasks_json({"service": ["whoami"], "desired-state": ["running"]})}
    assert len(after) == 2 and not before & after
    svc = c.service_json("whoami")
    with pytest.raises(SimError) as err:
        c.update_service("whoami", svc["Version"]["Index"] - 1, svc["Spec"])
    assert err.value.status == 500 and "update out of sequence" in err.value.message


def test_drain_and_node_down() -> None:
    c = build("demo")
    w1 = c.resolve_node("worker-1")
    c.update_node(w1.id, w1.meta.version, {**w1.spec, "Availability": "drain"})
    ev = c.events_since(filters={"type": ["node"]})[-1]["Actor"]["Attributes"]
    assert ev["availability.old"] == "active" and ev["availability.new"] == "drain"
    c.advance(15)
    on_w1 = c.tasks_json({"node": ["worker-1"]})
    assert on_w1 and all(t["DesiredState"] != "running" for t in on_w1)
    assert all(t["Status"]["State"] in ("shutdown", "failed") for t in on_w1)
    status = {s["Spec"]["Name"]: s["ServiceStatus"] for s in c.services_json(True)}
    for name in ("shop_api", "shop_web", "whoami", "shop_db"):
        assert status[name]["RunningTasks"] == status[name]["DesiredTasks"], name
    # worker-3 went down in the demo: its tasks keep the state they last reported
    w3 = c.resolve_node("worker-3")
    stale = c.tasks_json({"node": ["worker-3"]})
    assert any(t["Status"]["State"] == "running" and t["DesiredState"] == "shutdown"
               for t in stale)
    assert all(c.tasks[t["ID"]].status_ns < w3.meta.updated_ns for t in stale)
    c.set_node_state("worker-3", "ready")
    c.advance(5)
    back = c.tasks_json({"node": ["worker-3"]})
    assert all(t["Status"]["State"] != "running" for t in back if t["DesiredState"] == "shutdown")
    exporter_id = c.resolve_service("monitoring_node-exporter").id
    exporter = [t for t in back if t["ServiceID"] == exporter_id]
    assert [t["Status"]["State"] for t in exporter if t["DesiredState"] == "running"] == ["running"]


def test_task_filters_and_errors(demo: SimCluster) -> None:
    web = demo.resolve_service("shop_web").id
    assert {t["ServiceID"] for t in demo.tasks_json({"service": ["shop_web"]})} == {web}
    w1 = demo.resolve_node("worker-1").id
    assert {t["NodeID"] for t in demo.tasks_json({"node": ["worker-1"]})} == {w1}
    shop = demo.tasks_json({"label": ["com.docker.stack.namespace=shop"]})
    assert {demo.tasks[t["ID"]].service_name.split("_")[0] for t in shop} == {"shop"}
    running = demo.tasks_json({"desired-state": ["running"]})
    assert running and all(t["DesiredState"] == "running" for t in running)
    with pytest.raises(SimError, match="invalid filter 'bogus'"):
        demo.tasks_json({"bogus": ["x"]})
    with pytest.raises(SimError, match="service nope not found") as err:
        demo.tasks_json({"service": ["nope"]})
    assert err.value.status == 404


def test_logs_are_deterministic_and_framed(demo: SimCluster) -> None:
    from swarmtui.sim.logs import LogOptions

    opts = LogOptions(tail=2, timestamps=True, details=True)
    a = demo.service_logs("shop_web", tail=2, timestamps=True, details=True).frames(opts)
    b = build("demo").service_logs("shop_web", tail=2, timestamps=True, details=True).frames(opts)
    assert a == b and a[0] in (1, 2)
    result = demo.service_logs("shop_api")
    assert result.errors == [f"node {demo.resolve_node('worker-3').id} is not available"]
    assert not demo.service_logs("shop_db").errors


# ============================================================================ server


@pytest.fixture
async def served() -> AsyncIterator[tuple[SimCluster, SimServer]]:
    cluster = build("demo")
    tmp = tempfile.mkdtemp(prefix="swsim")
    server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=False)
    try:
        yield cluster, server
    finally:
        await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def parse_frames(data: bytes) -> list[tuple[int, str]]:
    out, i = [], 0
    while i < len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "big")
        out.append((data[i], data[i + 8 : i + 8 + size].decode()))
        i += 8 + size
    return out


async def test_http_like_dockerd(served: tuple[SimCluster, SimServer]) -> None:
    c, server = served
    conn = aiohttp.UnixConnector(path=server.socket_path)
    async with aiohttp.ClientSession(connector=conn) as http:
        async with http.head("http://docker/_ping") as r:
            assert r.status == 200 and r.headers["Api-Version"] == "1.41"
            assert r.headers["Ostype"] == "linux" and r.headers["Docker-Experimental"] == "false"
            assert r.headers["Server"].startswith("Docker/20.10.24")
        async with http.get("http://docker/v1.41/nodes") as r1, \
                http.get("http://docker/nodes") as r2:
            assert await r1.read() == await r2.read() == go_json(c.nodes_json())
            assert r1.headers["Api-Version"] == "1.41"
        async with http.get("http://docker/v1.50/version") as r:
            assert r.status == 400
            assert (await r.json())["message"].startswith("client version 1.50 is too new")
        async with http.get("http://docker/v1.41/services/nope") as r:
            assert r.status == 404 and await r.json() == {"message": "service nope not found"}
        async with http.get("http://docker/tasks", params={"filters": '{"type":"service"}'}) as r:
            assert r.status == 400 and "cannot unmarshal" in (await r.json())["message"]
        svc = c.service_json("whoami")
        async with http.post(f"http://docker/v1.41/services/{svc['ID']}/update",
                             params={"version": str(svc["Version"]["Index"] - 1)},
                             json=svc["Spec"]) as r:
            assert r.status == 500 and "update out of sequence" in (await r.json())["message"]


async def test_aiodocker_client(served: tuple[SimCluster, SimServer]) -> None:
    c, server = served
    async with aiodocker.Docker(url=server.url) as docker:
        assert len(await docker.nodes.list()) == 5
        names = {s["Spec"]["Name"] for s in await docker.services.list()}
        assert "shop_web" in names and len(names) == 8
        tasks = await docker.tasks.list(filters={"service": "shop_web"})
        assert tasks and {t["ServiceID"] for t in tasks} == {c.resolve_service("shop_web").id}
        raw = await docker._query_json("services", params={"status": "1"})
        assert all("ServiceStatus" in s for s in raw)
        created = await docker.services.create(
            task_template={"ContainerSpec": {"Image": "redis:7.2-alpine"}}, name="cache")
        c.advance(10)
        assert c.running_tasks("cache") and created["ID"] == c.resolve_service("cache").id
        await docker.services.delete("cache")
        assert "cache" not in {s.name for s in c.services.values()}
        logs: Any = await docker.services.logs("shop_db", stdout=True, stderr=True, tail="2",
                                               timestamps=True, details=True)  # type: ignore[misc]
        assert len(logs) == 2
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z com\.docker\.swarm\.node\.id=",
                        logs[0])


async def test_events_stream_and_logs_frames(served: tuple[SimCluster, SimServer]) -> None:
    c, server = served
    async with aiodocker.Docker(url=server.url) as docker:
        stream_timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        since = f"{c.start_ns // NS}.000000000"
        past = f"{c.now_ns // NS}.{c.now_ns % NS:09d}"
        async with docker._query("events", params={"since": since, "until": past}) as resp:
            replay = [json.loads(line) async for line in resp.content]
        assert replay == c.events_since(c.start_ns, c.now_ns)
        params = {"filters": json.dumps({"type": ["service"]})}
        async with docker._query("events", params=params, timeout=stream_timeout) as resp:
            c.scale_service("whoami", 3)
            line = await asyncio.wait_for(resp.content.readline(), 5)
            ev = json.loads(line)
            assert ev["Type"] == "service" and ev["Actor"]["Attributes"]["replicas.new"] == "3"
        q = {"stdout": "1", "stderr": "1", "tail": "3", "timestamps": "1", "details": "1"}
        async with docker._query("services/shop_web/logs", params=q) as resp:
            frames = parse_frames(await resp.read())
        assert frames[-1][0] == 3  # a shop_web task ran on worker-3, which is down
        lines = frames[:-1]
        per_task = Counter(re.search(r"task\.id=(\w+)", text).group(1)  # type: ignore[union-attr]
                           for _, text in lines)
        assert len(per_task) >= 3 and all(n == 3 for n in per_task.values())  # tail is per task
        assert all(stream in (1, 2) and text.endswith("\n") for stream, text in lines)
        cut = c.now_ns - 10 * NS
        plain = {"stdout": "1", "stderr": "1", "since": f"{cut // NS}.{cut % NS:09d}"}
        async with docker._query("services/monitoring_grafana/logs", params=plain) as resp:
            recent = parse_frames(await resp.read())
        expected = c.service_logs("monitoring_grafana", since_ns=cut).lines
        assert [text for _, text in recent] == [ln.text + "\n" for ln in expected]
        assert expected and all(ln.ts >= cut for ln in expected)
        async with docker._query("services/shop_api/logs", params=q) as resp:
            frames = parse_frames(await resp.read())
        assert frames[-1][0] == 3 and "incomplete log stream" in frames[-1][1]
        task = c.running_tasks("shop_db")[0]
        follow = {"stdout": "1", "stderr": "1", "follow": "1", "tail": "0"}
        async with docker._query(f"tasks/{task.id}/logs", params=follow,
                                 timeout=stream_timeout) as resp:
            c.advance(60)
            header = await asyncio.wait_for(resp.content.readexactly(8), 5)
            assert header[0] == 1 and int.from_bytes(header[4:], "big") > 10


async def test_realtime_clock_moves() -> None:
    c = build("chatty", replicas=1, rate=50)
    tmp = tempfile.mkdtemp(prefix="swsim")
    server = await start_sim_server(c, os.path.join(tmp, "c.sock"), realtime=True, tick_s=0.05)
    before = c.now_ns
    await asyncio.sleep(0.4)
    await server.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    assert c.now_ns - before >= 0.2 * NS


async def test_the_app_runs_on_the_sim(served: tuple[SimCluster, SimServer]) -> None:
    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.engine.target import EngineTarget

    c, server = served
    live = LiveSwarm(EngineClient(EngineTarget(server.url, "sim")))
    live.start()
    try:
        await live.wait_full_state(10)
        state = live.store.state
        assert len(state.nodes) == 5
        assert {s.name for s in state.services.values()} == {s.name for s in c.services.values()}
        assert len(state.tasks) == len(c.tasks)
        assert state.engine is not None and state.engine.swarm.control_available
    finally:
        await live.stop()


# ============================================================================ docker CLI

DOCKER = next((p for p in ("/usr/bin/docker", "/usr/local/bin/docker") if os.path.exists(p)), None)


async def cli(server: SimServer, *args: str) -> str:
    assert DOCKER is not None
    with tempfile.TemporaryDirectory(prefix="swcfg") as cfg:  # no user config/contexts
        env = {"PATH": os.environ.get("PATH", ""), "DOCKER_CONFIG": cfg, "HOME": cfg}
        # The server runs on this loop: the blocking CLI must run in a thread.
        proc = await asyncio.to_thread(subprocess.run, [DOCKER, "-H", server.url, *args],
                                       env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(DOCKER is None, reason="no docker CLI")
async def test_real_docker_cli(served: tuple[SimCluster, SimServer]) -> None:
    _, server = served
    nodes = await cli(server, "node", "ls")
    assert re.search(r"^\w{25} \*\s+manager-1\s+Ready\s+Active\s+Leader", nodes, re.M)
    assert re.search(r"worker-2\s+Ready\s+Drain", nodes) and re.search(r"worker-3\s+Down", nodes)
    services = await cli(server, "service", "ls")
    assert re.search(r"shop_web\s+replicated\s+3/3\s+nginx:1.25.4-alpine\s+\*:8080->80/tcp",
                     services)
    assert re.search(r"monitoring_node-exporter\s+global\s+3/4", services)
    assert re.search(r"ops_gpu-job\s+replicated\s+0/1", services)
    ps = await cli(server, "service", "ps", "shop_web")
    assert re.search(r"shop_web\.1\s+nginx:1.25.4-alpine\s+\S+\s+Running\s+Running", ps)
    assert re.search(r"\\_ shop_web\.\d\s+nginx:1.25.3-alpine\s+\S+\s+Shutdown\s+Shutdown", ps)
    assert "task: non-zero exit (1)" in await cli(server, "service", "ps", "ops_cron-backup")
    logs = await cli(server, "service", "logs", "--tail", "3", "shop_db")
    lines = logs.splitlines()
    assert len(lines) == 3
    assert all(re.match(r"shop_db\.1\.\w{12}@manager-1    \| \d{4}-\d\d-\d\d ", ln) for ln in lines)
    df = await cli(server, "system", "df")
    assert re.search(r"^Images\s+\d+\s+\d+", df, re.M) and "Local Volumes" in df


# ============================================================================ local engine


def test_local_lists_match_df(demo: SimCluster) -> None:
    df = demo.system_df_json()
    containers = demo.containers_json(all_=True, size=True)
    assert {c["Id"] for c in containers} == {c["Id"] for c in df["Containers"]}
    want = {"Id", "Names", "Image", "ImageID", "Command", "Created", "State", "Status",
            "Labels", "Mounts", "Ports", "HostConfig", "NetworkSettings", "SizeRootFs"}
    assert all(want <= set(c) for c in containers)
    stopped = [c for c in containers if c["State"] == "exited"]
    assert len(stopped) >= 2
    assert all(c["Labels"]["com.docker.swarm.service.name"] == "ops_cron-backup"
               and "com.docker.swarm.task.id" in c["Labels"] for c in stopped)
    assert all(c.get("SizeRw", 0) > 0 for c in stopped)
    running = demo.containers_json()
    assert running and all(c["State"] == "running" for c in running)
    assert all("SizeRw" not in c for c in running)
    images = demo.images_json(all_=True)
    assert {i["Id"] for i in images} == {i["Id"] for i in df["Images"]}
    assert all({"Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize",
                "VirtualSize", "Labels", "Containers"} <= set(i) for i in images)
    dangling = [i for i in images if i["RepoTags"] == ["<none>:<none>"]]
    assert len(dangling) == 1 and dangling[0]["RepoDigests"] == ["<none>@<none>"]
    assert df["LayersSize"] == sum(i["Size"] for i in df["Images"])
    vols = demo.volumes_json()
    assert set(vols) == {"Volumes", "Warnings"} and vols["Warnings"] is None
    assert {v["Name"] for v in vols["Volumes"]} == {v["Name"] for v in df["Volumes"]}
    anon = [v for v in df["Volumes"] if v["UsageData"]["RefCount"] == 0]
    assert len(anon) == 1 and re.fullmatch(r"[0-9a-f]{64}", anon[0]["Name"])
    assert demo.info_json()["Containers"] == len(df["Containers"])


def test_prunes_remove_from_df_and_emit_events() -> None:
    c = build("demo")
    before = c.system_df_json()
    stopped = {x["Id"] for x in before["Containers"] if x["State"] != "running"}
    out = c.prune("containers", {"label": ["com.docker.swarm.service.name=nope"]})
    assert out == {"ContainersDeleted": None, "SpaceReclaimed": 0}
    out = c.prune("containers", {"until": ["1h"]})
    assert set(out["ContainersDeleted"]) == stopped
    assert out["SpaceReclaimed"] == sum(x.get("SizeRw", 0) for x in before["Containers"]
                                        if x["Id"] in stopped)
    ev = c.events_since()[-1]
    assert ev["Type"] == "container" and ev["Action"] == "prune"
    assert ev["Actor"]["Attributes"] == {"reclaimed": str(out["SpaceReclaimed"])}
    df = c.system_df_json()
    assert not stopped & {x["Id"] for x in df["Containers"]}
    dangling = next(i for i in df["Images"] if i["RepoTags"] == ["<none>:<none>"])
    out = c.prune("images", {"dangling": ["true"]})
    assert out == {"ImagesDeleted": [{"Deleted": dangling["Id"]}],
                   "SpaceReclaimed": dangling["Size"]}
    # all unused: only the image of the pruned containers goes, never a task's image
    out = c.prune("images", {"dangling": ["false"]})
    assert out["ImagesDeleted"][0] == {"Untagged": "registry.example.com/ops/backup:1.4.2"}
    used = {x["ImageID"] for x in c.containers_json(all_=True)}
    assert used == {i["Id"] for i in c.system_df_json()["Images"]}
    with pytest.raises(SimError) as err:
        c.delete_image("nginx:1.25.4-alpine")
    assert err.value.status == 409
    out = c.prune("volumes")
    assert len(out["VolumesDeleted"]) == 1 and out["SpaceReclaimed"] == 12_288_000
    assert all(v["UsageData"]["RefCount"] for v in c.system_df_json()["Volumes"])
    assert c.prune("networks") == {"NetworksDeleted": None}
    assert c.prune("build") == {"CachesDeleted": None, "SpaceReclaimed": 0}
    actions = [(e["Type"], e["Action"]) for e in c.events_since()]
    for kind in ("container", "image", "volume", "network", "builder"):
        assert (kind, "prune") in actions
    assert ("container", "destroy") in actions and ("image", "delete") in actions
    with pytest.raises(SimError) as err:
        c.prune("volumes", {"until": ["1h"]})
    assert err.value.status == 400


async def test_local_endpoints_over_http(served: tuple[SimCluster, SimServer]) -> None:
    c, server = served
    conn = aiohttp.UnixConnector(path=server.socket_path)
    async with aiohttp.ClientSession(connector=conn) as s:
        async def get(path: str) -> Any:
            async with s.get("http://d/v1.41" + path) as r:
                assert r.status == 200, await r.text()
                return await r.json()

        assert len(await get("/containers/json?all=1")) == len(await get("/containers/json")) + 2
        assert len(await get("/images/json?all=1")) == len(c.system_df_json()["Images"])
        assert (await get("/volumes"))["Warnings"] is None
        stopped = next(x for x in await get("/containers/json?all=1") if x["State"] == "exited")
        async with s.delete(f"http://d/v1.41/containers/{stopped['Id'][:12]}") as r:
            assert r.status == 204
        running = (await get("/containers/json"))[0]
        async with s.delete(f"http://d/v1.41/containers/{running['Id']}") as r:
            assert r.status == 409
        async with s.delete(f"http://d/v1.41/images/{running['Image']}") as r:
            assert r.status == 409 and "being used" in (await r.json())["message"]
        filters = json.dumps({"dangling": ["true"]})
        async with s.post("http://d/v1.41/images/prune", params={"filters": filters}) as r:
            body = await r.json()
            assert r.status == 200 and len(body["ImagesDeleted"]) == 1
        async with s.post("http://d/v1.41/containers/prune") as r:
            assert len((await r.json())["ContainersDeleted"]) == 1


async def test_disk_engine_prune_on_the_sim(served: tuple[SimCluster, SimServer]) -> None:
    from swarmtui.engine.disk import ClientTransport, DiskEngine
    from swarmtui.engine.target import resolve_target
    from swarmtui.model.disk.view import PruneOptions

    c, server = served
    engine = DiskEngine(ClientTransport(resolve_target(host=server.url, env={})))
    try:
        services = c.services_json()
        for kind in ("containers", "images"):
            planned = await engine.plan(kind, PruneOptions(), services)
            assert planned.plan.items, kind
            outcome = await engine.execute(planned, services, permit_for_tests())
            assert outcome.refused is None, outcome.refused
            assert all(s.error is None for s in outcome.steps), outcome.steps
            assert outcome.diff is not None and outcome.diff.matches, outcome.diff
            result = outcome.steps[0].result
            assert result is not None and result.space_reclaimed == planned.plan.estimated_bytes
        df = c.system_df_json()
        assert all(x["State"] == "running" for x in df["Containers"])
        assert not any(i["RepoTags"] == ["<none>:<none>"] for i in df["Images"])
        again = await engine.plan("containers", PruneOptions(), services)
        assert not again.plan.items
    finally:
        await engine.close()


@pytest.mark.skipif(DOCKER is None, reason="no docker CLI")
async def test_real_docker_cli_local_engine(served: tuple[SimCluster, SimServer]) -> None:
    _, server = served
    df = await cli(server, "system", "df", "-v")
    assert "ops_cron-backup.1." in df and "<none>" in df and "Local Volumes space usage" in df
    ls = await cli(server, "container", "ls", "-a")
    assert len(re.findall(r"Exited \(1\)", ls)) == 2 and "shop_db.1." in ls
    assert "<none>" in await cli(server, "image", "ls")
    vols = await cli(server, "volume", "ls")
    assert "shop_db-data" in vols and re.search(r"local\s+[0-9a-f]{64}", vols)
    pruned = await cli(server, "container", "prune", "-f")
    assert "Deleted Containers:" in pruned and "Total reclaimed space: 45.06kB" in pruned
    images = await cli(server, "image", "prune", "-f")
    assert "deleted: sha256:" in images and "Total reclaimed space: 87.1MB" in images
    assert "Exited" not in await cli(server, "container", "ls", "-a")
    assert "<none>" not in await cli(server, "image", "ls")


# ============================================================================ scale


async def test_scale_scenario_builds_and_serves_5000_tasks() -> None:
    t0 = time.perf_counter()
    c = build("scale", nodes=100, tasks=5000)
    built = time.perf_counter() - t0
    assert len(c.nodes) == 100 and len(c.tasks) == 5000
    assert all(t.state == "running" for t in c.tasks.values())
    tmp = tempfile.mkdtemp(prefix="swsim")
    server = await start_sim_server(c, os.path.join(tmp, "s.sock"), realtime=False)
    try:
        async with aiodocker.Docker(url=server.url) as docker:
            t0 = time.perf_counter()
            tasks = await docker._query_json("tasks")
            served = time.perf_counter() - t0
    finally:
        await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert len(tasks) == 5000
    # Timing is benchmarks/grid_scale.py's job, not an assertion here (a loaded CI machine
    # made a 3 s bound fail): print it for the log only.
    print(f"scale: build {built:.3f}s, GET /tasks {served:.3f}s")


def _sim_imports() -> dict[str, set[str]]:
    """Every swarmtui module each sim module imports (module level, in functions and under
    TYPE_CHECKING alike)."""
    import ast

    import swarmtui.sim

    out: dict[str, set[str]] = {}
    for path in Path(swarmtui.sim.__file__).parent.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        out[f"swarmtui.sim.{path.stem}"] = {m for m in found if m.startswith("swarmtui.")}
    return out


def test_simulator_never_uses_the_model_it_checks() -> None:
    uses = {mod: sorted(m for m in found if m.startswith("swarmtui.model"))
            for mod, found in _sim_imports().items()}
    assert {mod: m for mod, m in uses.items() if m} == {}


def test_sim_modules_import_each_other_without_cycles() -> None:
    imports = _sim_imports()
    graph = {mod: {m for m in found if m in imports and m != mod}
             for mod, found in imports.items()}
    done: set[str] = set()

    def visit(mod: str, path: tuple[str, ...]) -> None:
        assert mod not in path, " -> ".join((*path, mod))
        if mod in done:
            return
        for dep in sorted(graph[mod]):
            visit(dep, (*path, mod))
        done.add(mod)

    for mod in sorted(graph):
        visit(mod, ())


def test_image_inspect_and_history_hold_the_recorded_engine_shapes(demo: SimCluster) -> None:
    """``/images/{id}/json`` and ``/history`` (the images view's Enter and compare in --demo):
    history has every key path the lab's engine returned; inspect has every one the images
    view reads (the engine's inspect has dozens more the view never looks at)."""
    recorded = json.loads((ROOT_FIXTURES / "v1.41" / "images_lab.json").read_text())["api"]
    inspects = [v for k, v in recorded.items() if k.endswith("/json") and "/images/sha" in k]
    histories = [e for k, v in recorded.items() if k.endswith("/history") for e in v]
    read = ("Id", "RepoTags", "RootFS", "Size")
    ref = str(demo.images_json()[0]["Id"])
    assert_shape(histories, demo.image_history(ref))
    assert_shape([{k: i[k] for k in read} for i in inspects], [demo.image_inspect(ref)])
    assert demo.image_inspect(ref)["RootFS"]["Layers"][0] == \
        demo.image_inspect(str(demo.images_json()[1]["Id"]))["RootFS"]["Layers"][0]
