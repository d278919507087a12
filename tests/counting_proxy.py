"""A counting proxy in front of an engine's unix socket, for tests that must prove what
swarmtui sent (for example that ``--read-only`` sends no POST, PUT or DELETE at all).

It forwards bytes unchanged in both directions and parses only the client's side: every
HTTP request line it sees is recorded as ``(method, path)``, and its body in ``bodies()``.
Streams (events, logs) pass through as they are. It runs on its own thread and event loop,
so the code under test may run in-process (Pilot) or in a subprocess pointed at
``proxy.url``.

    with CountingProxy(lab.manager.sock) as proxy:
        run_something(DOCKER_HOST=proxy.url)
    assert proxy.mutating() == []
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

MUTATING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


class _RequestParser:
    """Splits the client's byte stream into requests (headers, then a Content-Length or
    chunked body), calling ``on_request(method, target)`` for each one."""

    def __init__(self, on_request: Callable[[str, str, bytearray], None]) -> None:
        self.on_request = on_request
        self.body = bytearray()  # the current request's body, filled as it arrives
        self.buffer = b""
        self.body_left = 0
        self.chunked = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.body_left:
            take = min(self.body_left, len(self.buffer))
            self.body += self.buffer[:take]
            self.buffer = self.buffer[take:]
            self.body_left -= take
            return bool(self.buffer) and self.body_left == 0
        if self.chunked:
            return self._chunk()
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        self.body = bytearray()
        if len(parts) >= 2:
            self.on_request(parts[0].upper(), parts[1], self.body)
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            self.chunked = True
        else:
            self.body_left = int(headers.get("content-length", "0") or 0)
        return True

    def _chunk(self) -> bool:
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        size = int(self.buffer[:end].split(b";")[0] or b"0", 16)
        if len(self.buffer) < end + 2 + size + 2:
            return False
        self.body += self.buffer[end + 2 : end + 2 + size]
        self.buffer = self.buffer[end + 2 + size + 2 :]
        if size == 0:
            self.chunked = False  # trailers are not used by the engine's clients
        return True


class CountingProxy:
    """``with CountingProxy(upstream_socket) as proxy:`` serves ``proxy.url``."""

    def __init__(self, upstream: str | Path) -> None:
        self.upstream = str(upstream)
        self._folder = tempfile.TemporaryDirectory(prefix="swarmtui-proxy-")
        self.path = str(Path(self._folder.name) / "docker.sock")
        self.url = f"unix://{self.path}"
        self.requests: list[tuple[str, str]] = []
        self.bytes_read = 0  # bytes the engine sent to the client (idle-cost benchmarks)
        self._bodies: list[tuple[str, str, bytearray]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what was seen --------------------------------------------------------------------
    def _record(self, method: str, target: str, body: bytearray) -> None:
        with self._lock:
            self.requests.append((method, target))
            self._bodies.append((method, target, body))

    def bodies(self) -> list[tuple[str, str, bytes]]:
        """Every request so far with its body (empty for most GETs)."""
        with self._lock:
            return [(m, t, bytes(b)) for m, t, b in self._bodies]

    def seen(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.requests)

    def mutating(self) -> list[tuple[str, str]]:
        """Every POST/PUT/DELETE/PATCH so far, as ``(method, path)``."""
        return [r for r in self.seen() if r[0] in MUTATING_METHODS]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._bodies.clear()
            self.bytes_read = 0

    # -- serving --------------------------------------------------------------------------
    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    parser: _RequestParser | None) -> None:
        try:
            while data := await reader.read(65536):
                if parser is not None:
                    parser.feed(data)
                else:
                    with self._lock:
                        self.bytes_read += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            client_w.close()
            return
        parser = _RequestParser(self._record)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(self._pipe(client_r, up_w, parser),
                                 self._pipe(up_r, client_w, None))
        finally:
            self._tasks.discard(task)

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=self.path)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._folder.cleanup()


@contextlib.contextmanager
def counting_proxy(upstream: str | Path) -> Iterator[CountingProxy]:
    with CountingProxy(upstream) as proxy:
        yield proxy
