"""``swarmtui prune``: safe prune from the shell, on one engine or all.

Engines: the one selected like the docker CLI (``--host``, ``--context``, ``DOCKER_HOST`` …),
plus every ``--engine NAME=URL`` (a global, repeatable flag: ``swarmtui --engine
node2=unix:///…/docker.sock prune images``) and the ``[engines]`` table of
``$XDG_CONFIG_HOME/swarmtui/engines.toml``.

``swarmtui prune KIND [--all] [--volumes] [--dry-run] [--yes] [--engine-name NAME |
--all-engines]``
    KIND: containers, images, volumes, networks, build-cache, system. Prints the preview
    (what will be removed, sizes, images protected because a service's spec or previous spec
    needs them, volumes with a non-local driver, warnings, estimated space) and asks
    ``Proceed? [y/N]``; volume prunes ask for the engine's name instead. ``--dry-run`` only
    previews (exit 0). Without a terminal on stdin and without ``--yes`` it refuses (exit 1)
    before contacting any engine. ``--read-only`` refuses every prune (exit 1; a dry run is
    still allowed). After the prune: what the engine reported, as ``docker … prune`` prints
    it; errors and notes go to stderr (exit 1 on any error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from swarmtui.cli.common import CliError, disk_fleet, engine_target
from swarmtui.cli.opflow import refuse_early, run_operation
from swarmtui.engine.disk import DiskEngine, DiskFleet
from swarmtui.model.disk.view import (
    CLI_KINDS,
    PruneOptions,
    model_kind,
)
from swarmtui.ops.executor import Executor
from swarmtui.ops.prune import PruneOperation
from swarmtui.settings import Scope, Settings

NAME = "prune"
SCOPE = Scope(engines=True, app_env=False)


def register(sub: Any) -> None:
    """Register ``prune`` on the main parser's subparsers."""
    pr = sub.add_parser(
        NAME,
        help="preview, confirm and prune unused objects on one engine or all",
        description="Preview what a prune removes (protecting images that swarm services "
        "need, also for rollback), ask, then prune.",
    )
    pr.add_argument("kind", choices=CLI_KINDS, metavar="KIND", help=", ".join(CLI_KINDS))
    pr.add_argument(
        "-a",
        "--all",
        action="store_true",
        help="images: all unused, not only dangling; volumes: named too; build-cache: all; "
        "system: both",
    )
    pr.add_argument("--volumes", action="store_true", help="system: prune volumes too")
    pr.add_argument("--dry-run", action="store_true", help="only show the preview")
    pr.add_argument(
        "-y", "--yes", "-f", "--force", action="store_true", dest="yes", help="do not ask"
    )
    where = pr.add_mutually_exclusive_group()
    where.add_argument(
        "--engine-name", metavar="NAME", help="the engine to prune (name, node hostname or node ID)"
    )
    where.add_argument("--all-engines", action="store_true", help="prune on every reachable engine")


def prune_options(args: argparse.Namespace) -> PruneOptions:
    kind = model_kind(args.kind)
    if args.volumes and kind != "system":
        raise CliError("--volumes applies to system prune only", 2)
    if args.all and kind in ("containers", "networks"):
        raise CliError(f"--all does not apply to {args.kind}", 2)
    return PruneOptions(all=bool(args.all), volumes=bool(args.volumes))


def _select(fleet: DiskFleet, args: argparse.Namespace) -> list[DiskEngine]:
    if args.all_engines:
        engines = fleet.reachable()
        if not engines:
            errors = "; ".join(f"{e.name}: {e.connect_error}" for e in fleet.engines)
            raise CliError(f"no engine reachable: {errors}")
        return engines
    if args.engine_name:
        engine = fleet.find(args.engine_name)
        if engine is None:
            names = ", ".join(e.name for e in fleet.active_engines())
            raise CliError(f"unknown engine {args.engine_name!r} (engines: {names})", 2)
    else:
        engine = fleet.active_engines()[0]
    if not engine.reachable:
        raise CliError(f"{engine.name}: {engine.connect_error or 'unreachable'}")
    return [engine]


async def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    ask: Callable[[str], str] = input,
    stdin_isatty: Callable[[], bool] | None = None,
) -> None:
    options = prune_options(args)
    executor = Executor(read_only=settings.read_only)
    isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
    # Refused before any engine is contacted: read-only, or no way to confirm.
    refuse_early(executor, dry_run=args.dry_run, yes=args.yes, isatty=isatty(), what="prune")
    async with engine_target(settings) as target:
        fleet = disk_fleet(settings, target)
        try:
            await _prune(args, fleet, options, executor, ask)
        finally:
            await fleet.stop()


async def _prune(args: argparse.Namespace, fleet: DiskFleet, options: PruneOptions,
                 executor: Executor, ask: Callable[[str], str]) -> None:
    await fleet.connect_all()
    operation = PruneOperation(fleet, _select(fleet, args), args.kind, options)
    plan, outcome = await run_operation(
        executor, operation, dry_run=args.dry_run, yes=args.yes, ask=ask
    )
    if outcome is not None and not outcome.ok:
        raise CliError("the prune did not complete on every engine (see above)")
    if plan.preview.problems:
        raise CliError("some engines could not be previewed")
