"""Which services the header counts as failing, steady across a crash loop's restarts:
every snapshot of the swarm store goes through :meth:`FailingWatch.observe` (model code),
whichever screen is shown, so a failed task seen once is remembered while no header looks.
"""

from __future__ import annotations

from collections.abc import Callable

from swarmtui.engine.store import SwarmStore
from swarmtui.model.selectors import FailingWatch
from swarmtui.model.state import ClusterState


class FailingRecorder:
    """Follows one swarm store and keeps the newest :class:`FailingWatch`."""

    def __init__(self, swarm: SwarmStore, clock_ns: Callable[[], int]) -> None:
        self.clock_ns = clock_ns
        self.watch = FailingWatch()
        # Subscribed when the runtime is built, before the app: a snapshot is observed here
        # before any screen draws it.
        self._unsubscribe = swarm.subscribe(self._observe)
        self._observe(swarm.state)

    def _observe(self, state: ClusterState) -> None:
        self.watch = self.watch.observe(state, self.clock_ns())

    def failing(self) -> tuple[str, ...]:
        """The services failing as of the newest snapshot and now."""
        return self.watch.failing(self.clock_ns())

    def close(self) -> None:
        self._unsubscribe()
