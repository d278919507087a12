"""Command line: `swarmtui` opens the dashboard; subcommands work without a terminal UI.

One module per command (:mod:`.dashboard` when no command is given, :mod:`.shot`,
:mod:`.logs`, :mod:`.df`, :mod:`.prune`, :mod:`.rollout`, :mod:`.serve`), each with ``NAME``,
``SCOPE`` (the settings it reads), ``register(subparsers)`` and ``async run(args, settings)`` (which
may return an exit status: ``rollout status``); :func:`main` dispatches through
:data:`COMMANDS`. What they share is :mod:`.common`.

May import: :mod:`swarmtui.settings`, :mod:`swarmtui.validate`, :mod:`swarmtui.engine`,
:mod:`swarmtui.model`, :mod:`swarmtui.ops` (the prune operation), :mod:`swarmtui.demo` and, to
run the dashboard or a shot, :mod:`swarmtui.runtime`, :mod:`swarmtui.views`,
:mod:`swarmtui.app` and :mod:`swarmtui.shot` (inside ``run``, so other commands load no
Textual). Never the screens or widgets directly. Nothing outside it imports it (except
``__main__``); the command modules import :mod:`.common` and never this module or each other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from swarmtui import __version__
from swarmtui.cli import dashboard, df, logs, prune, rollout, serve, shot
from swarmtui.cli.common import PROG, CliError, Parser, add_global_flags, load_settings
from swarmtui.validate import InputError

__all__ = ["COMMANDS", "CliError", "build_parser", "main"]

# The command name (None: no command given) -> its module.
COMMANDS = {m.NAME: m for m in (dashboard, shot, logs, df, prune, rollout, serve)}


def _views_epilog() -> str:
    """The dashboard's views and the keys that show them (from the view registry)."""
    from swarmtui.views import default_views

    views = default_views()
    manager = ", ".join(v.name for v in views if v.needs_swarm)
    return (f"Views (press the key in the dashboard; `shot NAME` saves one): "
            f"{views.help_text()}. {manager} need a swarm manager.")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="A live terminal dashboard for Docker Swarm. Without a command it opens "
        "the dashboard.",
        epilog="Engine selection follows the docker CLI: --host, --context, DOCKER_HOST, "
        "DOCKER_CONTEXT, the docker config's current context, then the default socket.",
        epilog_from=_views_epilog,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_global_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS.values():
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        settings = load_settings(args, command.SCOPE)
        status = asyncio.run(command.run(args, settings))
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except InputError as exc:  # a malformed flag, environment variable or config value
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status if isinstance(status, int) else 0
