"""The single owner of the current :class:`ClusterState`."""

from __future__ import annotations

from collections.abc import Callable

from swarmtui.model.actions import Action
from swarmtui.model.reducer import reduce
from swarmtui.model.state import EMPTY_STATE, ClusterState

Listener = Callable[[ClusterState], None]


class Store:
    """Holds one immutable snapshot; ``dispatch`` is the only way to replace it.

    Runs on the event loop thread only, so there are no locks.
    """

    def __init__(self, state: ClusterState = EMPTY_STATE) -> None:
        self.state = state
        self._listeners: list[Listener] = []

    def dispatch(self, action: Action) -> ClusterState:
        new = reduce(self.state, action)
        if new is not self.state:
            self.state = new
            for listener in tuple(self._listeners):
                listener(new)
        return new

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe
