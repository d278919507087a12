"""Serve a :class:`SimCluster` on a unix socket the way dockerd does (API 1.41).

Versioned (``/v1.41/nodes``, any ``/v1.NN/``) and unversioned paths, dockerd's headers on
every response, JSON errors ``{"message": ...}``, NDJSON ``/events`` that keep streaming,
multiplexed service/task logs. ``realtime=True`` moves the virtual clock with the wall clock
(demo); ``realtime=False`` leaves it frozen until code calls ``cluster.advance()`` (tests).

    python -m swarmtui.sim.server --scenario demo --socket /tmp/swarm.sock
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from swarmtui.sim import logs as simlogs
from swarmtui.sim.cluster import ENGINE_VERSION, SimCluster, event_matches
from swarmtui.sim.util import NS, Json, SimError, go_json, invalid, parse_filters, parse_unix_ts

API_VERSION = (1, 41)
MIN_API_VERSION = (1, 12)
_VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
Handler = Callable[..., Awaitable[web.StreamResponse]]


class ServerState:
    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self.requests = 0


_CLUSTER: web.AppKey[SimCluster] = web.AppKey("cluster", SimCluster)
_STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=go_json(data), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"message": message}, status)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.lower() not in ("0", "false", "no")


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise invalid("EOF")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid(f"invalid character in request body: {exc}") from exc


def _version_param(request: web.Request, kind: str) -> int:
    raw = request.query.get("version", "")
    try:
        return int(raw)
    except ValueError:
        raise invalid(
            f"invalid {kind} version '{raw}': strconv.ParseUint: parsing \"{raw}\": invalid syntax"
        ) from None


# ============================================================================ handlers


async def ping(request: web.Request, c: SimCluster) -> web.StreamResponse:
    headers = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}
    if request.method == "HEAD":
        return web.Response(headers=headers, content_type="text/plain", charset="utf-8")
    return web.Response(text="OK", headers=headers, content_type="text/plain", charset="utf-8")


async def get_version(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.version_json())


async def get_info(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.info_json())


async def get_swarm(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.swarm_json())


async def get_df(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.system_df_json())


async def list_nodes(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.nodes_json(parse_filters(request.query.get("filters"))))


async def get_node(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.node_json(ref))


async def update_node(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    version = _version_param(request, "node")
    c.update_node(ref, version, await _body(request))
    return web.Response(status=200)


async def list_services(request: web.Request, c: SimCluster) -> web.StreamResponse:
    filters = parse_filters(request.query.get("filters"))
    status = _bool(request.query.get("status"))
    return _json(c.services_json(status, filters))


async def get_service(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.service_json(ref))


async def create_service(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.create_service(await _body(request)), 201)


async def update_service(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    c.resolve_service(ref)
    version = _version_param(request, "service")
    rollback = request.query.get("rollback") or None
    return _json(c.update_service(ref, version, await _body(request), rollback))


async def delete_service(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    c.remove_service(ref)
    return web.Response(status=200)


async def list_tasks(request: web.Request, c: SimCluster) -> web.StreamResponse:
    body = c.tasks_bytes(parse_filters(request.query.get("filters")))
    return web.Response(body=body, content_type="application/json")


async def get_task(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.task_json(ref))


async def list_secrets(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.secrets_json(parse_filters(request.query.get("filters"))))


async def get_secret(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.secret_json(ref))


async def list_configs(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.configs_json(parse_filters(request.query.get("filters"))))


async def get_config(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.secret_json(ref, configs=True))


async def list_networks(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.networks_json(parse_filters(request.query.get("filters"))))


async def get_network(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.network_json(ref))


async def list_containers(request: web.Request, c: SimCluster) -> web.StreamResponse:
    q = request.query
    return _json(c.containers_json(_bool(q.get("all")), _bool(q.get("size")),
                                   parse_filters(q.get("filters"))))


async def list_images(request: web.Request, c: SimCluster) -> web.StreamResponse:
    q = request.query
    return _json(c.images_json(_bool(q.get("all")), parse_filters(q.get("filters"))))


async def list_volumes(request: web.Request, c: SimCluster) -> web.StreamResponse:
    return _json(c.volumes_json(parse_filters(request.query.get("filters"))))


def _pruner(kind: str) -> Handler:
    async def prune(request: web.Request, c: SimCluster) -> web.StreamResponse:
        filters = parse_filters(request.query.get("filters"))
        if kind == "build" and _bool(request.query.get("all")):
            filters = {**filters, "all": ["true"]}
        return _json(c.prune(kind, filters))

    return prune


async def inspect_image(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.image_inspect(ref))


async def image_history(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.image_history(ref))


async def delete_image(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    return _json(c.delete_image(ref))


async def delete_container(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    c.delete_container(ref)
    return web.Response(status=204)


def _alive(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def events(request: web.Request, c: SimCluster) -> web.StreamResponse:
    q = request.query
    since = parse_unix_ts(q["since"]) if q.get("since") else None
    until = parse_unix_ts(q["until"], "until") if q.get("until") else None
    filters = parse_filters(q.get("filters"))
    state = request.app[_STATE]
    # Subscribe and snapshot the ring in one synchronous step: nothing can slip between.
    queue: asyncio.Queue[Json] = asyncio.Queue()
    unsubscribe = c.subscribe_events(queue.put_nowait)
    replay = c.events_since(since, until, filters) if since is not None or until is not None \
        else []
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    try:
        await resp.prepare(request)
        for ev in replay:
            await resp.write(go_json(ev))
        while until is None or c.now_ns < until:
            if state.closing.is_set() or not _alive(request):
                break
            try:
                ev = await asyncio.wait_for(queue.get(), 0.2)
            except TimeoutError:
                continue
            if until is not None and int(ev["timeNano"]) > until:
                break
            if event_matches(ev, filters):
                await resp.write(go_json(ev))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        unsubscribe()
    with contextlib.suppress(ConnectionResetError, ConnectionError, RuntimeError):
        await resp.write_eof()
    return resp


def _log_options(request: web.Request) -> tuple[simlogs.LogOptions, bool]:
    q = request.query
    stdout, stderr = _bool(q.get("stdout")), _bool(q.get("stderr"))
    if not stdout and not stderr:
        raise invalid("Bad parameters: you must choose at least one stream")
    tail_raw = q.get("tail", "all")
    tail = None
    if tail_raw not in ("", "all"):
        try:
            tail = max(0, int(tail_raw))
        except ValueError:
            tail = None
    since = q.get("since")
    opts = simlogs.LogOptions(
        stdout=stdout,
        stderr=stderr,
        since_ns=parse_unix_ts(since) if since and since != "0" else None,
        tail=tail,
        timestamps=_bool(q.get("timestamps")),
        details=_bool(q.get("details")),
    )
    return opts, _bool(q.get("follow"))


async def service_logs(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    svc = c.resolve_service(ref)
    opts, follow = _log_options(request)
    tty = bool(svc.template.get("ContainerSpec", {}).get("TTY", False))
    return await _stream_logs(request, c, lambda: list(svc.tasks.values()), opts, follow, tty)


async def task_logs(request: web.Request, c: SimCluster, ref: str) -> web.StreamResponse:
    task = c.resolve_task(ref)
    opts, follow = _log_options(request)
    tty = bool(task.spec.get("ContainerSpec", {}).get("TTY", False))
    return await _stream_logs(request, c, lambda: [task] if task.id in c.tasks else [], opts,
                              follow, tty)


async def _stream_logs(request: web.Request, c: SimCluster,
                       tasks: Callable[[], list[Any]], opts: simlogs.LogOptions, follow: bool,
                       tty: bool) -> web.StreamResponse:
    def encode(lines: list[simlogs.LogLine]) -> bytes:
        if tty:
            return "".join(line.text + "\n" for line in lines).encode()
        return b"".join(simlogs.frame(line, opts) for line in lines)

    state = request.app[_STATE]
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    first = simlogs.collect(c, tasks(), opts)
    body = encode(first.lines)
    if first.errors and not follow:
        body += simlogs.error_frame(first.errors)
    try:
        if body:
            await resp.write(body)
        if follow:
            ticked = asyncio.Event()
            unsubscribe = c.subscribe_ticks(lambda _now: ticked.set())
            mark = {t.id: c.now_ns for t in tasks()}
            try:
                while not state.closing.is_set() and _alive(request):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ticked.wait(), 0.25)
                    ticked.clear()
                    now = c.now_ns
                    batches = []
                    for task in tasks():
                        if not simlogs.readable(c, task):
                            continue
                        lo = mark.get(task.id, (opts.since_ns or 0) - 1) + 1
                        batches.append(simlogs.task_lines(c, task, lo, now, None, opts))
                        mark[task.id] = now
                    lines = sorted((ln for b in batches for ln in b), key=lambda ln: ln.ts)
                    if lines:
                        await resp.write(encode(lines))
            finally:
                unsubscribe()
    except (ConnectionResetError, ConnectionError):
        return resp
    with contextlib.suppress(ConnectionResetError, ConnectionError, RuntimeError):
        await resp.write_eof()
    return resp


# ============================================================================ routing

_ID = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(f"^{p}$"), h)
    for m, p, h in (
        ("GET", "/_ping", ping),
        ("HEAD", "/_ping", ping),
        ("GET", "/version", get_version),
        ("GET", "/info", get_info),
        ("GET", "/swarm", get_swarm),
        ("GET", "/system/df", get_df),
        ("GET", "/nodes", list_nodes),
        ("GET", f"/nodes/{_ID}", get_node),
        ("POST", f"/nodes/{_ID}/update", update_node),
        ("GET", "/services", list_services),
        ("POST", "/services/create", create_service),
        ("GET", f"/services/{_ID}", get_service),
        ("POST", f"/services/{_ID}/update", update_service),
        ("DELETE", f"/services/{_ID}", delete_service),
        ("GET", f"/services/{_ID}/logs", service_logs),
        ("GET", "/tasks", list_tasks),
        ("GET", f"/tasks/{_ID}", get_task),
        ("GET", f"/tasks/{_ID}/logs", task_logs),
        ("GET", "/events", events),
        ("GET", "/secrets", list_secrets),
        ("GET", f"/secrets/{_ID}", get_secret),
        ("GET", "/configs", list_configs),
        ("GET", f"/configs/{_ID}", get_config),
        ("GET", "/networks", list_networks),
        ("GET", f"/networks/{_ID}", get_network),
        ("GET", "/containers/json", list_containers),
        ("POST", "/containers/prune", _pruner("containers")),
        ("DELETE", f"/containers/{_ID}", delete_container),
        ("GET", "/images/json", list_images),
        ("POST", "/images/prune", _pruner("images")),
        ("GET", "/images/(.+)/json", inspect_image),
        ("GET", "/images/(.+)/history", image_history),
        ("DELETE", "/images/(.+)", delete_image),
        ("GET", "/volumes", list_volumes),
        ("POST", "/volumes/prune", _pruner("volumes")),
        ("POST", "/networks/prune", _pruner("networks")),
        ("POST", "/build/prune", _pruner("build")),
    )
]


async def dispatch(request: web.Request) -> web.StreamResponse:
    c = request.app[_CLUSTER]
    request.app[_STATE].requests += 1
    path = request.path
    m = _VERSIONED.match(path)
    if m:
        version = (int(m.group(1)), int(m.group(2)))
        if version > API_VERSION:
            return _error(400, f"client version {version[0]}.{version[1]} is too new. Maximum "
                               f"supported API version is {API_VERSION[0]}.{API_VERSION[1]}")
        if version < MIN_API_VERSION:
            return _error(400, f"client version {version[0]}.{version[1]} is too old. Minimum "
                               f"supported API version is 1.12, please upgrade your client to "
                               f"a newer version")
        path = m.group(3)
    path = path.rstrip("/") or "/"
    allowed = False
    for method, pattern, handler in ROUTES:
        pm = pattern.match(path)
        if pm is None:
            continue
        allowed = True
        if method != request.method:
            continue
        try:
            return await handler(request, c, *pm.groups())
        except SimError as exc:
            return _error(exc.status, exc.message)
    if allowed:
        return _error(405, "Method Not Allowed")
    return _error(404, "page not found")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Api-Version"] = f"{API_VERSION[0]}.{API_VERSION[1]}"
    response.headers["Docker-Experimental"] = "false"
    response.headers["Ostype"] = "linux"
    response.headers["Server"] = f"Docker/{ENGINE_VERSION} (linux)"


def make_app(cluster: SimCluster) -> web.Application:
    app = web.Application(client_max_size=64 * 1024**2)
    app[_CLUSTER] = cluster
    app[_STATE] = ServerState()
    app.on_response_prepare.append(_headers)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


class SimServer:
    """A running simulated engine: ``url`` is ``unix://<socket>``; ``await stop()``."""

    def __init__(self, cluster: SimCluster, socket_path: str, realtime: bool,
                 tick_s: float = 0.25, speed: float = 1.0) -> None:
        self.cluster = cluster
        self.socket_path = socket_path
        self.url = f"unix://{socket_path}"
        self.realtime = realtime
        self.tick_s = tick_s
        self.speed = speed
        self.app = make_app(cluster)
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        self._clock: asyncio.Task[None] | None = None

    @property
    def requests(self) -> int:
        return self.app[_STATE].requests

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        await self._runner.setup()
        site = web.UnixSite(self._runner, self.socket_path)
        await site.start()
        if self.realtime:
            self._clock = asyncio.create_task(self._tick(), name="swarmtui-sim-clock")

    async def _tick(self) -> None:
        base_virtual = self.cluster.now_ns
        base_wall = time.monotonic_ns()
        while True:
            await asyncio.sleep(self.tick_s)
            elapsed = int((time.monotonic_ns() - base_wall) * self.speed)
            self.cluster.advance_to(max(self.cluster.now_ns, base_virtual + elapsed))

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        self.app[_STATE].closing.set()
        await self._runner.cleanup()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)


async def start_sim_server(cluster: SimCluster, socket_path: str, *, realtime: bool,
                           tick_s: float = 0.25, speed: float = 1.0) -> SimServer:
    """Serve ``cluster`` on ``socket_path`` like dockerd; returns the running server."""
    server = SimServer(cluster, socket_path, realtime, tick_s, speed)
    await server.start()
    return server


# ============================================================================ main


def main(argv: list[str] | None = None) -> None:
    from swarmtui.sim.scenarios import BUILDERS, DEFAULT_START_NS, build, build_ending_at

    parser = argparse.ArgumentParser(prog="python -m swarmtui.sim.server",
                                     description="Serve a simulated Docker Swarm on a unix socket.")
    parser.add_argument("--scenario", default="demo", choices=sorted(BUILDERS))
    parser.add_argument("--socket", required=True, help="unix socket path to create")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="default",
                        help="virtual start: 'default' (2026-01-01T00:00:00Z), unix seconds, or "
                             "'now' (the scenario's history ends at the wall clock)")
    parser.add_argument("--frozen", action="store_true", help="do not advance the clock")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual seconds per second")
    parser.add_argument("--nodes", type=int, help="scale scenario: how many nodes")
    parser.add_argument("--tasks", type=int, help="scale scenario: how many running tasks")
    args = parser.parse_args(argv)
    options = {key: value for key in ("nodes", "tasks")
               if (value := getattr(args, key)) is not None}
    if options and args.scenario != "scale":
        parser.error("--nodes and --tasks apply to the scale scenario only")
    if args.start == "now":
        cluster = build_ending_at(args.scenario, time.time_ns(), seed=args.seed, **options)
    else:
        start_ns = DEFAULT_START_NS if args.start == "default" else int(float(args.start) * NS)
        cluster = build(args.scenario, seed=args.seed, start_ns=start_ns, **options)

    async def run() -> None:
        import signal

        server = await start_sim_server(cluster, args.socket, realtime=not args.frozen,
                                        speed=args.speed)
        print(f"simulated swarm {args.scenario!r} on {server.url} "
              f"(DOCKER_HOST={server.url} docker node ls)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
