"""A task's details: identity, state, error, image, networks, timestamps, and its part in
its service's last rolling update."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.messages import OpenLogs
from swarmtui.model.details import task_details
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline_view import task_update_lines
from swarmtui.runtime import Runtime

TAIL_LINES = 10


class TaskDetailsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close"),
        Binding("l", "logs(True)", "Task logs"),
        Binding("L", "logs(False)", "Service logs"),
    ]

    def __init__(self, runtime: Runtime, task_id: str) -> None:
        super().__init__()
        self.runtime = runtime
        self.task_id = task_id
        self.state: ClusterState = runtime.live.store.state

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-box"):
            yield Static(id="details")
            yield Static(id="details-update")
            yield Static("Last log lines: loading…", id="log-tail")
            yield Static("esc: close · l: this task's logs · L: its service's logs", classes="hint")

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.render_details, init=True)
        self.run_worker(self._load_tail(), exclusive=True, group="task-log-tail")

    async def _load_tail(self) -> None:
        box = self.query_one("#log-tail", Static)
        try:
            lines = await self.runtime.task_log_tail(self.task_id, TAIL_LINES)
        except EngineError as exc:
            box.update(Text(f"Last log lines: not available ({exc})", style="dim"))
            return
        text = Text("Last log lines (l opens them in the log pane):\n", style="bold")
        for stream, line in lines:
            text.append(line + "\n", style="red" if stream == "stderr" else "")
        if not lines:
            text.append("(none yet)", style="dim")
        box.update(text)

    def render_details(self, state: ClusterState) -> None:
        self.state = state
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, value in task_details(state, self.task_id, self.runtime.clock_ns()):
            table.add_row(key, value)
        self.query_one("#details", Static).update(table)
        update = self._update_text(state)
        box = self.query_one("#details-update", Static)
        box.display = bool(update.plain)
        box.update(update)

    def _update_text(self, state: ClusterState) -> Text:
        """This task's row of its service's update timeline (the newest update it was in)."""
        task = state.tasks.get(self.task_id)
        box = Text()
        if task is None:
            return box
        names = {n.id: n.hostname or n.name for n in state.nodes.values()}
        now = self.runtime.clock_ns()
        for timeline in reversed(self.runtime.updates.history.of(task.service_id)):
            lines = task_update_lines(timeline, self.task_id, now, names)
            if lines:
                box.append("Rolling update (5 shows its timeline):\n", style="bold")
                box.append("\n".join(lines))
                break
        return box

    def action_logs(self, task_only: bool) -> None:
        """Open the logs screen on this task's service (only this task's lines if asked)."""
        task = self.state.tasks.get(self.task_id)
        if task is None:
            return
        self.dismiss()
        self.app.post_message(OpenLogs(task.service_id, task.id if task_only else None))
