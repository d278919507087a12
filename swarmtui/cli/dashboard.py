"""No command: open the dashboard against the selected engine."""

from __future__ import annotations

import argparse
from typing import Any

from swarmtui.cli.common import CliError, disk_fleet, engine_target
from swarmtui.engine.target import EngineTarget
from swarmtui.settings import Scope, Settings

NAME = None
SCOPE = Scope(engines=True, app_env=True)


def register(sub: Any) -> None:
    """Nothing to add: the dashboard is what runs when no command is given."""


async def _preflight(target: EngineTarget) -> None:
    """Fail fast, in one line, when there is no usable engine (before taking the terminal)."""
    from swarmtui.engine.client import EngineClient, EngineError

    client = EngineClient(target)
    try:
        await client.connect()
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await client.close()


async def run(args: argparse.Namespace, settings: Settings) -> None:
    from swarmtui.app import SwarmApp
    from swarmtui.runtime import build_runtime

    async with engine_target(settings) as target:
        await _preflight(target)
        runtime = build_runtime(settings, target, fleet=disk_fleet(settings, target))
        await SwarmApp(runtime).run_async()
