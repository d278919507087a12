"""LogFollower / LogSession against a scripted fake engine (an aiohttp server on a unix
socket): resume after EOF and after a cut mid-frame, the hang watchdog, split lines, TTY
streams, daemon error frames, follow/unfollow as services come and go. No lab needed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from swarmtui.engine.client import EngineClient
from swarmtui.engine.logs import FollowOptions, LogSession
from swarmtui.engine.store import Store
from swarmtui.engine.target import EngineTarget
from swarmtui.model import parse
from swarmtui.model.actions import (
    Connected,
    Disconnected,
    NodesListed,
    ServicesListed,
    TasksListed,
)
from swarmtui.model.log_targets import LogTargets
from swarmtui.model.logs import NS_PER_S, format_since
from swarmtui.model.types import EngineInfo

Script = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def ts(ns: int) -> str:
    stamp = datetime.fromtimestamp(ns // NS_PER_S, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ns % NS_PER_S:09d}Z"


def payload(ns: int, msg: str | bytes, task: str = "t1", node: str = "n1",
            service: str = "s1", end: bytes = b"\n") -> bytes:
    det = (f"com.docker.swarm.node.id={node},com.docker.swarm.service.id={service},"
           f"com.docker.swarm.task.id={task}")
    body = msg.encode() if isinstance(msg, str) else msg
    return f"{ts(ns)} {det} ".encode() + body + end


def frame(data: bytes, stream: int = 1) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


class FakeEngine:
    """Serves /_ping and /services/{id}/logs from per-service scripts, one per request."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Script]] = {}
        self.probe: dict[str, Script] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.task_gets: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/_ping", self.ping)
        self.app.router.add_get("/v1.41/services/{sid}/logs", self.logs)
        self.app.router.add_get("/v1.41/tasks/{tid}", self.task)

    async def ping(self, request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": "1.41"})

    async def task(self, request: web.Request) -> web.Response:
        tid = request.match_info["tid"]
        self.task_gets.append(tid)
        return web.json_response({"ID": tid, "Slot": 7})

    async def logs(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["sid"]
        params = dict(request.query)
        self.requests.append((sid, params))
        if params.get("follow") == "0" and sid in self.probe and params.get("tail") == "1":
            script = self.probe[sid]
        else:
            queue = self.scripts.get(sid, [])
            if not queue:
                return web.Response(status=404, text='{"message":"no such service"}',
                                    content_type="application/json")
            script = queue.pop(0) if len(queue) > 1 else queue[0]
        resp = web.StreamResponse()
        await resp.prepare(request)
        await script(request, resp)
        return resp

    def follows(self, sid: str) -> list[dict[str, str]]:
        return [p for s, p in self.requests if s == sid and p.get("follow") == "1"]


def send(*chunks: bytes, then: str = "eof") -> Script:
    async def script(request: web.Request, resp: web.StreamResponse) -> None:
        for chunk in chunks:
            await resp.write(chunk)
        if then == "hang":
            await asyncio.sleep(3600)
        elif then == "cut":
            assert request.transport is not None
            request.transport.close()  # mid-chunk: the client sees ClientPayloadError
            await asyncio.sleep(0.1)
    return script


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[tuple[FakeEngine, EngineClient]]:
    fake = FakeEngine()
    runner = web.AppRunner(fake.app, shutdown_timeout=0.1)
    await runner.setup()
    sock = tmp_path / "engine.sock"
    site = web.UnixSite(runner, str(sock))
    await site.start()
    client = EngineClient(EngineTarget(f"unix://{sock}", "test"))
    await client.connect()
    yield fake, client
    await client.close()
    await runner.cleanup()


def make_store(services: list[dict[str, Any]], tasks: list[dict[str, Any]] = ()) -> Store:  # type: ignore[assignment]
    store = Store()
    now = time.time_ns()
    store.dispatch(NodesListed(tuple(parse.parse_nodes([
        {"ID": "n1", "Description": {"Hostname": "node-one"}, "Status": {"State": "ready"},
         "Spec": {"Role": "manager"}},
    ])), now))
    store.dispatch(ServicesListed(tuple(parse.parse_services(services)), now))
    store.dispatch(TasksListed(tuple(parse.parse_tasks(list(tasks))), now))
    return store


def svc(sid: str, name: str, *, stack: str | None = None, tty: bool = False,
        replicas: int = 1) -> dict[str, Any]:
    labels = {"com.docker.stack.namespace": stack} if stack else {}
    return {"ID": sid, "Spec": {"Name": name, "Labels": labels,
                                "TaskTemplate": {"ContainerSpec": {"Image": "x", "TTY": tty}},
                                "Mode": {"Replicated": {"Replicas": replicas}}}}


def task(tid: str, sid: str, slot: int = 1, state: str = "running") -> dict[str, Any]:
    return {"ID": tid, "ServiceID": sid, "Slot": slot, "NodeID": "n1",
            "Status": {"State": state}, "DesiredState": "running"}


async def until(pred: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


BASE = 1_795_600_000 * NS_PER_S


async def test_resume_after_eof_drops_the_replay(engine: tuple[FakeEngine, EngineClient]) -> None:
    fake, client = engine
    lines = [frame(payload(BASE + i * 1000, f"line {i}")) for i in range(1, 7)]
    fake.scripts["s1"] = [send(*lines[:3]), send(*lines[1:5], then="hang")]
    store = make_store([svc("s1", "web")], [task("t1", "s1", slot=2)])
    session = LogSession(client, store, options=FollowOptions(tail=10))
    session.start(LogTargets(services=("web",)))
    try:
        await until(lambda: len(session.ring) == 5)
        await asyncio.sleep(0.1)
        assert [line.text for line in session.ring] == [f"line {i}" for i in range(1, 6)]
        first, second = fake.follows("s1")[:2]
        assert first["tail"] == "10" and "since" not in first
        # Resumed at (or before) the last line seen, without a tail: nothing can be skipped.
        assert "tail" not in second
        assert second["since"] <= format_since(BASE + 3000)
        h = session.health()[0]
        assert (h.service_name, h.state, h.reconnects, h.lines) == ("web", "live", 1, 5)
        line = session.ring.get(session.ring.first_seq)
        assert line is not None and (line.slot, line.node_name) == (2, "node-one")
    finally:
        await session.stop()


async def test_resume_after_a_cut_mid_frame(engine: tuple[FakeEngine, EngineClient]) -> None:
    fake, client = engine
    lines = [frame(payload(BASE + i * 1000, f"line {i}")) for i in range(1, 6)]
    half = lines[2][:12]
    fake.scripts["s1"] = [send(lines[0] + lines[1] + half, then="cut"),
                          send(*lines, then="hang")]
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store)
    session.start()
    try:
        await until(lambda: len(session.ring) == 5)
        await asyncio.sleep(0.1)
        assert [line.text for line in session.ring] == [f"line {i}" for i in range(1, 6)]
        assert session.health()[0].reconnects == 1
    finally:
        await session.stop()


async def test_watchdog_cuts_a_hung_stream_and_resumes(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """The follow stream delivers one line and then nothing, although the task printed
    more: the watchdog's tail=1 probe sees a newer line, the stream is resumed with since."""
    fake, client = engine
    now = time.time_ns()
    old = [frame(payload(now - (10 - i) * NS_PER_S, f"line {i}")) for i in range(1, 5)]
    fake.scripts["s1"] = [send(old[0], then="hang"), send(*old, then="hang")]
    fake.probe["s1"] = send(old[3])
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    states: list[str] = []
    session = LogSession(client, store, watchdog_s=0.05,
                         options=FollowOptions(stall_s=0.2, lookback_ns=NS_PER_S))
    session.start()
    follower = session.followers["s1"]
    follower.on_change = lambda: states.append(follower.state)
    try:
        await until(lambda: len(session.ring) == 4)
        await asyncio.sleep(0.1)
        assert [line.text for line in session.ring] == [f"line {i}" for i in range(1, 5)]
        assert "stalled" in states
        assert follower.probes >= 1
        assert session.health()[0].state in ("live", "idle")
        assert session.health()[0].reconnects == 1
    finally:
        await session.stop()


async def test_a_probe_without_an_answer_does_not_back_off(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Found by tests/test_faults_lab.py (manager SIGSTOPped): probes during the hang got no
    answer and each doubled the interval, so the stream, still hung after SIGCONT, was
    probed again only after 40-80 s. A failed probe now keeps the interval at stall_s."""
    fake, client = engine
    fake.scripts["s1"] = [send(frame(payload(BASE, "only line")), then="hang")]
    fake.probe["s1"] = send(then="cut")  # the body breaks off: no answer
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store, watchdog_s=3600, options=FollowOptions(stall_s=0.1))
    session.start()
    follower = session.followers["s1"]
    try:
        await until(lambda: len(session.ring) == 1)
        for _ in range(3):
            assert not await follower.probe()
        assert follower.probe_interval_s == 0.1
        fake.probe["s1"] = send()  # an answer with nothing newer: now it backs off
        assert not await follower.probe()
        assert follower.probe_interval_s == 0.2
    finally:
        await session.stop()


async def test_quiet_stream_is_probed_with_backoff_not_cut(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    fake, client = engine
    fake.scripts["s1"] = [send(frame(payload(BASE, "only line")), then="hang")]
    fake.probe["s1"] = send()  # nothing newer: the task is just quiet
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store, watchdog_s=0.02, options=FollowOptions(stall_s=0.1))
    session.start()
    try:
        await asyncio.sleep(0.8)
        follower = session.followers["s1"]
        assert 1 <= follower.probes <= 4  # 0.1, 0.2, 0.4 s apart: backing off
        assert follower.reconnects == 0
        assert len(fake.follows("s1")) == 1
    finally:
        await session.stop()


async def test_split_line_is_joined_and_cut_visibly(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Lines over 16 KiB arrive as several messages; 1 MB becomes one line with a cut mark."""
    fake, client = engine
    piece = b"A" * 16384
    parts = [frame(payload(BASE, piece, end=b"")) for _ in range(64)]
    parts.append(frame(payload(BASE, b"tail")))
    parts.append(frame(payload(BASE + 1, "next")))
    fake.scripts["s1"] = [send(*parts, then="hang")]
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store, options=FollowOptions(max_chars=1000))
    session.start()
    try:
        await until(lambda: len(session.ring) == 2)
        long, nxt = list(session.ring)
        assert long.text.startswith("A" * 1000)
        assert long.text.endswith(f"… [+{64 * 16384 + 4 - 1000} chars]")
        assert nxt.text == "next"
    finally:
        await session.stop()


async def test_tty_stream_is_read_raw(engine: tuple[FakeEngine, EngineClient]) -> None:
    fake, client = engine
    body = payload(BASE, "\x1b]0;title\x07hello\r", end=b"\n") + payload(BASE + 1, "two\r")
    fake.scripts["s1"] = [send(body, then="hang")]
    store = make_store([svc("s1", "web", tty=True)], [task("t1", "s1")])
    session = LogSession(client, store)
    session.start()
    try:
        await until(lambda: len(session.ring) == 2)
        # The tty's CR LF is one line end; the title sequence is neutralised.
        assert [line.text for line in session.ring] == ["␛hello", "two"]
    finally:
        await session.stop()


async def test_non_follow_reads_to_the_end_and_reports_down_nodes(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    fake, client = engine
    err = (b"Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log "
           b"stream. some logs could not be retrieved for the following reasons: node n1 is "
           b"not available")
    fake.scripts["s1"] = [send(frame(payload(BASE, "a")), frame(err, stream=3))]
    fake.scripts["s2"] = [send(frame(payload(BASE, "b", task="t9", service="s2"), stream=2))]
    store = make_store([svc("s1", "web"), svc("s2", "api")], [task("t1", "s1")])
    session = LogSession(client, store, options=FollowOptions(follow=False, tail=None))
    session.start()
    try:
        await asyncio.wait_for(session.wait_ended(), 5)
        by_name = {h.service_name: h for h in session.health()}
        assert by_name["web"].state == "node unavailable"
        assert by_name["web"].detail == "node node-one is not available"
        assert by_name["api"].state == "ended"
        kinds = sorted((line.service_name, line.stream) for line in session.ring)
        assert kinds == [("api", "stderr"), ("web", "daemon"), ("web", "stdout")]
        # t9 is unknown to the store: one GET /tasks/t9 gives its slot, then it is cached.
        assert fake.task_gets == ["t9"]
        api_line = next(line for line in session.ring if line.service_name == "api")
        assert api_line.slot == 7
        assert all(p["follow"] == "0" and p["tail"] == "all" for _, p in fake.requests)
    finally:
        await session.stop()


async def test_session_follows_a_stack_as_services_come_and_go(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    fake, client = engine
    for sid in ("s1", "s2", "s3"):
        fake.scripts[sid] = [send(frame(payload(BASE, f"from {sid}", service=sid,
                                                task=f"t{sid}")), then="hang")]
    store = make_store([svc("s1", "st_web", stack="st"), svc("s3", "other")])
    session = LogSession(client, store)
    session.start(LogTargets(stacks=("st",)))
    try:
        await until(lambda: len(session.ring) == 1)
        now = time.time_ns()
        store.dispatch(ServicesListed(tuple(parse.parse_services([
            svc("s1", "st_web", stack="st"), svc("s2", "st_api", stack="st"),
            svc("s3", "other")])), now))
        await until(lambda: len(session.ring) == 2)
        assert sorted(session.followers) == ["s1", "s2"]
        store.dispatch(ServicesListed(tuple(parse.parse_services([
            svc("s2", "st_api", stack="st"), svc("s3", "other")])), now))
        await until(lambda: sorted(session.followers) == ["s2"])
        health = {h.service_name: (h.state, h.detail) for h in session.health()}
        assert health["st_web"] == ("ended", "service removed")
        assert {line.text for line in session.ring} == {"from s1", "from s2"}
    finally:
        await session.stop()


async def test_the_backlog_is_merged_by_time_then_lines_keep_arrival_order(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Each stream sends its history in one go; shown as it came the pane would be grouped
    by service. The backlog lands merged by time; later lines are shown as they arrive."""
    fake, client = engine
    t0 = time.time_ns() - 60 * NS_PER_S

    def history_then_live(sid: str, seconds: list[int], delay: float, live: int) -> Script:
        def one(second: int, text: str) -> bytes:
            return frame(payload(t0 + second * NS_PER_S, text, task=f"t{sid}", service=sid))

        async def script(request: web.Request, resp: web.StreamResponse) -> None:
            await asyncio.sleep(delay)
            await resp.write(b"".join(one(sec, f"{sid} {sec}") for sec in seconds))
            await asyncio.sleep(1.0)
            await resp.write(one(live, f"{sid} live"))
            await asyncio.sleep(3600)
        return script

    fake.scripts["s1"] = [history_then_live("s1", [1, 3, 5], 0.0, live=0)]  # an old stamp
    fake.scripts["s2"] = [history_then_live("s2", [2, 4], 0.1, live=9)]
    store = make_store([svc("s1", "web"), svc("s2", "api")])
    session = LogSession(client, store)
    session.start()
    try:
        await asyncio.wait_for(session.wait_backlog(), 5)
        assert [line.text for line in session.ring] == ["s1 1", "s2 2", "s1 3", "s2 4", "s1 5"]
        await until(lambda: len(session.ring) == 7)
        assert [line.text for line in session.ring][5:] == ["s1 live", "s2 live"]
    finally:
        await session.stop()


async def test_a_backlog_bigger_than_the_ring_keeps_its_newest_lines(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    from swarmtui.model.logs import LogLine

    fake, client = engine
    fake.scripts["s1"] = [send(then="hang")]
    fake.scripts["s2"] = [send(then="hang")]
    session = LogSession(client, make_store([svc("s1", "web"), svc("s2", "api")]),
                         capacity=100)
    session.start()
    try:
        def lines(sid: str, start: int) -> list[LogLine]:
            return [LogLine(-1, BASE + i, "", "stdout", sid, sid, "t" + sid, 1, "n1", "n1",
                            f"{i}") for i in range(start, 300, 2)]

        session.ingest(lines("s1", 0))  # 150 lines, then the other stream's 150
        session.ingest(lines("s2", 1))
        assert len(session.ring) == 0, "still gathering the backlog, bounded meanwhile"
        assert session._held is not None and len(session._held) == 100
        await asyncio.wait_for(session.wait_backlog(), 5)
        assert [line.text for line in session.ring] == [str(i) for i in range(200, 300)]
        assert session.dropped == 200
        assert {h.service_name: h.dropped for h in session.health()} == {"web": 100, "api": 100}
    finally:
        await session.stop()


async def test_health_is_per_task_one_down_node_does_not_condemn_a_service(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    fake, client = engine
    for sid in ("s1", "s2"):
        fake.scripts[sid] = [send(frame(payload(BASE, "hi", service=sid, task=f"t{sid}a")),
                                  then="hang")]
    store = Store()
    now = time.time_ns()
    store.dispatch(NodesListed(tuple(parse.parse_nodes([
        {"ID": nid, "Description": {"Hostname": name}, "Status": {"State": st},
         "Spec": {"Role": "worker"}}
        for nid, name, st in (("n1", "node-one", "ready"), ("n2", "node-two", "down"))
    ])), now))
    store.dispatch(ServicesListed(tuple(parse.parse_services(
        [svc("s1", "web", replicas=2), svc("s2", "db")])), now))
    tasks = [task("ts1a", "s1"), {**task("ts1b", "s1", slot=2), "NodeID": "n2"},
             {**task("ts2a", "s2"), "NodeID": "n2"}]
    store.dispatch(TasksListed(tuple(parse.parse_tasks(tasks)), now))
    session = LogSession(client, store)
    session.start()
    try:
        await until(lambda: len(session.ring) == 2)
        health = {h.service_name: h for h in session.health()}
        web, db = health["web"], health["db"]
        assert (web.state, web.tasks, web.unreachable, web.nodes_down) == (
            "node unavailable", 2, 1, ("node-two",))
        assert web.detail == "node node-two is down"
        assert (db.tasks, db.unreachable) == (1, 1), "nothing of db can stream"
    finally:
        await session.stop()


async def test_a_down_node_whose_tasks_moved_is_named_not_condemning_and_forgotten_on_return(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Found by tests/test_faults_lab.py: a worker killed, its tasks moved or shut down, the
    daemon says "node … is not available" on the follow stream. The strip showed every
    service red (nothing streams) although all its tasks streamed, and kept saying so after
    the node came back."""
    fake, client = engine
    err = (b"warning: incomplete log stream. some logs could not be retrieved: "
           b"node n2 is not available")
    fake.scripts["s1"] = [send(frame(payload(BASE, "hi", task="t1")), frame(err, stream=3),
                               then="hang")]
    store = Store()
    now = time.time_ns()

    def nodes(two: str) -> NodesListed:
        return NodesListed(tuple(parse.parse_nodes([
            {"ID": nid, "Description": {"Hostname": name}, "Status": {"State": st},
             "Spec": {"Role": "worker"}}
            for nid, name, st in (("n1", "node-one", "ready"), ("n2", "node-two", two))
        ])), time.time_ns())

    store.dispatch(nodes("down"))
    store.dispatch(ServicesListed(tuple(parse.parse_services([svc("s1", "web")])), now))
    moved = {**task("t2", "s1"), "NodeID": "n2", "DesiredState": "shutdown"}
    store.dispatch(TasksListed(tuple(parse.parse_tasks([task("t1", "s1"), moved])), now))
    session = LogSession(client, store)
    session.start()
    try:
        await until(lambda: any(h.nodes_down for h in session.health()))
        (web,) = session.health()
        assert (web.state, web.tasks, web.unreachable, web.nodes_down) == (
            "node unavailable", 1, 0, ("node-two",)), "named, but all of web streams"
        store.dispatch(nodes("ready"))
        (web,) = session.health()
        assert web.state in ("live", "idle") and not web.nodes_down
    finally:
        await session.stop()


def test_ring_bound_counts_dropped_lines_per_service() -> None:
    from swarmtui.model.logs import LogLine

    store = make_store([svc("s1", "a"), svc("s2", "b")])
    session = LogSession(None, store, capacity=5)
    session.start()

    def line(sid: str, i: int) -> LogLine:
        return LogLine(-1, i, "", "stdout", sid, "a" if sid == "s1" else "b", "t", 1, "n1",
                       "node-one", f"{sid} {i}")

    session.ingest([line("s1", i) for i in range(4)])
    session.ingest([line("s2", i) for i in range(4)])
    session.ingest([line("s2", i) for i in range(10, 18)])
    assert len(session.ring) == 5 and session.dropped == 11
    from swarmtui.engine.logs import StreamHealth

    session.report(StreamHealth("s1", "a", "live"))
    session.report(StreamHealth("s2", "b", "live"))
    dropped = {h.service_name: h.dropped for h in session.health()}
    assert dropped == {"a": 4, "b": 7}
    assert session.ring.total == session.ring.dropped + len(session.ring)


async def test_a_flood_of_one_chunk_per_line_arrives_complete_and_in_order(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """The engine sends one HTTP chunk per line; the follower takes them in bulk."""
    fake, client = engine
    n = 5000

    async def flood(request: web.Request, resp: web.StreamResponse) -> None:
        for i in range(n):
            await resp.write(frame(payload(BASE + i, f"line {i}", task=f"t{i % 2}")))
        await asyncio.sleep(3600)

    fake.scripts["s1"] = [flood]
    store = make_store([svc("s1", "web")], [task("t0", "s1", 1), task("t1", "s1", 2)])
    session = LogSession(client, store, capacity=n)
    session.start()
    try:
        await until(lambda: session.ring.total == n, timeout=20)
        lines = list(session.ring)
        assert [line.text for line in lines] == [f"line {i}" for i in range(n)]
        assert [line.seq for line in lines] == list(range(n))
        assert {(line.task_id, line.slot) for line in lines} == {("t0", 1), ("t1", 2)}
    finally:
        await session.stop()


async def test_a_backlog_flood_many_times_the_ring_is_all_seen(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Regression (BENCHMARKS.md, issue 14 suite): the pane's backlog read looked 18x slower
    because the benchmark waited for ``ring.total`` to reach the flood's size, and lines cut
    from a backlog bigger than the ring while it is gathered never enter the ring. Every line
    delivered is stored or counted as dropped, and ``lines_seen`` says so."""
    fake, client = engine
    capacity, n = 500, 6_000
    body = b"".join(frame(payload(BASE + i, f"line {i}", task=f"t{i % 2}")) for i in range(n))

    async def history(request: web.Request, resp: web.StreamResponse) -> None:
        for k in range(0, len(body), 1 << 14):  # the engine sends the history in one go
            await resp.write(body[k : k + (1 << 14)])
        await asyncio.sleep(3600)

    fake.scripts["s1"] = [history]
    store = make_store([svc("s1", "web")], [task("t0", "s1", 1), task("t1", "s1", 2)])
    session = LogSession(client, store, capacity=capacity)
    session.start(LogTargets(services=("s1",)), FollowOptions(tail=None))
    try:
        await asyncio.wait_for(session.wait_backlog(), 10)
        await until(lambda: session.lines_seen == n, timeout=20)
        assert len(session.ring) + session.dropped == n, "every line stored or counted"
        assert session.ring.total < n, "cut backlog lines never enter the ring"
        assert [line.text for line in session.ring] == [f"line {i}" for i in range(n - capacity, n)]
    finally:
        await session.stop()


async def test_a_fast_task_hung_on_the_stream_is_found_by_a_second_probe(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Found by tests/test_faults_lab.py (a dockerd SIGSTOPped, then SIGCONT): the stream
    stopped carrying a task that prints every 50 ms. The tail=1 probe's answer, that task's
    newest line, was always younger than the in-flight margin, so no probe ever called the
    stream hung. Now a too-fresh line is checked again once it is old enough, and the stream
    is re-read from the task's last delivered line (not just the last few seconds)."""
    fake, client = engine
    start = time.time_ns()
    first = frame(payload(start - 20 * NS_PER_S, "tick 1"))

    async def newest(request: web.Request, resp: web.StreamResponse) -> None:
        await resp.write(frame(payload(time.time_ns(), "tick newest")))  # always fresh

    fake.scripts["s1"] = [send(first, then="hang"),
                          send(first, frame(payload(start - 19 * NS_PER_S, "tick 2")),
                               then="hang")]
    fake.probe["s1"] = newest
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store, watchdog_s=0.05,
                         options=FollowOptions(stall_s=0.2, lookback_ns=NS_PER_S))
    session.start()
    try:
        await until(lambda: len(session.ring) == 2, timeout=8)
        assert [line.text for line in session.ring] == ["tick 1", "tick 2"]
        follower = session.followers["s1"]
        assert follower.reconnects == 1 and follower.probes >= 2
        resumed = fake.follows("s1")[1]
        assert resumed["since"] <= format_since(start - 20 * NS_PER_S), "from its last line"
    finally:
        await session.stop()


async def test_a_big_read_is_taken_in_slices_that_yield_to_the_loop(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Keys waited while a flood was decoded: one network read (thousands of lines) was
    turned into lines in one go, holding the event loop for tens of ms per read. Now at most
    INTAKE_SLICE frames are taken per turn of the loop; counted in turns, not timed."""
    from swarmtui.engine.logs import INTAKE_SLICE, LogFollower, NameResolver

    fake, client = engine
    n = 8 * INTAKE_SLICE
    body = b"".join(frame(payload(BASE + i, f"line {i}", task="t0")) for i in range(n))
    fake.scripts["s1"] = [send(body, then="hang")]
    store = make_store([svc("s1", "web")], [task("t0", "s1", 1)])
    turns = 0
    batches: list[tuple[int, int]] = []  # (lines, loop turns so far)

    async def count_turns() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    follower = LogFollower(client, store.state.services["s1"], NameResolver(client, store),
                           lambda lines: batches.append((len(lines), turns)), FollowOptions())
    counter = asyncio.create_task(count_turns())
    run = asyncio.create_task(follower.run())
    try:
        await until(lambda: sum(size for size, _ in batches) == n, timeout=20)
        per_turn: Counter[int] = Counter()
        for size, turn in batches:
            per_turn[turn] += size
        assert max(per_turn.values()) <= INTAKE_SLICE, per_turn
        assert len(per_turn) >= n // INTAKE_SLICE, "other tasks ran between the slices"
    finally:
        run.cancel()
        counter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run


def nodes_with(two: str) -> NodesListed:
    return NodesListed(tuple(parse.parse_nodes([
        {"ID": nid, "Description": {"Hostname": name}, "Status": {"State": st},
         "Spec": {"Role": "worker"}}
        for nid, name, st in (("n1", "node-one", "ready"), ("n2", "node-two", two))
    ])), time.time_ns())


async def test_a_node_back_from_down_reopens_its_services_streams_from_their_last_lines(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Found on the lab (a worker's dockerd SIGSTOPped ~30 s, then SIGCONT): the engine's
    follow stream never again carries that node's lines, not even those of the task that
    replaces the frozen one, while a fresh request does. The node going down, then ready,
    re-opens the streams of the services with tasks there, from those tasks' last lines;
    a service without tasks there keeps its stream."""
    fake, client = engine
    now = time.time_ns()
    old = frame(payload(now - 30 * NS_PER_S, "old 1", task="t2", node="n2"))
    mine = frame(payload(now - 29 * NS_PER_S, "one 1", task="t1"))
    new = frame(payload(now - 1 * NS_PER_S, "new 1", task="t3", node="n2"))
    fake.scripts["s1"] = [send(mine, old, then="hang"), send(mine, old, new, then="hang")]
    fake.scripts["s2"] = [send(frame(payload(now, "db", task="t4", service="s2")),
                               then="hang")]
    store = Store()
    store.dispatch(nodes_with("ready"))
    store.dispatch(ServicesListed(tuple(parse.parse_services(
        [svc("s1", "web", replicas=2), svc("s2", "db")])), now))
    tasks = [task("t1", "s1"), {**task("t2", "s1", slot=2), "NodeID": "n2"},
             task("t4", "s2")]
    store.dispatch(TasksListed(tuple(parse.parse_tasks(tasks)), now))
    session = LogSession(client, store)
    session.start()
    web_follower = session.followers["s1"]
    details: list[str] = []
    web_follower.on_change = lambda: details.append(web_follower.detail)
    try:
        await until(lambda: len(session.ring) == 3)
        store.dispatch(nodes_with("down"))
        await asyncio.sleep(0.1)
        assert len(fake.follows("s1")) == 1, "down alone re-opens nothing"
        replaced = [*tasks, {**task("t3", "s1", slot=2), "NodeID": "n2"},
                    {**task("t2", "s1", slot=2), "NodeID": "n2", "DesiredState": "shutdown"}]
        store.dispatch(TasksListed(tuple(parse.parse_tasks(replaced)), time.time_ns()))
        store.dispatch(nodes_with("ready"))
        await until(lambda: "new 1" in [line.text for line in session.ring])
        assert [line.text for line in session.ring].count("old 1") == 1
        assert "node node-two back: re-reading" in details
        resumed = fake.follows("s1")[1]
        assert resumed["since"] <= format_since(now - 30 * NS_PER_S), "from t2's last line"
        assert len(fake.follows("s2")) == 1, "db has no task on node-two"
    finally:
        await session.stop()


async def test_the_engine_connection_back_reopens_every_stream(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Found on the lab (the manager's dockerd SIGSTOPped, then SIGCONT): its follow streams
    stayed open, carried the manager's own tasks again, and never the workers'. Once the
    app's connection is back, every stream is re-read from each task's last line."""
    fake, client = engine
    now = time.time_ns()
    before = frame(payload(now - 40 * NS_PER_S, "w 1", task="t1"))
    after = frame(payload(now - 2 * NS_PER_S, "w 2", task="t1"))
    fake.scripts["s1"] = [send(before, then="hang"), send(before, after, then="hang")]
    store = make_store([svc("s1", "web")], [task("t1", "s1")])
    session = LogSession(client, store)
    session.start()
    try:
        await until(lambda: len(session.ring) == 1)
        store.dispatch(Disconnected("the engine stopped answering", time.time_ns()))
        await asyncio.sleep(0.1)
        assert len(fake.follows("s1")) == 1
        store.dispatch(Connected(EngineInfo("unix:///x", "20.10", "1.41", "1.12", "linux",
                                            "amd64"), time.time_ns()))
        await until(lambda: len(session.ring) == 2)
        assert [line.text for line in session.ring] == ["w 1", "w 2"]
        assert fake.follows("s1")[1]["since"] <= format_since(now - 40 * NS_PER_S)
    finally:
        await session.stop()


async def test_a_held_intake_gate_takes_no_lines_until_released(
    engine: tuple[FakeEngine, EngineClient],
) -> None:
    """Input first: while the UI holds the gate (a key being answered), a follower turns no
    more frames into lines; its data waits, and every line arrives once released."""
    from swarmtui.engine.logs import IntakeGate, LogFollower, NameResolver

    fake, client = engine
    n = 600
    body = b"".join(frame(payload(BASE + i, f"line {i}", task="t0")) for i in range(n))
    fake.scripts["s1"] = [send(body, then="hang")]
    store = make_store([svc("s1", "web")], [task("t0", "s1", 1)])
    gate = IntakeGate()
    got: list[str] = []
    gate.hold(60.0)
    follower = LogFollower(client, store.state.services["s1"], NameResolver(client, store),
                           lambda lines: got.extend(line.text for line in lines),
                           FollowOptions(), gate=gate)
    run = asyncio.create_task(follower.run())
    try:
        await until(lambda: follower.connected, timeout=10)
        await asyncio.sleep(0.3)
        assert got == [], "no line taken in while held"
        gate.release()
        await until(lambda: len(got) == n, timeout=10)
        assert got == [f"line {i}" for i in range(n)]
    finally:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run


async def test_an_intake_hold_ends_by_itself_and_is_not_extended_while_held() -> None:
    from swarmtui.engine.logs import IntakeGate

    gate = IntakeGate()
    gate.hold(0.1)
    assert not gate.is_open
    await asyncio.sleep(0.06)
    gate.hold(0.1)  # a key held down: the bound stays the first hold's
    await asyncio.sleep(0.07)
    assert gate.is_open and gate.holds == 1
    await asyncio.wait_for(gate.wait(), 1)


async def test_an_intake_hold_pauses_the_collector_until_it_ends() -> None:
    import gc

    from swarmtui.engine.logs import IntakeGate

    gate = IntakeGate()
    assert gc.isenabled()
    gate.hold(5)
    assert not gc.isenabled()  # no collection pass inside the answer to a key
    gate.release()
    assert gc.isenabled()
    gate.hold(0.05)
    await asyncio.sleep(0.1)  # the bound ends it, and the collector runs again
    assert gate.is_open and gc.isenabled()
    # Paused by someone else (a big decode): the gate leaves it to them.
    gc.disable()
    try:
        gate.hold(5)
        gate.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_stopping_a_log_session_resumes_the_collector() -> None:
    import gc

    session = LogSession(None, Store())
    session.intake.hold(5)  # the app closes while a view key is answered
    assert not gc.isenabled()
    await session.stop()
    assert gc.isenabled() and session.intake.is_open
