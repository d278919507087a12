"""A task's details: identity, state, error, image, networks, timestamps."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.model.details import task_details


class TaskDetailsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-box"):
            yield Static(id="details")
            yield Static("esc: close", classes="hint")

    def on_mount(self) -> None:
        self.watch(self.app, "state", lambda _: self.render_details(), init=True)

    def render_details(self) -> None:
        app = self.app
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, value in task_details(app.state, self.task_id, app.clock_ns()):  # type: ignore[attr-defined]
            table.add_row(key, value)
        self.query_one("#details", Static).update(table)
