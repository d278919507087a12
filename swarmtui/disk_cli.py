"""``swarmtui df`` and ``swarmtui prune``: disk usage and safe prune from the shell.

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
         "df": {…} | null}                      # swarmtui.model.disk.render.df_to_json, schema
                                                # "swarmtui.df/1" (documented there)

    Fields are only ever added within a schema version.

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
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from swarmtui.cli_common import CliError, engine_target
from swarmtui.engine.client import EngineError, ssh_extra_missing
from swarmtui.engine.disk import (
    ClientTransport,
    DiskEngine,
    DiskFleet,
    EngineReport,
    EngineSpecError,
    PlannedPrune,
    collect_reports,
)
from swarmtui.engine.target import EngineTarget
from swarmtui.model.disk.render import df_to_json, render_df, render_df_verbose
from swarmtui.model.disk.view import (
    CLI_KINDS,
    PruneOptions,
    SwarmNodeRef,
    cli_style_for,
    coverage_hint,
    model_kind,
    needs_typed_confirmation,
    outcome_notes,
    prune_heading,
    render_diff,
    render_outcome,
    render_plan_text,
    typed_confirmation_text,
)

DF_ENGINE_SCHEMA = "swarmtui.df.engine/1"


def add_engine_flag(parser: argparse.ArgumentParser) -> None:
    """The global ``--engine NAME=URL`` flag (repeatable)."""
    parser.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="an extra engine for disk usage and prune, e.g. node2=unix:///run/n2.sock, "
        "node2=tcp://10.0.0.12:2376 or node2=CONTEXT (repeatable; also read from "
        "$XDG_CONFIG_HOME/swarmtui/engines.toml)",
    )


def add_disk_parsers(sub: Any) -> None:
    """Register ``df`` and ``prune`` on the main parser's subparsers."""
    df = sub.add_parser(
        "df",
        help="disk usage of every engine, like docker system df",
        description="Disk usage of every reachable engine, exactly as docker system df "
        "prints it, under a heading per engine.",
    )
    df.add_argument("-v", "--verbose", action="store_true", help="the -v tables too")
    df.add_argument("--json", action="store_true", help="stable JSON (see the docs)")

    pr = sub.add_parser(
        "prune",
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


def _fleet(args: argparse.Namespace, target: EngineTarget) -> DiskFleet:
    """The engines the arguments select: ``target``, ``--engine`` flags, the config file."""
    try:
        fleet = DiskFleet.from_config(
            target, getattr(args, "engine", None) or [], read_only=bool(args.read_only)
        )
    except EngineSpecError as exc:
        raise CliError(str(exc), 2) from exc
    for engine in fleet.engines:
        # An ssh:// engine cannot work in this install at all: say so before connecting.
        transport = engine.transport
        missing = ssh_extra_missing(transport.target) if isinstance(
            transport, ClientTransport) else None
        if missing:
            raise CliError(f"{engine.name}: {missing}")
    return fleet


def app_fleet(args: argparse.Namespace, target: EngineTarget) -> DiskFleet:
    """The dashboard's disk engines (same selection as ``df`` / ``prune``)."""
    return _fleet(args, target)


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


async def run_df(args: argparse.Namespace) -> None:
    async with engine_target(args) as target:
        fleet = _fleet(args, target)
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


# ---------------------------------------------------------------------------------------------
# prune
# ---------------------------------------------------------------------------------------------


def prune_options(args: argparse.Namespace) -> PruneOptions:
    kind = model_kind(args.kind)
    if args.volumes and kind != "system":
        raise CliError("--volumes applies to system prune only", 2)
    if args.all and kind in ("containers", "networks"):
        raise CliError(f"--all does not apply to {args.kind}", 2)
    return PruneOptions(all=bool(args.all), volumes=bool(args.volumes))


def _confirm(planned: Sequence[PlannedPrune], ask: Callable[[str], str]) -> bool:
    kind, options = planned[0].kind, planned[0].options
    try:
        if needs_typed_confirmation(kind, options):
            want = typed_confirmation_text([p.engine for p in planned])
            answer = ask(f"Volume data cannot be recovered. Type {want!r} to confirm: ")
            return answer.strip() == want
        answer = ask("Proceed? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


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


async def run_prune(
    args: argparse.Namespace,
    *,
    ask: Callable[[str], str] = input,
    stdin_isatty: Callable[[], bool] | None = None,
) -> None:
    options = prune_options(args)
    if args.read_only and not args.dry_run:
        raise CliError("refusing to prune: --read-only is set (a --dry-run preview is allowed)")
    isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
    if not args.dry_run and not args.yes and not isatty():
        raise CliError(
            "refusing to prune without confirmation: stdin is not a terminal "
            "(use --yes to prune, --dry-run to preview)"
        )
    async with engine_target(args) as target:
        fleet = _fleet(args, target)
        try:
            await _prune(args, fleet, options, ask)
        finally:
            await fleet.stop()


async def _prune(
    args: argparse.Namespace, fleet: DiskFleet, options: PruneOptions, ask: Callable[[str], str]
) -> None:
    await fleet.connect_all()
    engines = _select(fleet, args)
    planned: list[PlannedPrune] = []
    failed = False
    for engine in engines:
        try:
            p = await fleet.plan(engine, args.kind, options)
        except EngineError as exc:
            print(f"swarmtui: {engine.name}: error: {exc}", file=sys.stderr)
            failed = True
            continue
        planned.append(p)
        heading = prune_heading(p.kind, p.options)
        title = f"{heading} on {p.engine} ({p.url}, API {p.api_version})"
        sys.stdout.write(render_plan_text(p.plan, title=title, per_item_steps=p.per_item_steps))
        for note in p.notes:
            print(f"  ! {note}")
        print()
    sys.stdout.flush()
    if not planned:
        raise CliError("no preview could be made")
    if args.dry_run:
        if failed:
            raise CliError("some engines could not be previewed")
        return
    if sum(p.item_count for p in planned) == 0:
        print("Nothing to remove.")
        if failed:
            raise CliError("some engines could not be previewed")
        return
    if not args.yes and not _confirm(planned, ask):
        raise CliError("cancelled, nothing was changed")
    for p in planned:
        outcome = await fleet.execute(p)
        if len(planned) > 1:
            print(f"==> {p.engine} <==")
        sys.stdout.write(render_outcome(outcome))
        sys.stdout.flush()
        for note in outcome_notes(outcome):
            print(f"swarmtui: {p.engine}: {note}", file=sys.stderr)
        if outcome.diff is not None and not outcome.diff.matches:
            print(f"swarmtui: {p.engine}: {render_diff(outcome.diff)}", file=sys.stderr)
        failed = failed or not outcome.ok
    if failed:
        raise CliError("the prune did not complete on every engine (see above)")
