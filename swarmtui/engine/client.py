"""A thin async client for one engine, on top of aiodocker.

aiodocker does the plumbing (connectors for unix/tcp/TLS/ssh, JSON). Where its wrappers lose
information or cannot be restarted (events, ``status=true``, logs, df) this module calls the
raw endpoints itself; see ../shared/reference/docker-api/brief.md §1 for why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import json
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import aiodocker
import aiohttp
from aiodocker.utils import parse_result

from swarmtui.engine.ssh import SshConnector, SshError
from swarmtui.engine.target import EngineTarget
from swarmtui.model.dockerfmt import parse_api_version

_loads: Callable[[bytes], Any]
try:  # faster than the standard library's on a 45 MB task listing (BENCHMARKS.md)
    from orjson import loads as _orjson_loads

    _loads = _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; this keeps a bare checkout working
    _loads = json.loads

# Lowest API the app parses (Docker 20.10) and highest it was written and tested against.
MIN_API = (1, 41)
MAX_API = (1, 55)
REQUEST_TIMEOUT_S = 15.0
# Methods that only read; everything else needs a WritePermit.
READ_METHODS = frozenset({"GET", "HEAD"})
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=10)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large acyclic structure (a
    decoded listing, the model objects parsed from it): its full collections otherwise
    re-scan the growing heap again and again, 3x the decode's own time at 30,000 tasks.
    Nothing built in here can be cyclic garbage, so nothing is left uncollected."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# An answer this big (a task listing of ~700 tasks and more) is decoded straight into the
# collector's oldest generation (see decode_json).
PROMOTE_ABOVE_BYTES = 1_000_000


def promote_to_oldest_generation() -> None:
    """Move every object the cyclic collector tracks into its oldest generation, without
    scanning them (``gc.freeze()`` then ``gc.unfreeze()``, both O(1)). A big batch of new
    acyclic objects otherwise costs a scan of them all at the next young collection (~0.2 s
    for a decoded 45 MB listing); in the oldest generation only full collections see them,
    and they are still collected there like anything else (nothing is exempted).
    Not while anything is frozen: unfreeze would undo exemptions made on purpose
    (exempt_from_collections, the app's views), and at 1,000 nodes every nodes listing
    (1.8 MB) would have."""
    if gc.get_freeze_count():
        return
    gc.freeze()
    gc.unfreeze()


_EXEMPTED: set[str] = set()  # the moments exempt_from_collections was used for


def exempt_from_collections(moment: str) -> None:
    """``gc.freeze()``, once per process and ``moment``: every object alive now is left out
    of all later collections (a full collection at 30,000 tasks re-scanned the snapshot's
    ~1.5 million objects, ~250 ms, about once every 20 changes, and twice during the first
    frame). They are still freed by reference counting as usual; what is given up is
    collecting a *cycle* among them that becomes garbage later, which the model's objects
    (frozen, acyclic) never form, but some of the app's objects alive now may (a connection
    torn down on a reconnect): those stay allocated. Once per moment bounds that: the heap
    the app starts with (app.py) and the first big task listing (engine/live.py; listings
    after it reuse its unchanged tasks, which stay exempted)."""
    if moment not in _EXEMPTED:
        _EXEMPTED.add(moment)
        gc.freeze()


def decode_json(body: bytes) -> Any:
    """An engine's JSON answer (``None`` for an empty body, as aiohttp's ``json()``)."""
    if not body.strip():
        return None
    with collector_paused():
        value = _loads(body)
        if len(body) > PROMOTE_ABOVE_BYTES:
            promote_to_oldest_generation()
        return value


class EngineError(Exception):
    """A failure talking to the engine, with a message fit for one line on screen."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def where(target: EngineTarget) -> str:
    """The engine's URL for messages, plus what the user wrote when it was read differently."""
    if target.given and "://" not in target.given and not target.given.startswith("/"):
        return (f"{target.url} ({target.source} {target.given!r}: a bare host means tcp on "
                f"port 2375, as for the docker CLI)")
    return target.url


def advice(target: EngineTarget) -> str:
    """What to change when the engine is not there: the flag or file that named it."""
    name = target.engine_name
    if name is None:
        return "point swarmtui at one with --host, --context or DOCKER_HOST"
    if target.source == "--engine":
        return f"fix --engine {name}=URL"
    return f"fix engines.{name} in {target.source}"


def has_asyncssh() -> bool:
    return importlib.util.find_spec("asyncssh") is not None


def ssh_extra_missing(target: EngineTarget) -> str | None:
    """The one-line error for an ssh:// engine when asyncssh (the ssh extra) is absent."""
    if not target.url.startswith("ssh://") or has_asyncssh():
        return None
    return (
        f"{target.url}: ssh:// needs the ssh extra: pip install 'swarmtui[ssh]' "
        f"(or forward the socket: ssh -nNT -L /tmp/d.sock:/var/run/docker.sock HOST)"
    )


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[-1].rsplit("@", 1)[-1]
    host = rest.split("/", 1)[0]
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def describe_connect_error(target: EngineTarget, exc: BaseException) -> str:
    """Turn a low-level connection failure into one line that says what to do."""
    at = where(target)
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, SshError):  # already one line naming the engine
            return str(cause)
        if isinstance(cause, ssl.SSLError | aiohttp.ClientSSLError):
            return f"TLS failure talking to {at}: {getattr(cause, 'reason', None) or cause}"
        if isinstance(cause, PermissionError):
            return f"permission denied on {at}: run as root or add your user to the 'docker' group"
        if isinstance(cause, FileNotFoundError):
            return (
                f"no Docker engine at {at} (the socket does not exist): start dockerd, "
                f"or {advice(target)}"
            )
        if isinstance(cause, ConnectionRefusedError):
            return f"no Docker engine listening at {at} (connection refused): {advice(target)}"
        if isinstance(cause, socket.gaierror):
            return (
                f"no Docker engine at {at}: cannot resolve host {_host_of(target.url)!r}: "
                f"{advice(target)}"
            )
        if isinstance(cause, aiohttp.ClientConnectorError) and cause.os_error is not None:
            cause = cause.os_error
            continue
        cause = cause.__cause__ or cause.__context__
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot reach the Docker engine at {at}: {text}"


def _ssl_context(target: EngineTarget) -> ssl.SSLContext | None:
    tls = target.tls
    if tls is None:
        return None
    ctx = (
        ssl.create_default_context(cafile=tls.ca)
        if tls.verify
        else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    )
    if not tls.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert and tls.key:
        ctx.load_cert_chain(tls.cert, tls.key)
    return ctx


class WritePermit:
    """What a mutating request (POST, PUT, DELETE) must carry.

    Only the executor (:mod:`swarmtui.ops.executor`) issues one, for the length of one
    confirmed operation, and never in read-only mode; :meth:`EngineClient.request` refuses
    to send anything but GET without a live permit. So every change to an engine passes
    through the operations layer, and read-only needs remembering in one place only."""

    __slots__ = ("_live", "title")

    _ISSUER = object()

    def __init__(self, issuer: object, title: str) -> None:
        if issuer is not WritePermit._ISSUER:
            raise TypeError("a WritePermit is issued by the executor only")
        self.title = title
        self._live = True

    @classmethod
    def _issue(cls, title: str) -> WritePermit:
        return cls(cls._ISSUER, title)

    def _revoke(self) -> None:
        self._live = False

    @property
    def live(self) -> bool:
        return self._live


class EngineClient:
    """One connection to one engine. ``connect()`` first; every call raises EngineError."""

    def __init__(self, target: EngineTarget) -> None:
        self.target = target
        self.api_version = ""
        self.requests = 0  # requests sent, for idle-cost measurements
        self.recent_requests: deque[str] = deque(maxlen=100)  # "GET /path", to say why
        self._docker: aiodocker.Docker | None = None
        self._ssh: SshConnector | None = None

    @property
    def docker(self) -> aiodocker.Docker:
        if self._docker is None:
            raise EngineError("not connected")
        return self._docker

    async def connect(self) -> str:
        """Open the session, negotiate the API version; returns it (e.g. ``"1.41"``)."""
        await self.close()
        url = self.target.url
        missing = ssh_extra_missing(self.target)  # the ssh:// connector needs asyncssh
        if missing:
            raise EngineError(missing)
        try:
            ssl_context = _ssl_context(self.target)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise EngineError(f"cannot load the TLS files for {self.target.url}: {exc}") from exc
        if url.startswith("tcp://"):
            url = ("https://" if ssl_context else "http://") + url[len("tcp://") :]
        connector: SshConnector | None = None
        if url.startswith("ssh://"):
            # Our own connector, not aiodocker's: it keeps within the server's MaxSessions
            # (see swarmtui/engine/ssh.py for the measurements behind the choice).
            connector = self._ssh = SshConnector(url)
            url = "unix://localhost"
        try:
            docker = aiodocker.Docker(url=url, connector=connector, ssl_context=ssl_context,
                                      api_version="v1.41")
        except (ValueError, OSError, aiodocker.DockerError) as exc:
            text = exc.message if isinstance(exc, aiodocker.DockerError) else exc
            raise EngineError(f"invalid engine address {self.target.url!r}: {text}") from exc
        self._docker = docker
        # The log pane holds one stream per service at once; aiohttp's default pool is 100.
        if isinstance(docker.connector, aiohttp.BaseConnector):
            docker.connector._limit = max(docker.connector.limit, 1000)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                async with docker._query("_ping", versioned_api=False) as resp:
                    daemon_api = resp.headers.get("Api-Version", "")
        except TimeoutError as exc:
            await self.close()
            raise EngineError(f"the engine at {self.target.url} did not answer in time") from exc
        except ValueError as exc:  # yarl refuses the URL: parse_engine_url should have first
            await self.close()
            raise EngineError(f"invalid engine address {self.target.url!r}: {exc}") from exc
        except (aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
            await self.close()
            if isinstance(exc, aiodocker.DockerError) and exc.status != 900:
                raise EngineError(
                    f"the engine at {self.target.url} refused: {exc.message}", exc.status
                ) from exc
            raise EngineError(describe_connect_error(self.target, exc)) from exc
        daemon = parse_api_version(daemon_api)
        if daemon < MIN_API:
            await self.close()
            raise EngineError(
                f"engine too old: it speaks API {daemon_api or 'unknown'}, swarmtui needs "
                f"{MIN_API[0]}.{MIN_API[1]} (Docker 20.10) or newer"
            )
        chosen = min(daemon, MAX_API)
        self.api_version = f"{chosen[0]}.{chosen[1]}"
        docker.api_version = f"v{self.api_version}"
        return self.api_version

    @property
    def api(self) -> tuple[int, int]:
        return parse_api_version(self.api_version)

    async def close(self) -> None:
        docker, self._docker = self._docker, None
        ssh, self._ssh = self._ssh, None
        if docker is not None:
            try:
                await docker.close()
            except Exception:  # a dead events task re-raises here (brief §1.3); nothing to do
                pass
        if ssh is not None:  # a connector we pass in is ours to close, not aiodocker's
            await ssh.close()

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = REQUEST_TIMEOUT_S, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any:
        """One request/response call (JSON in and out); every failure is an EngineError
        whose message is one line. Anything but GET needs a live ``permit``."""
        path = path.lstrip("/")
        method = method.upper()
        if method not in READ_METHODS and (permit is None or not permit.live):
            raise EngineError(
                f"refused {method} /{path}: changes are made only by a confirmed operation"
            )
        self.requests += 1
        self.recent_requests.append(f"{method} /{path}")
        try:
            async with asyncio.timeout(timeout):
                if body is not None or method not in READ_METHODS:
                    return await self.docker._query_json(path, method,
                                                         params=dict(params or {}), data=body)
                async with self.docker._query(path, method, params=dict(params or {})) as resp:
                    if resp.content_type != "application/json":
                        return await parse_result(resp)  # type: ignore[no-untyped-call]
                    return decode_json(await resp.read())
        except (TimeoutError, aiodocker.DockerError, aiohttp.ClientError, OSError,
                asyncio.IncompleteReadError) as exc:
            raise self._engine_error(method, path, exc, f" after {timeout:.0f}s") from exc

    def _engine_error(self, method: str, path: str, exc: BaseException,
                      after: str = "") -> EngineError:
        """The one-line EngineError for a failed request or stream (the same for both)."""
        if isinstance(exc, TimeoutError):
            return EngineError(f"{method} /{path} timed out{after}")
        if isinstance(exc, aiodocker.DockerError):
            if exc.status == 900:
                return EngineError(describe_connect_error(self.target, exc), 900)
            lines = str(exc.message).strip().splitlines()
            return EngineError(lines[0] if lines else f"HTTP {exc.status}", exc.status)
        if isinstance(exc, aiohttp.ClientPayloadError | asyncio.IncompleteReadError):
            # The engine answered, then broke off the body (it restarted, a proxy cut it).
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return EngineError(f"{method} /{path} from {self.target.url} broke off: {text}", 900)
        return EngineError(describe_connect_error(self.target, exc), 900)

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                     timeout: aiohttp.ClientTimeout = STREAM_TIMEOUT,
                     ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A streaming GET (events, logs): yields the open response, whose ``content`` the
        caller reads (lines for events, multiplexed frames for logs) and may ``close()`` to
        cut the stream. Counted in ``requests``; every failure, opening or while reading,
        is the same one-line EngineError as :meth:`request` raises."""
        path = path.lstrip("/")
        method = method.upper()
        if method not in READ_METHODS:
            raise EngineError(
                f"refused {method} /{path}: changes are made only by a confirmed operation"
            )
        self.requests += 1
        self.recent_requests.append(f"{method} /{path} (stream)")
        try:
            async with self.docker._query(path, method, params=dict(params or {}),
                                          timeout=timeout) as resp:
                yield resp
        except (TimeoutError, aiodocker.DockerError, aiohttp.ClientError, OSError,
                asyncio.IncompleteReadError) as exc:
            raise self._engine_error(method, path, exc) from exc

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                       timeout: float = REQUEST_TIMEOUT_S) -> Any:
        return await self.request("GET", path, params, timeout)

    async def version(self) -> dict[str, Any]:
        data = await self.get_json("version")
        return data if isinstance(data, dict) else {}

    async def info(self) -> dict[str, Any]:
        # /info can block ~10 s on a busy manager (lab notes): only at connect, never polled.
        data = await self.get_json("info", timeout=30.0)
        return data if isinstance(data, dict) else {}

    async def nodes(self) -> list[dict[str, Any]]:
        return list(await self.get_json("nodes") or [])

    async def services(self, status: bool = True) -> list[dict[str, Any]]:
        params = {"status": "1"} if status else {}
        return list(await self.get_json("services", params) or [])

    async def service(self, service_id: str) -> dict[str, Any] | None:
        try:
            data = await self.get_json(f"services/{service_id}")
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    async def tasks(self, filters: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        params = {"filters": json.dumps(dict(filters))} if filters else {}
        return list(await self.get_json("tasks", params) or [])

    async def events(
        self, since: str | None = None, filters: Mapping[str, list[str]] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield events until the stream ends; raises EngineError when it breaks."""
        params: dict[str, str] = {}
        if filters:
            params["filters"] = json.dumps(dict(filters))
        if since:
            params["since"] = since
        async with self.stream("GET", "events", params) as resp:
            async for raw in resp.content:
                line = raw.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event
