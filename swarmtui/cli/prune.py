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

``swarmtui prune KIND --all-nodes | --node NAME [--dry-run] [--yes] [--probe-timeout S]``
    Every swarm node (or one), also those no engine is configured for, through node probes
    (:mod:`swarmtui.ops.prune_nodes`): a read probe (a global service, previewed on stderr
    and confirmed like ``df --all-nodes``; ``--yes`` confirms it too, also with ``--dry-run``)
    reads each node's lists, then the preview lists per node what goes; after confirmation a
    re-check probe and a delete probe run, and each node removes, object by object and
    without force, only what is still unused and was listed. Nodes with a direct engine use
    it; drained, paused and old nodes are listed as not covered. Per node: what was removed,
    what was kept and why, the space reclaimed. ``--read-only`` refuses, also ``--dry-run``
    (the read probe creates a service). Exit 1 when any node failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from swarmtui.cli.common import CliError, arg_type, disk_fleet, engine_target
from swarmtui.cli.df import probe_timeout
from swarmtui.cli.opflow import refuse_early, run_operation
from swarmtui.engine.disk import ClientTransport, DiskEngine, DiskFleet
from swarmtui.engine.probe import DEFAULT_PROBE_TIMEOUT_S, PRUNE_READ_REQUESTS, ProbeConfig
from swarmtui.model.disk.view import (
    CLI_KINDS,
    PruneOptions,
    model_kind,
)
from swarmtui.ops.executor import Executor
from swarmtui.ops.probe import ProbeOperation, ProbeResult
from swarmtui.ops.prune import PruneOperation
from swarmtui.ops.prune_nodes import PruneNodesOperation
from swarmtui.settings import Scope, Settings
from swarmtui.validate import not_empty

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
        "--engine-name", metavar="NAME", type=arg_type(_engine_name),
        help="the engine to prune (name, node hostname or node ID)",
    )
    where.add_argument("--all-engines", action="store_true", help="prune on every reachable engine")
    where.add_argument("--all-nodes", action="store_true",
                       help="prune on every swarm node, through probe services on the swarm "
                       "(created and removed again; asks first)")
    where.add_argument("--node", metavar="NAME", type=arg_type(_node_name),
                       help="prune on one swarm node (hostname or ID), through a probe unless "
                       "an engine is configured for it")
    pr.add_argument("--probe-timeout", type=arg_type(probe_timeout), default=None,
                    metavar="SECONDS",
                    help=f"--all-nodes/--node: wait this long for every node's answer "
                    f"(default {DEFAULT_PROBE_TIMEOUT_S:g})")


def _engine_name(text: str) -> str:
    return not_empty(text, "--engine-name")


def _node_name(text: str) -> str:
    return not_empty(text, "--node")


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
    on_nodes = bool(args.all_nodes or args.node)
    # Refused before any engine is contacted: read-only, or no way to confirm.
    if on_nodes:
        if settings.read_only:
            raise CliError(NODES_READ_ONLY_REFUSAL)
        if not args.yes and not isatty():
            raise CliError("refusing to create probe services without confirmation: stdin is "
                           "not a terminal (use --yes to go ahead)")
    else:
        if args.probe_timeout is not None:
            raise CliError("--probe-timeout goes with --all-nodes or --node", 2)
        refuse_early(executor, dry_run=args.dry_run, yes=args.yes, isatty=isatty(),
                     what="prune")
    async with engine_target(settings) as target:
        fleet = disk_fleet(settings, target)
        try:
            if on_nodes:
                await _prune_nodes(args, fleet, settings, options, executor, ask)
            else:
                await _prune(args, fleet, options, executor, ask)
        finally:
            await fleet.stop()


NODES_READ_ONLY_REFUSAL = ("prune --all-nodes/--node needs to create probe services; refused "
                           "in read-only")


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


async def _prune_nodes(args: argparse.Namespace, fleet: DiskFleet, settings: Settings,
                       options: PruneOptions, executor: Executor,
                       ask: Callable[[str], str]) -> None:
    await fleet.connect_all()
    mgr = fleet.manager()
    client = mgr.transport.client if mgr is not None and isinstance(
        mgr.transport, ClientTransport) else None
    if client is None:
        raise CliError("--all-nodes/--node need a swarm manager: the engine is not one")
    engines = fleet.reachable()
    covered = fleet.covered_ids()
    skip = set(covered)
    if args.node:
        engine = fleet.find(args.node)
        engines = [engine] if engine is not None and engine.reachable else []
        wanted = [n for n in fleet.nodes if args.node in (n.hostname, n.id) or (
            len(args.node) >= 6 and n.id.startswith(args.node))]
        if not wanted and engine is None:
            names = ", ".join(n.hostname for n in fleet.nodes)
            raise CliError(f"unknown node {args.node!r} (nodes: {names})", 2)
        skip |= {n.id for n in fleet.nodes if n not in wanted}
    config = ProbeConfig(settings.probe_image, settings.probe_socket,
                         timeout_s=args.probe_timeout or DEFAULT_PROBE_TIMEOUT_S)
    read: ProbeResult | None = None
    if set(n.id for n in fleet.nodes) - skip:
        # --node: the other nodes are not part of it (neither probed nor listed).
        only = [n.id for n in wanted] if args.node else None
        probe = ProbeOperation(client, config, PRUNE_READ_REQUESTS,
                               purpose="a prune preview", skip_node_ids=sorted(covered),
                               only_node_ids=only)
        probe_plan, outcome = await run_operation(executor, probe, dry_run=False, yes=args.yes,
                                                  ask=ask, out=sys.stderr)
        if outcome is None and args.node and not engines:
            why = "; ".join(f"{n.hostname} is not covered: {reason}"
                            for n, reason in probe_plan.payload.not_covered)
            raise CliError(why or f"no node to probe for {args.node!r}")
        if outcome is not None:
            if not isinstance(outcome.detail, ProbeResult):
                raise CliError("; ".join(outcome.errors) or "the read probe did not run")
            read = outcome.detail
    operation = PruneNodesOperation(fleet, client, config, read, engines, args.kind, options)
    plan, outcome = await run_operation(executor, operation, dry_run=args.dry_run,
                                        yes=args.yes, ask=ask)
    failed = [o.prune.engine for o in (outcome.detail if outcome is not None else ())
              if not o.ok]
    if failed:
        raise CliError(f"the prune failed on {', '.join(failed)} (see above)")
    if outcome is not None and not outcome.ok:
        raise CliError("the prune did not complete on every node (see above)")
    if plan.preview.problems:
        raise CliError("some nodes could not be previewed")
