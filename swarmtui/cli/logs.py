"""``swarmtui logs TARGET...``: merged logs of services and whole stacks, for the shell.

Output is the docker CLI's (``docker service logs``, docker/cli ``cli/command/service/logs.go``):
``[<timestamp> ]<service>.<slot>[.<task id>]@<node><pad>    | <line>``, stdout lines on stdout
and stderr lines on stderr (as the CLI does), ``--raw`` prints the message alone. Unlike the
CLI, every line is sanitised first (a container cannot drive the terminal: no escape
sequences, no control characters, bounded length), and a TARGET may be a stack.

Without ``--follow`` every stream is read to its end, then the lines are printed in timestamp
order (a task's own lines keep their order). With ``--follow`` the backlog is printed merged
the same way (:class:`~swarmtui.engine.logs.LogSession` does both, as for the pane), then
lines as they arrive, services deployed into a followed stack later are picked up, and
broken or hung streams are resumed without duplicates. Ctrl-C exits with 130, a closed pipe with 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from swarmtui.cli.common import CliError, engine_target
from swarmtui.model.logs import LogLine, line_prefix, parse_since, service_colour_index
from swarmtui.settings import Scope, Settings

if TYPE_CHECKING:  # the engine layer (aiodocker, aiohttp) is imported when a command runs
    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.store import SwarmStore

# Twelve distinct ANSI foreground colours for service prefixes on a terminal.
_ANSI_TINTS = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)

NAME = "logs"
SCOPE = Scope(engines=False, app_env=False)


def register(sub: Any) -> None:
    """Register the ``logs`` subcommand on the main parser's subparsers."""
    p = sub.add_parser(
        NAME,
        help="print the merged logs of services and stacks (like docker service logs)",
        description="Print the logs of every TARGET merged, in the docker CLI's format. "
        "A TARGET is a service (name, ID or unique ID prefix), a stack name, "
        "stack:NAME, service:NAME, or ~REGEX (services whose name matches).",
    )
    p.add_argument("targets", nargs="+", metavar="TARGET", help="service, stack or ~regex")
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument(
        "--since",
        metavar="X",
        help="only lines since a time (2026-11-25T12:00:00Z, 2026-11-25, unix seconds) "
        "or for a duration back (5m, 1h30m)",
    )
    p.add_argument(
        "-n",
        "--tail",
        default="all",
        metavar="N",
        help='number of lines to show from the end of each task\'s logs (default "all")',
    )
    p.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    p.add_argument("--no-task-ids", action="store_true", help="do not include task IDs")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate task IDs")
    p.add_argument(
        "--raw", action="store_true", help="print the messages only (no service.slot@node |)"
    )


def parse_tail(value: str) -> int | None:
    """Like ``docker service logs`` (the daemon checks it): ``all`` (None) or a non-negative
    integer; anything else raises ValueError with a one-line message."""
    text = value.strip()
    if text in ("all", ""):
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f'invalid --tail {value!r}: use a number of lines (0 or more) or "all"')
    return int(text)


def _local_offset_s() -> int:
    return -time.altzone if time.daylight and time.localtime().tm_isdst > 0 else -time.timezone


class PipeClosed(Exception):
    """The reader of stdout went away (``| head``): stop quietly."""


class LineWriter:
    """Formats lines like the docker CLI and writes them (bytes, UTF-8) to stdout/stderr."""

    def __init__(
        self,
        *,
        timestamps: bool,
        task_ids: bool,
        no_trunc: bool,
        raw: bool,
        replicas: dict[str, int | None],
        colour: bool,
        out: IO[bytes],
        err: IO[bytes],
    ) -> None:
        self.timestamps = timestamps
        self.task_ids = task_ids
        self.no_trunc = no_trunc
        self.raw = raw
        self.replicas = replicas
        self.colour = colour
        self.out = out
        self.err = err
        self.daemon_errors = 0
        self._prefixes: dict[tuple[str, str, int | None, str], str] = {}

    def prefix(self, line: LogLine) -> str:
        key = (line.service_id, line.task_id, line.slot, line.node_name)
        p = self._prefixes.get(key)
        if p is None:
            p = line_prefix(line, task_ids=self.task_ids,
                            replicas=self.replicas.get(line.service_id), no_trunc=self.no_trunc)
            if self.colour:
                tint = _ANSI_TINTS[service_colour_index(line.service_name, len(_ANSI_TINTS))]
                p = f"\x1b[{tint}m{p}\x1b[0m"
            self._prefixes[key] = p
        return p

    def format(self, line: LogLine) -> str:
        if line.stream == "daemon":
            return f"error from daemon in stream: {line.text}"
        ts = line.timestamp + " " if self.timestamps and line.timestamp else ""
        if self.raw:
            return ts + line.text
        return ts + self.prefix(line) + line.text

    def write(self, lines: Sequence[LogLine]) -> None:
        out: list[str] = []
        err: list[str] = []
        for line in lines:
            if line.stream == "stdout":
                out.append(self.format(line))
            else:
                if line.stream == "daemon":
                    self.daemon_errors += 1
                err.append(self.format(line))
        self._put(out, err)

    def _put(self, out: list[str], err: list[str]) -> None:
        try:
            if out:
                self.out.write(("\n".join(out) + "\n").encode("utf-8", "replace"))
                self.out.flush()
            if err:
                self.err.write(("\n".join(err) + "\n").encode("utf-8", "replace"))
                self.err.flush()
        except BrokenPipeError as exc:
            raise PipeClosed() from exc


async def _list_state(client: EngineClient, store: SwarmStore) -> None:
    from swarmtui.engine.client import EngineError
    from swarmtui.model import parse
    from swarmtui.model.actions import NodesListed, ServicesListed, TasksListed

    now = time.time_ns()
    try:
        services = parse.parse_services(await client.services(status=False))
        nodes = parse.parse_nodes(await client.nodes())
        tasks = parse.parse_tasks(await client.tasks())
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    store.dispatch(NodesListed(tuple(nodes), now))
    store.dispatch(ServicesListed(tuple(services), now))
    store.dispatch(TasksListed(tuple(tasks), now))


async def run(args: argparse.Namespace, settings: Settings) -> None:
    """The ``logs`` subcommand (raises CliError for one-line failures)."""
    from swarmtui.engine.client import EngineClient, EngineError
    from swarmtui.engine.logs import FollowOptions, LogSession
    from swarmtui.engine.store import Store
    from swarmtui.model.log_targets import parse_words, resolve_names

    try:
        parse_words(args.targets)  # a bad ~regex is a usage error, found before connecting
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    since_ns = None
    if args.since is not None:  # an empty --since is an error, not "no --since"
        try:
            since_ns = parse_since(args.since, time.time_ns(), local_offset_s=_local_offset_s())
        except ValueError as exc:
            # The duration parser's message does not say which flag it read.
            text = str(exc) if "--since" in str(exc) else f"--since: {exc}"
            raise CliError(text, 2) from exc
    try:
        tail = parse_tail(args.tail)
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    options = FollowOptions(follow=args.follow, tail=tail, since_ns=since_ns)
    colour = sys.stdout.isatty() and not settings.no_color
    async with engine_target(settings) as target:
        client = EngineClient(target)
        live = None
        session: LogSession | None = None
        try:
            try:
                await client.connect()
            except EngineError as exc:
                raise CliError(str(exc)) from exc
            store = Store()
            await _list_state(client, store)
            targets, unknown = resolve_names(store.state, args.targets)
            if unknown:
                what = "service or stack" if len(unknown) == 1 else "services or stacks"
                raise CliError(f"no such {what}: {', '.join(unknown)}", 2)  # as rollout
            writer = LineWriter(
                timestamps=args.timestamps,
                task_ids=not args.no_task_ids,
                no_trunc=args.no_trunc,
                raw=args.raw,
                replicas={s.id: s.replicas for s in store.state.services.values()},
                colour=colour,
                out=sys.stdout.buffer,
                err=sys.stderr.buffer,
            )
            if args.follow:
                from swarmtui.engine.live import LiveSwarm

                # A second connection keeps the store current (new services in a stack,
                # replaced tasks' slots) without disturbing the log streams.
                live = LiveSwarm(EngineClient(target), store=store)
                live.start()
                closed = asyncio.Event()

                def emit(lines: Sequence[LogLine]) -> None:
                    if closed.is_set():
                        return
                    try:
                        writer.write(lines)
                    except PipeClosed:
                        closed.set()  # raised here, it would only kill one follower task

                session = LogSession(client, store, options=options, sink=emit)
                session.start(targets)
                await closed.wait()  # or Ctrl-C
                raise PipeClosed()
            else:
                # The session hands over every line at once, merged by time (merge_by_time).
                collected: list[LogLine] = []
                session = LogSession(client, store, options=options, sink=collected.extend)
                session.start(targets)
                await session.wait_ended()
                chunk = 4096
                for i in range(0, len(collected), chunk):
                    writer.write(collected[i : i + chunk])
                failed = [h for h in session.health() if h.state == "error"]
                if failed:
                    names = ", ".join(f"{h.service_name} ({h.detail})" for h in failed)
                    raise CliError(f"incomplete logs: {names}")
        except PipeClosed:
            # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        finally:
            if session is not None:
                await session.stop()
            if live is not None:
                await live.stop()
            await client.close()
