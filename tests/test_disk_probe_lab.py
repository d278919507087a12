"""The disk view's node probe against the real 3-node lab with no engine configured but the
manager's: ``a``, confirm, every node gets a panel (the workers' marked via probe) whose rows
are ``docker -H NODE system df``'s, and no probe service nor task is left."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from swarmlab import Lab
from test_disk_lab import df_rows
from test_disk_probe_ui import wait_for
from uistate import text

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.disk import DiskFleet
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.ops.executor import Executor
from swarmtui.runtime import Runtime
from swarmtui.screens.disk import EnginePanel
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.settings import Settings

pytestmark = pytest.mark.lab

LABEL_FILTER = "?filters=" + quote(json.dumps({"label": ["swarmtui.probe=1"]}))


def probe_leftovers(lab: Lab) -> tuple[list[Any], list[Any]]:
    services = lab.api("/services" + LABEL_FILTER)
    tasks = [t for t in lab.api("/tasks")
             if ((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels", {}).get(
                 "swarmtui.probe") == "1"]
    return services, tasks


async def test_probe_key_gives_every_lab_node_a_panel(swarm: Lab, tmp_path: Path) -> None:
    image, sock = swarm.ensure_probe_image()
    target = EngineTarget(swarm.manager_host, "test")
    settings = Settings(probe_image=image, probe_socket=sock)
    runtime = Runtime(settings, LiveSwarm(EngineClient(target)), Executor(),
                      fleet=DiskFleet.from_targets(target))
    app = SwarmApp(runtime, start_mode="disk")
    async with app.run_test(size=(180, 60)) as pilot:
        fleet = runtime.fleet
        await wait_for(pilot, lambda: fleet.engines and fleet.engines[0].df.usage is not None
                       and runtime.live.store.state.has_full_state, "the manager's df", 60)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmOperationScreen),
                       "the preview", 60)
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: isinstance(app.screen, OutcomeScreen), "the outcome", 90)
        assert "Done" in text(app), text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.screen.query(EnginePanel)) == len(swarm.nodes),
                       "a panel per node", 30)
        await pilot.pause()
        state = fleet.store.state
        by_name = {e.name: e for e in state.engines}
        assert sorted(by_name) == sorted(swarm.hostnames)
        assert not by_name[swarm.nodes[0].name].probed
        shown = text(app)
        for n in swarm.nodes[1:]:
            engine = by_name[n.name]
            assert engine.probed and engine.df.usage is not None, engine
            line = next(x for x in shown.splitlines() if f" {n.name}  " in x)
            assert f"probe://{n.name}" in line and "via probe" in line
        assert state.uncovered == ()
        # The probe never shows as the user's service.
        assert not any(s.name.startswith("swarmtui-probe-")
                       for s in runtime.live.store.state.services.values())
    services, _ = probe_leftovers(swarm)
    assert services == []
    for _ in range(60):  # the agents remove the global service's tasks shortly after
        if not probe_leftovers(swarm)[1]:
            break
        await asyncio.sleep(0.5)
    assert probe_leftovers(swarm) == ([], [])
    # Same numbers as docker system df on each probed node, once the probe's container is
    # gone there too: the node's agent removes it some time after its task left the listing
    # (a CI run compared while it was still there: 1 container, the probe image in use).
    from swarmtui.model.disk.render import render_df

    for n in swarm.nodes[1:]:
        usage = by_name[n.name].df.usage
        assert usage is not None
        for _ in range(60):
            left = swarm.docker("ps", "-aq", "--filter", "label=swarmtui.probe=1",
                                node=n.index).stdout.split()
            if not left:
                break
            await asyncio.sleep(0.5)
        assert df_rows(render_df(usage)) == df_rows(
            swarm.docker("system", "df", node=n.index).stdout), n.name
