"""Read-only is proven, not promised: a counting proxy in front of the lab manager's socket
sees every request swarmtui sends.

With ``--read-only`` the app opens every view, presses every key each view declares (and
closes whatever that opened), and every CLI command runs, yet the proxy sees no POST, PUT
or DELETE at all. The same flows without ``--read-only`` do reach the proxy, so the proxy
can fail the test.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest
from counting_proxy import CountingProxy
from swarmlab import Lab
from uistate import make_app

from swarmtui.app import SwarmApp
from swarmtui.cli import main
from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import resolve_target
from swarmtui.screens.base import SwarmScreen
from swarmtui.screens.operation import ConfirmOperationScreen
from swarmtui.widgets.prompt import Prompt

pytestmark = pytest.mark.lab

# Keys that leave the app: pressed nowhere (quitting ends the run, not a mutation).
NOT_PRESSED = {"q", "ctrl+q", "ctrl+c"}
CLI_PRUNES = (
    ["prune", "containers"], ["prune", "images", "--all"], ["prune", "volumes", "--all"],
    ["prune", "networks"], ["prune", "build-cache", "--all"],
    ["prune", "system", "--all", "--volumes"],
)


def seed(lab: Lab) -> None:
    """Something for every view to show and every prune to remove."""
    lab.docker("service", "create", "--name", "swt-ro-web", "--replicas", "3",
               "--no-resolve-image", "--detach", "busybox:lab", "sh", "-c",
               "while true; do echo tick; sleep 1; done")
    lab.docker("run", "--name", "swt-ro-exited", "busybox:lab", "true")
    lab.docker("volume", "create", "swt-ro-volume")
    lab.docker("network", "create", "swt-ro-net")


def declared_keys(screen: SwarmScreen) -> list[str]:
    return sorted(k for k in screen._bindings.key_to_bindings if k not in NOT_PRESSED)


async def back_to(pilot: Any, screen: SwarmScreen) -> None:
    """Close what a key opened (a dialog, a prompt), as a user would with Escape."""
    app = pilot.app
    for _ in range(6):
        await pilot.pause(0.05)
        prompt_open = any(p.display for p in screen.query(Prompt))
        if app.screen is screen and not prompt_open:
            return
        await pilot.press("escape")
    if app.screen is not screen:
        app.switch_mode(screen.SCREEN_NAME)


async def try_to_confirm(pilot: Any) -> None:
    """Press the confirmation's button if a confirmation is open (it must be disabled)."""
    for _ in range(20):
        await pilot.pause(0.05)
        if isinstance(pilot.app.screen, ConfirmOperationScreen):
            await pilot.click("#confirm-yes")
            await pilot.pause(0.3)
            return


async def press_every_key_of_every_view(app: SwarmApp, pilot: Any) -> int:
    pressed = 0
    for view in app.views:
        await pilot.press(view.key)
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, SwarmScreen) and view.name == screen.SCREEN_NAME
        for k in declared_keys(screen):
            await pilot.press(k)
            pressed += 1
            await pilot.pause(0.05)
            # A dialog's own keys run too (the prune chooser's enter chooses the first kind,
            # a confirmation's enter/tab/space would confirm): still nothing may be sent.
            if app.screen is not screen:
                for inner in ("enter", "tab", "space", "enter"):
                    await pilot.press(inner)
                    await pilot.pause(0.1)
                await try_to_confirm(pilot)
            await back_to(pilot, screen)
    return pressed


async def run_app(proxy: CountingProxy, *, read_only: bool, flow: Any) -> None:
    target = resolve_target(host=proxy.url, env={})
    app = make_app(LiveSwarm(EngineClient(target)), read_only=read_only)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.runtime.live.wait_full_state(20)
        await pilot.pause(0.5)
        await flow(app, pilot)


def run_cli(argv: list[str]) -> int:
    # Each CLI command runs its own event loop, as from the shell.
    return main(argv)


async def test_read_only_sends_no_mutating_request(swarm: Lab) -> None:
    seed(swarm)
    with CountingProxy(swarm.manager.sock) as proxy:
        pressed = 0

        async def flow(app: SwarmApp, pilot: Any) -> None:
            nonlocal pressed
            pressed = await press_every_key_of_every_view(app, pilot)

        await run_app(proxy, read_only=True, flow=flow)
        assert pressed > 20, "every view's keys were pressed"
        assert proxy.mutating() == [], "the app sent a change"
        host = ["--host", proxy.url, "--read-only"]
        loop = asyncio.get_running_loop()
        for argv in CLI_PRUNES:
            assert await loop.run_in_executor(None, run_cli, [*host, *argv, "--yes"]) == 1
            assert await loop.run_in_executor(None, run_cli, [*host, *argv, "--dry-run"]) == 0
        # On every node: the probe would create services, so even the preview is refused.
        for extra in (["--yes"], ["--dry-run", "--yes"]):
            argv = [*host, "prune", "images", "--all-nodes", *extra]
            assert await loop.run_in_executor(None, run_cli, argv) == 1
        assert not swarm.api("/services?filters=" + quote(json.dumps(
            {"label": ["swarmtui.probe=1"]})))
        assert await loop.run_in_executor(None, run_cli, [*host, "df"]) == 0
        assert await loop.run_in_executor(None, run_cli, [*host, "logs", "swt-ro-web"]) == 0
        seen = proxy.seen()
        assert len(seen) > 30, seen  # it did talk to the engine through the proxy
        assert proxy.mutating() == []
    # The engine still holds everything a prune would have removed.
    assert "swt-ro-exited" in swarm.docker("ps", "-a", "--format", "{{.Names}}").stdout
    assert "swt-ro-volume" in swarm.docker("volume", "ls", "-q").stdout


async def test_without_read_only_operations_reach_the_proxy(swarm: Lab) -> None:
    from test_disk_ui import open_preview, wait_screen

    from swarmtui.screens.operation import OutcomeScreen

    seed(swarm)
    with CountingProxy(swarm.manager.sock) as proxy:
        async def flow(app: SwarmApp, pilot: Any) -> None:
            await pilot.press(app.views.get("disk").key)
            for _ in range(100):
                await pilot.pause(0.1)
                if all(e.df.usage for e in app.runtime.fleet.engines):
                    break
            await open_preview(pilot, "containers")
            await pilot.click("#confirm-yes")
            await wait_screen(pilot, OutcomeScreen)

        await run_app(proxy, read_only=False, flow=flow)
        assert [m for m in proxy.mutating() if m[1].endswith("/containers/prune")]
        proxy.reset()
        swarm.docker("run", "--name", "swt-ro-exited2", "busybox:lab", "true")
        loop = asyncio.get_running_loop()
        argv = ["--host", proxy.url, "prune", "containers", "--yes"]
        assert await loop.run_in_executor(None, run_cli, argv) == 0
        assert [m for m in proxy.mutating() if m[1].endswith("/containers/prune")]
    assert "swt-ro-exited" not in swarm.docker("ps", "-a", "--format", "{{.Names}}").stdout
