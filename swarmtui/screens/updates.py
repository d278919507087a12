"""Screen 5: rolling updates as timelines (slots left to right in time, batches, why it
stopped), with "roll back", "update again" (resume, or on to the spec rolled back from) and
"redeploy" (a forced update) offered for an update that stopped.

It reads :attr:`Runtime.updates` (recorded from every snapshot, shown or not) and only
renders; the one thing it asks of the engine on its own is the last log lines of a task an
update stopped because of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding

from swarmtui.engine.client import EngineError
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import UpdateTimeline
from swarmtui.model.timeline_view import ordered_updates, reapplicable, stoppable
from swarmtui.ops.service import ForceUpdate, ReapplyUpdate, RollbackService, ServiceClient
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen, operation_binding
from swarmtui.widgets.update_timeline import UpdateTimelineView

TAIL_LINES = 3


class UpdatesScreen(SwarmScreen):
    SCREEN_NAME = "updates"

    BINDINGS = [
        Binding("down,j", "select(1)", "Next", show=False),
        Binding("up,k", "select(-1)", "Previous", show=False),
        operation_binding("R", "rollback", "Roll back"),
        operation_binding("U", "update_again", "Update again"),
        operation_binding("F", "redeploy", "Redeploy"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.selected: str | None = None
        self.log_tails: Mapping[str, Sequence[str]] = {}
        self._asked_tails: set[str] = set()
        self._names: Mapping[str, str] = {}
        self._names_of: object = None

    def body(self) -> ComposeResult:
        yield UpdateTimelineView(id="timeline")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(UpdateTimelineView).focus()
        self.set_interval(1.0, self._tick)  # the phase clock, while an update is in flight

    # -- rendering ------------------------------------------------------------------------
    def _node_names(self, state: ClusterState) -> Mapping[str, str]:
        if state.nodes is not self._names_of:
            self._names_of = state.nodes
            self._names = {n.id: n.hostname or n.name for n in state.nodes.values()}
        return self._names

    def timelines(self) -> list[UpdateTimeline]:
        """The latest timeline of each service, in the order shown."""
        return [latest for latest, _ in ordered_updates(self.runtime.updates.history)]

    def show_state(self, state: ClusterState) -> None:
        shown = self.timelines()
        ids = [t.service_id for t in shown]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        view = self.query_one(UpdateTimelineView)
        view.show(self.runtime.updates.history, self.runtime.clock_ns(),
                  self._node_names(state), self.selected, self.log_tails)
        for t in shown:
            cause = t.stopped_because
            if cause is not None and cause.found and cause.task_id not in self._asked_tails:
                self._asked_tails.add(cause.task_id)
                self.run_worker(self._load_tail(cause.task_id), group="update-log-tail")

    def _tick(self) -> None:
        view = self.query_one(UpdateTimelineView)
        if self.is_current and view.ticking:
            self.show_state(self.state)

    async def _load_tail(self, task_id: str) -> None:
        try:
            lines = await self.runtime.task_log_tail(task_id, TAIL_LINES)
        except EngineError as exc:
            shown = [f"(last log lines not available: {exc})"]
        else:
            shown = [line for _, line in lines] or ["(no log lines)"]
        self.log_tails = {**self.log_tails, task_id: tuple(shown)}
        if self.is_current:
            self.show_state(self.state)

    # -- selection ------------------------------------------------------------------------
    def action_select(self, step: int) -> None:
        ids = [t.service_id for t in self.timelines()]
        if not ids:
            return
        at = ids.index(self.selected) if self.selected in ids else 0
        self.selected = ids[max(0, min(len(ids) - 1, at + step))]
        self.show_state(self.state)
        self.query_one(UpdateTimelineView).scroll_to_service(self.selected)

    def selected_timeline(self) -> UpdateTimeline | None:
        """The selected update, or None after saying why there is none."""
        for t in self.timelines():
            if t.service_id == self.selected:
                if t.service_id not in self.state.services:
                    self.notify(f"{t.service_name}: the service is gone.", severity="warning")
                    return None
                return t
        self.notify("No update to act on: none has been seen yet.", severity="warning")
        return None

    # -- operations (previewed, confirmed, refused in read-only) ---------------------------
    def service_client(self) -> ServiceClient:
        return self.runtime.live.client

    def action_rollback(self) -> None:
        """`R`: back to the spec before the update (docker service rollback)."""
        t = self.selected_timeline()
        if t is None:
            return
        if t.kind == "rollback":
            self.notify(f"{t.service_name}: this is a rollback already; U updates again.",
                        severity="warning")
            return
        if not (stoppable(t) or t.in_progress):
            self.notify(f"{t.service_name}: the update is {t.outcome}; R here rolls back a "
                        "paused, failed or running update (the services view rolls back any "
                        "service).", severity="warning")
            return
        self.run_operation(RollbackService(self.service_client(), t.service_id),
                           verb="Roll back")

    def action_update_again(self) -> None:
        """`U`: on to the spec the stopped update was moving to: a paused update resumes, a
        rolled-back one is sent again (ReapplyUpdate says what the engine allows)."""
        t = self.selected_timeline()
        if t is None:
            return
        if not reapplicable(t):
            hint = " (F redeploys: replaces every task)" if stoppable(t) else ""
            self.notify(f"{t.service_name}: the {t.kind} is {t.outcome}; U goes on with an "
                        f"update that paused or was rolled back{hint}.", severity="warning")
            return
        # The image the update moved to: what is left of it after an automatic rollback.
        image = t.image_from if t.kind == "rollback" else t.image_to
        self.run_operation(ReapplyUpdate(self.service_client(), t.service_id, image),
                           verb="Update again")

    def action_redeploy(self) -> None:
        """`F`: a forced update of the selected service: every task is replaced with the spec
        the engine holds (docker service update --force)."""
        t = self.selected_timeline()
        if t is None:
            return
        self.run_operation(ForceUpdate(self.service_client(), t.service_id), verb="Redeploy")
