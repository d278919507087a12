"""Live swarm state: an event pump and an adaptive reconciler feeding one store.

Events are hints, lists are truth. The engine emits no task events, so tasks are listed:
soon after an event that concerns them, every ``converge_s`` while a service converges, every
``update_s`` while a rolling update or rollback is in flight (the docker CLI's own progress loop
polls every 200 ms: a replacement that starts and fails between two listings would be missed),
and rarely at idle. Nodes are listed only when an event says they changed (and after reconnects).

Secrets and configs are kept in the snapshot like nodes, not polled by their views: the
engine emits an event for every create, update and remove of each (``secret``/``config``
events), so one listing after a (re)connect and one per event keep them exact at no idle
cost, and the services listing already carries which services use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.store import Store, SwarmStore
from swarmtui.model import parse
from swarmtui.model.actions import (
    Connected,
    Connecting,
    Disconnected,
    EventReceived,
    NodesListed,
    SecretsListed,
    ServicesListed,
    TasksListed,
)
from swarmtui.model.selectors import service_converged, services_needing_attention, tasks_of
from swarmtui.model.types import EngineEvent

# Container actions that say nothing about a task's life; they only add noise.
_QUIET_CONTAINER_ACTIONS = (
    "exec_",
    "health_status",
    "top",
    "attach",
    "resize",
    "archive-path",
    "extract-to-dir",
    "copy",
)
_TASK_CONTAINER_ACTIONS = frozenset(
    {"create", "start", "die", "kill", "oom", "stop", "destroy", "pause", "unpause", "restart"}
)


@dataclass(frozen=True, slots=True)
class Rates:
    """How often to list what (seconds)."""

    debounce_s: float = 0.1
    converge_s: float = 0.5
    update_s: float = 0.2
    converge_window_s: float = 30.0
    stuck_s: float = 5.0
    idle_services_s: float = 10.0
    idle_tasks_s: float = 30.0


SECRET_KINDS = ("secret", "config")

# On the first connect the event stream starts this far back, so the events screen opens on
# recent history (what changed just before swarmtui started), not an empty table. The engine
# keeps only its last 256 events, which bounds it too.
BACKLOG_S = 15 * 60


def since_param(time_ns: int) -> str:
    """The daemon's ``since`` form: ``seconds.nanoseconds``."""
    return f"{time_ns // 1_000_000_000}.{time_ns % 1_000_000_000:09d}"


class Reconciler:
    """Decides when to re-list what, and does it. One instance per engine connection."""

    def __init__(
        self,
        client: EngineClient,
        store: SwarmStore,
        rates: Rates = Rates(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.rates = rates
        self.clock = clock
        self._wake = asyncio.Event()
        self._last_hinted = -1e9  # when the last listing woken by a hint began
        self._full = False
        self._nodes = False
        self._kinds: set[str] = set()  # "secret" / "config": list again
        self._services: set[str] = set()
        # service id -> monotonic deadline of its fast-polling window
        self.converging: dict[str, float] = {}
        # services whose update or rollback is in flight: their tasks are listed every update_s
        self.updating: set[str] = set()
        self._next_fast_services = 0.0
        self._next_idle_services = 0.0
        self._next_idle_tasks = 0.0
        self._next_stuck = 0.0

    # -- hints -------------------------------------------------------------------------
    def request_full(self) -> None:
        self._full = True
        self._wake.set()

    def hint_nodes(self) -> None:
        self._nodes = True
        self._wake.set()

    def hint_service(self, service_id: str) -> None:
        self._services.add(service_id)
        self._wake.set()

    def hint_event(self, event: EngineEvent) -> None:
        if event.type == "service":
            self.hint_service(event.actor_id)
        elif event.type == "node":
            self.hint_nodes()
        elif event.type in SECRET_KINDS:
            self._kinds.add(event.type)
            self._wake.set()
        elif event.type == "container" and event.action in _TASK_CONTAINER_ACTIONS:
            sid = event.attr("com.docker.swarm.service.id")
            if sid:
                self.hint_service(sid)

    # -- loop --------------------------------------------------------------------------
    def _deadline(self) -> float:
        now = self.clock()
        fast = [d for d in self.converging.values() if d > now]
        candidates = [self._next_idle_services, self._next_idle_tasks]
        if fast:
            step = self.rates.update_s if self.updating else self.rates.converge_s
            candidates.append(now + step)
        elif self.converging:
            candidates.append(self._next_stuck)
        return min(candidates)

    async def run(self, connected: asyncio.Event) -> None:
        while True:
            await connected.wait()
            timeout = max(0.0, self._deadline() - self.clock())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            if self._wake.is_set():
                # The first hint after a quiet spell is listed at once (a scale shows within
                # one round trip); hints soon after a hinted listing wait out debounce_s, so a
                # burst (a stack deploy emits dozens) costs two listings, not dozens.
                if self.clock() - self._last_hinted < self.rates.debounce_s:
                    await asyncio.sleep(self.rates.debounce_s)
                self._wake.clear()
                self._last_hinted = self.clock()
            try:
                await self.step()
            except EngineError:
                # The event pump notices the broken connection and reconnects; wait for it.
                await asyncio.sleep(self.rates.converge_s)

    async def step(self) -> None:
        """Do whatever listing is due now."""
        now = self.clock()
        rates = self.rates
        if self._full:
            self._full = self._nodes = False
            self._services.clear()
            self._kinds.clear()
            await self.list_everything()
            self._next_idle_services = now + rates.idle_services_s
            self._next_idle_tasks = now + rates.idle_tasks_s
            self._track_attention(now)
            return
        for kind in sorted(self._kinds):
            self._kinds.discard(kind)
            await self._list_secrets(kind)
        all_tasks = False
        if self._nodes:
            self._nodes = False
            await self._list_nodes()
            all_tasks = True  # a node going down or draining reschedules its tasks
        # A service event only says "look here": the next services listing (one request,
        # with live counts) settles what changed, including removals.
        hinted = bool(self._services)
        for sid in self._services:
            self.converging[sid] = now + rates.converge_window_s
        self._services.clear()
        fast = {sid for sid, d in self.converging.items() if d > now}
        stuck_due = bool(self.converging) and now >= self._next_stuck
        # Services (one request, with UpdateStatus) at most every converge_s while converging,
        # even when tasks go faster during an update; an update's state change comes with a
        # service event, which lists them at once.
        if (hinted or stuck_due or now >= self._next_idle_services
                or (fast and now >= self._next_fast_services)):
            await self._list_services()
            self._next_idle_services = now + rates.idle_services_s
            self._next_fast_services = now + rates.converge_s
        if all_tasks or now >= self._next_idle_tasks:
            await self._list_tasks(None)
            self._next_idle_tasks = now + rates.idle_tasks_s
        else:
            watch = fast | (set(self.converging) if stuck_due else set())
            if watch:
                await self._list_tasks(watch)
        if stuck_due:
            self._next_stuck = now + rates.stuck_s
        self._track_attention(now)

    def _track_attention(self, now: float) -> None:
        """Start watching services whose counts are off; stop watching converged ones."""
        state = self.store.state
        for sid in services_needing_attention(state):
            self.converging.setdefault(sid, now + self.rates.converge_window_s)
        # An update in flight stays fast however long it takes (delays add up past the window).
        self.updating = {
            sid for sid, svc in state.services.items()
            if svc.update_status is not None and svc.update_status.in_progress
        }
        for sid in self.updating:
            self.converging[sid] = now + self.rates.converge_window_s
        for sid in list(self.converging):
            svc = state.services.get(sid)
            if svc is None or service_converged(svc, tasks_of(state, sid)):
                del self.converging[sid]

    async def list_everything(self) -> None:
        await self._list_nodes()
        await self._list_services()
        # Before the tasks: the tasks listing completes the first full picture
        # (has_full_state), and a shot taken then must show the secrets too.
        for kind in SECRET_KINDS:
            await self._list_secrets(kind)
        await self._list_tasks(None)

    async def _list_secrets(self, kind: str) -> None:
        """``GET /secrets`` or ``GET /configs`` (metadata only: no secret data is returned)."""
        items = parse.parse_secrets(await self.client.get_json(f"{kind}s") or [])
        self.store.dispatch(SecretsListed(kind, tuple(items), time.time_ns()))

    async def _list_nodes(self) -> None:
        nodes = parse.parse_nodes(await self.client.nodes())
        self.store.dispatch(NodesListed(tuple(nodes), time.time_ns()))

    async def _list_services(self) -> None:
        services = parse.parse_services(await self.client.services(status=True))
        self.store.dispatch(ServicesListed(tuple(services), time.time_ns()))

    async def _list_tasks(self, service_ids: set[str] | None) -> None:
        filters = {"service": sorted(service_ids)} if service_ids else None
        tasks = parse.parse_tasks(await self.client.tasks(filters))
        self.store.dispatch(
            TasksListed(
                tuple(tasks), time.time_ns(), frozenset(service_ids) if service_ids else None
            )
        )


class LiveSwarm:
    """Keeps a store in step with one engine: connect, resync, follow events, reconnect."""

    def __init__(
        self,
        client: EngineClient,
        store: SwarmStore | None = None,
        rates: Rates = Rates(),
        backlog_s: float = BACKLOG_S,
    ) -> None:
        self.client = client
        self.backlog_s = backlog_s
        self.store = store or Store()
        self.reconciler = Reconciler(client, self.store, rates)
        self.connected = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_event_ns: int | None = None
        self._seen: set[tuple[int, str, str, str]] = set()
        self.first_error: str | None = None

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._pump(), name="swarmtui-events"),
                asyncio.create_task(self.reconciler.run(self.connected), name="swarmtui-reconcile"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.client.close()

    async def wait_full_state(self, timeout: float) -> None:
        """Wait for the first complete picture; raises EngineError with the reason if none."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def check(state: Any) -> None:
            if done.done():
                return
            if state.has_full_state:
                done.set_result(None)
            elif state.connection.status == "disconnected" and state.engine is None:
                done.set_exception(EngineError(state.connection.error))

        unsubscribe = self.store.subscribe(check)
        check(self.store.state)
        try:
            async with asyncio.timeout(timeout):
                await done
        except TimeoutError as exc:
            err = self.store.state.connection.error
            raise EngineError(
                f"no full swarm state from {self.client.target.url} within {timeout:g}s"
                + (f": {err}" if err else "")
            ) from exc
        finally:
            unsubscribe()

    async def _connect(self) -> None:
        await self.client.connect()
        version = await self.client.version()
        info = await self.client.info()
        engine = parse.parse_engine_info(self.client.target.label, version, info)
        self.store.dispatch(Connected(engine, time.time_ns()))

    async def _pump(self) -> None:
        backoff = 0.25
        attempt = 0
        while True:
            self.connected.clear()
            self.store.dispatch(Connecting(time.time_ns(), attempt))
            try:
                await self._connect()
                backoff = 0.25
                attempt = 0
                self.connected.set()
                if self.store.state.is_swarm_manager:
                    self.reconciler.request_full()
                async for raw in self.client.events(since=self._since()):
                    self._on_event(raw)
                raise EngineError("the engine closed its event stream")
            except EngineError as exc:
                self.connected.clear()
                self.store.dispatch(Disconnected(str(exc), time.time_ns()))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                attempt += 1

    def _since(self) -> str | None:
        """Resume after the last event seen; the first time, start ``backlog_s`` back. The
        replayed events go through the reducer like live ones (``_on_event`` drops repeats,
        since ``since`` is inclusive)."""
        if self._last_event_ns:
            return since_param(self._last_event_ns)
        if self.backlog_s > 0:
            return since_param(time.time_ns() - int(self.backlog_s * 1e9))
        return None

    def _on_event(self, raw: dict[str, Any]) -> None:
        event = parse.parse_event(raw)
        if event.type == "container" and event.action.startswith(_QUIET_CONTAINER_ACTIONS):
            return
        key = (event.time_ns, event.type, event.action, event.actor_id)
        if key in self._seen:  # `since` is inclusive: a resumed stream repeats the last event
            return
        self._seen.add(key)
        if len(self._seen) > 4096:
            self._seen = {key}
        self._last_event_ns = max(self._last_event_ns or 0, event.time_ns)
        self.store.dispatch(EventReceived(event))
        if self.store.state.is_swarm_manager:
            self.reconciler.hint_event(event)
