"""One-line errors for every way an engine can be unusable, against small stub servers."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from swarmtui.engine.client import EngineClient, EngineError, describe_connect_error
from swarmtui.engine.target import EngineTarget, TLSFiles


async def _stub(tmp_path: Path, api_version: str) -> web.AppRunner:
    async def ping(_: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": api_version})

    app = web.Application()
    app.router.add_get("/_ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.UnixSite(runner, str(tmp_path / "d.sock")).start()
    return runner


@pytest.fixture
async def old_engine(tmp_path: Path) -> AsyncIterator[str]:
    runner = await _stub(tmp_path, "1.40")
    yield f"unix://{tmp_path}/d.sock"
    await runner.cleanup()


@pytest.fixture
async def new_engine(tmp_path: Path) -> AsyncIterator[str]:
    runner = await _stub(tmp_path, "1.99")
    yield f"unix://{tmp_path}/d.sock"
    await runner.cleanup()


async def test_engine_too_old(old_engine: str) -> None:
    client = EngineClient(EngineTarget(old_engine, "test"))
    with pytest.raises(EngineError, match=r"engine too old: it speaks API 1\.40, swarmtui needs "
                                          r"1\.41 \(Docker 20\.10\) or newer"):
        await client.connect()
    await client.close()


async def test_newer_engine_is_spoken_to_at_our_highest_version(new_engine: str) -> None:
    client = EngineClient(EngineTarget(new_engine, "test"))
    assert await client.connect() == "1.55"
    await client.close()


async def test_tls_failure_is_named(tmp_path: Path) -> None:
    # A plain-HTTP listener where TLS is expected: the handshake fails.
    async def ping(_: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": "1.41"})

    app = web.Application()
    app.router.add_get("/_ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        target = EngineTarget(f"tcp://127.0.0.1:{port}", "test",
                              tls=TLSFiles(None, None, None, verify=False))
        client = EngineClient(target)
        with pytest.raises(EngineError, match=r"TLS failure talking to tcp://127\.0\.0\.1"):
            await client.connect()
        await client.close()
    finally:
        await runner.cleanup()


def test_messages_for_os_errors() -> None:
    target = EngineTarget("unix:///var/run/docker.sock", "test")
    assert "permission denied on unix:///var/run/docker.sock" in describe_connect_error(
        target, PermissionError(13, "Permission denied"))
    assert "socket does not exist" in describe_connect_error(target, FileNotFoundError())
    assert "connection refused" in describe_connect_error(target, ConnectionRefusedError())
    assert "TLS failure" in describe_connect_error(target, ssl.SSLError(1, "bad"))
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = PermissionError(13, "x")
    assert "permission denied" in describe_connect_error(target, wrapped)


def test_advice_names_the_setting_that_chose_the_engine() -> None:
    refused = ConnectionRefusedError()
    primary = EngineTarget("tcp://10.0.0.1:2375", "--host")
    flag = EngineTarget("tcp://10.0.0.2:2375", "--engine", engine_name="n2")
    config = EngineTarget("tcp://10.0.0.3:2375", "/etc/x/engines.toml", engine_name="n3")
    assert describe_connect_error(primary, refused).endswith(
        "point swarmtui at one with --host, --context or DOCKER_HOST")
    assert describe_connect_error(flag, refused).endswith("fix --engine n2=URL")
    assert describe_connect_error(config, refused).endswith("fix engines.n3 in /etc/x/engines.toml")
