"""`swarmtui serve`: the dashboard in a web browser (textual-serve).

Every browser tab starts its own ``swarmtui`` process (textual-serve runs the command per
websocket), so each tab has its own engine connection and streams: N tabs cost N times one
dashboard's requests. It listens on loopback unless ``--public`` says otherwise, and the apps
it starts are read-only unless ``--allow-writes``. The global flags (engine, ``--demo``,
``--kiosk`` …) are handed to every app it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import shlex
import socket
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from swarmtui.cli.common import PROG, CliError, check_kiosk_views, engine_target, preflight
from swarmtui.settings import Scope, Settings

NAME = "serve"
SCOPE = Scope(engines=True, app_env=True)  # what every tab's app reads, checked once here

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 8000


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: use 1 to 65535")
    return port


def _public_url(text: str) -> str:
    """What browsers are sent to: an http(s) URL with a host (textual-serve builds the page's
    websocket and asset addresses from it, so anything else gives a blank page per tab)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or text != text.strip() \
            or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"invalid URL {text!r}: use http://HOST[:PORT][/PATH] or https://…")
    return text.rstrip("/")


def register(sub: Any) -> None:
    p = sub.add_parser(
        NAME, help="serve the dashboard to web browsers (textual-serve)",
        description="Serve the dashboard over HTTP: every browser tab runs its own swarmtui "
        "(its own engine connection and streams). Loopback and read-only unless told "
        "otherwise. Engine flags go before the command: swarmtui --demo serve.")
    p.add_argument("--bind", default=DEFAULT_BIND, metavar="ADDRESS",
                   help=f"address to listen on (default {DEFAULT_BIND}; anything but loopback "
                   "needs --public)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT})")
    p.add_argument("--public", action="store_true",
                   help="allow listening on an address other hosts can reach (no "
                   "authentication: anyone who reaches it sees the swarm)")
    p.add_argument("--public-url", metavar="URL", type=_public_url,
                   help="the URL browsers use, when it is not http://ADDRESS:PORT")
    p.add_argument("--allow-writes", action="store_true",
                   help="let the served dashboards change the swarm (read-only by default)")


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def app_argv(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The command every tab runs: this swarmtui with the global flags it was given, read-only
    unless --allow-writes (an explicit --read-only or --kiosk stays read-only)."""
    argv = [sys.executable, "-m", "swarmtui"]
    if args.host:
        argv += ["--host", args.host]
    if args.context:
        argv += ["--context", args.context]
    if settings.read_only or not args.allow_writes:
        argv.append("--read-only")
    if args.kiosk:
        argv.append("--kiosk")
    if args.demo_scenario:
        argv += ["--demo-scenario", args.demo_scenario]
    elif args.demo:
        argv.append("--demo")
    for engine in args.engine or ():
        argv += ["--engine", engine]
    if args.probe_image:
        argv += ["--probe-image", args.probe_image]
    if args.probe_socket:
        argv += ["--probe-socket", args.probe_socket]
    for metrics in getattr(args, "metrics", None) or ():
        argv += ["--metrics", metrics]
    return argv


def public_url(bind: str, port: int) -> str:
    host = bind
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()  # the unspecified address is no address to browse to
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


# textual-serve's page links a web font on fonts.googleapis.com: every browser that opens the
# dashboard would fetch it from the internet. The page is served from a copy without it (the
# terminal falls back to the browser's monospace font), so a served swarm sends nothing off
# the hosts it runs on.
_REMOTE_FONT = re.compile(r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com[^"]*"\s*/>')


def local_templates(dest: Path) -> Path:
    """``dest`` holding textual-serve's page template without its web-font link."""
    import textual_serve

    source = Path(textual_serve.__file__).parent / "templates"
    for template in source.glob("*.html"):
        (dest / template.name).write_text(_REMOTE_FONT.sub("", template.read_text()))
    return dest


async def run(args: argparse.Namespace, settings: Settings) -> None:
    if not is_loopback(args.bind) and not args.public:
        raise CliError(f"refusing to serve on {args.bind}, which is not loopback, without "
                       "--public (no authentication: anyone who reaches it sees the swarm)", 2)
    check_kiosk_views(settings)
    if not settings.demo:
        async with engine_target(settings) as target:
            await preflight(target)  # one line now rather than a broken page per tab

    from aiohttp import web
    from textual_serve.server import Server

    url = args.public_url or public_url(args.bind, args.port)
    templates = tempfile.TemporaryDirectory(prefix="swarmtui-serve-")
    server = Server(shlex.join(app_argv(args, settings)), host=args.bind, port=args.port,
                    title=PROG, public_url=url,
                    templates_path=local_templates(Path(templates.name)))
    app = await server._make_app()  # textual-serve's serve() wants to own the event loop
    app.on_startup.remove(server.on_startup)  # its banner; ours is one line below
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, args.bind, args.port).start()
        except OSError as exc:
            raise CliError(f"cannot listen on {args.bind}:{args.port}: "
                           f"{exc.strerror or exc}") from None
        mode = "read-only" if settings.read_only or not args.allow_writes else "writes allowed"
        print(f"{PROG}: serving on {url}/ ({mode}); every browser tab runs its own {PROG} "
              "with its own engine connection and streams. Ctrl+C stops.", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        templates.cleanup()
