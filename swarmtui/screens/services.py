"""Screen 2: services with live replica counts and update status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from swarmtui.model.state import ClusterState
from swarmtui.screens.base import SwarmScreen
from swarmtui.screens.grid import show_in_grid
from swarmtui.screens.logs import open_logs

COLUMNS = ("NAME", "MODE", "REPLICAS", "IMAGE", "STACK", "UPDATE", "PORTS")


def service_rows(state: ClusterState) -> list[tuple[str, tuple[str, ...]]]:
    rows: list[tuple[str, tuple[str, ...]]] = []
    for svc in sorted(state.services.values(), key=lambda s: s.name):
        update = svc.update_status.state if svc.update_status else "-"
        ports = (
            ", ".join(f"*:{p.published}->{p.target}/{p.protocol}" for p in svc.ports if p.published)
            or "-"
        )
        rows.append(
            (
                svc.id,
                (
                    svc.name,
                    svc.mode,
                    svc.replicas_text,
                    svc.image.split("@")[0],
                    svc.stack or "-",
                    update,
                    ports,
                ),
            )
        )
    return rows


class ServicesTable(DataTable[str]):
    """The services list; Enter (shown in the footer) opens the selected service's tasks."""

    BINDINGS = [Binding("enter", "select_cursor", "Tasks")]


class ServicesScreen(SwarmScreen):
    SCREEN_NAME = "services"

    BINDINGS = [Binding("l", "logs", "Logs")]

    def body(self) -> ComposeResult:
        table = ServicesTable(id="services", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table

    def _selected_service_id(self) -> str | None:
        table = self.query_one("#services", DataTable)
        if not table.row_count:
            self.notify("No services to choose from.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key not in self.state.services:
            self.notify("That service is gone.", severity="warning")
            return None
        return key

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a service: its tasks, on the grid narrowed to it (like docker service ps)."""
        event.stop()
        sid = self._selected_service_id()
        if sid is not None:
            show_in_grid(self.app, service=self.state.services[sid].name)

    def action_logs(self) -> None:
        """`l`: the selected service's logs in the log pane."""
        sid = self._selected_service_id()
        if sid is not None:
            open_logs(self.app, sid)

    def show_state(self, state: ClusterState) -> None:
        table = self.query_one("#services", DataTable)
        rows = service_rows(state)
        with self.app.batch_update():
            wanted = [key for key, _ in rows]
            existing = [str(k.value) for k in table.rows]
            if existing != wanted:
                table.clear()
                for key, values in rows:
                    table.add_row(*values, key=key)
                return
            for key, values in rows:
                current = table.get_row(key)
                for col, (old, new) in enumerate(zip(current, values, strict=True)):
                    if old != new:
                        table.update_cell_at(Coordinate(table.get_row_index(key), col), new)
