"""Messages that cross from the live engine layer into the UI, and between views.

A :class:`ViewRequest` asks the app to show another view and hand it the request (the app
switches mode, then calls the view's ``apply_request``): screens never reach into each other
or patch attributes onto the app to pass one along.

May import: Textual's ``Message`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.message import Message


class StateChanged(Message):
    """The store holds a newer snapshot. Adjacent ones collapse: only the newest matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StateChanged)


class ViewRequest(Message):
    """Show the view named :attr:`VIEW` and let it apply this request."""

    VIEW: ClassVar[str] = ""


class OpenLogs(ViewRequest):
    """The logs of one service (and only one task's lines when ``task_id`` is given)."""

    VIEW = "logs"

    def __init__(self, service_id: str, task_id: str | None = None) -> None:
        super().__init__()
        self.service_id = service_id
        self.task_id = task_id


class ShowInGrid(ViewRequest):
    """The grid narrowed by ``filters`` (GridOptions fields, e.g. ``service=NAME``)."""

    VIEW = "grid"

    def __init__(self, filters: Mapping[str, object]) -> None:
        super().__init__()
        self.filters = dict(filters)
