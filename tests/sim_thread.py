"""A simulated swarm served from its own thread and event loop, so a test's app (or a snapshot
test's, whose loop pytest-textual-snapshot owns) talks to it like to a daemon. The virtual
clock is frozen: the test moves it with :meth:`ThreadedSim.advance`, so what the sim answers
does not depend on how fast the machine is. Every touch of the cluster runs in the sim's
thread (:meth:`ThreadedSim.call`)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from swarmtui.engine.target import EngineTarget
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import build
from swarmtui.sim.server import SimServer, start_sim_server

T = TypeVar("T")
PROBE_LABEL = "swarmtui.probe"


class ThreadedSim:
    def __init__(self, cluster: SimCluster, folder: Path) -> None:
        self.cluster = cluster
        self.socket = folder / "docker.sock"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: SimServer | None = None

    @property
    def target(self) -> EngineTarget:
        return EngineTarget(url=f"unix://{self.socket}", source="--demo",
                            display="simulated swarm (demo)")

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            start_sim_server(self.cluster, str(self.socket), realtime=False), self._loop
        ).result(10)

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def advance(self, seconds: float) -> None:
        self.call(self.cluster.advance, seconds)

    def probe_services(self) -> list[str]:
        return self.call(lambda: [s.name for s in self.cluster.services.values()
                                  if PROBE_LABEL in s.labels])

    def probes_created(self) -> int:
        """How many probe services were created so far (the sim's event log says)."""
        return self.call(lambda: sum(
            1 for e in self.cluster.events if e.get("Type") == "service"
            and e.get("Action") == "create"
            and str((e.get("Actor") or {}).get("Attributes", {}).get("name", ""))
            .startswith("swarmtui-probe-")))

    def wait_probe_created(self, count: int, timeout_s: float = 20) -> None:
        """Until ``count`` probe services were created so far (blocking: call it in a thread)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.probes_created() >= count:
                return
            time.sleep(0.02)
        raise AssertionError(f"fewer than {count} probe service(s) were created")


@contextmanager
def threaded_demo(scenario: str = "demo") -> Iterator[ThreadedSim]:
    """The demo swarm (fixed start, the history built), frozen, served from a thread."""
    folder = Path(tempfile.mkdtemp(prefix="swsimt"))
    sim = ThreadedSim(build(scenario), folder)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
        shutil.rmtree(folder, ignore_errors=True)
