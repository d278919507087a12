"""``swarmtui shot SCREEN -o FILE``: save one screen of the live app as SVG or text, headless.

The app side (running it headless, rendering the screen) is :mod:`swarmtui.shot`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from swarmtui import validate
from swarmtui.cli.common import CliError, arg_type, engine_target
from swarmtui.settings import Scope, Settings

NAME = "shot"
SCOPE = Scope(engines=False, app_env=True)


def register(sub: Any) -> None:
    shot = sub.add_parser(NAME, help="save a screen as SVG or text, headless",
                          epilog_from=_screens_epilog)
    shot.add_argument("screen", help="the view to save (listed below)")
    shot.add_argument("--output", "-o", required=True, type=Path,
                      help="file to write (.svg for a picture, anything else for plain text)")
    shot.add_argument("--size", type=arg_type(validate.size), default=(120, 40),
                      help="COLSxROWS, COLS 20-1000, ROWS 5-500 (default 120x40)")
    shot.add_argument("--timeout", type=arg_type(validate.seconds), default=10.0,
                      help="seconds to wait for the first full state (default 10)")
    shot.add_argument("--delay", type=arg_type(validate.seconds), default=0.0,
                      help="seconds to stay live after that before rendering (default 0)")


def _screens_epilog() -> str:
    from swarmtui.views import default_views

    return f"Screens: {', '.join(default_views().names)}."


def _check_output(path: Path) -> None:
    """Refuse an output file that cannot be written before waiting for the engine."""
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a directory", 2)
    parent = path.parent
    if not parent.is_dir():
        raise CliError(f"cannot write {path}: the folder {parent} does not exist", 2)
    if not os.access(parent, os.W_OK):
        raise CliError(f"cannot write {path}: the folder {parent} is not writable", 2)


async def run(args: argparse.Namespace, settings: Settings) -> None:
    from swarmtui.engine.client import EngineError
    from swarmtui.runtime import build_runtime
    from swarmtui.shot import take_shot
    from swarmtui.views import default_views

    views = default_views()
    if args.screen not in views:
        raise CliError(f"unknown screen {args.screen!r} "
                       f"(choose from: {', '.join(views.names)})", 2)
    _check_output(args.output)
    async with engine_target(settings) as target:
        try:
            await take_shot(build_runtime(settings, target), args.screen, args.output,
                            args.size, args.timeout, args.delay, views)
        except EngineError as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
