"""Messages that cross from the live engine layer into the UI."""

from __future__ import annotations

from textual.message import Message


class StateChanged(Message):
    """The store holds a newer snapshot. Adjacent ones collapse: only the newest matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StateChanged)
