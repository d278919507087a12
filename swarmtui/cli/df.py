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

The engines are those of :func:`swarmtui.cli.common.disk_fleet` (also used by ``prune``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from swarmtui.cli.common import CliError, disk_fleet, engine_target
from swarmtui.engine.disk import DiskFleet, EngineReport, collect_reports
from swarmtui.model.disk.render import df_to_json, render_df, render_df_verbose
from swarmtui.model.disk.view import SwarmNodeRef, cli_style_for, coverage_hint
from swarmtui.settings import Scope, Settings

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
) -> list[dict[str, Any]]:
    """The ``--json`` list (schema in the module docstring)."""
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
                "error": f"not covered: no engine configured for swarm node {n.hostname}",
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


async def run(args: argparse.Namespace, settings: Settings) -> None:
    async with engine_target(settings) as target:
        fleet = disk_fleet(settings, target)
        try:
            await _df(args, fleet)
        finally:
            await fleet.stop()


async def _df(args: argparse.Namespace, fleet: DiskFleet) -> None:
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
    uncovered = fleet.uncovered()
    if args.json:
        print(json.dumps(df_json(reports, uncovered, fleet.nodes), indent=2))
    else:
        sys.stdout.write(render_reports(reports, verbose=args.verbose, now=datetime.now(tz=UTC)))
        hint = coverage_hint(uncovered)
        if hint:
            print(f"swarmtui: {hint}", file=sys.stderr)
    sys.stdout.flush()
    if not any(r.usage is not None for r in reports):
        raise CliError("no engine reachable" + (f": {reports[0].error}" if reports else ""))


