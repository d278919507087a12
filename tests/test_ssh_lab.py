"""ssh:// engines against a real OpenSSH sshd (tests/sshlab.py) in front of the lab manager."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sshlab import MAX_SESSIONS, SshServer

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.target import address_target

pytestmark = pytest.mark.lab


def swarmtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swarmtui", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


def test_twelve_streams_stay_within_max_sessions(sshd: SshServer) -> None:
    """events + 12 followers + polling over one host: every stream opens, no ssh connection
    ever carries more channels than the server's MaxSessions."""
    sshd.trust()

    async def scenario() -> tuple[int, int, int, list[str]]:
        client = EngineClient(address_target(sshd.url, "--host", {}))
        await client.connect()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(13):  # the event stream and 12 log followers
                    resp = await stack.enter_async_context(client.stream("GET", "events"))
                    assert resp.status == 200
                nodes = await asyncio.gather(*(client.nodes() for _ in range(3)))
                ssh = client._ssh
                assert ssh is not None
                per_conn = [c.in_use for c in ssh._ssh_conns]
                return ssh.stats.connections, max(per_conn), ssh.stats.refused, \
                    [n["Description"]["Hostname"] for n in nodes[0]]
        finally:
            await client.close()

    connections, most, refused, hostnames = asyncio.run(scenario())
    assert "lab-node1" in hostnames
    assert connections == 2 and most <= MAX_SESSIONS and refused == 0
    assert "no more sessions" not in sshd.sessions_log()


def test_lower_max_sessions_is_learnt(sshd: SshServer) -> None:
    """A server allowing fewer sessions than assumed: the refusal moves the stream to a new
    ssh connection instead of breaking it."""
    sshd.trust()

    async def scenario() -> tuple[int, int]:
        client = EngineClient(address_target(sshd.url, "--host", {}))
        await client.connect()
        ssh = client._ssh
        assert ssh is not None
        ssh._per_conn = 50  # pretend the server allowed 50 per connection
        for slot in ssh._ssh_conns:
            slot.cap = 50
        try:
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(12):
                    await stack.enter_async_context(client.stream("GET", "events"))
                return ssh.stats.refused, ssh.stats.connections
        finally:
            await client.close()

    refused, connections = asyncio.run(scenario())
    assert refused >= 1 and connections == 2


def test_unknown_host_key_is_refused_with_one_line(sshd: SshServer, tmp_path: Path) -> None:
    out = tmp_path / "grid.txt"
    result = swarmtui("-H", sshd.url, "shot", "grid", "-o", str(out))
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "host key" in lines[0] and "known_hosts" in lines[0] and sshd.addr in lines[0]
    assert not out.exists()
    assert "Accepted publickey" not in sshd.sessions_log()  # refused before authenticating


def test_known_host_key_connects(sshd: SshServer, tmp_path: Path) -> None:
    sshd.trust()
    out = tmp_path / "grid.txt"
    result = swarmtui("-H", sshd.url, "shot", "grid", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "lab-node1" in out.read_text()


def test_unknown_host_key_error_in_the_client(sshd: SshServer) -> None:
    """What the app shows (EngineError's one line) for an unknown host key."""

    async def scenario() -> str:
        client = EngineClient(address_target(sshd.url, "--host", {}))
        try:
            await client.connect()
        except EngineError as exc:
            return str(exc)
        finally:
            await client.close()
        return "connected"

    message = asyncio.run(scenario())
    assert "refused: the ssh host key" in message and "\n" not in message


async def test_palette_switch_from_the_sim_to_the_lab_over_ssh(
    sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two contexts, the sim and the lab manager behind the real sshd: the palette switch
    shows the lab's swarm, reached over ssh://."""
    from test_contexts import write_context
    from uistate import text

    from swarmtui.app import SwarmApp
    from swarmtui.engine.target import resolve_target
    from swarmtui.runtime import build_runtime
    from swarmtui.settings import Settings
    from swarmtui.sim.scenarios import build
    from swarmtui.sim.server import start_sim_server

    sshd.trust()
    config = tmp_path / "docker"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    server = await start_sim_server(build("demo"), str(tmp_path / "sim.sock"), realtime=False)
    write_context(config, "sim", server.url)
    write_context(config, "lab", sshd.url)
    runtime = build_runtime(Settings(context="sim", env=dict(os.environ)),
                            resolve_target(context="sim"))
    app = SwarmApp(runtime)
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            await runtime.live.wait_full_state(10)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Switch context: lab")
            await pilot.pause(0.5)
            await pilot.press("enter")
            for _ in range(200):
                await pilot.pause(0.05)
                if app.runtime is not runtime and app.runtime.live.store.state.nodes:
                    break
            await pilot.pause(0.3)
            shown = text(app)
            assert "lab-node1" in shown and "shop_web" not in shown
    finally:
        await server.stop()
