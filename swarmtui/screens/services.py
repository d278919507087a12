"""Screen 2: services with live replica counts and update status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from swarmtui.model.imageref import image_ref_problem
from swarmtui.model.servicespec import (
    parse_replicas,
    parse_update_config,
    scale_refusal,
    update_config_text,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.types import Service
from swarmtui.ops.base import Operation
from swarmtui.ops.service import (
    ForceUpdate,
    RemoveService,
    RollbackService,
    ScaleService,
    ServiceClient,
    UpdateConfig,
    UpdateImage,
)
from swarmtui.screens.base import SwarmScreen, operation_binding
from swarmtui.screens.grid import show_in_grid
from swarmtui.screens.logs import open_logs
from swarmtui.widgets.prompt import Prompt, prompt_focused

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

    BINDINGS = [
        Binding("l", "logs", "Logs"),
        # Keys that open a prompt have priority: the app opens it before it routes the next key.
        replace(operation_binding("s", "scale", "Scale…"), priority=True),
        replace(operation_binding("i", "image", "Image…"), priority=True),
        operation_binding("F", "force_update", "Force update"),
        operation_binding("R", "rollback", "Rollback"),
        operation_binding("D", "remove", "Remove"),
        replace(operation_binding("u", "update_config", "Update config…"), priority=True),
    ]

    def body(self) -> ComposeResult:
        table = ServicesTable(id="services", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield Prompt(id="services-prompt")
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#services", DataTable).focus()  # not the (hidden) prompt above it

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

    def _selected_service(self) -> Service | None:
        sid = self._selected_service_id()
        return None if sid is None else self.state.services[sid]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the prompt is open, keys type into it: the screen's keys are off (and out of
        # the footer, which shows the prompt's Enter/Esc instead).
        if prompt_focused(self):
            return False
        return super().check_action(action, parameters)

    # -- service actions (operations: previewed, confirmed, refused in read-only) ---------
    def service_client(self) -> ServiceClient:
        return self.runtime.live.client

    def _ask(self, svc: Service, hint: str, value: str, verb: str,
             make: Callable[[str], Operation[Any]]) -> None:
        """Open the prompt on ``value``; Enter builds the operation from the text and runs it.
        Bad input is said in one line and the prompt stays open to fix it."""

        def accept(text: str) -> bool:
            try:
                operation = make(text)
            except ValueError as exc:
                self.notify(f"{svc.name}: {exc}", severity="error")
                return False
            self.run_operation(operation, verb=verb)
            return True

        self.query_one("#services-prompt", Prompt).open(value, hint=hint, verb=verb,
                                                        accept=accept)

    def action_scale(self) -> None:
        """`s`: ask for the replica count (the current one pre-filled), then preview."""
        svc = self._selected_service()
        if svc is None:
            return
        refusal = scale_refusal(svc.mode, svc.name)
        if refusal is not None:
            self.notify(refusal[0].upper() + refusal[1:] + ".", severity="warning")
            return
        client = self.service_client()
        self._ask(svc, f"Scale {svc.name} to (replicas)", str(svc.replicas or 0), "Scale",
                  lambda text: ScaleService(client, svc.id, parse_replicas(text)))

    def action_image(self) -> None:
        """`i`: ask for the image reference (the current one pre-filled), then preview."""
        svc = self._selected_service()
        if svc is None:
            return
        client = self.service_client()
        self._ask(svc, f"Image for {svc.name}", svc.image.split("@")[0], "Update",
                  lambda text: _image_update(client, svc.id, text))

    def action_update_config(self) -> None:
        """`u`: ask for the update config (the one in force pre-filled), then preview."""
        svc = self._selected_service()
        if svc is None:
            return
        client = self.service_client()
        self._ask(svc, f"Update config of {svc.name}", update_config_text(svc.update_config),
                  "Apply", lambda text: UpdateConfig(client, svc.id, parse_update_config(text)))

    def action_force_update(self) -> None:
        """`F`: redeploy every task (docker service update --force)."""
        svc = self._selected_service()
        if svc is not None:
            self.run_operation(ForceUpdate(self.service_client(), svc.id), verb="Redeploy")

    def action_rollback(self) -> None:
        """`R`: back to the previous spec (docker service rollback)."""
        svc = self._selected_service()
        if svc is not None:
            self.run_operation(RollbackService(self.service_client(), svc.id), verb="Roll back")

    def action_remove(self) -> None:
        """`D`: remove the service and its tasks (the name is typed to confirm)."""
        svc = self._selected_service()
        if svc is not None:
            self.run_operation(RemoveService(self.service_client(), svc.id), verb="Remove")

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


def _image_update(client: ServiceClient, service_id: str, text: str) -> UpdateImage:
    """The image operation, refusing a reference the engine would not take (ValueError)."""
    problem = image_ref_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return UpdateImage(client, service_id, text)
