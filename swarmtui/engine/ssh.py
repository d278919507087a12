"""ssh:// engines: HTTP over ``docker system dial-stdio`` on ssh channels, within MaxSessions.

Why this and not the alternatives (measured against a real OpenSSH sshd with the default
``MaxSessions 10``, see BENCHMARKS.md "ssh:// engines"):

* aiodocker's own ssh connector opens one ssh *channel* per HTTP connection, all on one ssh
  connection. The dashboard holds events + one log follower per followed service + polling
  at once, so with more than ~8 followers the 11th channel is refused by sshd
  ("open failed: administratively prohibited") and aiodocker turns that into a bare
  "Server disconnected" on the stream that happened to be 11th.
* The docker CLI's way (``ssh HOST docker system dial-stdio``, one ssh process per
  connection) never meets MaxSessions, but pays a process and a full ssh handshake per
  stream (hundreds of ms each), opens N TCP connections (sshd's MaxStartups 10:30:100 drops
  concurrent handshakes at random beyond 10), and OpenSSH reads ~ from the passwd entry,
  not $HOME. With a ControlMaster in ~/.ssh/config it multiplexes and hits MaxSessions too.

So: asyncssh (which reads ~/.ssh/config -- Host, HostName, Port, User, IdentityFile,
ProxyJump -- the agent in SSH_AUTH_SOCK and ~/.ssh/known_hosts), one ssh connection for the
first :data:`CHANNELS_PER_CONNECTION` streams, another connection for the next ones, up to
:data:`MAX_CONNECTIONS`; a server with a lower MaxSessions is learnt from its refusal and
the stream moves to a new connection. Beyond that, one clear line instead of a broken pipe.

An unknown host key is refused (never accepted silently): the error says how to trust it.

May import: the standard library, aiohttp, asyncssh (lazily: it is the ``ssh`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp

CHANNELS_PER_CONNECTION = 10  # OpenSSH's default MaxSessions
MAX_CONNECTIONS = 8  # 80 streams at once; a log pane following more is refused clearly
CONNECT_TIMEOUT_S = 15.0
DIAL_COMMAND = "docker system dial-stdio"


class SshError(OSError):
    """An ssh failure, with a message fit for one line on screen."""


@dataclass
class _Conn:
    conn: Any  # asyncssh.SSHClientConnection
    cap: int = CHANNELS_PER_CONNECTION
    in_use: int = 0


@dataclass
class _Stats:
    connections: int = 0  # ssh connections opened
    channels: int = 0  # ssh channels (sessions) opened
    refused: int = 0  # channel opens the server refused (its MaxSessions)
    peak_channels: int = 0
    open_channels: int = 0
    errors: list[str] = field(default_factory=list)


class SshConnector(aiohttp.UnixConnector):
    """aiohttp connector for ``ssh://[USER@]HOST[:PORT]``.

    Each HTTP connection aiohttp makes goes to a private unix socket; :meth:`_create_connection`
    first opens an ssh channel running ``docker system dial-stdio`` (on a connection that
    has room), and the socket's handler relays bytes between the two."""

    def __init__(self, url: str, *, channels_per_connection: int = CHANNELS_PER_CONNECTION,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        parsed = urlparse(url)
        self.url = url
        self._ssh_host = parsed.hostname or ""
        self._ssh_port = parsed.port  # None: ~/.ssh/config's Port, else 22
        self._ssh_user = parsed.username  # None: ~/.ssh/config's User, else the local user
        self._per_conn = channels_per_connection
        self._max_conns = max_connections
        self._ssh_conns: list[_Conn] = []
        self._ssh_lock = asyncio.Lock()
        self._ssh_ready: deque[tuple[_Conn, Any]] = deque()  # channels opened, not yet accepted
        self._ssh_relays: set[asyncio.Task[None]] = set()
        self._ssh_server: asyncio.Server | None = None
        self._ssh_tmp = tempfile.TemporaryDirectory(prefix="swarmtui-ssh-")
        self.stats = _Stats()
        super().__init__(path=os.path.join(self._ssh_tmp.name, "docker.sock"))

    # -- opening -------------------------------------------------------------------------
    async def _create_connection(self, req: Any, traces: Any,
                                 timeout: aiohttp.ClientTimeout) -> Any:
        # Called only when aiohttp's pool has no idle connection: one channel per socket.
        await self._reserve()
        try:
            return await super()._create_connection(req, traces, timeout)
        except BaseException:
            if self._ssh_ready:  # the handler never took it
                self._free_channel(*self._ssh_ready.popleft())
            raise

    async def _reserve(self) -> None:
        """Open one dial-stdio channel where there is room; queue it for the handler."""
        async with self._ssh_lock:
            if self._ssh_server is None:
                self._ssh_server = await asyncio.start_unix_server(self._handle, path=self._path)
            while True:
                slot = next((c for c in self._ssh_conns
                             if c.in_use < c.cap and not c.conn.is_closed()), None)
                if slot is None:
                    # A connection the server closed goes once its last stream is done.
                    self._ssh_conns = [c for c in self._ssh_conns
                                   if c.in_use or not c.conn.is_closed()]
                    if len(self._ssh_conns) >= self._max_conns:
                        raise SshError(self._full_message())
                    slot = _Conn(await self._open_connection(), self._per_conn)
                    self._ssh_conns.append(slot)
                process = await self._open_channel(slot)
                if process is not None:
                    self._ssh_ready.append((slot, process))
                    return
                if slot.in_use == 0:  # refused on an idle connection: not a session limit
                    raise SshError(f"{self.url}: the ssh server refused to run "
                                   f"{DIAL_COMMAND!r} (no session allowed)")

    def _full_message(self) -> str:
        total = sum(c.cap for c in self._ssh_conns)
        return (f"{self.url}: all {total} ssh sessions are in use ({len(self._ssh_conns)} "
                f"connections x the server's MaxSessions); follow fewer services at once")

    async def _open_connection(self) -> Any:
        import asyncssh

        options: dict[str, Any] = {}
        if self._ssh_port is not None:
            options["port"] = self._ssh_port
        if self._ssh_user:
            options["username"] = self._ssh_user
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                conn = await asyncssh.connect(self._ssh_host, **options)
        except TimeoutError:
            raise SshError(f"{self.url}: no ssh answer from {self._ssh_host} in "
                           f"{CONNECT_TIMEOUT_S:.0f}s") from None
        except asyncssh.HostKeyNotVerifiable:
            where = f"[{self._ssh_host}]:{self._ssh_port}" if self._ssh_port else self._ssh_host
            port = f"-p {self._ssh_port} " if self._ssh_port else ""
            raise SshError(
                f"{self.url}: refused: the ssh host key of {where} is not in "
                f"~/.ssh/known_hosts; check its fingerprint, then add it "
                f"(ssh-keyscan {port}{self._ssh_host} >> ~/.ssh/known_hosts, or ssh there once)"
            ) from None
        except asyncssh.PermissionDenied:
            raise SshError(f"{self.url}: ssh permission denied (no key was accepted: "
                           f"ssh-add your key or set IdentityFile in ~/.ssh/config)") from None
        except (asyncssh.Error, OSError, ValueError) as exc:
            raise SshError(f"{self.url}: ssh failed: {_first_line(exc)}") from exc
        self.stats.connections += 1
        return conn

    async def _open_channel(self, slot: _Conn) -> Any:
        """A dial-stdio process on ``slot``; None when the server refused the channel (its
        MaxSessions is lower than assumed: remember it)."""
        import asyncssh

        try:
            process = await slot.conn.create_process(DIAL_COMMAND, encoding=None)
        except asyncssh.ChannelOpenError:
            self.stats.refused += 1
            slot.cap = slot.in_use
            return None
        except (asyncssh.Error, OSError) as exc:
            raise SshError(f"{self.url}: ssh channel failed: {_first_line(exc)}") from exc
        slot.in_use += 1
        self.stats.channels += 1
        self.stats.open_channels += 1
        self.stats.peak_channels = max(self.stats.peak_channels, self.stats.open_channels)
        return process

    def _free_channel(self, slot: _Conn, process: Any) -> None:
        slot.in_use -= 1
        self.stats.open_channels -= 1
        with contextlib.suppress(Exception):
            process.close()

    # -- relaying ------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._ssh_ready:  # not from connect(): nothing to relay to
            writer.close()
            return
        slot, process = self._ssh_ready.popleft()
        task = asyncio.current_task()
        if task is not None:
            self._ssh_relays.add(task)
        try:
            up = asyncio.ensure_future(_pump(reader, process.stdin))
            down = asyncio.ensure_future(_pump(process.stdout, writer))
            _, pending = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            self._free_channel(slot, process)
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._ssh_relays.discard(task)

    async def close(self) -> None:  # type: ignore[override]
        await super().close()
        if self._ssh_server is not None:
            self._ssh_server.close()
            self._ssh_server = None
        for task in list(self._ssh_relays):
            task.cancel()
        await asyncio.gather(*self._ssh_relays, return_exceptions=True)
        while self._ssh_ready:
            self._free_channel(*self._ssh_ready.popleft())
        for slot in self._ssh_conns:
            slot.conn.close()
        for slot in self._ssh_conns:
            with contextlib.suppress(Exception):
                await slot.conn.wait_closed()
        self._ssh_conns.clear()
        self._ssh_tmp.cleanup()


async def _pump(src: Any, dst: Any) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, BrokenPipeError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            dst.write_eof()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
