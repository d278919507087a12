"""The engine's event feed (swarm and local scope), newest last, filtered by ``/``.

The store keeps the newest :data:`~swarmtui.model.events.EVENT_HISTORY` events and numbers
them as they arrive (``ClusterState.event_count``), so a new event appends one row and an
event the store let go removes the oldest one: the table is never rebuilt for new events,
only when the filter changes. Texts and filter are pure (:mod:`swarmtui.model.events`).
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from swarmtui.engine.live import BACKLOG_S
from swarmtui.model.events import (
    EVENT_COLUMNS,
    EVENT_HISTORY,
    EventFilter,
    event_cells,
    event_matches,
    event_node_id,
    first_seq,
    parse_event_filter,
)
from swarmtui.model.state import ClusterState
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen
from swarmtui.widgets.prompt import Prompt, prompt_focused


def no_events(backlog_s: float) -> str:
    """The feed starts with the engine's recent history (LiveSwarm reads ``backlog_s`` back),
    so an empty one means a quiet swarm, not a slow start: say so."""
    if backlog_s <= 0:
        return "No events yet. Events appear here as the swarm changes."
    minutes = backlog_s / 60
    span = f"{minutes:g} minutes" if minutes != 1 else "minute"
    return f"No events in the last {span}. Events appear here as the swarm changes."


NO_EVENTS = no_events(BACKLOG_S)
FILTER_HINT = (
    "filter events: type:service,node action:update node:NAME scope:swarm · "
    "words match names and IDs · ~REGEX"
)


def _cell(text: str) -> Text:
    # Text, not str: DataTable reads a str as markup, and names are data, not markup.
    return Text(text, no_wrap=True, end="")


class EventsScreen(SwarmScreen):
    SCREEN_NAME = "events"
    NEEDS_SWARM = False

    BINDINGS = [
        # Priority: the app opens the prompt before it routes the next key (see Prompt).
        Binding("slash", "filter", "Filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.filter = EventFilter()
        self._shown: deque[int] = deque()  # the numbers of the events in the table, in order
        self._upto = 0  # events numbered below this have been shown or filtered out
        self._info_text = ""
        self._no_events = no_events(runtime.live.backlog_s)

    def body(self) -> ComposeResult:
        yield Static("", id="events-info")
        yield Prompt(FILTER_HINT, verb="Apply", id="events-filter")
        yield Static(self._no_events, id="events-empty", classes="hint")
        table: DataTable[Text] = DataTable(id="events", cursor_type="row", zebra_stripes=True)
        table.add_columns(*EVENT_COLUMNS)
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()  # not the (hidden) prompt above it

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#events", DataTable)

    @property
    def filter_prompt(self) -> Prompt:
        return self.query_one("#events-filter", Prompt)

    # -- rows ------------------------------------------------------------------------------
    def show_state(self, state: ClusterState) -> None:
        table = self.table
        events = state.events
        first = first_seq(events, state.event_count)
        gone = sum(1 for seq in self._shown if seq < first)
        start = max(self._upto, first)
        if gone + (state.event_count - start) > max(len(events) // 2, 64) and self._shown:
            # A flood (or a long absence): one rebuild is cheaper than a remove per row.
            table.clear()
            self._shown.clear()
            start = first
            gone = 0
        cursor = self._cursor_seq()
        following = cursor is None or (bool(self._shown) and cursor == self._shown[-1])
        self_id = state.engine.swarm.node_id if state.engine is not None else ""
        with self.app.batch_update():
            for _ in range(gone):
                table.remove_row(str(self._shown.popleft()))
            for seq in range(start, state.event_count):
                event = events[seq - first]
                node_id = event_node_id(event, self_id)
                if event_matches(self.filter, event, node_id, state.nodes):
                    cells = event_cells(event, node_id, state.nodes)
                    table.add_row(*(_cell(c) for c in cells), key=str(seq))
                    self._shown.append(seq)
            self._upto = state.event_count
            if self._shown:
                if following:
                    table.move_cursor(row=table.row_count - 1)
                elif cursor is not None and cursor >= self._shown[0]:
                    index = table.get_row_index(str(cursor))
                    if index != table.cursor_row:
                        table.move_cursor(row=index)
        self._show_info(len(events))

    def _cursor_seq(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else int(key)

    def _show_info(self, kept: int) -> None:
        shown = len(self._shown)
        empty = self.query_one("#events-empty", Static)
        empty.display = not shown
        if not kept:
            empty.update(self._no_events)
        elif not shown:
            noun = "event" if kept == 1 else "events"
            empty.update(f"The filter hides {kept:,} {noun}. Esc clears it, / edits it.")
        info = [f"{kept:,} events (the newest {EVENT_HISTORY:,} are kept)"]
        if not self.filter.is_empty:
            info.append(f"filter [b]{Text(self.filter.to_text()).markup}[/b]")
            info.append(f"{shown:,} of {kept:,} shown")
        text = "  ·  ".join(info)
        if text != self._info_text:  # an update re-lays the screen out: only when it changed
            self._info_text = text
            self.query_one("#events-info", Static).update(text)

    # -- filter ----------------------------------------------------------------------------
    def set_filter(self, flt: EventFilter) -> None:
        if flt == self.filter:
            return
        self.filter = flt
        self.table.clear()
        self._shown.clear()
        self._upto = 0
        self.show_state(self.state)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the filter prompt is open, keys type into it: the view's keys are off.
        if prompt_focused(self):
            return False
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        """Open the filter prompt on the filter in force (typing narrows the table live)."""
        before = self.filter

        def accept(text: str) -> bool:
            try:
                self.set_filter(parse_event_filter(text))
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return False  # stays open to fix it
            return True

        self.filter_prompt.open(before.to_text(), accept=accept,
                                cancel=lambda: self.set_filter(before))

    def action_clear_filter(self) -> None:
        self.filter_prompt.close()
        self.set_filter(EventFilter())
        self.table.focus()

    def on_input_changed(self, event: Prompt.Changed) -> None:
        prompt = self.filter_prompt
        if event.input is prompt and prompt.is_open:
            # The prompt's value now, not the message's: a burst of keys may have moved on.
            try:
                self.set_filter(parse_event_filter(prompt.value))
            except ValueError:
                pass  # half-typed (``~(``): Enter says what is wrong
