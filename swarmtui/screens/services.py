"""Screen 2: services with live replica counts and update status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from swarmtui.model.state import ClusterState
from swarmtui.screens.base import SwarmScreen

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


class ServicesScreen(SwarmScreen):
    SCREEN_NAME = "services"

    def body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="services", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table

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
