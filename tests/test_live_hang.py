"""A hung engine (SIGSTOPped: its socket open, nothing answered) against a fake engine on a
unix socket: the event stream stays open and silent, so only a failing listing can notice.
LiveSwarm must then cut that stream, show "disconnected", and resync once the engine answers.
(tests/test_faults_lab.py does the same against a frozen real dockerd.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm, Rates
from swarmtui.engine.target import EngineTarget

INFO = {"Name": "fake", "Swarm": {"NodeID": "n1", "LocalNodeState": "active",
                                  "ControlAvailable": True, "Managers": 1, "Nodes": 1}}
VERSION = {"Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12"}
NODE = {"ID": "n1", "Description": {"Hostname": "fake-node"}, "Status": {"State": "ready"},
        "Spec": {"Role": "manager", "Availability": "active"},
        "ManagerStatus": {"Leader": True, "Reachability": "reachable"}}


class HangingEngine:
    """Answers like a one-node swarm manager; ``frozen``: every request but the open event
    streams dies unanswered (the connection is dropped, as a request timeout would end)."""

    def __init__(self) -> None:
        self.frozen = False
        self.event_streams = 0
        self.app = web.Application()
        self.app.router.add_get("/_ping", self.ping)
        self.app.router.add_get("/v1.41/events", self.events)
        for path, body in (("version", VERSION), ("info", INFO), ("nodes", [NODE]),
                           ("services", []), ("tasks", []), ("secrets", []), ("configs", [])):
            self.app.router.add_get(f"/v1.41/{path}", self.answer(body))

    def _drop_if_frozen(self, request: web.Request) -> None:
        if self.frozen:
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPServiceUnavailable()

    async def ping(self, request: web.Request) -> web.Response:
        self._drop_if_frozen(request)
        return web.Response(text="OK", headers={"Api-Version": "1.41"})

    def answer(self, body: object) -> web.RequestHandler:  # type: ignore[type-arg]
        async def handler(request: web.Request) -> web.Response:
            self._drop_if_frozen(request)
            return web.json_response(body)
        return handler

    async def events(self, request: web.Request) -> web.StreamResponse:
        self._drop_if_frozen(request)
        self.event_streams += 1
        resp = web.StreamResponse()
        await resp.prepare(request)
        await asyncio.sleep(3600)  # open and silent, frozen or not
        return resp


@pytest.fixture
async def hanging(tmp_path: Path) -> AsyncIterator[tuple[HangingEngine, LiveSwarm]]:
    fake = HangingEngine()
    runner = web.AppRunner(fake.app, shutdown_timeout=0.1)
    await runner.setup()
    sock = tmp_path / "engine.sock"
    await web.UnixSite(runner, str(sock)).start()
    # Idle listings every 0.3 s: the heartbeat that finds the hang.
    live = LiveSwarm(EngineClient(EngineTarget(f"unix://{sock}", "test")),
                     rates=Rates(idle_services_s=0.3, idle_tasks_s=0.3))
    live.start()
    yield fake, live
    await live.stop()
    await runner.cleanup()


async def until(pred: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_a_hung_engine_is_shown_disconnected_and_resynced(
        hanging: tuple[HangingEngine, LiveSwarm]) -> None:
    fake, live = hanging
    await live.wait_full_state(10)
    assert fake.event_streams == 1
    seen: list[str] = []
    live.store.subscribe(lambda s: seen.append(s.connection.status))

    fake.frozen = True
    await until(lambda: live.store.state.connection.status == "disconnected")
    assert "stopped answering" in live.store.state.connection.error

    fake.frozen = False
    await until(lambda: live.store.state.connection.status == "connected" and
                fake.event_streams == 2)
    assert "disconnected" in seen
    assert live.store.state.has_full_state


async def test_stop_while_following_events_is_a_clean_cancel(
        hanging: tuple[HangingEngine, LiveSwarm]) -> None:
    _fake, live = hanging
    await live.wait_full_state(10)
    await live.stop()  # must not hang nor raise
    assert all(t.done() for t in asyncio.all_tasks()
               if t.get_name().startswith("swarmtui-events"))
