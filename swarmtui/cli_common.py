"""What every subcommand shares: the one-line error type and the engine to talk to.

Kept apart from :mod:`swarmtui.cli` so the subcommand modules need not import the parser
that imports them.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from swarmtui.engine.target import EngineTarget, TargetError, resolve_target


class CliError(Exception):
    """A user error: printed as one line, exit status 2 (usage) or 1 (runtime)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@contextlib.asynccontextmanager
async def engine_target(args: argparse.Namespace) -> AsyncIterator[EngineTarget]:
    """The engine to use: a simulated one for --demo, else resolved like the docker CLI."""
    if args.demo:
        from swarmtui.demo import demo_engine

        try:
            demo = demo_engine(args.demo)
            target = await demo.__aenter__()
        except ValueError as exc:
            raise CliError(str(exc), 2) from exc
        try:
            yield target
        finally:
            await demo.__aexit__(None, None, None)
        return
    try:
        yield resolve_target(args.host, args.context)
    except TargetError as exc:
        raise CliError(str(exc), 2) from exc
