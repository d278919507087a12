"""Screen 2: services with live replica counts and update status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.binding import Binding

from swarmtui.model.imageref import image_ref_problem
from swarmtui.model.servicespec import (
    parse_replicas,
    parse_update_config,
    scale_refusal,
    update_config_text,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.tables import SERVICE_COLUMNS, service_rows
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
from swarmtui.screens.base import operation_binding
from swarmtui.screens.logs import open_logs
from swarmtui.screens.table import TableScreen, TableSpec, columns


def _find_service(state: ClusterState, key: str) -> Service | None:
    return state.services.get(key)


SERVICES: TableSpec[Service] = TableSpec(
    name="services",
    noun="service",
    columns=columns(*SERVICE_COLUMNS),
    rows=service_rows,
    find=_find_service,
    # Enter: its tasks, on the grid narrowed to it (like docker service ps).
    grid_filter=lambda svc: {"service": svc.name},
    event_types=frozenset({"service"}),
)


class ServicesScreen(TableScreen[Service]):
    SPEC = SERVICES

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

        self.prompt.open(value, hint=hint, verb=verb, accept=accept)

    def action_scale(self) -> None:
        """`s`: ask for the replica count (the current one pre-filled), then preview."""
        svc = self.selected()
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
        svc = self.selected()
        if svc is None:
            return
        client = self.service_client()
        self._ask(svc, f"Image for {svc.name}", svc.image.split("@")[0], "Update",
                  lambda text: _image_update(client, svc.id, text))

    def action_update_config(self) -> None:
        """`u`: ask for the update config (the one in force pre-filled), then preview."""
        svc = self.selected()
        if svc is None:
            return
        client = self.service_client()
        self._ask(svc, f"Update config of {svc.name}", update_config_text(svc.update_config),
                  "Apply", lambda text: UpdateConfig(client, svc.id, parse_update_config(text)))

    def action_force_update(self) -> None:
        """`F`: redeploy every task (docker service update --force)."""
        svc = self.selected()
        if svc is not None:
            self.run_operation(ForceUpdate(self.service_client(), svc.id), verb="Redeploy")

    def action_rollback(self) -> None:
        """`R`: back to the previous spec (docker service rollback)."""
        svc = self.selected()
        if svc is not None:
            self.run_operation(RollbackService(self.service_client(), svc.id), verb="Roll back")

    def action_remove(self) -> None:
        """`D`: remove the service and its tasks (the name is typed to confirm)."""
        svc = self.selected()
        if svc is not None:
            self.run_operation(RemoveService(self.service_client(), svc.id), verb="Remove")

    def action_logs(self) -> None:
        """`l`: the selected service's logs in the log pane."""
        svc = self.selected()
        if svc is not None:
            open_logs(self.app, svc.id)

def _image_update(client: ServiceClient, service_id: str, text: str) -> UpdateImage:
    """The image operation, refusing a reference the engine would not take (ValueError)."""
    problem = image_ref_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return UpdateImage(client, service_id, text)
