"""Live swarm state: an event pump and an adaptive reconciler feeding one store.

Events are hints, lists are truth. The engine emits no task events, so tasks are listed:
soon after an event that concerns them, every ``converge_s`` while a service converges, every
``update_s`` while a rolling update or rollback is in flight (the docker CLI's own progress loop
polls every 200 ms: a replacement that starts and fails between two listings would be missed),
and rarely at idle. Nodes are listed only when an event says they changed (and after reconnects).

Only what may have changed is asked for (at 1,000 nodes a full ``GET /tasks`` is ~45 MB): the
full task listing happens on (re)connect alone. At idle the services listing (one request, its
live counts computed by the engine) runs every ``idle_services_s``: a task that crashes anywhere
leaves its service one short for at least the restart delay (5 s by default), so the count
shows it and the service's own tasks are then listed fast, as for any converging service. A
sweep lists a slice of the services' tasks every ``idle_slice_s`` (the whole swarm once per
``idle_sweep_s``) for what counts cannot show (a restart quicker than one services period, a
task's message). A node event lists that node's tasks (the ``node`` filter) every
``converge_s`` for ``converge_window_s``: its tasks stop or return there, and what is
rescheduled elsewhere shows in its services' counts.

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

from swarmtui.engine.client import (
    EngineClient,
    EngineError,
    collector_paused,
    exempt_from_collections,
)
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
from swarmtui.model.dockerfmt import parse_rfc3339_ns
from swarmtui.model.selectors import service_converged, services_needing_attention
from swarmtui.model.types import EngineEvent, Task

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
    idle_services_s: float = 5.0
    idle_slice_s: float = 30.0
    idle_sweep_s: float = 300.0
    # Up to this many tasks a full task listing is small (~1.5 KB a task): at idle it is the
    # one request, every idle_tasks_s, and services are listed only when it changed something
    # (their counts follow the tasks; their specs come with events). Under 7 requests a
    # minute, and a crash on a worker shows within idle_tasks_s. Bigger swarms use the
    # services counts and the sweep above instead, never a full listing on a timer.
    small_swarm_tasks: int = 1000
    idle_tasks_s: float = 9.0


SECRET_KINDS = ("secret", "config")

# On the first connect the event stream starts this far back, so the events screen opens on
# recent history (what changed just before swarmtui started), not an empty table. The engine
# keeps only its last 256 events, which bounds it too.
BACKLOG_S = 15 * 60
# Events this much older than the connect (replayed history) hint nothing to the reconciler.
HINT_MAX_AGE_S = 30.0
# The first full task listing this big is exempted from the garbage collector's scans
# (client.py exempt_from_collections): at 100 nodes and more it saves a full collection of
# the whole snapshot every few changes; below, the scans are cheap and not worth it.
EXEMPT_FROM_GC_TASKS = 2_000


def since_param(time_ns: int) -> str:
    """The daemon's ``since`` form: ``seconds.nanoseconds``."""
    return f"{time_ns // 1_000_000_000}.{time_ns % 1_000_000_000:09d}"


def unreachable(exc: EngineError) -> bool:
    """The request got no answer (timeout, refused, broken off), not an engine's refusal."""
    return exc.status is None or exc.status == 900


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
        self._node_hints: set[str] = set()
        # node id -> monotonic deadline of listing the tasks on it every converge_s
        self.node_watch: dict[str, float] = {}
        self._kinds: set[str] = set()  # "secret" / "config": list again
        self._services: set[str] = set()
        # service id -> monotonic deadline of its fast-polling window
        self.converging: dict[str, float] = {}
        # services whose update or rollback is in flight: their tasks are listed every update_s
        self.updating: set[str] = set()
        self._next_fast_services = 0.0
        self._next_idle_services = 0.0
        self._next_slice = 0.0
        self._next_stuck = 0.0
        self._sweep_after = ""  # the idle sweep resumes after this service id
        # Told when a listing could not reach the engine (LiveSwarm cuts its event stream:
        # a hung engine keeps that stream open and silent, so only a request notices).
        self.on_unreachable: Callable[[EngineError], None] | None = None

    # -- hints -------------------------------------------------------------------------
    def request_full(self) -> None:
        self._full = True
        self._wake.set()

    def hint_nodes(self, node_id: str = "") -> None:
        self._nodes = True
        if node_id:
            self._node_hints.add(node_id)
        self._wake.set()

    def hint_service(self, service_id: str) -> None:
        self._services.add(service_id)
        self._wake.set()

    def hint_event(self, event: EngineEvent) -> None:
        if event.type == "service":
            self.hint_service(event.actor_id)
        elif event.type == "node":
            self.hint_nodes(event.actor_id)
        elif event.type in SECRET_KINDS:
            self._kinds.add(event.type)
            self._wake.set()
        elif event.type == "container" and event.action in _TASK_CONTAINER_ACTIONS:
            sid = event.attr("com.docker.swarm.service.id")
            if sid:
                self.hint_service(sid)

    # -- loop --------------------------------------------------------------------------
    def _small(self) -> bool:
        return len(self.store.state.tasks) <= self.rates.small_swarm_tasks

    def _idle_tasks_period(self) -> float:
        return self.rates.idle_tasks_s if self._small() else self.rates.idle_slice_s

    def _deadline(self) -> float:
        now = self.clock()
        fast = [d for d in (*self.converging.values(), *self.node_watch.values()) if d > now]
        candidates = [self._next_slice]
        if not self._small():
            candidates.append(self._next_idle_services)
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
            except EngineError as exc:
                # The event pump reconnects; a stream that broke tells it by itself, but a
                # hung engine (no answer, socket open) is noticed here only: tell it.
                if unreachable(exc) and self.on_unreachable is not None:
                    self.on_unreachable(exc)
                await asyncio.sleep(self.rates.converge_s)

    async def step(self) -> None:
        """Do whatever listing is due now."""
        now = self.clock()
        rates = self.rates
        if self._full:
            self._full = self._nodes = False
            self._services.clear()
            self._kinds.clear()
            self._node_hints.clear()
            await self.list_everything()
            self._next_idle_services = now + rates.idle_services_s
            self._next_slice = now + self._idle_tasks_period()
            self._track_attention(now)
            return
        for kind in sorted(self._kinds):
            self._kinds.discard(kind)
            await self._list_secrets(kind)
        if self._nodes:
            self._nodes = False
            await self._list_nodes()
            hinted_nodes, self._node_hints = self._node_hints, set()
            if not hinted_nodes or not hinted_nodes <= set(self.store.state.nodes):
                # A node event without a node, or a node removed (its tasks cannot be asked
                # for by node any more): nothing narrower is known to be enough.
                await self._list_tasks(None)
                self._next_slice = now + self._idle_tasks_period()
            for nid in hinted_nodes:
                self.node_watch[nid] = now + rates.converge_window_s
        # Nodes that are gone have no tasks to list (the engine refuses the filter: 404).
        self.node_watch = {nid: d for nid, d in self.node_watch.items()
                           if d > now and nid in self.store.state.nodes}
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
        small = self._small()
        if (hinted or stuck_due or (now >= self._next_idle_services and not small)
                or ((fast or self.node_watch) and now >= self._next_fast_services)):
            await self._list_services()
            self._next_idle_services = now + rates.idle_services_s
            self._next_fast_services = now + rates.converge_s
        # A service removed meanwhile (an event about it came late) has no tasks to ask for:
        # the engine answers 404, and the step failed and was retried every converge_s for good.
        known = self.store.state.services
        if any(sid not in known for sid in self.converging):
            self.converging = {sid: d for sid, d in self.converging.items() if sid in known}
            fast &= set(known)
        if self.node_watch:
            await self._list_node_tasks(set(self.node_watch))
        watch = fast | (set(self.converging) if stuck_due else set())
        if watch:
            await self._list_tasks(watch)
        if now >= self._next_slice and small:
            self._next_slice = now + rates.idle_tasks_s
            before = self.store.state.tasks
            await self._list_tasks(None)
            if self.store.state.tasks is not before:
                await self._list_services()  # their running counts follow the tasks
                self._next_fast_services = now + rates.converge_s
        elif now >= self._next_slice:
            self._next_slice = now + rates.idle_slice_s
            sweep = self._sweep_slice() - watch
            if sweep:
                await self._list_tasks(sweep)
        if stuck_due:
            self._next_stuck = now + rates.stuck_s
        self._track_attention(now)

    def _sweep_slice(self) -> set[str]:
        """The next services of the idle sweep: about ``idle_slice_s / idle_sweep_s`` of all
        tasks, whole services in id order, resuming where the last slice ended."""
        state = self.store.state
        counts: dict[str, int] = dict.fromkeys(state.services, 0)
        for task in state.tasks.values():
            if task.service_id in counts:
                counts[task.service_id] += 1
        if not counts:
            return set()
        budget = max(1, int(len(state.tasks) * self.rates.idle_slice_s / self.rates.idle_sweep_s))
        ordered = sorted(counts)
        start = next((i for i, sid in enumerate(ordered) if sid > self._sweep_after), 0)
        picked: set[str] = set()
        taken = 0
        for sid in ordered[start:] + ordered[:start]:
            if picked and taken + counts[sid] > budget:
                break
            picked.add(sid)
            taken += counts[sid]
            self._sweep_after = sid
        return picked

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
        if not self.converging:
            return
        # One pass over the tasks for all watched services (30,000 tasks at 1,000 nodes).
        watched: dict[str, list[Task]] = {sid: [] for sid in self.converging}
        for task in state.tasks.values():
            group = watched.get(task.service_id)
            if group is not None:
                group.append(task)
        for sid, tasks in watched.items():
            svc = state.services.get(sid)
            if svc is None or service_converged(svc, tasks):
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

    async def _list_node_tasks(self, node_ids: set[str]) -> None:
        raw = await self.client.tasks({"node": sorted(node_ids)})
        with collector_paused():  # 30,000 tasks: see collector_paused
            tasks = parse.parse_tasks(raw)
        self.store.dispatch(TasksListed(tuple(tasks), time.time_ns(),
                                        node_ids=frozenset(node_ids)))

    async def _list_tasks(self, service_ids: set[str] | None) -> None:
        filters = {"service": sorted(service_ids)} if service_ids else None
        raw = await self.client.tasks(filters)
        with collector_paused():
            tasks = parse.parse_tasks(raw)
            if service_ids is None and len(tasks) >= EXEMPT_FROM_GC_TASKS:
                # The tasks of a full listing live until they change: leave them (and the
                # rest of the heap) out of the collector's scans (client.py says why).
                exempt_from_collections("first big task listing")
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
        self.reconciler.on_unreachable = self._cut_events
        self.connected = asyncio.Event()
        self._events_task: asyncio.Task[None] | None = None
        self._cut_reason: str | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._last_event_ns: int | None = None
        self._engine_connected_ns = 0  # the engine's clock at the last connect
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
        system_time = parse_rfc3339_ns(info.get("SystemTime")) if isinstance(info, dict) else None
        self._engine_connected_ns = system_time or time.time_ns()
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
                await self._follow_events()
            except EngineError as exc:
                self.connected.clear()
                self.store.dispatch(Disconnected(str(exc), time.time_ns()))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                attempt += 1

    async def _follow_events(self) -> None:
        """Read the event stream until it breaks, ends, or :meth:`_cut_events` cuts it;
        always raises EngineError (the reason shown while reconnecting)."""
        self._cut_reason = None
        self._events_task = asyncio.create_task(self._read_events(), name="swarmtui-events-read")
        try:
            await self._events_task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if self._cut_reason is None or (me is not None and me.cancelling()):
                raise  # we are being stopped, not cut
            raise EngineError(self._cut_reason) from None
        finally:
            task, self._events_task = self._events_task, None
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, EngineError):
                    await task
        raise EngineError("the engine closed its event stream")

    async def _read_events(self) -> None:
        async for raw in self.client.events(since=self._since()):
            self._on_event(raw)

    def _cut_events(self, exc: EngineError) -> None:
        """A request found the engine unreachable while the event stream still looked open:
        a hung engine (SIGSTOPped, or a dead peer whose socket never closes). Cut the stream
        so the pump shows "disconnected" and reconnects, resyncing once the engine answers."""
        task = self._events_task
        if task is None or task.done() or self._cut_reason is not None:
            return
        self._cut_reason = f"the engine stopped answering: {exc}"
        task.cancel()

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
        # The history replayed on connect (backlog_s back) is covered by the full listing that
        # follows; only recent events say "look here now". Old ones armed 30 s of fast node
        # and service polling on every start (4 requests a second on a lab busy with tests).
        # "Old" is by the engine's own clock (its SystemTime at connect), so a remote engine's
        # clock skew, or the simulator's virtual clock, changes nothing.
        recent = event.time_ns >= self._engine_connected_ns - int(HINT_MAX_AGE_S * 1e9)
        if self.store.state.is_swarm_manager and recent:
            self.reconciler.hint_event(event)
