"""Every stream (events, logs) goes through ``EngineClient.stream``: counted, refused for
anything but GET, and every failure one line like ``request()``; against a stub engine."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.logs import task_log_tail
from swarmtui.engine.target import EngineTarget

ROOT = Path(__file__).resolve().parent.parent


async def _ping(_: web.Request) -> web.Response:
    return web.Response(text="OK", headers={"Api-Version": "1.41"})


async def _events_then_break(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await resp.write(json.dumps({"Type": "node", "Action": "update", "time": 1}).encode() + b"\n")
    assert request.transport is not None
    request.transport.close()  # the engine dies mid-stream: the chunked body never ends
    return resp


async def _task_logs_error(_: web.Request) -> web.Response:
    body = json.dumps({"message": "No such task: t1\nsecond line"}).encode()
    return web.Response(body=body, status=404, content_type="application/json")


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[tuple[EngineClient, web.AppRunner]]:
    app = web.Application()
    app.router.add_get("/_ping", _ping)
    app.router.add_get("/v1.41/events", _events_then_break)
    app.router.add_get("/v1.41/tasks/t1/logs", _task_logs_error)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.UnixSite(runner, str(tmp_path / "d.sock")).start()
    engine = EngineClient(EngineTarget(f"unix://{tmp_path}/d.sock", "test"))
    await engine.connect()
    yield engine, runner
    await engine.close()
    await runner.cleanup()


@pytest.fixture
def client(stub: tuple[EngineClient, web.AppRunner]) -> EngineClient:
    return stub[0]


async def test_a_broken_event_stream_is_one_line_and_counted(client: EngineClient) -> None:
    before = client.requests
    seen = []
    with pytest.raises(EngineError) as info:
        async for event in client.events():
            seen.append(event["Action"])
    assert seen == ["update"]
    assert client.requests == before + 1
    message = str(info.value)
    assert "\n" not in message and message.startswith("GET /events from unix://")
    assert "broke off" in message


async def test_an_http_error_on_a_stream_is_its_first_line(client: EngineClient) -> None:
    before = client.requests
    with pytest.raises(EngineError) as info:
        await task_log_tail(client, "t1")
    assert (str(info.value), info.value.status) == ("No such task: t1", 404)
    assert client.requests == before + 1


async def test_a_stream_on_a_dead_engine_names_the_engine(
    stub: tuple[EngineClient, web.AppRunner],
) -> None:
    client, runner = stub
    await runner.cleanup()  # dockerd stopped
    with pytest.raises(EngineError) as info:
        async with client.stream("GET", "events"):
            pass
    assert str(info.value).startswith("no Docker engine listening at unix://")
    assert "(connection refused)" in str(info.value)
    assert info.value.status == 900


async def test_streams_are_get_only(client: EngineClient) -> None:
    before = client.requests
    with pytest.raises(EngineError, match=r"refused POST /containers/x/attach: changes are made "
                                          r"only by a confirmed operation"):
        async with client.stream("post", "/containers/x/attach"):
            pass
    assert client.requests == before  # nothing was sent


def test_only_the_client_calls_aiodockers_private_query() -> None:
    # Every request and stream goes through EngineClient (counted, errors mapped there).
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "swarmtui").rglob("*.py"))
        if path != ROOT / "swarmtui/engine/client.py"
        and re.search(r"\._query(_json|_chunked_post)?\b", path.read_text())
    ]
    assert offenders == []
