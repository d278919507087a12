"""The events view on the real swarm lab: a ``docker service update --image`` and a ``docker
node update --availability drain`` show their old → new attributes as they happen, and a type
filter hides the other events."""

from __future__ import annotations

import asyncio
from typing import Any

from swarmlab import Lab
from test_events_ui import rows
from uistate import make_app, text, wait_screen

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.screens.events import EventsScreen

WEB = "swt-events-web"


async def wait_row(pilot: Any, wanted: tuple[str, ...], timeout: float = 30) -> None:
    """Until a row's TYPE, ACTION, OBJECT, DETAILS are ``wanted``."""
    for _ in range(int(timeout / 0.1)):
        if wanted in [r[1:5] for r in rows(pilot.app)]:
            return
        await pilot.pause(0.1)
    raise AssertionError(f"no row {wanted} in {rows(pilot.app)}")


async def test_updates_show_old_and_new_and_a_type_filter_hides_the_rest(swarm: Lab) -> None:
    def docker(*args: str) -> Any:
        return asyncio.to_thread(swarm.docker, *args)

    await docker("service", "create", "--detach", "--no-resolve-image", "--name", WEB,
                 "--replicas", "2", "busybox:lab", "sh", "-c", "while true; do sleep 5; done")
    app = make_app(LiveSwarm(EngineClient(EngineTarget(swarm.manager_host, "lab"))))
    async with app.run_test(size=(200, 50)) as pilot:
        await app.runtime.live.wait_full_state(20)
        await pilot.press("9")
        await wait_screen(pilot, EventsScreen)
        # opened on the recent past: the create above came before the app started
        await wait_row(pilot, ("service", "create", WEB, ""))
        await docker("service", "update", "--detach", "--no-resolve-image", "--image",
                     "busybox:lab2", WEB)
        await wait_row(pilot, ("service", "update", WEB, "image busybox:lab → busybox:lab2"))
        await docker("node", "update", "--availability", "drain", "lab-node3")
        await wait_row(pilot, ("node", "update", "lab-node3", "availability active → drain"))
        assert "container" in {r[1] for r in rows(app)}  # the update's tasks on the manager

        await pilot.press("slash", *"type:node", "enter")
        await pilot.pause()
        shown = rows(app)
        assert shown and {r[1] for r in shown} == {"node"}
        assert ("node", "update", "lab-node3", "availability active → drain") in [
            r[1:5] for r in shown]
        assert f"filter type:node  ·  {len(shown)} of " in text(app)
        # a live event of another type stays hidden, one of this type appears
        await docker("node", "update", "--availability", "active", "lab-node3")
        await wait_row(pilot, ("node", "update", "lab-node3", "availability drain → active"))
        assert {r[1] for r in rows(app)} == {"node"}
        await pilot.press("escape")
        await pilot.pause()
        assert {"service", "node"} <= {r[1] for r in rows(app)}
        exception: Any = app._exception
    assert exception is None
