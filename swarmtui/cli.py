"""Command line: `swarmtui` opens the dashboard; subcommands work without a terminal UI."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from swarmtui import __version__, validate
from swarmtui.cli_common import CliError, engine_target
from swarmtui.engine.target import EngineTarget
from swarmtui.validate import InputError

__all__ = ["CliError", "build_parser", "engine_target", "main"]

T = TypeVar("T")

PROG = "swarmtui"


def _arg(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a :mod:`swarmtui.validate` parser (keeps its message)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit status 2, like argparse, minus the multi-line usage dump.
        self.exit(2, f"{PROG}: error: {message} (see `{PROG} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A live terminal dashboard for Docker Swarm. Without a command it opens "
        "the dashboard.",
        epilog="Engine selection follows the docker CLI: --host, --context, DOCKER_HOST, "
        "DOCKER_CONTEXT, the docker config's current context, then the default socket.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-H", "--host", help="engine address (unix://, tcp://, ssh://)")
    parser.add_argument("-c", "--context", help="docker context to use")
    parser.add_argument("--read-only", action="store_true",
                        help="hide and refuse every action that changes the swarm")
    parser.add_argument("--demo", action="store_true",
                        help="run against a built-in simulated swarm, no engine needed")
    parser.add_argument("--demo-scenario", metavar="NAME",
                        help="simulated scenario (implies --demo): demo, scale, chatty")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    shot = sub.add_parser("shot", help="save a screen as SVG or text, headless")
    shot.add_argument("screen", help="screen name: grid, services, logs, disk, events")
    shot.add_argument("--output", "-o", required=True, type=Path,
                      help="file to write (.svg for a picture, anything else for plain text)")
    shot.add_argument("--size", type=_arg(validate.size), default=(120, 40),
                      help="COLSxROWS, COLS 20-1000, ROWS 5-500 (default 120x40)")
    shot.add_argument("--timeout", type=_arg(validate.seconds), default=10.0,
                      help="seconds to wait for the first full state (default 10)")
    shot.add_argument("--delay", type=_arg(validate.seconds), default=0.0,
                      help="seconds to stay live after that before rendering (default 0)")
    from swarmtui.logs_cli import add_logs_parser

    add_logs_parser(sub)
    from swarmtui.disk_cli import add_disk_parsers, add_engine_flag

    add_engine_flag(parser)
    add_disk_parsers(sub)
    return parser


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


async def _run_app(args: argparse.Namespace) -> None:
    from swarmtui.app import SwarmApp
    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm

    async with engine_target(args) as target:
        await _preflight(target)
        from swarmtui.disk_cli import app_fleet

        app = SwarmApp(LiveSwarm(EngineClient(target)), read_only=args.read_only,
                       disk=app_fleet(args, target))
        await app.run_async()


async def _run_shot(args: argparse.Namespace) -> None:
    from swarmtui.app import SCREENS
    from swarmtui.engine.client import EngineClient, EngineError
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.shot import take_shot

    if args.screen not in SCREENS:
        raise CliError(f"unknown screen {args.screen!r} (choose from: {', '.join(SCREENS)})", 2)
    _check_output(args.output)
    async with engine_target(args) as target:
        try:
            await take_shot(LiveSwarm(EngineClient(target)), args.screen, args.output,
                            args.size, args.timeout, args.delay, args.read_only)
        except EngineError as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from exc


def _check_output(path: Path) -> None:
    """Refuse an output file that cannot be written before waiting for the engine."""
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a directory", 2)
    parent = path.parent
    if not parent.is_dir():
        raise CliError(f"cannot write {path}: the folder {parent} does not exist", 2)
    if not os.access(parent, os.W_OK):
        raise CliError(f"cannot write {path}: the folder {parent} is not writable", 2)


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot check alone, before anything starts: the demo scenario and the
    environment the dashboard reads (raises InputError or exits 2 via ``parser.error``)."""
    if args.demo_scenario is not None:
        from swarmtui.sim.scenarios import BUILDERS  # the simulator loads only when asked

        if args.demo_scenario not in BUILDERS:
            parser.error(f"argument --demo-scenario: invalid choice: {args.demo_scenario!r} "
                         f"(choose from: {', '.join(BUILDERS)})")
    # One attribute for the rest of the program: the scenario to run, or None for an engine.
    args.demo = args.demo_scenario or ("demo" if args.demo else None)
    if args.command in (None, "shot"):
        validate.check_environment(os.environ)


def main(argv: Sequence[str] | None = None) -> int:
    from swarmtui.disk_cli import run_df, run_prune
    from swarmtui.logs_cli import run_logs

    parser = build_parser()
    args = parser.parse_args(argv)
    runners = {None: _run_app, "shot": _run_shot, "logs": run_logs, "df": run_df,
               "prune": run_prune}
    try:
        check_args(parser, args)
        asyncio.run(runners[args.command](args))
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except InputError as exc:  # a malformed value found below the CLI layer
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
