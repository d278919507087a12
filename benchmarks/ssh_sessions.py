"""ssh:// transports against a real OpenSSH sshd (MaxSessions 10) in the lab manager's netns.

For each transport: connect time (fresh connector to the first /_ping answer), request
latency (median of 20 GET /_ping on the warm connection), then STREAMS long-lived streams at
once (GET /events: one HTTP connection each, like a log follower) plus 3 polls, and what the
sshd saw (ssh connections and sessions, from its log).

    aiodocker  aiodocker's SSHConnector (asyncssh, one channel per HTTP connection)
    ssh-cli    the docker CLI's way: one `ssh HOST docker system dial-stdio` per connection
    swarmtui   swarmtui.engine.ssh.SshConnector (asyncssh, channels within MaxSessions)

Run as root with the lab up:  .venv/bin/python benchmarks/ssh_sessions.py [--streams 12]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent)]

import sshlab  # noqa: E402
import swarmlab  # noqa: E402
from labtools import lab_lock  # noqa: E402


class SshCliConnector(aiohttp.UnixConnector):
    """The docker CLI's connhelper: a fresh `ssh ... docker system dial-stdio` per connection."""

    def __init__(self, argv: list[str]) -> None:
        self._argv = argv
        self._tmpd = tempfile.TemporaryDirectory()
        self._srv: asyncio.Server | None = None
        super().__init__(path=os.path.join(self._tmpd.name, "s"))

    async def connect(self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout) -> Any:
        if self._srv is None:
            self._srv = await asyncio.start_unix_server(self._handle, path=self._path)
        return await super().connect(req, traces, timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self._argv, "docker", "system", "dial-stdio", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert proc.stdin and proc.stdout

        async def pump(src: Any, dst: Any) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.wait([asyncio.ensure_future(pump(reader, proc.stdin)),
                            asyncio.ensure_future(pump(proc.stdout, writer))],
                           return_when=asyncio.FIRST_COMPLETED)
        if proc.returncode is None:
            proc.kill()
        err = (await proc.stderr.read()).decode(errors="replace").strip() if proc.stderr else ""
        if err:
            ERRORS.append(err.splitlines()[-1])
        writer.close()

    async def close(self) -> None:  # type: ignore[override]
        await super().close()
        if self._srv:
            self._srv.close()
        self._tmpd.cleanup()


ERRORS: list[str] = []


def make(kind: str, server: sshlab.SshServer) -> aiohttp.BaseConnector:
    if kind == "aiodocker":
        from aiodocker.ssh import SSHConnector

        return SSHConnector(server.url)
    if kind == "ssh-cli":
        return SshCliConnector(["ssh", "-o", "BatchMode=yes", "-o",
                                f"UserKnownHostsFile={server.home}/.ssh/known_hosts",
                                "-i", str(server.client_key), "-p", str(server.port),
                                f"{server.user}@{server.addr}"])
    from swarmtui.engine.ssh import SshConnector

    return SshConnector(server.url)


def counts(server: sshlab.SshServer) -> tuple[int, int]:
    log = server.sessions_log()
    return log.count("Accepted publickey"), log.count("Starting session")


async def measure(kind: str, server: sshlab.SshServer, streams: int) -> dict[str, Any]:
    ERRORS.clear()
    c0, s0 = counts(server)
    connector = make(kind, server)
    session = aiohttp.ClientSession(connector=connector, connector_owner=False)
    base = "http://docker/v1.41"
    t0 = time.perf_counter()
    async with session.get(f"{base}/_ping") as r:
        await r.read()
    connect_ms = (time.perf_counter() - t0) * 1000
    lat = []
    for _ in range(20):
        t = time.perf_counter()
        async with session.get(f"{base}/_ping") as r:
            await r.read()
        lat.append((time.perf_counter() - t) * 1000)

    opened: list[aiohttp.ClientResponse] = []
    failures: list[str] = []

    async def follow(i: int) -> None:
        try:
            resp = await session.get(f"{base}/events", timeout=aiohttp.ClientTimeout(total=20))
            opened.append(resp)
        except Exception as exc:  # what breaks, and how, is the measurement
            failures.append(f"stream {i}: {type(exc).__name__}: {str(exc)[:160]}")

    async def poll(i: int) -> None:
        try:
            async with session.get(f"{base}/services",
                                   timeout=aiohttp.ClientTimeout(total=20)) as r:
                await r.read()
        except Exception as exc:
            failures.append(f"poll {i}: {type(exc).__name__}: {str(exc)[:160]}")

    t = time.perf_counter()
    await asyncio.gather(*(follow(i) for i in range(streams)), *(poll(i) for i in range(3)))
    all_ms = (time.perf_counter() - t) * 1000
    c1, s1 = counts(server)
    peak = getattr(getattr(connector, "stats", None), "peak_channels", None)
    for resp in opened:
        resp.close()
    await session.close()
    await connector.close()
    return {"kind": kind, "connect_ms": round(connect_ms),
            "ping_ms": round(statistics.median(lat), 2),
            "streams_ok": len(opened), "streams": streams, "open_all_ms": round(all_ms),
            "ssh_connections": c1 - c0, "ssh_sessions": s1 - s0, "peak_channels": peak,
            "failures": failures[:3], "nfailures": len(failures), "ssh_errors": ERRORS[:2]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=12)
    ap.add_argument("--kinds", default="aiodocker,ssh-cli,swarmtui")
    args = ap.parse_args()
    lab = swarmlab.up()
    with tempfile.TemporaryDirectory() as tmp, lab_lock(str(lab.base_dir.parent /
                                                           "swarmtui-lab-main.lock")):
        node = lab.manager
        server = sshlab.start_sshd(node.netns_path, node.addr, node.sock, Path(tmp) / "sshd")
        server.trust()
        os.environ["HOME"] = str(server.home)
        os.environ.pop("SSH_AUTH_SOCK", None)
        try:
            for kind in args.kinds.split(","):
                print(asyncio.run(measure(kind, server, args.streams)), flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
