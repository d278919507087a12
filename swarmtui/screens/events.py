"""The engine's event feed (swarm and local scope), newest last."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from swarmtui.engine.live import BACKLOG_S
from swarmtui.model.state import ClusterState
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen

# The feed starts with the engine's recent history (LiveSwarm reads BACKLOG_S back), so an
# empty one means a quiet swarm, not a slow start: say so.
NO_EVENTS = (
    f"No events in the last {BACKLOG_S // 60} minutes. Events appear here as the swarm changes."
)


class EventsScreen(SwarmScreen):
    SCREEN_NAME = "events"
    NEEDS_SWARM = False

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._shown = 0
        self._last: object = None

    def body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="events", cursor_type="row")
        table.add_columns("TIME", "SCOPE", "TYPE", "ACTION", "NAME", "DETAILS")
        yield Static(NO_EVENTS, id="events-empty", classes="hint")
        yield table

    def show_state(self, state: ClusterState) -> None:
        table = self.query_one("#events", DataTable)
        events = state.events
        self.query_one("#events-empty").display = not events
        new = events
        if self._last is not None and self._last in events:
            new = events[events.index(self._last) + 1 :]
        else:
            table.clear()
        for ev in new:
            details = " ".join(
                f"{k}={v}"
                for k, v in ev.attributes
                if k.endswith((".old", ".new")) or k == "reclaimed"
            )
            stamp = datetime.fromtimestamp(ev.time_ns / 1e9, tz=UTC).strftime("%H:%M:%S")
            table.add_row(stamp, ev.scope, ev.type, ev.action, ev.name, details)
        if events:
            self._last = events[-1]
        if new and table.row_count:
            table.move_cursor(row=table.row_count - 1)
