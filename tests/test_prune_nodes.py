"""prune --all-nodes without a swarm: the re-check (only what the preview listed and a fresh
listing still plans goes), the per-node delete requests and script, what the answers mean,
and the whole operation against a fake manager whose probe tasks answer like node engines
(the engine refuses an in-use object; nothing is forced); the CLI's refusals."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import pytest

from swarmtui.cli import main
from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.disk import DiskFleet
from swarmtui.engine.probe import PRUNE_READ_REQUESTS, ProbeConfig
from swarmtui.model.disk.prune_plan import PruneItem, PrunePlan
from swarmtui.model.disk.view import PruneOptions
from swarmtui.model.probe import NODE_ID_ENV, ProbeRequest, frame_lines, probe_script
from swarmtui.model.probe_prune import (
    delete_steps,
    node_outcome,
    recheck,
    render_kept,
)
from swarmtui.ops.executor import Executor
from swarmtui.ops.probe import ProbeOperation, ProbeResult
from swarmtui.ops.prune_nodes import PruneNodesOperation


def c(cid: str, flags: tuple[str, ...] = ("exited",)) -> PruneItem:
    return PruneItem(cid, cid, 10, flags, "container")


def test_recheck_keeps_only_what_the_preview_listed_and_is_still_unused() -> None:
    preview = PrunePlan("containers", items=(c("a"), c("b")))
    fresh = PrunePlan("containers", items=(c("a"), c("new")), kept=(c("b", ("running",)),))
    rc = recheck(preview, fresh)
    assert [i.id for i in rc.go.items] == ["a"] and rc.go.estimated_bytes == 10
    assert [(i.id, why) for i, why in rc.kept] == [("b", "running")]
    gone = recheck(preview, PrunePlan("containers", items=(c("a"),)))
    assert [(i.id, why) for i, why in gone.kept] == [("b", "no longer on the node")]


def test_recheck_of_a_system_plan_cuts_every_step() -> None:
    img = PruneItem("sha256:i", "i", 5, (), "image", "delete", ("sha256:i",))
    preview = PrunePlan("system", items=(c("a"), img),
                        steps=(PrunePlan("containers", items=(c("a"),)),
                               PrunePlan("images", items=(img,))))
    untag = PruneItem("sha256:i", "i", 0, (), "image", "untag", ("x:1",), ("x:1",))
    fresh = PrunePlan("system", items=(c("a"), untag),
                      steps=(PrunePlan("containers", items=(c("a"),)),
                             PrunePlan("images", items=(untag,))))
    rc = recheck(preview, fresh)
    assert [s.item_ids for s in rc.go.steps] == [("a",), ()]
    assert rc.kept[0][1].startswith("changed since the preview (now: untag x:1)")


def test_delete_steps_one_request_per_object_never_force() -> None:
    img = PruneItem("sha256:i", "r:1", 5, (), "image", "delete", ("r:1", "sha256:i"))
    go = PrunePlan("system", steps=(
        PrunePlan("containers", items=(c("abc"),)),
        PrunePlan("networks", items=(PruneItem("net1", "net1", kind="network"),)),
        PrunePlan("volumes", items=(PruneItem("v1", "v1", kind="volume"),)),
        PrunePlan("images", items=(img,)),
        PrunePlan("build_cache", items=(PruneItem("bc1", "bc1", kind="build_cache"),),
                  query=(("all", "1"),)),
    ))
    steps = delete_steps(go, {"net1": "n1id"})
    assert [(s.request.method, s.request.target) for s in steps[:5]] == [
        ("DELETE", "/v1.41/containers/abc"), ("DELETE", "/v1.41/networks/n1id"),
        ("DELETE", "/v1.41/volumes/v1"), ("DELETE", "/v1.41/images/r:1"),
        ("DELETE", "/v1.41/images/sha256:i")]
    build = steps[5].request
    assert build.method == "POST" and build.path == "/v1.41/build/prune"
    assert dict(build.query) == {"all": "1", "filters": '{"id":{"bc1":true}}'}
    assert not any("force" in s.request.target for s in steps)


def test_script_picks_the_node_list_by_the_node_id_and_escapes_percent() -> None:
    req = ProbeRequest("x0", "POST", "/v1.41/build/prune", (("filters", '{"id":{"a":true}}'),))
    script = probe_script([], per_node={"node1": [req]})
    assert f'case "${{{NODE_ID_ENV}:-}}" in\nnode1)\n' in script and "  ;;\nesac" in script
    assert "POST /v1.41/build/prune?filters=%%7B%%22id" in script
    assert "Content-Length: 0" in script
    with pytest.raises(ValueError):
        probe_script([], per_node={"bad id; rm": [req]})
    with pytest.raises(ValueError):
        ProbeRequest("k", "GET", "/v1.41/x?y=1")


def http(status: int, obj: Any = None) -> bytes:
    body = b"" if obj is None else json.dumps(obj).encode()
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body


def test_node_outcome_removed_kept_and_errors() -> None:
    go = PrunePlan("containers", items=(c("a"), c("b"), c("d"), c("e")))
    rc = recheck(PrunePlan("containers", items=(*go.items, c("z"))),
                 PrunePlan("containers", items=go.items, kept=(c("z", ("running",)),)))
    steps = delete_steps(rc.go)
    answers = {"x0": http(204), "x1": http(409, {"message": "cannot remove a running one"}),
               "x2": http(404, {"message": "no such container"}),
               "x3": http(500, {"message": "boom"})}
    out = node_outcome("w1", PrunePlan("containers", items=(*go.items, c("z"))), "stopped",
                       rc, steps, answers)
    assert out.prune.results[0].deleted == ("a",) and out.prune.space_reclaimed == 10
    assert out.kept == (("z", "re-check: running"),
                        ("b", "the engine refused: cannot remove a running one"),
                        ("d", "already gone"))
    assert not out.ok and out.prune.errors == ("e: HTTP 500: boom",)
    assert "Kept b: the engine refused" in render_kept(out.kept)
    unanswered = node_outcome("w1", go, "t", recheck(go, go), delete_steps(go), {},
                              error="probe task failed")
    assert not unanswered.ok and "whether they ran is unknown" in unanswered.prune.errors[0]


# ---- the operation against a fake manager ----------------------------------------------------

def node_json(nid: str, host: str, availability: str = "active") -> dict[str, Any]:
    return {"ID": nid, "Description": {"Hostname": host, "Engine": {"EngineVersion": "20.10.24"}},
            "Spec": {"Role": "worker", "Availability": availability},
            "Status": {"State": "ready"}}


class FakeNodeEngine:
    """A worker's engine as the probe's raw HTTP reaches it: two stopped containers."""

    def __init__(self, nid: str, host: str) -> None:
        self.nid, self.host = nid, host
        self.containers = {"c1": "exited", "c2": "exited"}
        self.deleted: list[str] = []

    def answer(self, method: str, target: str) -> bytes:
        path = urllib.parse.urlsplit(target).path.removeprefix("/v1.41")
        if method == "GET" and path == "/version":
            return http(200, {"Version": "20.10.24", "ApiVersion": "1.41"})
        if method == "GET" and path == "/info":
            return http(200, {"Name": self.host, "Swarm": {"NodeID": self.nid,
                                                           "LocalNodeState": "active"}})
        if method == "GET" and path == "/system/df":
            return http(200, {"LayersSize": 0, "Images": [], "Volumes": [], "BuildCache": [],
                              "Containers": [self._c(i, s) for i, s in self.containers.items()]})
        if method == "GET" and path == "/containers/json":
            return http(200, [self._c(i, s) for i, s in self.containers.items()])
        if method == "GET" and path in ("/images/json", "/networks"):
            return http(200, [])
        if method == "GET" and path == "/volumes":
            return http(200, {"Volumes": []})
        if method == "DELETE" and path.startswith("/containers/"):
            cid = path.rsplit("/", 1)[1]
            if "force" in target:
                raise AssertionError("forced")
            if self.containers.get(cid) == "running":
                return http(409, {"message": f"cannot remove running container {cid}"})
            self.containers.pop(cid)
            self.deleted.append(cid)
            return http(204)
        raise AssertionError((method, target))

    @staticmethod
    def _c(cid: str, state: str) -> dict[str, Any]:
        return {"Id": cid, "Names": [f"/{cid}"], "Image": "busybox", "ImageID": "sha256:b",
                "State": state, "SizeRw": 7, "Labels": {}, "Mounts": []}


def requests_in(script: str, node_id: str) -> list[tuple[str, str, str]]:
    """(key, method, target) the task of ``node_id`` sends: the common part, then its case."""
    common, _, rest = script.partition('case "')
    own = ""
    m = re.search(rf"^{node_id}\)\n(.*?)^  ;;", rest, re.M | re.S)
    if m:
        own = m.group(1)
    out = []
    for part in (common, own):
        sent = re.findall(r"printf '([A-Z]+) (\S+) HTTP", part)
        keys = re.findall(r"swarmtui-probe (\S+) ", part)
        out += [(k, meth, t.replace("%%", "%")) for k, (meth, t) in zip(keys, sent, strict=True)]
    return out


class FakeManager:
    """A manager with services whose global tasks run the probe script on fake workers."""

    def __init__(self, workers: list[FakeNodeEngine]) -> None:
        self.workers = {w.nid: w for w in workers}
        self.services: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.logs: dict[str, bytes] = {}
        self.before_delete: Any = None

    async def request(self, method: str, path: str, params: Any = None, timeout: float = 15,
                      *, body: Any = None, permit: WritePermit | None = None) -> Any:
        if method != "GET":
            assert permit is not None and permit.live
        if method == "POST" and path == "services/create":
            sid = f"svc{len(self.created)}"
            self.services[sid] = {"ID": sid, "Spec": body}
            self.created.append(body)
            script = body["TaskTemplate"]["ContainerSpec"]["Command"][2]
            assert f"{NODE_ID_ENV}={{{{.Node.ID}}}}" in body["TaskTemplate"]["ContainerSpec"]["Env"]
            skip = {x.split("!=")[1] for x in body["TaskTemplate"]["Placement"]["Constraints"]}
            if "case" in script and self.before_delete is not None:
                self.before_delete()
            for nid, w in self.workers.items():
                if nid in skip:
                    continue
                lines = [ln for key, meth, target in requests_in(script, nid)
                         for ln in frame_lines(key, w.answer(meth, target))]
                self.logs[f"{sid}-{nid}"] = "".join(x + "\n" for x in lines).encode()
            return {"ID": sid}
        if method == "DELETE":
            self.services.pop(path.split("/", 1)[1], None)
            return None
        if path == "services":
            return list(self.services.values())
        if path == "nodes":
            return await self.nodes()
        raise AssertionError((method, path))

    async def nodes(self) -> list[dict[str, Any]]:
        return [node_json("m1", "m1"), *(node_json(w.nid, w.host) for w in self.workers.values()),
                node_json("d1", "d1", "drain")]

    async def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
        sid = filters["service"][0]
        return [{"ID": f"{sid}-{nid}", "NodeID": nid, "Status": {"State": "running"}}
                for nid in self.workers if f"{sid}-{nid}" in self.logs]

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, params: Any = None) -> AsyncIterator[Any]:
        payload = self.logs[path.split("/")[1]]

        class Resp:
            async def read(self) -> bytes:
                return b"\x01\x00\x00\x00" + len(payload).to_bytes(4, "big") + payload

        yield Resp()


async def test_operation_previews_rechecks_and_deletes_each_node_its_own_list() -> None:
    w1, w2 = FakeNodeEngine("n2", "w1"), FakeNodeEngine("n3", "w2")
    fake = FakeManager([w1, w2])
    config = ProbeConfig(image="img:1")
    executor = Executor()
    read_plan = await executor.plan(ProbeOperation(fake, config, PRUNE_READ_REQUESTS,  # type: ignore[arg-type]
                                                   purpose="a prune preview",
                                                   skip_node_ids=["m1"]))
    read = await executor.execute(read_plan)
    assert isinstance(read.detail, ProbeResult)
    op = PruneNodesOperation(DiskFleet([]), fake, config, read.detail, [],  # type: ignore[arg-type]
                             "containers", PruneOptions())
    plan = await executor.plan(op)
    text = "".join(plan.preview.blocks)
    assert "w1 (probe://w1, API 1.41)" in text and "w2 (probe://w2, API 1.41)" in text
    assert "not covered  d1: drained: it runs no tasks" in text
    assert f"then {plan.payload.delete_name} to delete" in " ".join(text.split())
    # A probed node is pruned by the delete probe, object by object, not by the endpoint.
    assert "via POST /containers/prune" not in text
    assert "via the delete probe: DELETE /containers/{id} for each listed object" in text
    assert max(len(line) for line in text.splitlines() if "Creates" in line) <= 68
    assert plan.preview.changes == 4
    assert len(fake.created) == 1  # planning created nothing

    def meanwhile() -> None:  # after the re-check, before the deletes: c1 on w2 starts
        w2.containers["c1"] = "running"

    fake.before_delete = meanwhile
    w1.containers["c2"] = "running"  # before the re-check: kept by it, never sent
    outcome = await executor.execute(plan)
    assert outcome.ok, outcome.errors
    assert (w1.deleted, w2.deleted) == (["c1"], ["c2"])
    assert fake.services == {} and len(fake.created) == 3
    blocks = "".join(outcome.blocks)
    assert "Kept c2: re-check: running" in blocks
    assert "Kept c1: the engine refused: cannot remove running container c1" in blocks
    # the delete service's script: each node its own list
    script = fake.created[2]["TaskTemplate"]["ContainerSpec"]["Command"][2]
    assert [t for _, _, t in requests_in(script, "n2")] == ["/v1.41/containers/c1"]
    assert [t for _, _, t in requests_in(script, "n3")] == ["/v1.41/containers/c1",
                                                           "/v1.41/containers/c2"]


async def test_read_only_refuses_the_operation() -> None:
    fake = FakeManager([FakeNodeEngine("n2", "w1")])
    op = PruneNodesOperation(DiskFleet([]), fake, ProbeConfig(), None, [],  # type: ignore[arg-type]
                             "containers", PruneOptions())
    with pytest.raises(EngineError):
        await Executor(read_only=True).plan(op)  # nothing to preview without a read probe
    assert fake.created == []


@pytest.mark.parametrize("extra", [["--yes"], ["--dry-run", "--yes"], []])
def test_cli_refuses_before_contacting_any_engine(extra: list[str], capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    status = main(["--read-only", "prune", "images", "--all-nodes", *extra])
    assert status == 1
    assert capsys.readouterr().err == ("swarmtui: error: prune --all-nodes/--node needs to "
                                       "create probe services; refused in read-only\n")
    status = main(["prune", "images", "--all-nodes", "--dry-run"])  # stdin is no terminal
    assert status == 1 and "stdin is not a terminal" in capsys.readouterr().err
    assert main(["prune", "images", "--probe-timeout", "5", "--dry-run"]) == 2
