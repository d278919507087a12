"""NodeProbe and ProbeOperation against a fake manager: the job is removed after success, a
timeout, a cancel (Ctrl-C) and a creation cut off before its ID came back; only expired
leftovers are cleaned up; read-only never creates it; answers become DiskEngines."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.disk import DiskEngine
from swarmtui.engine.probe import (
    DF_REQUESTS,
    AnsweredTransport,
    NodeProbe,
    ProbeConfig,
)
from swarmtui.model.probe import ProbeNode, frame_lines
from swarmtui.ops.executor import READ_ONLY_REFUSAL, Executor
from swarmtui.ops.probe import ProbeOperation, ProbeResult


def http(obj: Any) -> bytes:
    body = json.dumps(obj).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


DF = {"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": []}
ANSWERS = {"version": http({"Version": "20.10.24", "ApiVersion": "1.41"}),
           "info": http({"Name": "w1", "Swarm": {"NodeID": "n2", "LocalNodeState": "active"}}),
           "df": http(DF)}


def node_json(nid: str, host: str, availability: str = "active") -> dict[str, Any]:
    return {"ID": nid, "Description": {"Hostname": host, "Engine": {"EngineVersion": "20.10.24"}},
            "Spec": {"Role": "worker", "Availability": availability},
            "Status": {"State": "ready"}}


class FakeManager:
    """Services, tasks and task logs, as a manager's API answers them."""

    def __init__(self, *, answer: bool = True, create_hangs: bool = False) -> None:
        self.services: dict[str, dict[str, Any]] = {}
        self.answer = answer
        self.create_hangs = create_hangs
        self.writes: list[tuple[str, str]] = []
        self.nodes_json = [node_json("n1", "m1"), node_json("n2", "w1"),
                           node_json("n3", "w2", "drain")]

    async def request(self, method: str, path: str, params: Any = None, timeout: float = 15,
                      *, body: Any = None, permit: WritePermit | None = None) -> Any:
        if method != "GET":
            assert permit is not None and permit.live
            self.writes.append((method, path))
        if method == "POST" and path == "services/create":
            sid = f"svc{len(self.services)}"
            self.services[sid] = {"ID": sid, "Spec": body}
            if self.create_hangs:
                await asyncio.sleep(3600)
            return {"ID": sid}
        if method == "DELETE":
            sid = path.split("/", 1)[1]
            if self.services.pop(sid, None) is None:
                raise EngineError("no such service", 404)
            return None
        if path == "services":
            wanted = json.loads(params["filters"])
            out = list(self.services.values())
            if "name" in wanted:
                out = [s for s in out if s["Spec"]["Name"] in wanted["name"]]
            return out
        raise AssertionError(path)

    async def nodes(self) -> list[dict[str, Any]]:
        return self.nodes_json

    async def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
        if not self.answer:
            return [{"ID": "t2", "NodeID": "n2", "Status": {"State": "starting"}}]
        # Running (the task idles once it has answered): its log holds the answers.
        return [{"ID": "t2", "NodeID": "n2", "Status": {"State": "running"}}]

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, params: Any = None) -> AsyncIterator[Any]:
        lines = [line for key, raw in ANSWERS.items() for line in frame_lines(key, raw)]
        payload = "".join(line + "\n" for line in lines).encode()

        class Resp:
            async def read(self) -> bytes:
                return b"\x01\x00\x00\x00" + len(payload).to_bytes(4, "big") + payload

        yield Resp()


def permit() -> WritePermit:
    return WritePermit._issue("test")


W1 = ProbeNode("n2", "w1", "worker", "ready", "active", "20.10.24")


async def test_success_gives_answers_and_removes_the_job() -> None:
    fake = FakeManager()
    probe = NodeProbe(fake, ProbeConfig(image="img:1"), DF_REQUESTS, poll_s=0.01)  # type: ignore[arg-type]
    spec = probe.service_spec(["n1"])
    assert spec["Mode"] == {"Global": {}} and spec["Labels"]["swarmtui.probe"] == "1"
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.id!=n1"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Mounts"][0]["Source"] == "/var/run/docker.sock"
    run = await probe.run([W1], permit())
    assert run.removed and fake.services == {}
    assert run.nodes[0].error is None
    engine = DiskEngine(AnsweredTransport(run.nodes[0]), source="probe")
    await engine.connect()
    assert engine.name == "w1" and (await engine.disk_usage()).layers_size == 0


async def test_timeout_and_cancel_remove_the_job() -> None:
    fake = FakeManager(answer=False)
    probe = NodeProbe(fake, ProbeConfig(timeout_s=0.05), DF_REQUESTS, poll_s=0.01)  # type: ignore[arg-type]
    run = await probe.run([W1], permit())
    assert run.nodes[0].error == "no answer from the probe within 0.05s"
    assert fake.services == {}

    probe = NodeProbe(fake, ProbeConfig(timeout_s=60), DF_REQUESTS, poll_s=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(probe.run([W1], permit()))
    await asyncio.sleep(0.05)
    assert fake.services
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.services == {}


async def test_cancel_while_creating_still_removes_the_job_by_name() -> None:
    fake = FakeManager(create_hangs=True)
    probe = NodeProbe(fake, ProbeConfig(), DF_REQUESTS)  # type: ignore[arg-type]
    task = asyncio.create_task(probe.run([W1], permit()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.services == {}


async def test_cleanup_removes_only_expired_probe_services() -> None:
    fake = FakeManager()
    clock = [1000.0]
    old = NodeProbe(fake, ProbeConfig(timeout_s=10), DF_REQUESTS, clock=lambda: clock[0])  # type: ignore[arg-type]
    fake.services["old"] = {"ID": "old", "Spec": old.service_spec()}
    clock[0] = 2000.0
    live = NodeProbe(fake, ProbeConfig(timeout_s=10), DF_REQUESTS, clock=lambda: clock[0])  # type: ignore[arg-type]
    fake.services["live"] = {"ID": "live", "Spec": live.service_spec()}
    assert await live.cleanup_leftovers(permit()) == [old.name]
    assert list(fake.services) == ["live"]


async def test_operation_preview_read_only_and_outcome() -> None:
    fake = FakeManager()
    op = ProbeOperation(fake, ProbeConfig(image="img:1"), DF_REQUESTS,  # type: ignore[arg-type]
                        purpose="disk usage", skip_node_ids=["n1"])
    plan = await Executor().plan(op)
    text = plan.preview.blocks[0]
    assert " ".join(text.split()).startswith(
        f"Creates a global service {plan.payload.name} running img:1 on 1 node(s) with "
        "/var/run/docker.sock mounted (root on each node)")
    assert "not covered  w2: drained: it runs no tasks" in text
    assert "direct  m1" in text
    refused = await Executor(read_only=True).execute(plan)
    assert refused.refused == READ_ONLY_REFUSAL and fake.writes == []
    outcome = await Executor().execute(plan)
    assert outcome.ok and isinstance(outcome.detail, ProbeResult)
    assert [m for m, _ in fake.writes] == ["POST", "DELETE"] and fake.services == {}


def test_a_metrics_probe_runs_on_the_host_network_without_the_socket() -> None:
    """Loopback requests need the node's network namespace, not its engine socket (root)."""
    from swarmtui.engine.metrics import PROBE_REQUESTS, MetricsFleet

    config = MetricsFleet({}, ProbeConfig(image="img:1", timeout_s=60)).probe_config()
    assert (config.host_network, config.timeout_s) == (True, 30.0)
    spec = NodeProbe(None, config, PROBE_REQUESTS).service_spec()  # type: ignore[arg-type]
    template = spec["TaskTemplate"]
    assert template["Networks"] == [{"Target": "host"}]
    assert template["ContainerSpec"]["Mounts"] == []
    assert "wget -q -O- http://127.0.0.1:9323/metrics" in template["ContainerSpec"]["Command"][2]
    df = NodeProbe(None, ProbeConfig(), DF_REQUESTS).service_spec()  # type: ignore[arg-type]
    assert "Networks" not in df["TaskTemplate"]
    assert df["TaskTemplate"]["ContainerSpec"]["Mounts"][0]["Target"] == "/var/run/docker.sock"


def test_a_probe_with_only_per_node_requests_mounts_the_engine_socket() -> None:
    """A prune's delete probe has no common request, only each node's own deletes: they go
    to the engine, so the socket is mounted (without it every delete had no HTTP answer)."""
    from swarmtui.model.probe import ProbeRequest

    deletes = {"abc123": (ProbeRequest("d0", "DELETE", "/v1.41/containers/x"),)}
    probe = NodeProbe(None, ProbeConfig(), (), per_node=deletes)  # type: ignore[arg-type]
    spec = probe.service_spec()
    assert spec["TaskTemplate"]["ContainerSpec"]["Mounts"][0]["Target"] == "/var/run/docker.sock"
async def test_only_the_named_nodes_are_listed_and_probed() -> None:
    """``prune --node w1``: the other nodes are neither probed nor listed (they were shown as
    "direct … an engine is configured for it", which was not true)."""
    fake = FakeManager()
    op = ProbeOperation(fake, ProbeConfig(image="img:1"), DF_REQUESTS,  # type: ignore[arg-type]
                        purpose="a prune preview", only_node_ids=["n2"])
    plan = await Executor().plan(op)
    text = plan.preview.blocks[0]
    assert "probe   w1" in text
    assert "m1" not in text and "w2" not in text
    specs: list[dict[str, Any]] = []
    request = fake.request

    async def recording(method: str, path: str, *args: Any, **kw: Any) -> Any:
        if path == "services/create":
            specs.append(kw["body"])
        return await request(method, path, *args, **kw)

    fake.request = recording  # type: ignore[method-assign]
    await Executor().execute(plan)
    constraints = specs[0]["TaskTemplate"]["Placement"]["Constraints"]
    assert sorted(constraints) == ["node.id!=n1", "node.id!=n3"]


async def test_no_node_to_probe_creates_nothing_and_says_so() -> None:
    fake = FakeManager()
    op = ProbeOperation(fake, ProbeConfig(image="img:1"), DF_REQUESTS,  # type: ignore[arg-type]
                        purpose="a prune preview", only_node_ids=["n3"])
    plan = await Executor().plan(op)
    assert plan.preview.empty
    assert plan.preview.title == "No node to probe for a prune preview"
    assert "Creates" not in "".join(plan.preview.blocks)
    assert "not covered  w2: drained: it runs no tasks" in plan.preview.blocks[0]
    assert plan.preview.summary == "Nothing is created."


async def test_preview_sentence_fits_the_dialog_at_80_columns() -> None:
    """The confirmation dialog does not wrap blocks (tables): at 80 columns it shows 68
    characters, and the part cut off said that the socket is mounted (root on each node)."""
    fake = FakeManager()
    op = ProbeOperation(fake, ProbeConfig(image="img:1"), DF_REQUESTS,  # type: ignore[arg-type]
                        purpose="disk usage")
    plan = await Executor().plan(op)
    lines = plan.preview.blocks[0].splitlines()
    assert max(len(line) for line in lines) <= 68
    assert "(root on each node)" in " ".join(lines)
