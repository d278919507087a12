"""`swarmtui serve`: its refusals (one line, nothing served), the command every tab runs, and
the served dashboard in headless Chromium (a screenshot that shows the grid)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from browser import CHROMIUM, Browser, free_port, png_pixels, stop_process, wait_for_app

from swarmtui.cli import build_parser, main
from swarmtui.cli.common import load_settings
from swarmtui.cli.serve import app_argv, is_loopback


def serve_argv(*argv: str) -> list[str]:
    args = build_parser().parse_args(list(argv))
    return app_argv(args, load_settings(args, env={"XDG_CONFIG_HOME": "/nonexistent"}))


@pytest.mark.parametrize(("argv", "status", "message"), [
    (["serve", "--bind", "0.0.0.0"], 2,
     "refusing to serve on 0.0.0.0, which is not loopback, without --public"),
    (["serve", "--bind", "10.1.2.3"], 2, "refusing to serve on 10.1.2.3"),
    (["serve", "--bind", "example.org"], 2, "refusing to serve on example.org"),
    (["serve", "--port", "0"], 2, "invalid port '0': use 1 to 65535"),
    (["serve", "--port", "http"], 2, "invalid port 'http'"),
    (["--host", "unix:///nonexistent/docker.sock", "serve"], 1,
     "no Docker engine at unix:///nonexistent/docker.sock"),
])
def test_serve_refusals_are_one_line(argv: list[str], status: int, message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit directly
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == status
    assert message in captured.err and captured.err.count("\n") == 1, captured.err
    assert "serving" not in captured.out


def test_serve_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--demo", "serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.2", "myhost"]))


def test_every_tab_runs_read_only_with_the_global_flags_unless_writes_are_allowed() -> None:
    base = [sys.executable, "-m", "swarmtui"]
    assert serve_argv("--demo", "serve") == [*base, "--read-only", "--demo"]
    assert serve_argv("--demo", "serve", "--allow-writes") == [*base, "--demo"]
    assert serve_argv("--read-only", "--demo", "serve", "--allow-writes") == [
        *base, "--read-only", "--demo"]  # an explicit --read-only wins
    assert serve_argv("--kiosk", "--demo-scenario", "scale", "serve", "--allow-writes") == [
        *base, "--read-only", "--kiosk", "--demo-scenario", "scale"]  # a wall never writes
    assert serve_argv("-H", "tcp://127.0.0.1:2375", "--engine", "n2=unix:///n2.sock",
                      "--probe-image", "x/cli:1", "serve") == [
        *base, "--host", "tcp://127.0.0.1:2375", "--read-only", "--engine",
        "n2=unix:///n2.sock", "--probe-image", "x/cli:1"]


def grid_shown(png: bytes) -> tuple[bool, str]:
    """Whether a screenshot shows the dashboard's grid: many colours, most of the page not
    background, and the green of the ready node headers."""
    width, height, pixels = png_pixels(png)
    counts = Counter(pixels)
    background = counts.most_common(1)[0][1]
    greens = sum(n for (r, g, b), n in counts.items() if g > 150 and r < 140 and b < 160)
    ok = len(counts) >= 50 and background < 0.95 * width * height and greens > 200
    return ok, f"{len(counts)} colours, background {background / (width * height):.0%}, " \
               f"{greens} green pixels"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs chromium")
async def test_served_demo_shows_the_grid_in_a_browser(tmp_path: Path) -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "swarmtui", "--demo", "serve", "--port", str(port),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert server.stdout is not None
        line = (await asyncio.wait_for(server.stdout.readline(), 60)).decode()
        assert f"serving on http://127.0.0.1:{port}/ (read-only)" in line, line
        assert "every browser tab runs its own swarmtui" in line
        page = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read())
        assert b"xterm.css" in page and b"googleapis" not in page, "the page links off-host"
        async with Browser(1200, 700) as browser:
            tab = await browser.open(f"http://127.0.0.1:{port}/")
            await wait_for_app(tab)
            why = ""
            for _ in range(20):  # the grid follows the first bytes within seconds
                png = await tab.screenshot()
                ok, why = await asyncio.to_thread(grid_shown, png)
                if ok:
                    break
                await asyncio.sleep(1)
            (tmp_path / "served.png").write_bytes(png)
            assert ok, f"no grid in the browser ({why}; see {tmp_path / 'served.png'})"
    finally:
        await stop_process(server)
