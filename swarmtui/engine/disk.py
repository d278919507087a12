"""Disk usage and prune, per engine, for every engine the app can reach.

``docker system df`` and every prune are local to the daemon they are sent to (a manager
sees only its own disk), so the app keeps one :class:`DiskEngine` per engine: the manager it
was started against plus the extra engines given with ``--engine NAME=URL`` or listed in
``$XDG_CONFIG_HOME/swarmtui/engines.toml``::

    [engines]
    lab-node2 = "unix:///tmp/swarmtui-lab/n2/docker.sock"
    lab-node3 = "ssh://admin@node3"     # or tcp://HOST:2376, or a docker context name

Each engine is matched to a swarm node by ``GET /info`` ``Swarm.NodeID``; swarm nodes no
engine covers are reported (:meth:`DiskFleet.uncovered`).

Per engine:

* :meth:`DiskEngine.disk_usage` -- ``GET /system/df`` (``verbose=1`` from API 1.52), in the
  background, with a timeout, never two at once; the last result, its time and the last error
  are kept. :class:`DiskFleet` refreshes every engine on a slow timer (10 minutes) and on
  demand.
* :meth:`DiskFleet.plan` -- lists ``/containers/json?all=1``, ``/images/json?all=1``,
  ``/volumes``, ``/networks``, ``/system/df`` (sizes, build cache) of the engine and the
  swarm's services (``Spec`` and ``PreviousSpec``) *from a manager*, even when the engine is a
  worker, so that no worker prunes an image a service needs; then the pure planners of
  :mod:`swarmtui.model.disk`.
* :meth:`DiskFleet.execute` -- re-reads the engine and refuses when the prune would now remove
  anything the preview did not list; then calls the endpoint(s) with the query the plan holds
  (API-version dependent: ``all`` volume filter from 1.42, ``keep-storage`` /
  ``reserved-space`` from 1.48), or -- when the plan protects an image the engine's blanket
  prune would touch -- deletes exactly the plan's images one by one. Results are what the
  engine reported. An error stops there: nothing else is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.probe import AnsweredTransport, NodeAnswer
from swarmtui.engine.store import Store, SwarmStore
from swarmtui.engine.target import EngineTarget, TargetError, address_target, resolve_target
from swarmtui.model.disk.engine_state import (
    EngineState,
    ImageStore,
    engine_state_from_json,
    parse_service_ref,
)
from swarmtui.model.disk.prune_images import (
    image_matches_ref,
    plan_images_prune,
    service_image_reasons,
)
from swarmtui.model.disk.prune_plan import (
    PrunePlan,
    blanket_prune_is_safe,
    plan_build_cache_prune,
    plan_containers_prune,
    plan_networks_prune,
    plan_volumes_prune,
)
from swarmtui.model.disk.prune_result import (
    ImageDeleteRecord,
    PruneResult,
    compare_plan_result,
    parse_prune_result,
)
from swarmtui.model.disk.prune_system import plan_system_prune
from swarmtui.model.disk.usage import DiskUsage, parse_disk_usage
from swarmtui.model.disk.view import (
    PruneOptions,
    PruneOutcome,
    StepOutcome,
    SwarmNodeRef,
    model_kind,
    prune_title,
    request_text,
    uncovered_nodes,
)
from swarmtui.model.dockerfmt import parse_api_version
from swarmtui.model.state import ClusterState
from swarmtui.validate import (
    NAME_RE,
    InputError,
    engine_name,
    metrics_url,
    probe_image,
    probe_socket,
)

DF_TIMEOUT_S = 120.0
LIST_TIMEOUT_S = 30.0
PRUNE_TIMEOUT_S = 600.0
DF_INTERVAL_S = 600.0
CONFIG_NAME = "engines.toml"
PER_ITEM_SPACE_NOTE = (
    "the engine reports no space for single image deletes: measured as the drop of "
    "/system/df LayersSize"
)


# --------------------------------------------------------------------------------------------
# API-version dependent parameters
# --------------------------------------------------------------------------------------------


def df_params(api: tuple[int, int]) -> dict[str, str]:
    """``GET /system/df``: ``verbose=1`` from API 1.52 (else the ``*Usage`` objects carry no
    items). No ``type`` filter: every kind is needed (``type`` exists from 1.42)."""
    return {"verbose": "1"} if api >= (1, 52) else {}


def build_prune_params(
    api: tuple[int, int], query: Sequence[tuple[str, str]], keep_storage: int | None
) -> dict[str, str]:
    """``POST /build/prune`` query: the plan's (``all``, ``filters``) plus the space to keep,
    named ``keep-storage`` up to API 1.47 and ``reserved-space`` from 1.48 (moby
    ``client/build_prune.go``)."""
    params = dict(query)
    if keep_storage is not None and keep_storage > 0:
        params["keep-storage" if api < (1, 48) else "reserved-space"] = str(keep_storage)
    return params


# --------------------------------------------------------------------------------------------
# Transport
# --------------------------------------------------------------------------------------------


class DiskTransport(Protocol):
    """What a :class:`DiskEngine` needs from a connection (tests substitute a fake)."""

    @property
    def url(self) -> str: ...

    @property
    def api_version(self) -> str: ...

    async def connect(self) -> str: ...

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        timeout: float = LIST_TIMEOUT_S,
        permit: WritePermit | None = None,
    ) -> Any: ...

    async def close(self) -> None: ...




class ClientTransport:
    """:class:`DiskTransport` over an :class:`EngineClient` (raw endpoints, one-line errors)."""

    def __init__(self, target: EngineTarget) -> None:
        self.target = target
        self.client = EngineClient(target)

    @property
    def url(self) -> str:
        return self.target.label

    @property
    def api_version(self) -> str:
        return self.client.api_version

    async def connect(self) -> str:
        return await self.client.connect()

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        timeout: float = LIST_TIMEOUT_S,
        permit: WritePermit | None = None,
    ) -> Any:
        return await self.client.request(method, path, params, timeout, permit=permit)

    async def close(self) -> None:
        await self.client.close()


# --------------------------------------------------------------------------------------------
# Engine list: --engine NAME=URL, engines.toml
# --------------------------------------------------------------------------------------------


class EngineSpecError(InputError):
    """An invalid ``--engine`` value or config file (one line)."""


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """A configured extra engine: its name, where to reach it, and where that was said."""

    name: str
    target: EngineTarget
    source: str


def _target_for(name: str, value: str, source: str, label: str,
                env: Mapping[str, str]) -> EngineTarget:
    """A docker context name, or else an address parsed like the docker CLI's ``--host``;
    ``label`` names the setting in errors (``--engine n2``, ``engines.n2 in PATH``)."""
    value = value.strip()
    what = f"address for {label}"
    try:
        if NAME_RE.fullmatch(value):
            try:
                target = resolve_target(context=value, env=env)
            except TargetError as exc:
                if "does not exist" not in str(exc):
                    raise
                # A bare word is a context here; say how to mean a host instead.
                raise TargetError(
                    f"{exc} (for a host write tcp://{value}:2375 or ssh://{value})"
                ) from None
        else:  # unix://, tcp://, ssh://, /path/to/socket, HOST:PORT
            target = address_target(value, source, env, what)
    except TargetError as exc:
        text = str(exc)
        raise EngineSpecError(
            text if text.startswith(f"invalid {what}") else f"{label}: {text}"
        ) from None
    return replace(target, source=source, engine_name=name)


def parse_engine_flag(text: str, env: Mapping[str, str] | None = None) -> EngineSpec:
    """``NAME=URL`` (or ``NAME=CONTEXT``) of ``--engine``."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise EngineSpecError(
            f"invalid --engine {text!r}: use NAME=URL, e.g. node2=unix:///var/run/docker.sock, "
            "node2=tcp://10.0.0.12:2376 or node2=CONTEXT"
        )
    try:
        engine_name(name, f"--engine {text!r}")
    except InputError as exc:
        raise EngineSpecError(str(exc)) from None
    env = os.environ if env is None else env
    target = _target_for(name, value, "--engine", f"--engine {name}", env)
    return EngineSpec(name, target, "--engine")


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/swarmtui/engines.toml`` (``~/.config`` when unset or, as the XDG
    spec says, not an absolute path)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = str(Path.home() / ".config")
    return Path(base) / "swarmtui" / CONFIG_NAME


def _read_config(path: Path) -> dict[str, Any]:
    """The config file's tables ({} when absent); raises EngineSpecError (one line)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise EngineSpecError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as exc:
        raise EngineSpecError(f"{path}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"engines", "probe", "metrics", "kiosk"})
    if unknown:
        raise EngineSpecError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}: the file holds "
            '[engines] (NAME = "URL"), [probe] (image, socket), [metrics] (NODE = "HOST:PORT") '
            "and [kiosk] (views, seconds, redact)"
        )
    return data


def engines_from_config(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> list[EngineSpec]:
    """The ``[engines]`` table of the config file (name = URL or context); [] when absent."""
    env = os.environ if env is None else env
    path = config_path(env) if path is None else path
    data = _read_config(path)
    table = data.get("engines", {})
    if not isinstance(table, dict):
        raise EngineSpecError(f'{path}: [engines] must be a table of NAME = "URL"')
    out = []
    for name, value in table.items():
        try:
            engine_name(name, str(path))
        except InputError as exc:
            raise EngineSpecError(str(exc)) from None
        if not isinstance(value, str) or not value.strip():
            raise EngineSpecError(f"{path}: engines.{name} must be a URL or context name")
        label = f"engines.{name} in {path}"
        out.append(EngineSpec(name, _target_for(name, value, str(path), label, env), str(path)))
    return out


PROBE_KEYS = ("image", "socket")


def probe_from_config(path: Path) -> dict[str, str]:
    """The ``[probe]`` table (``image``, ``socket``), validated; {} when absent."""
    table = _read_config(path).get("probe", {})
    if not isinstance(table, dict):
        raise EngineSpecError(f"{path}: [probe] must be a table (image, socket)")
    unknown = sorted(set(table) - set(PROBE_KEYS))
    if unknown:
        raise EngineSpecError(f"{path}: unknown key(s) in [probe]: "
                              f"{', '.join(map(repr, unknown))} (known: image, socket)")
    out = {}
    for key, value in table.items():
        where = f"probe.{key} in {path}"
        if not isinstance(value, str):
            raise EngineSpecError(f"{path}: probe.{key} must be a string")
        check = probe_image if key == "image" else probe_socket
        try:
            out[key] = check(value, where)
        except InputError as exc:
            raise EngineSpecError(str(exc)) from None
    return out


KIOSK_KEYS = ("views", "seconds", "redact")


def kiosk_from_config(path: Path) -> dict[str, Any]:
    """The ``[kiosk]`` table: ``views`` (names), ``seconds`` (per view, > 0), ``redact``
    (regular expressions), each checked for its type; {} when absent. The view names are
    checked against the registry by the dashboard."""
    table = _read_config(path).get("kiosk", {})
    if not isinstance(table, dict):
        raise EngineSpecError(f"{path}: [kiosk] must be a table (views, seconds, redact)")
    unknown = sorted(set(table) - set(KIOSK_KEYS))
    if unknown:
        raise EngineSpecError(f"{path}: unknown key(s) in [kiosk]: "
                              f"{', '.join(map(repr, unknown))} (known: {', '.join(KIOSK_KEYS)})")
    out: dict[str, Any] = {}
    for key in ("views", "redact"):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise EngineSpecError(f"{path}: kiosk.{key} must be a list of strings")
            out[key] = tuple(value)
    for text in out.get("redact", ()):
        try:
            re.compile(text)
        except re.error as exc:
            raise EngineSpecError(f"{path}: kiosk.redact pattern {text!r} is not a regular "
                                  f"expression: {exc}") from None
    if "views" in out and not out["views"]:
        raise EngineSpecError(f"{path}: kiosk.views must name at least one view")
    if "seconds" in table:
        seconds = table["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise EngineSpecError(f"{path}: kiosk.seconds must be a number above 0")
        out["seconds"] = float(seconds)
    return out


def metrics_from_config(path: Path) -> dict[str, str]:
    """The ``[metrics]`` table: swarm node hostname -> its Prometheus URL (``dockerd
    --metrics-addr``), validated; {} when absent."""
    table = _read_config(path).get("metrics", {})
    if not isinstance(table, dict):
        raise EngineSpecError(f'{path}: [metrics] must be a table of NODE = "HOST:PORT"')
    out = {}
    for node, value in table.items():
        if not isinstance(value, str):
            raise EngineSpecError(f"{path}: metrics.{node} must be a string (HOST:PORT)")
        try:
            engine_name(node, f"[metrics] in {path}")
            out[node] = metrics_url(value, f"metrics.{node} in {path}")
        except InputError as exc:
            raise EngineSpecError(str(exc)) from None
    return out


# --------------------------------------------------------------------------------------------
# One engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineIdentity:
    """What ``/version`` and ``/info`` say about an engine."""

    hostname: str
    node_id: str
    api_version: str
    engine_version: str
    is_manager: bool
    swarm_active: bool
    image_store: ImageStore
    cluster_id: str = ""


def identity_from(version: Mapping[str, Any], info: Mapping[str, Any], api: str) -> EngineIdentity:
    swarm = info.get("Swarm") or {}
    driver_status = info.get("DriverStatus") or []
    containerd = any(
        isinstance(p, list) and list(p[:2]) == ["driver-type", "io.containerd.snapshotter.v1"]
        for p in driver_status
    )
    state = str(swarm.get("LocalNodeState") or "inactive")
    return EngineIdentity(
        hostname=str(info.get("Name") or ""),
        node_id=str(swarm.get("NodeID") or ""),
        api_version=api,
        engine_version=str(version.get("Version") or ""),
        is_manager=state == "active" and bool(swarm.get("ControlAvailable")),
        swarm_active=state == "active",
        image_store="containerd" if containerd else "graphdriver",
        cluster_id=str((swarm.get("Cluster") or {}).get("ID") or ""),
    )


@dataclass(frozen=True, slots=True)
class DfState:
    """The last ``/system/df`` of an engine, as the panels show it."""

    usage: DiskUsage | None = None
    fetched_ns: int | None = None
    took_s: float = 0.0
    error: str | None = None
    error_ns: int | None = None
    refreshing: bool = False


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """One engine as the disk screen shows it, frozen (see :class:`FleetState`)."""

    name: str
    url: str
    source: str
    identity: EngineIdentity | None = None
    df: DfState = DfState()
    connect_error: str | None = None
    duplicate_of: str | None = None
    probed_ns: int | None = None  # read through a node probe at this time (source "probe")

    @property
    def reachable(self) -> bool:
        return self.identity is not None and self.connect_error is None

    @property
    def probed(self) -> bool:
        return self.probed_ns is not None


@dataclass(frozen=True, slots=True)
class FleetState:
    """Everything the disk screen renders, published by :class:`DiskFleet` on every change
    (``fleet.store``): its engines in order, the swarm nodes none of them covers, the
    config error and how often df is re-read."""

    engines: tuple[EngineSnapshot, ...] = ()
    uncovered: tuple[SwarmNodeRef, ...] = ()
    config_error: str | None = None
    interval_s: float = 0.0
    # node ID -> why the last node probe could not cover it (drained, paused, down, old)
    not_probed: tuple[tuple[str, str], ...] = ()
    probing: bool = False

    @property
    def active(self) -> tuple[EngineSnapshot, ...]:
        """Engines not duplicating another one (same swarm node)."""
        return tuple(e for e in self.engines if e.duplicate_of is None)

    @property
    def reachable(self) -> tuple[EngineSnapshot, ...]:
        return tuple(e for e in self.active if e.reachable)


@dataclass(frozen=True, slots=True)
class PlannedPrune:
    """A preview the user can confirm: the plan for one engine, and how it will be done."""

    engine: str
    kind: str
    options: PruneOptions
    plan: PrunePlan
    api_version: str
    url: str = ""
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return prune_title(self.kind, self.options)

    @property
    def per_item_steps(self) -> tuple[str, ...]:
        """Steps done by per-image deletes (the blanket endpoint would touch protected images)."""
        steps = self.plan.steps or (self.plan,)
        return tuple(s.kind for s in steps if s.kind == "images" and not blanket_prune_is_safe(s))

    @property
    def item_count(self) -> int:
        return len(self.plan.items)


def make_plan(state: EngineState, kind: str, options: PruneOptions) -> PrunePlan:
    """The model's planner for ``kind`` (``build-cache`` accepted) with the CLI's options."""
    kind = model_kind(kind)
    if kind == "containers":
        return plan_containers_prune(state)
    if kind == "images":
        return plan_images_prune(state, all_unused=options.all)
    if kind == "volumes":
        return plan_volumes_prune(state, all_volumes=options.all)
    if kind == "networks":
        return plan_networks_prune(state)
    if kind == "build_cache":
        return plan_build_cache_prune(state, all_cache=options.all)
    return plan_system_prune(state, all_unused=options.all, volumes=options.volumes)


def _signatures(plan: PrunePlan) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    return {f"{i.kind}:{i.id}": (i.kind, i.action, tuple(sorted(i.untags))) for i in plan.items}


def plan_drift(confirmed: PrunePlan, fresh: PrunePlan) -> str | None:
    """Why ``fresh`` (the engine now) may not run under the user's confirmation of
    ``confirmed``: it would remove or untag something the preview did not list."""
    old = _signatures(confirmed)
    new = _signatures(fresh)
    extra = [k for k, sig in new.items() if old.get(k) != sig]
    if not extra:
        return None
    names = {f"{i.kind}:{i.id}": i.name for i in fresh.items}
    shown = ", ".join(names[k] for k in extra[:3]) + (" …" if len(extra) > 3 else "")
    return (
        f"the engine changed since the preview: {len(extra)} more object(s) would be removed "
        f"({shown}); preview again"
    )


Listener = Callable[[], None]


class DiskEngine:
    """Disk usage and prune for one engine. All calls raise :class:`EngineError`."""

    def __init__(
        self,
        transport: DiskTransport,
        *,
        name: str | None = None,
        source: str = "",
        clock_ns: Callable[[], int] = time.time_ns,
        df_timeout_s: float = DF_TIMEOUT_S,
    ) -> None:
        self.transport = transport
        self.configured_name = name
        self.source = source
        self.clock_ns = clock_ns
        self.df_timeout_s = df_timeout_s
        self.identity: EngineIdentity | None = None
        self.connect_error: str | None = None
        self.duplicate_of: str | None = None
        self.df = DfState()
        self._connected = False
        self._connect_lock = asyncio.Lock()
        self._df_task: asyncio.Task[DiskUsage] | None = None
        self._prune_lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        # The swarm node a probe read this engine's answers from ("" for a configured one).
        self.probe_node_id = ""

    # -- identity -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self.configured_name:
            return self.configured_name
        if self.identity is not None and self.identity.hostname:
            return self.identity.hostname
        return self.transport.url

    @property
    def url(self) -> str:
        return self.transport.url

    @property
    def api(self) -> tuple[int, int]:
        return parse_api_version(self.transport.api_version)

    @property
    def reachable(self) -> bool:
        return self.identity is not None and self.connect_error is None

    def matches(self, name: str) -> bool:
        """By engine name, node hostname or node ID (or a 6+ character ID prefix)."""
        ident = self.identity
        if name in (self.name, self.configured_name):
            return True
        if ident is None:
            return False
        return name == ident.hostname or (len(name) >= 6 and ident.node_id.startswith(name))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self) -> None:
        for cb in list(self._listeners):
            cb()

    def snapshot(self) -> EngineSnapshot:
        return EngineSnapshot(self.name, self.url, self.source, self.identity, self.df,
                              self.connect_error, self.duplicate_of)

    async def connect(self) -> EngineIdentity:
        """Connect (once) and read ``/version`` + ``/info``; raises EngineError."""
        async with self._connect_lock:
            if self._connected and self.identity is not None:
                return self.identity
            try:
                api = await self.transport.connect()
                version = await self.transport.call("GET", "version")
                info = await self.transport.call("GET", "info", timeout=LIST_TIMEOUT_S)
            except EngineError as exc:
                self.connect_error = str(exc)
                self._connected = False
                self._changed()
                raise
            self.identity = identity_from(version or {}, info or {}, api)
            self.connect_error = None
            self._connected = True
            self._changed()
            return self.identity

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        timeout: float = LIST_TIMEOUT_S,
        permit: WritePermit | None = None,
    ) -> Any:
        await self.connect()
        try:
            return await self.transport.call(method, path, params, timeout, permit)
        except EngineError as exc:
            if exc.status in (None, 900):
                self._connected = False  # reconnect next time
            raise

    async def close(self) -> None:
        task, self._df_task = self._df_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._connected = False
        await self.transport.close()

    # -- disk usage ---------------------------------------------------------------------
    def refresh(self) -> asyncio.Task[DiskUsage]:
        """Start ``/system/df`` in the background unless one is already running (returned)."""
        task = self._df_task
        if task is None or task.done():
            task = asyncio.create_task(self._run_df(), name=f"swarmtui-df-{self.name}")
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._df_task = task
        return task

    async def disk_usage(self) -> DiskUsage:
        """A fresh ``/system/df`` (joins the one running, if any); raises EngineError."""
        return await asyncio.shield(self.refresh())

    async def _run_df(self) -> DiskUsage:
        self.df = replace(self.df, refreshing=True)
        self._changed()
        start = time.monotonic()
        try:
            await self.connect()
            raw = await self.call(
                "GET", "system/df", df_params(self.api), timeout=self.df_timeout_s
            )
            if not isinstance(raw, dict):
                raise EngineError("GET /system/df returned no object")
            usage = parse_disk_usage(raw, self.transport.api_version)
        except EngineError as exc:
            self.df = replace(self.df, refreshing=False, error=str(exc), error_ns=self.clock_ns())
            self._changed()
            raise
        self.df = DfState(usage, self.clock_ns(), time.monotonic() - start)
        self._changed()
        return usage

    # -- prune --------------------------------------------------------------------------
    async def engine_state(self, services: Sequence[Any]) -> tuple[EngineState, DiskUsage]:
        """Everything a preview needs, read now (services come from the caller)."""
        ident = await self.connect()
        usage = await self.disk_usage()
        containers, images, volumes, networks = await asyncio.gather(
            self.call("GET", "containers/json", {"all": "1"}),
            self.call("GET", "images/json", {"all": "1"}),
            self.call("GET", "volumes"),
            self.call("GET", "networks"),
        )
        state = engine_state_from_json(
            self.transport.api_version,
            containers=containers or [],
            images=images or [],
            df=usage,
            volumes=volumes or {},
            networks=networks or [],
            services=services,
            is_manager=ident.is_manager,
            swarm_active=ident.swarm_active,
            image_store=ident.image_store,
        )
        return state, usage

    async def plan(
        self, kind: str, options: PruneOptions, services: Sequence[Any], notes: Sequence[str] = ()
    ) -> PlannedPrune:
        state, _ = await self.engine_state(services)
        plan = make_plan(state, kind, options)
        extra = list(notes)
        if options.keep_storage and model_kind(kind) == "build_cache":
            extra.append(
                f"keeps up to {options.keep_storage} bytes of cache: the engine may remove "
                "less than listed"
            )
        return PlannedPrune(
            self.name,
            model_kind(kind),
            options,
            plan,
            self.transport.api_version,
            self.url,
            tuple(extra),
        )

    async def execute(
        self, planned: PlannedPrune, services: Sequence[Any], permit: WritePermit
    ) -> PruneOutcome:
        """Run a confirmed plan (see the module docstring) with the executor's ``permit``.
        Never raises for engine errors: they are in the outcome."""
        title = planned.title
        async with self._prune_lock:
            try:
                state, _ = await self.engine_state(services)
            except EngineError as exc:
                return PruneOutcome(self.name, planned.kind, title, refused=str(exc))
            fresh = make_plan(state, planned.kind, planned.options)
            drift = plan_drift(planned.plan, fresh)
            if drift is not None:
                return PruneOutcome(self.name, planned.kind, title, refused=drift)
            known = tuple(i.id for i in state.images)
            steps: list[StepOutcome] = []
            failed = False
            for step in fresh.steps or (fresh,):
                if failed:
                    steps.append(StepOutcome(step.kind, "not run"))
                    continue
                if step.kind == "images" and not blanket_prune_is_safe(step):
                    out = await self._delete_images(step, state, services, permit)
                else:
                    out = await self._endpoint(step, planned.options, permit)
                steps.append(out)
                failed = out.error is not None
            results = [s.result for s in steps if s.result is not None]
            diff = None
            if results:
                diff = compare_plan_result(
                    planned.plan,
                    results if planned.kind == "system" else results[0],
                    known_image_ids=known,
                )
        self.refresh()
        return PruneOutcome(self.name, planned.kind, title, tuple(steps), diff=diff)

    async def _endpoint(
        self, step: PrunePlan, options: PruneOptions, permit: WritePermit
    ) -> StepOutcome:
        params = dict(step.query)
        if step.kind == "build_cache":
            params = build_prune_params(self.api, step.query, options.keep_storage)
        request = request_text(replace(step, query=tuple(params.items())), per_item=False)
        try:
            data = await self.call(
                "POST", step.endpoint, params, timeout=PRUNE_TIMEOUT_S, permit=permit
            )
        except EngineError as exc:
            return StepOutcome(step.kind, "endpoint", error=str(exc), request=request)
        return StepOutcome(
            step.kind, "endpoint", parse_prune_result(step.kind, data), None, "", request
        )

    async def _delete_images(
        self, step: PrunePlan, state: EngineState, services: Sequence[Any], permit: WritePermit
    ) -> StepOutcome:
        """Exactly the plan's images, one ``DELETE /images/{target}`` at a time (no force),
        never a target that designates an image a service needs."""
        refs = [parse_service_ref(s) for s in services]
        by_id = {i.id: i for i in state.images}
        guarded = [by_id[p.id] for p in step.protected if p.id in by_id]
        guarded += [i for i in state.images if i not in guarded and service_image_reasons(i, refs)]
        records: list[ImageDeleteRecord] = []
        error: str | None = None
        request = request_text(step, per_item=True)
        try:
            before: DiskUsage | None = await self.disk_usage()
        except EngineError:
            before = None
        for item in step.items:
            if item.id in {g.id for g in guarded}:
                error = f"refused to delete {item.name}: a service needs it"
                break
            for target in item.targets:
                if any(image_matches_ref(g, target) for g in guarded):
                    error = f"refused to delete {target}: it names an image a service needs"
                    break
                try:
                    data = await self.call(
                        "DELETE", f"images/{target}", timeout=PRUNE_TIMEOUT_S, permit=permit
                    )
                except EngineError as exc:
                    error = f"{target}: {exc}"
                    break
                for rec in data or []:
                    if isinstance(rec, dict):
                        records.append(
                            ImageDeleteRecord(
                                str(rec.get("Untagged") or ""), str(rec.get("Deleted") or "")
                            )
                        )
            if error is not None:
                break
        space: int | None = None
        note = PER_ITEM_SPACE_NOTE
        try:
            after = await self.disk_usage()
            if before is not None:
                space = max(before.layers_size - after.layers_size, 0)
            else:
                note = "space unknown: /system/df failed before the deletes"
        except EngineError as exc:
            note = f"space unknown: /system/df failed after the deletes: {exc}"
        result = PruneResult("images", images=tuple(records), space_reclaimed=space)
        return StepOutcome("images", "per-item", result, error, note, request)


# --------------------------------------------------------------------------------------------
# Every engine
# --------------------------------------------------------------------------------------------


class DiskFleet:
    """The manager's engine plus the extra ones; owned by the app (or the CLI command)."""

    def __init__(
        self,
        engines: Sequence[DiskEngine],
        *,
        interval_s: float = DF_INTERVAL_S,
        config_error: str | None = None,
    ) -> None:
        self.engines: list[DiskEngine] = list(engines)
        self.interval_s = interval_s
        self.config_error = config_error
        self.nodes: tuple[SwarmNodeRef, ...] = ()
        self.nodes_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self.revision = 0
        self.store: Store[FleetState] = Store(FleetState())
        # The live swarm (when the app follows one): its nodes for coverage, its events
        # for prunes made elsewhere.
        self._swarm_nodes: tuple[SwarmNodeRef, ...] = ()
        self._swarm_nodes_from: object = None
        self._seen_prune_ns = -1
        self._seen_events: object = None
        self._unfollow: Callable[[], None] | None = None
        # The last node probe's answers, one DiskEngine over each (AnsweredTransport), when
        # they were read, and why the nodes it could not reach stay uncovered.
        self.probed: list[DiskEngine] = []
        self.probed_ns: int | None = None
        self.not_probed: dict[str, str] = {}
        self.probing = False
        # The user confirmed a probe preview that said R re-probes without asking again,
        # for the rest of this session (the fleet lives as long as the app).
        self.probe_confirmed = False
        for e in self.engines:
            e.subscribe(self._changed)
        self._changed()

    @classmethod
    def from_targets(
        cls,
        primary: EngineTarget | None,
        extra: Sequence[EngineSpec] = (),
        **kw: Any,
    ) -> DiskFleet:
        engines = []
        if primary is not None:
            engines.append(DiskEngine(ClientTransport(primary), source=primary.source))
        for spec in extra:
            engines.append(
                DiskEngine(ClientTransport(spec.target), name=spec.name, source=spec.source)
            )
        return cls(engines, **kw)

    @classmethod
    def from_config(
        cls,
        primary: EngineTarget | None,
        engine_flags: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        strict: bool = True,
        **kw: Any,
    ) -> DiskFleet:
        """Primary + ``--engine`` flags + the config file. ``strict``: raise
        EngineSpecError on a bad file (the CLI); else keep the error to show it (the app)."""
        specs = [parse_engine_flag(f, env) for f in engine_flags]
        config_error = None
        try:
            specs += engines_from_config(env=env)
        except EngineSpecError as exc:
            if strict:
                raise
            config_error = str(exc)
        names = [s.name for s in specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            where = sorted({s.source for s in specs if s.name in dupes})
            msg = (f"engine name(s) given twice: {', '.join(dupes)} (in {' and '.join(where)}); "
                   "each engine needs its own name")
            if strict:
                raise EngineSpecError(msg)
            config_error = msg
        return cls.from_targets(primary, specs, config_error=config_error, **kw)

    # -- snapshots ----------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` whenever a new :class:`FleetState` is published."""
        return self.store.subscribe(lambda _state: listener())

    def snapshot(self) -> FleetState:
        """The fleet as it is now, frozen: the configured engines, then the probed nodes no
        configured engine covers (one engine configured directly wins for its node)."""
        nodes = self._swarm_nodes or self.nodes
        probed = self.shown_probed()
        probed_ids = {e.probe_node_id for e in probed}
        return FleetState(
            engines=(*(e.snapshot() for e in self.engines),
                     *(replace(e.snapshot(), probed_ns=self.probed_ns) for e in probed)),
            uncovered=tuple(n for n in self.uncovered(nodes) if n.id not in probed_ids),
            config_error=self.config_error,
            interval_s=self.interval_s,
            not_probed=tuple(sorted(self.not_probed.items())),
            probing=self.probing,
        )

    # -- node probes --------------------------------------------------------------------
    def shown_probed(self) -> list[DiskEngine]:
        """Probed nodes no configured engine covers (those are shown by their engine)."""
        covered = self.covered_ids()
        return [e for e in self.probed if e.probe_node_id not in covered]

    def all_engines(self) -> list[DiskEngine]:
        """Every engine the disk screen shows a panel for, in :meth:`snapshot`'s order."""
        return [*self.engines, *self.shown_probed()]

    def set_probing(self, probing: bool) -> None:
        self.probing = probing
        self._changed()

    async def apply_probe(self, answers: Sequence[NodeAnswer], not_probed: Mapping[str, str],
                          *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        """Take a probe run's answers: each node's answers become a :class:`DiskEngine` over
        an :class:`AnsweredTransport` (same parsers and arithmetic as a configured engine;
        a node whose probe failed shows that error); they replace the previous run's."""
        engines = []
        for answer in answers:
            engine = DiskEngine(AnsweredTransport(answer), name=answer.node.hostname or None,
                                source="probe", clock_ns=clock_ns)
            engine.probe_node_id = answer.node.id
            engines.append(engine)

        async def read(engine: DiskEngine) -> None:
            with contextlib.suppress(EngineError):  # kept in the engine's state, shown
                await engine.connect()
                await engine.disk_usage()

        await asyncio.gather(*(read(e) for e in engines))
        old, self.probed = self.probed, engines
        self.probed_ns = clock_ns()
        self.not_probed = dict(not_probed)
        for e in engines:
            e.subscribe(self._changed)
        for e in old:
            await e.close()
        self._changed()

    def _changed(self) -> None:
        """Publish a new snapshot when anything shown differs (else keep the old object)."""
        new = self.snapshot()
        if new != self.store.state:
            self.revision += 1
            self.store.replace(new)

    def follow(self, swarm: SwarmStore) -> None:
        """Follow the live swarm: its node list for coverage, and a prune in its event feed
        (someone ran ``docker system prune``, or we did) re-reads the connected engine's df,
        whichever screen is shown. Ends with :meth:`stop`."""
        if self._unfollow is None:
            self._unfollow = swarm.subscribe(self._on_swarm)
            self._on_swarm(swarm.state)

    def _on_swarm(self, state: ClusterState) -> None:
        if state.events is not self._seen_events:
            self._seen_events = state.events
            last = max((e.time_ns for e in state.events if e.action == "prune"), default=0)
            # The first look only sets the mark: prunes in the backlog are already in df.
            if self._seen_prune_ns >= 0 and last > self._seen_prune_ns and self.engines:
                self.refresh(self.engines[0])
            self._seen_prune_ns = last
        if state.nodes is not self._swarm_nodes_from:
            self._swarm_nodes_from = state.nodes
            self._swarm_nodes = tuple(
                SwarmNodeRef(n.id, n.hostname, n.role, n.state) for n in state.nodes.values()
            )
            self._changed()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, swarm: SwarmStore | None = None) -> None:
        """Connect every engine, read df, then re-read it every ``interval_s``; with
        ``swarm``, also :meth:`follow` it."""
        if swarm is not None:
            self.follow(swarm)
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="swarmtui-disk")

    async def _loop(self) -> None:
        while True:
            await self.refresh_all()
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        for task in (self._task, self._refresh_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._refresh_task = None
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        for e in (*self.engines, *self.probed):
            await e.close()

    async def connect_all(self) -> None:
        await asyncio.gather(*(self._connect(e) for e in self.engines))
        self._dedupe()
        self._changed()
        await self.load_nodes()

    async def _connect(self, engine: DiskEngine) -> None:
        with contextlib.suppress(EngineError):
            await engine.connect()

    def _dedupe(self) -> None:
        seen: dict[str, str] = {}
        for e in self.engines:
            key = e.identity.node_id if e.identity and e.identity.node_id else f"url:{e.url}"
            if key in seen:
                e.duplicate_of = seen[key]
            else:
                seen[key] = e.name
                e.duplicate_of = None

    async def refresh_all(self) -> None:
        """Connect and re-read df on every engine (each at most once at a time)."""
        await self.connect_all()
        tasks = [e.refresh() for e in self.active_engines()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def refresh(self, engine: DiskEngine | None = None) -> None:
        """On demand, in the background: one engine, or all."""
        if engine is not None:
            engine.refresh()
            return
        task = self._refresh_task
        if task is None or task.done():
            self._refresh_task = asyncio.create_task(
                self.refresh_all(), name="swarmtui-disk-refresh"
            )

    # -- engines ------------------------------------------------------------------------
    def active_engines(self) -> list[DiskEngine]:
        """Engines not duplicating another one (same swarm node)."""
        return [e for e in self.engines if e.duplicate_of is None]

    def reachable(self) -> list[DiskEngine]:
        return [e for e in self.active_engines() if e.reachable]

    def find(self, name: str) -> DiskEngine | None:
        for e in self.active_engines():
            if e.matches(name):
                return e
        return None

    def manager_client(self) -> EngineClient | None:
        """The client of a reachable manager engine (node probes run there), or None."""
        mgr = self.manager()
        if mgr is not None and isinstance(mgr.transport, ClientTransport):
            return mgr.transport.client
        return None

    def manager(self) -> DiskEngine | None:
        for e in self.engines:
            if e.reachable and e.identity is not None and e.identity.is_manager:
                return e
        return None

    async def load_nodes(self) -> None:
        mgr = self.manager()
        if mgr is None:
            self.nodes = ()
            self.nodes_error = None
            self._changed()
            return
        try:
            raw = await mgr.call("GET", "nodes")
        except EngineError as exc:
            self.nodes_error = str(exc)
            return
        nodes = []
        for n in raw or []:
            nodes.append(
                SwarmNodeRef(
                    id=str(n.get("ID") or ""),
                    hostname=str((n.get("Description") or {}).get("Hostname") or ""),
                    role=str((n.get("Spec") or {}).get("Role") or "worker"),
                    state=str((n.get("Status") or {}).get("State") or ""),
                )
            )
        self.nodes = tuple(nodes)
        self.nodes_error = None
        self._changed()

    def covered_ids(self) -> set[str]:
        return {
            e.identity.node_id
            for e in self.active_engines()
            if e.identity is not None and e.identity.node_id
        }

    def uncovered(self, nodes: Iterable[SwarmNodeRef] | None = None) -> list[SwarmNodeRef]:
        """Swarm nodes without an engine here (``nodes`` default: the manager's list)."""
        return uncovered_nodes(self.nodes if nodes is None else nodes, self.covered_ids())

    # -- prune --------------------------------------------------------------------------
    async def services(self, kind: str) -> tuple[list[Any], tuple[str, ...]]:
        """The swarm's services (Spec + PreviousSpec) from a manager, and notes.

        Image and system prunes are refused (EngineError) when the engines are in a swarm but
        no manager answers: which images services need cannot be known then."""
        kind = model_kind(kind)
        mgr = self.manager()
        in_swarm = any(e.identity is not None and e.identity.swarm_active for e in self.engines)
        if mgr is None and not in_swarm:
            return [], ()
        problem = "no swarm manager is reachable among the engines"
        if mgr is not None:
            try:
                return list(await mgr.call("GET", "services") or []), ()
            except EngineError as exc:
                problem = f"cannot list services on {mgr.name}: {exc}"
        if kind in ("images", "system"):
            raise EngineError(
                f"{problem}: which images services need is unknown, so no image prune"
            )
        return [], (f"{problem}: service mounts and networks are not checked",)

    async def plan(self, engine: DiskEngine, kind: str, options: PruneOptions) -> PlannedPrune:
        """The preview for one engine; raises EngineError (one line) when it cannot be made."""
        await engine.connect()
        if engine.duplicate_of is not None:
            raise EngineError(f"{engine.name} is the same node as {engine.duplicate_of}")
        services, notes = await self.services(kind)
        try:
            return await engine.plan(kind, options, services, notes)
        except ValueError as exc:  # planner refusal (e.g. filters)
            raise EngineError(str(exc)) from exc

    async def execute(self, planned: PlannedPrune, permit: WritePermit) -> PruneOutcome:
        """Run a confirmed preview on its engine (re-checked first, see DiskEngine.execute).
        Only the prune operation calls this, with the executor's permit."""
        engine = self.find(planned.engine)
        if engine is None:
            return PruneOutcome(
                planned.engine,
                planned.kind,
                planned.title,
                refused=f"unknown engine {planned.engine!r}",
            )
        try:
            services, _ = await self.services(planned.kind)
        except EngineError as exc:
            return PruneOutcome(engine.name, planned.kind, planned.title, refused=str(exc))
        return await engine.execute(planned, services, permit)


@dataclass(frozen=True, slots=True)
class EngineReport:
    """One engine's line in ``swarmtui df``: identity, df or the error."""

    name: str
    url: str
    identity: EngineIdentity | None
    usage: DiskUsage | None
    error: str | None
    fetched_ns: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def collect_reports(fleet: DiskFleet) -> list[EngineReport]:
    """Connect every engine and read df once (for the CLI)."""
    await fleet.connect_all()
    engines = fleet.active_engines()
    results = await asyncio.gather(
        *(e.disk_usage() for e in engines if e.reachable), return_exceptions=True
    )
    it = iter(results)
    reports = []
    for e in engines:
        if not e.reachable:
            reports.append(
                EngineReport(e.name, e.url, e.identity, None, e.connect_error or "unreachable")
            )
            continue
        r = next(it)
        if isinstance(r, EngineError):
            reports.append(EngineReport(e.name, e.url, e.identity, None, str(r)))
        elif isinstance(r, BaseException):
            raise r
        else:
            reports.append(EngineReport(e.name, e.url, e.identity, r, None, e.df.fetched_ns))
    return reports
