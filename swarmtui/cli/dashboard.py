"""No command: open the dashboard against the selected engine."""

from __future__ import annotations

import argparse
from typing import Any

from swarmtui.cli.common import check_kiosk_views, disk_fleet, engine_target, preflight
from swarmtui.settings import Scope, Settings

NAME = None
SCOPE = Scope(engines=True, app_env=True)


def register(sub: Any) -> None:
    """Nothing to add: the dashboard is what runs when no command is given."""


async def run(args: argparse.Namespace, settings: Settings) -> None:
    from swarmtui.app import SwarmApp
    from swarmtui.runtime import build_runtime

    check_kiosk_views(settings)
    async with engine_target(settings) as target:
        await preflight(target)
        runtime = build_runtime(settings, target, fleet=disk_fleet(settings, target))
        await SwarmApp(runtime).run_async()
