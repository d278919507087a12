"""The one runtime: every long-lived object the dashboard's screens use, built once.

A :class:`Runtime` holds the :class:`~swarmtui.settings.Settings` it was built from, the live
swarm (engine -> store), the disk engines, the one :class:`~swarmtui.ops.executor.Executor`
(``--read-only`` lives there), the clock, the log session, and the update history (recorded
from every snapshot, whichever screen is shown). :func:`build_runtime` is the
one place they are made (the CLI, ``shot`` and the tests call it); the app hands the runtime
to every screen's constructor, so no screen builds engine objects or reaches into the app.

May import: :mod:`swarmtui.settings`, :mod:`swarmtui.engine`, :mod:`swarmtui.ops`,
:mod:`swarmtui.model`. Never Textual, the app, the screens or the CLI.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from swarmtui.engine.client import EngineClient
from swarmtui.engine.disk import DiskFleet
from swarmtui.engine.failing import FailingRecorder
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.logs import LogSession, task_log_tail
from swarmtui.engine.metrics import MetricsFleet
from swarmtui.engine.probe import ProbeConfig
from swarmtui.engine.target import ContextInfo, EngineTarget, list_contexts, resolve_target
from swarmtui.engine.updates import UpdateRecorder
from swarmtui.model.redact import Redactor
from swarmtui.ops.executor import Executor
from swarmtui.settings import Settings

DEFAULT_LOG_LINES = 20_000  # lines the log pane keeps when SWARMTUI_LOG_LINES is unset


class Runtime:
    """What the screens share. Built by :func:`build_runtime`; stopped by :meth:`stop`."""

    def __init__(
        self,
        settings: Settings,
        live: LiveSwarm,
        executor: Executor,
        *,
        fleet: DiskFleet | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.settings = settings
        self.live = live
        self.executor = executor  # every change to an engine runs here
        self.clock_ns = clock_ns
        self._fleet = fleet
        self.log_session: LogSession | None = None
        """The log session once made (:attr:`logs` makes it); tests may set their own."""
        self.metrics_fleet: MetricsFleet | None = None
        """The nodes' metrics once made (:attr:`metrics` makes it); tests may set their own."""
        self.updates = UpdateRecorder(live.store, clock_ns)
        """Rolling updates of every service, recorded from the first snapshot on."""
        self.failing = FailingRecorder(live.store, clock_ns)
        """The services the header counts as failing (steady across crash-loop restarts)."""
        kiosk = settings.kiosk
        self.redactor: Redactor | None = Redactor.compile(kiosk.redact) if kiosk else None
        """On a wall (``--kiosk``): what masks secret-looking values before they are shown."""

    @property
    def read_only(self) -> bool:
        return self.executor.read_only

    @property
    def fleet(self) -> DiskFleet:
        """The engines for disk usage and prune: the live swarm's engine plus the settings'
        extra ones. Made on first use, so views that never show disks connect to nothing."""
        if self._fleet is None:
            self._fleet = DiskFleet.from_targets(self.live.client.target, self.settings.engines)
        return self._fleet

    @property
    def metrics(self) -> MetricsFleet:
        """The nodes' Prometheus metrics (``--metrics`` endpoints, else node probes), made on
        first use; it reads only when the metrics view asks."""
        if self.metrics_fleet is None:
            probe = ProbeConfig(self.settings.probe_image, self.settings.probe_socket)
            urls = {**dict(self.live.client.target.metrics), **self.settings.metrics_urls}
            self.metrics_fleet = MetricsFleet(urls, probe,
                                              clock=lambda: self.clock_ns() / 1e9)
        return self.metrics_fleet

    @property
    def log_capacity(self) -> int:
        return self.settings.log_lines or DEFAULT_LOG_LINES

    @property
    def logs(self) -> LogSession:
        """The one log session (the engine layer's merged followers), made on first use with
        ``SWARMTUI_LOG_LINES`` lines of room and kept while other screens are shown."""
        if self.log_session is None:
            self.log_session = LogSession(self.live.client, self.live.store,
                                          capacity=self.log_capacity)
        return self.log_session

    async def task_log_tail(self, task_id: str, lines: int = 10) -> list[tuple[str, str]]:
        """The last lines of one task from the engine (raises EngineError, one line)."""
        state = self.live.store.state
        task = state.tasks.get(task_id)
        service = state.services.get(task.service_id) if task else None
        return await task_log_tail(self.live.client, task_id, lines,
                                   tty=bool(service and service.tty))

    def contexts(self) -> list[ContextInfo]:
        """The docker CLI's contexts (``docker context ls``), for switching."""
        return list_contexts(self.settings.env)

    @property
    def context(self) -> str | None:
        """The docker context the engine came from (None: an address or the demo)."""
        return self.live.client.target.context

    def for_context(self, name: str) -> Runtime:
        """A new runtime, not started, for docker context ``name`` with these settings (as
        ``--context NAME`` would give); raises TargetError, one line, for a bad context."""
        settings = dataclasses.replace(self.settings, host=None, context=name, demo=None)
        target = resolve_target(None, name, settings.env)
        return build_runtime(settings, target, clock_ns=self.clock_ns)

    def start(self) -> None:
        self.live.start()

    async def stop(self) -> None:
        """Stop everything that runs: a metrics probe still under way (first: it needs the
        live swarm's client to remove its service), the log followers, the live swarm, the
        disk engines."""
        if self.metrics_fleet is not None:
            await self.metrics_fleet.stop()
        if self.log_session is not None:
            await self.log_session.stop()
        await self.live.stop()
        if self._fleet is not None:
            await self._fleet.stop()


def build_runtime(
    settings: Settings,
    target: EngineTarget | LiveSwarm,
    *,
    fleet: DiskFleet | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
) -> Runtime:
    """The runtime for ``settings`` against ``target`` (or an already made live swarm: tests
    pass a static one). ``fleet`` None: made from the settings on first use."""
    live = target if isinstance(target, LiveSwarm) else LiveSwarm(EngineClient(target))
    return Runtime(settings, live, Executor(read_only=settings.read_only), fleet=fleet,
                   clock_ns=clock_ns)
