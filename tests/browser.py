"""Headless Chromium driven over the DevTools protocol (plain CDP on its websocket, with
aiohttp; no playwright download), for the `swarmtui serve` tests. Every host name except
loopback resolves to nothing, so a served page's outside links (textual-serve's web font)
send no traffic anywhere. Plus a PNG decoder in a few lines (zlib; no Pillow needed).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import socket
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Tab:
    """One page target: send CDP commands, evaluate, capture."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._next = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data.get("result", {}))
        raise RuntimeError(f"{method}: the browser closed the connection")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.send("Page.captureScreenshot", format="png"))["data"])


class Browser:
    """``async with Browser() as browser: tab = await browser.open(url)``."""

    def __init__(self, width: int = 1200, height: int = 700) -> None:
        self.size = (width, height)
        # Chromium's helper processes may still write the profile as the main one exits.
        self._folder = tempfile.TemporaryDirectory(prefix="swarmtui-chromium-",
                                                   ignore_cleanup_errors=True)
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.devtools = ""

    async def __aenter__(self) -> Browser:
        folder = Path(self._folder.name)
        self._process = await asyncio.create_subprocess_exec(
            CHROMIUM, *FLAGS, f"--user-data-dir={folder}", "--remote-debugging-port=0",
            f"--window-size={self.size[0]},{self.size[1]}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        port_file = folder / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            if self._process.returncode is not None:
                raise RuntimeError(f"chromium exited with status {self._process.returncode}")
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("chromium did not open its DevTools port")
        self.devtools = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        self._session = aiohttp.ClientSession()
        return self

    async def open(self, url: str) -> Tab:
        """A new tab on ``url`` (navigation started, not necessarily finished)."""
        assert self._session is not None
        async with self._session.put(f"{self.devtools}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        ws = await self._session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        self._sockets.append(ws)
        tab = Tab(ws)
        await tab.send("Page.enable")
        await tab.send("Emulation.setDeviceMetricsOverride", width=self.size[0],
                       height=self.size[1], deviceScaleFactor=1, mobile=False)
        await tab.send("Page.navigate", url=url)
        return tab

    async def __aexit__(self, *_: object) -> None:
        for ws in self._sockets:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None:
            await stop_process(self._process)
        self._folder.cleanup()


async def wait_for_app(tab: Tab, timeout: float = 60) -> None:
    """Until the served app has sent its first bytes (textual-serve marks the page so)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await tab.evaluate("document.body && document.body.classList.contains('-first-byte')"):
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the served app sent nothing to the page")


async def stop_process(process: asyncio.subprocess.Process, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``timeout`` seconds."""
    if process.returncode is None:
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()


# -- PNG -----------------------------------------------------------------------------------
def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, pixels) of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium
    writes). The rows are unfiltered as the PNG spec says (None, Sub, Up, Average, Paeth)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        pixels.extend(tuple(row[i:i + 3]) for i in range(0, stride, channels))
        previous = row
    return width, height, pixels


# -- engine cost of served tabs ------------------------------------------------------------
async def measure_tabs(socket_path: str, tabs: int, seconds: float, warmup: float = 15.0
                       ) -> tuple[int, float, list[tuple[str, str]], list[tuple[str, str]]]:
    """Serve the dashboard against the engine at ``socket_path`` through a counting proxy,
    open ``tabs`` browser tabs, let them settle for ``warmup`` seconds, then count the engine
    requests for ``seconds``. Returns (tabs connected, requests per minute, the window's
    requests, everything before it)."""
    import sys

    from counting_proxy import CountingProxy

    port = free_port()
    with CountingProxy(socket_path) as proxy:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "swarmtui", "-H", proxy.url, "serve", "--port", str(port),
            stdout=asyncio.subprocess.PIPE)
        try:
            assert server.stdout is not None
            line = (await asyncio.wait_for(server.stdout.readline(), 60)).decode()
            assert "serving on" in line, line
            async with Browser() as browser:
                opened = [await browser.open(f"http://127.0.0.1:{port}/") for _ in range(tabs)]
                for tab in opened:
                    await wait_for_app(tab)
                await asyncio.sleep(warmup)
                before = proxy.seen()
                proxy.reset()
                await asyncio.sleep(seconds)
                window = proxy.seen()
        finally:
            await stop_process(server)
    connected = sum(1 for method, path in before if path.split("?")[0].endswith("/events"))
    return connected, len(window) * 60.0 / seconds, window, before
