"""The update history of the live swarm: every snapshot of the swarm store goes through
:meth:`UpdateHistory.observe`, so rolling updates are recorded whichever screen is shown (or
none), and the timeline screen and task details only read :attr:`UpdateRecorder.store`.

The first complete snapshot is also :meth:`~UpdateHistory.reconstruct`\\ ed: on start-up the
timeline shows what task history still holds of each service's last update.
"""

from __future__ import annotations

from collections.abc import Callable

from swarmtui.engine.store import Store, SwarmStore
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import UpdateHistory


class UpdateRecorder:
    """Follows one swarm store; publishes a new :class:`UpdateHistory` when it changes."""

    def __init__(self, swarm: SwarmStore, clock_ns: Callable[[], int]) -> None:
        self.clock_ns = clock_ns
        self.store: Store[UpdateHistory] = Store(UpdateHistory())
        self._reconstructed = False
        self._unsubscribe = swarm.subscribe(self._observe)
        self._observe(swarm.state)

    @property
    def history(self) -> UpdateHistory:
        return self.store.state

    def _observe(self, state: ClusterState) -> None:
        history = self.store.state
        now = self.clock_ns()
        if not self._reconstructed and state.has_full_state:
            self._reconstructed = True
            history = history.reconstruct(state, now)
        self.store.replace(history.observe(state, now))

    def close(self) -> None:
        self._unsubscribe()
