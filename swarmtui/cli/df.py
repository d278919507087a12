"""``swarmtui df``: disk usage of every engine from the shell.

Engines: the one selected like the docker CLI (``--host``, ``--context``, ``DOCKER_HOST`` …),
plus every ``--engine NAME=URL`` (a global, repeatable flag: ``swarmtui --engine
node2=unix:///…/docker.sock df``) and the ``[engines]`` table of
``$XDG_CONFIG_HOME/swarmtui/engines.toml``.

``swarmtui df [--verbose] [--json]``
    For each engine, a heading ``==> NAME (URL) · node … · API … <==`` then exactly what
    ``docker system df`` (``-v``) prints against that engine. Unreachable engines are listed
    under their heading with their one-line error; swarm nodes that no engine covers are named
    on stderr. Exit status 1 when no engine is reachable.

    ``--json`` prints a JSON list (``--verbose`` makes no difference: items are always in).
    One object per engine and one per swarm node no engine covers::

        {"schema": "swarmtui.df.engine/1",
         "engine": "lab-node1" | null,         # null for an uncovered node
         "url": "unix:///…" | null,
         "source": "--host" | "--engine" | "<config path>" | "default socket" | …,
         "covered": true,                       # false: a swarm node without an engine
         "reachable": true,
         "error": null | "one-line error",
         "node": {"id", "hostname", "role", "state"} | null,   # the swarm node it is
         "engine_version": "20.10.24+dfsg1" | null,
         "api_version": "1.41" | null,
         "fetched_at": "2026-11-25T12:00:00.123456789Z" | null,  # when df answered (UTC)
         "df": {…} | null}                      # swarmtui.model.disk.df_to_json, schema
                                                # "swarmtui.df/1" (documented there)

    Fields are only ever added within a schema version.

``swarmtui df --all-nodes [--yes] [--probe-timeout SECONDS]``
    Every swarm node, also those no engine is configured for: a *node probe* (a global
    service ``swarmtui-probe-…`` running ``--probe-image`` with ``--probe-socket`` of each
    node mounted, :mod:`swarmtui.engine.probe`) asks each node's own engine for the raw
    ``/system/df``; the service is removed afterwards. Probed nodes print and serialise like
    engines (``url`` ``probe://HOSTNAME``, ``source`` ``probe``); an engine configured
    directly still wins for its node. Drained, paused and down nodes and engines older than
    API 1.41 are listed as not covered, with the reason. Creating the service is a change to the
    swarm: the preview goes to stderr and a terminal is asked (``--yes`` skips that; without a
    terminal and without ``--yes`` it refuses in one line); ``--read-only`` refuses. Exit
    status 1 also when a node the probe should reach did not answer.

The engines are those of :func:`swarmtui.cli.common.disk_fleet` (also used by ``prune``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from swarmtui.cli.common import CliError, arg_type, disk_fleet, engine_target
from swarmtui.cli.opflow import run_operation
from swarmtui.engine.client import EngineError
from swarmtui.engine.disk import (
    ClientTransport,
    DiskEngine,
    DiskFleet,
    EngineIdentity,
    EngineReport,
    collect_reports,
)
from swarmtui.engine.probe import (
    DEFAULT_PROBE_TIMEOUT_S,
    DF_REQUESTS,
    PROBE_API,
    AnsweredTransport,
    ProbeConfig,
)
from swarmtui.model.disk.render import df_to_json, render_df, render_df_verbose
from swarmtui.model.disk.view import SwarmNodeRef, cli_style_for, coverage_hint
from swarmtui.ops.executor import Executor
from swarmtui.ops.probe import ProbeOperation, ProbeResult
from swarmtui.settings import Scope, Settings
from swarmtui.validate import InputError, seconds

DF_ENGINE_SCHEMA = "swarmtui.df.engine/1"

NAME = "df"
SCOPE = Scope(engines=True, app_env=False)


def register(sub: Any) -> None:
    """Register ``df`` on the main parser's subparsers."""
    df = sub.add_parser(
        NAME,
        help="disk usage of every engine, like docker system df",
        description="Disk usage of every reachable engine, exactly as docker system df "
        "prints it, under a heading per engine.",
    )
    df.add_argument("-v", "--verbose", action="store_true", help="the -v tables too")
    df.add_argument("--json", action="store_true", help="stable JSON (see the docs)")
    df.add_argument("--all-nodes", action="store_true",
                    help="every swarm node, through a probe service on the swarm itself "
                    "(creates and removes a global service; asks first)")
    df.add_argument("-y", "--yes", action="store_true",
                    help="--all-nodes: create the probe service without asking")
    df.add_argument("--probe-timeout", type=arg_type(probe_timeout), default=None,
                    metavar="SECONDS",
                    help=f"--all-nodes: wait this long for every node's answer "
                    f"(default {DEFAULT_PROBE_TIMEOUT_S:g})")


def probe_timeout(text: str) -> float:
    value = seconds(text)
    if value <= 0:
        raise InputError(f"invalid --probe-timeout {text!r}: more than 0 seconds")
    return value


def _heading(e: EngineReport) -> str:
    parts = [f"==> {e.name} ({e.url})"]
    ident = e.identity
    if ident is not None:
        if ident.node_id:
            role = "manager" if ident.is_manager else "worker"
            parts.append(f"node {ident.node_id[:12]} {role}")
        parts.append(f"Docker {ident.engine_version} API {ident.api_version}")
    return " · ".join(parts) + " <=="


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def df_json(
    reports: Sequence[EngineReport],
    uncovered: Sequence[SwarmNodeRef],
    nodes: Sequence[SwarmNodeRef],
    reasons: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The ``--json`` list (schema in the module docstring); ``reasons``: node ID -> why it
    is not covered (default: no engine configured for it)."""
    reasons = reasons or {}
    by_id = {n.id: n for n in nodes}
    out: list[dict[str, Any]] = []
    for r in reports:
        ident = r.identity
        node = by_id.get(ident.node_id) if ident is not None else None
        if node is None and ident is not None and ident.node_id:
            role = "manager" if ident.is_manager else "worker"
            node = SwarmNodeRef(ident.node_id, ident.hostname, role, "")
        out.append(
            {
                "schema": DF_ENGINE_SCHEMA,
                "engine": r.name,
                "url": r.url,
                "source": r.extra.get("source", ""),
                "covered": True,
                "reachable": r.error is None,
                "error": r.error,
                "node": None
                if node is None
                else {
                    "id": node.id,
                    "hostname": node.hostname,
                    "role": node.role,
                    "state": node.state,
                },
                "engine_version": ident.engine_version if ident else None,
                "api_version": ident.api_version if ident else None,
                "fetched_at": _iso(r.fetched_ns),
                "df": df_to_json(r.usage) if r.usage is not None else None,
            }
        )
    for n in uncovered:
        out.append(
            {
                "schema": DF_ENGINE_SCHEMA,
                "engine": None,
                "url": None,
                "source": None,
                "covered": False,
                "reachable": False,
                "error": "not covered: " + reasons.get(
                    n.id, f"no engine configured for swarm node {n.hostname}"),
                "node": {"id": n.id, "hostname": n.hostname, "role": n.role, "state": n.state},
                "engine_version": None,
                "api_version": None,
                "fetched_at": None,
                "df": None,
            }
        )
    return out


def render_reports(reports: Sequence[EngineReport], *, verbose: bool, now: datetime | float) -> str:
    """The text of ``swarmtui df`` for the reports (headings + docker's output)."""
    blocks = []
    for r in reports:
        text = _heading(r) + "\n"
        if r.usage is None:
            text += f"unreachable: {r.error}\n"
        elif verbose:
            text += render_df_verbose(r.usage, now, style=cli_style_for(r.usage.api_version))
        else:
            text += render_df(r.usage)
        blocks.append(text)
    return "\n".join(blocks)


READ_ONLY_REFUSAL = "--all-nodes needs to create a probe service; refused in read-only"


async def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    ask: Callable[[str], str] = input,
    stdin_isatty: Callable[[], bool] | None = None,
) -> None:
    executor = Executor(read_only=settings.read_only)
    if args.all_nodes:
        # Refused before any engine is contacted: read-only, or no way to confirm.
        if settings.read_only:
            raise CliError(READ_ONLY_REFUSAL)
        isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
        if not args.yes and not isatty():
            raise CliError("refusing to create a probe service for --all-nodes without "
                           "confirmation: stdin is not a terminal (use --yes to go ahead)")
    elif args.yes or args.probe_timeout is not None:
        raise CliError("--yes and --probe-timeout go with --all-nodes", 2)
    async with engine_target(settings) as target:
        fleet = disk_fleet(settings, target)
        try:
            await _df(args, fleet, settings, executor, ask)
        finally:
            await fleet.stop()


async def _probe_reports(args: argparse.Namespace, fleet: DiskFleet, settings: Settings,
                         executor: Executor, ask: Callable[[str], str]
                         ) -> tuple[list[EngineReport], dict[str, str], bool]:
    """The nodes no engine covers, through a probe: their reports, the reasons of those
    still not covered (node ID -> reason), and whether a node failed to answer."""
    mgr = fleet.manager()
    client = mgr.transport.client if mgr is not None and isinstance(
        mgr.transport, ClientTransport) else None
    if client is None:
        raise CliError("--all-nodes needs a swarm manager: the engine is not one")
    config = ProbeConfig(settings.probe_image, settings.probe_socket,
                         timeout_s=args.probe_timeout or DEFAULT_PROBE_TIMEOUT_S)
    operation = ProbeOperation(client, config, DF_REQUESTS, purpose="disk usage",
                               skip_node_ids=sorted(fleet.covered_ids()))
    plan, outcome = await run_operation(executor, operation, dry_run=False, yes=args.yes,
                                        ask=ask, out=sys.stderr)
    reasons = {n.id: why for n, why in plan.payload.not_covered}
    if outcome is None:
        return [], reasons, False
    result = outcome.detail
    if not isinstance(result, ProbeResult):
        raise CliError("; ".join(outcome.errors) or "the probe did not run")
    reports: list[EngineReport] = []
    failed = bool(outcome.errors)
    for answer in result.run.nodes:
        engine = DiskEngine(AnsweredTransport(answer), source="probe")
        node = answer.node
        try:
            await engine.connect()
            usage = await engine.disk_usage()
        except EngineError as exc:
            failed = True
            role = "manager" if node.role == "manager" else "worker"
            ident = EngineIdentity(node.hostname, node.id, PROBE_API, node.engine_version,
                                   role == "manager", True, "graphdriver")
            reports.append(EngineReport(node.hostname, engine.url, ident, None, str(exc),
                                        extra={"source": "probe"}))
            continue
        reports.append(EngineReport(engine.name, engine.url, engine.identity, usage, None,
                                    engine.df.fetched_ns, {"source": "probe"}))
    return reports, reasons, failed


async def _df(args: argparse.Namespace, fleet: DiskFleet, settings: Settings,
              executor: Executor, ask: Callable[[str], str]) -> None:
    reports = await collect_reports(fleet)
    sources = {e.name: e.source for e in fleet.engines}
    reports = [
        EngineReport(
            r.name,
            r.url,
            r.identity,
            r.usage,
            r.error,
            r.fetched_ns,
            {"source": sources.get(r.name, "")},
        )
        for r in reports
    ]
    reasons: dict[str, str] = {}
    failed = False
    if args.all_nodes:
        probed, reasons, failed = await _probe_reports(args, fleet, settings, executor, ask)
        reports += probed
    covered = {r.identity.node_id for r in reports if r.identity is not None}
    uncovered = [n for n in fleet.uncovered() if n.id not in covered]
    if args.json:
        print(json.dumps(df_json(reports, uncovered, fleet.nodes, reasons), indent=2))
    else:
        sys.stdout.write(render_reports(reports, verbose=args.verbose, now=datetime.now(tz=UTC)))
        if args.all_nodes:
            for n in uncovered:
                print(f"swarmtui: {n.hostname} not covered: "
                      f"{reasons.get(n.id, 'no engine configured for it')}", file=sys.stderr)
        else:
            hint = coverage_hint(uncovered)
            if hint:
                print(f"swarmtui: {hint}", file=sys.stderr)
    sys.stdout.flush()
    if not any(r.usage is not None for r in reports):
        raise CliError("no engine reachable" + (f": {reports[0].error}" if reports else ""))
    if failed:
        bad = [f"{r.name}: {r.error}" for r in reports if r.error and r.extra.get("source")
               == "probe"]
        raise CliError("not every node answered the probe: " + "; ".join(bad))


