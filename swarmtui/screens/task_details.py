"""A task's details: identity, state, error, image, networks, timestamps."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.model.details import task_details

TAIL_LINES = 10


class TaskDetailsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close"),
        Binding("l", "logs(True)", "Task logs"),
        Binding("L", "logs(False)", "Service logs"),
    ]

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-box"):
            yield Static(id="details")
            yield Static("Last log lines: loading…", id="log-tail")
            yield Static("esc: close · l: this task's logs · L: its service's logs", classes="hint")

    def on_mount(self) -> None:
        self.watch(self.app, "state", lambda _: self.render_details(), init=True)
        self.run_worker(self._load_tail(), exclusive=True, group="task-log-tail")

    async def _load_tail(self) -> None:
        box = self.query_one("#log-tail", Static)
        try:
            lines = await self.app.task_log_tail(self.task_id, TAIL_LINES)  # type: ignore[attr-defined]
        except EngineError as exc:
            box.update(Text(f"Last log lines: not available ({exc})", style="dim"))
            return
        text = Text("Last log lines (l opens them in the log pane):\n", style="bold")
        for stream, line in lines:
            text.append(line + "\n", style="red" if stream == "stderr" else "")
        if not lines:
            text.append("(none yet)", style="dim")
        box.update(text)

    def render_details(self) -> None:
        app = self.app
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, value in task_details(app.state, self.task_id, app.clock_ns()):  # type: ignore[attr-defined]
            table.add_row(key, value)
        self.query_one("#details", Static).update(table)

    def action_logs(self, task_only: bool) -> None:
        """Open the logs screen on this task's service (only this task's lines if asked)."""
        from swarmtui.screens.logs import open_logs

        task = self.app.state.tasks.get(self.task_id)  # type: ignore[attr-defined]
        if task is None:
            return
        self.dismiss()
        open_logs(self.app, task.service_id, task.id if task_only else None)
