"""Stores: the single owner of one live source's immutable snapshot.

:class:`Store` is generic (``Store[S]``): it holds the current snapshot, tells subscribers
when it is replaced, and compares by identity (a new object means a change). The swarm
store is ``Store[ClusterState]``, changed through ``dispatch`` (the reducer); other sources
(the disk fleet) build their next snapshot themselves and ``replace`` it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, overload

from swarmtui.model.actions import Action
from swarmtui.model.reducer import reduce
from swarmtui.model.state import EMPTY_STATE, ClusterState

S = TypeVar("S")


class Store(Generic[S]):
    """Holds one immutable snapshot; ``replace`` (or, for the swarm, ``dispatch``) is the
    only way to change it. ``Store()`` is the swarm's store, starting empty.

    Runs on the event loop thread only, so there are no locks.
    """

    @overload
    def __init__(self: Store[ClusterState]) -> None: ...

    @overload
    def __init__(self, state: S) -> None: ...

    def __init__(self, state: object = EMPTY_STATE) -> None:
        self.state: S = state  # type: ignore[assignment]
        self._listeners: list[Callable[[S], None]] = []

    def replace(self, new: S) -> S:
        """Publish ``new`` unless it is the current snapshot itself."""
        if new is not self.state:
            self.state = new
            for listener in tuple(self._listeners):
                listener(new)
        return new

    def dispatch(self: Store[ClusterState], action: Action) -> ClusterState:
        """The swarm store's one way in: the reducer makes the next snapshot."""
        return self.replace(reduce(self.state, action))

    def subscribe(self, listener: Callable[[S], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe


SwarmStore = Store[ClusterState]
