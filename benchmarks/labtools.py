"""What the lab benchmarks share: the lab's lock (no lab test runs meanwhile), the docker
CLI against one node, and plain references beside the app (a bare HTTP client of the
engine's socket, an event stream reader). Imported by the scripts beside it (their folder
is on sys.path)."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def lab_lock(path: str) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def docker(host: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", host, *args], check=True, capture_output=True,
                          text=True, timeout=120)


class EngineHTTP:
    """A plain HTTP/1.1 client of one engine's unix socket (keep-alive), for the references
    the benchmarks measure beside the app: what a bare API poller would see, and when."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            conn = http.client.HTTPConnection("localhost", timeout=30)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.socket_path)
            conn.sock = sock
            self._conn = conn
        return self._conn

    def get(self, path: str, **params: object) -> Any:
        query = "&".join(f"{k}={urllib.parse.quote(v if isinstance(v, str) else json.dumps(v))}"
                         for k, v in params.items())
        conn = self._connection()
        try:
            conn.request("GET", f"/v1.41{path}" + (f"?{query}" if query else ""))
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return json.loads(body)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class EventReader:
    """``GET /events`` read in a thread; every event kept with the wall time it arrived."""

    def __init__(self, socket_path: str, types: tuple[str, ...] = ("service",)) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(socket_path)
        filters = urllib.parse.quote(json.dumps({"type": list(types)}))
        # HTTP/1.0: no chunked framing, the engine writes one JSON document per event.
        self._sock.sendall(f"GET /v1.41/events?filters={filters} HTTP/1.0\r\n\r\n".encode())
        self._thread = threading.Thread(target=self._read, name="events", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buf = b""
        headers_done = False
        decoder = json.JSONDecoder()
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.time()
            buf += chunk
            if not headers_done:
                if b"\r\n\r\n" not in buf:
                    continue
                buf = buf.split(b"\r\n\r\n", 1)[1]
                headers_done = True
            text = buf.decode()
            pos = 0
            while True:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                try:
                    event, end = decoder.raw_decode(text, pos)
                except json.JSONDecodeError:
                    break
                with self._lock:
                    self.events.append((now, event))
                pos = end
            buf = text[pos:].encode()

    def first(self, seen: Callable[[dict[str, Any]], bool], after: float) -> float | None:
        """When the first event after ``after`` (wall seconds) that ``seen`` arrived."""
        with self._lock:
            events = list(self.events)
        return next((t for t, e in events if t >= after and seen(e)), None)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


def load_average() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])
