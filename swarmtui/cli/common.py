"""What every command shares: the one-line error type, the global flags, the one place the
Settings are built, and the engines they select.

The command modules import this module, never :mod:`swarmtui.cli` (which imports them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from swarmtui.engine.target import EngineTarget, TargetError, resolve_target
from swarmtui.settings import EVERYTHING, Scope, Settings
from swarmtui.validate import InputError

if TYPE_CHECKING:
    from swarmtui.engine.disk import DiskFleet

T = TypeVar("T")

PROG = "swarmtui"


class CliError(Exception):
    """A user error: printed as one line, exit status 2 (usage) or 1 (runtime)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """One-line usage errors; ``epilog_from`` adds text to the help made only when the help
    is printed (the views' list loads the screens, which no command needs to parse)."""

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epilog_from = epilog_from

    def format_help(self) -> str:
        if self.epilog_from is not None:
            extra, self.epilog_from = self.epilog_from(), None
            self.epilog = f"{self.epilog}\n\n{extra}" if self.epilog else extra
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit status 2, like argparse, minus the multi-line usage dump.
        self.exit(2, f"{PROG}: error: {message} (see `{PROG} --help`)\n")


def arg_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a :mod:`swarmtui.validate` parser (keeps its message)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    """The flags every command takes (before the command's name)."""
    parser.add_argument("-H", "--host", help="engine address (unix://, tcp://, ssh://)")
    parser.add_argument("-c", "--context", help="docker context to use")
    parser.add_argument("--read-only", action="store_true",
                        help="hide and refuse every action that changes the swarm")
    parser.add_argument("--kiosk", action="store_true",
                        help="wall display: cycle through views, read-only, high contrast, "
                        "secret-looking values masked ([kiosk] in engines.toml: views, seconds, "
                        "redact)")
    parser.add_argument("--low-bandwidth", "--ssh", action="store_true", dest="low_bandwidth",
                        help="repaint less often (on by itself when SSH_CONNECTION or SSH_TTY "
                        "is set)")
    parser.add_argument("--demo", action="store_true",
                        help="run against a built-in simulated swarm, no engine needed")
    parser.add_argument("--demo-scenario", metavar="NAME",
                        help="simulated scenario (implies --demo): demo, scale, chatty")
    parser.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="an extra engine for disk usage and prune, e.g. node2=unix:///run/n2.sock, "
        "node2=tcp://10.0.0.12:2376 or node2=CONTEXT (repeatable; also read from "
        "$XDG_CONFIG_HOME/swarmtui/engines.toml)",
    )
    parser.add_argument(
        "--probe-image", metavar="IMAGE",
        help="image of the node probes (df --all-nodes): a docker CLI and sh; default "
        "docker:cli (also $SWARMTUI_PROBE_IMAGE, [probe] image in engines.toml)",
    )
    parser.add_argument(
        "--metrics", action="append", default=[], metavar="NODE=HOST:PORT",
        help="a node's Prometheus endpoint (dockerd --metrics-addr) for the metrics view, "
        "e.g. node2=10.0.0.12:9323 (repeatable; also [metrics] in engines.toml); nodes not "
        "given are read through a node probe on the host network",
    )
    parser.add_argument(
        "--probe-socket", metavar="PATH",
        help="the engine socket on every node, mounted into the probe; default "
        "/var/run/docker.sock; service templates allowed, e.g. /run/{{.Node.Hostname}}.sock "
        "(also $SWARMTUI_PROBE_SOCKET, [probe] socket)",
    )


def load_settings(args: argparse.Namespace, scope: Scope = EVERYTHING,
                  env: Mapping[str, str] | None = None) -> Settings:
    """The one place the CLI builds the Settings (raises InputError, one line)."""
    return Settings.load(args, os.environ if env is None else env, scope)


@contextlib.asynccontextmanager
async def engine_target(settings: Settings) -> AsyncIterator[EngineTarget]:
    """The engine to use: a simulated one for --demo, else resolved like the docker CLI."""
    if settings.demo:
        from swarmtui.demo import demo_engine

        try:
            demo = demo_engine(settings.demo)
            target = await demo.__aenter__()
        except ValueError as exc:
            raise CliError(str(exc), 2) from exc
        try:
            yield target
        finally:
            await demo.__aexit__(None, None, None)
        return
    try:
        yield resolve_target(settings.host, settings.context, settings.env)
    except TargetError as exc:
        raise CliError(str(exc), 2) from exc


def check_kiosk_views(settings: Settings) -> None:
    """The ``[kiosk] views`` name registered views (one line naming the choices if not)."""
    if settings.kiosk is None:
        return
    from swarmtui.views import default_views

    views = default_views()
    for name in settings.kiosk.views:
        try:
            views.get(name)
        except KeyError as exc:
            raise CliError(f"kiosk.views in {settings.config_path}: {exc.args[0]}", 2) from None


async def preflight(target: EngineTarget) -> None:
    """Fail fast, in one line, when there is no usable engine (before taking the terminal
    or serving a page)."""
    from swarmtui.engine.client import EngineClient, EngineError

    client = EngineClient(target)
    try:
        await client.connect()
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await client.close()


def disk_fleet(settings: Settings, target: EngineTarget) -> DiskFleet:
    """The engines for disk usage and prune: ``target`` and the settings' extra engines."""
    from swarmtui.engine.client import ssh_extra_missing
    from swarmtui.engine.disk import ClientTransport, DiskFleet

    fleet = DiskFleet.from_targets(target, settings.engines)
    for engine in fleet.engines:
        # An ssh:// engine cannot work in this install at all: say so before connecting.
        transport = engine.transport
        missing = ssh_extra_missing(transport.target) if isinstance(
            transport, ClientTransport) else None
        if missing:
            raise CliError(f"{engine.name}: {missing}")
    return fleet
