"""Screen 7: stacks, as ``docker stack ls`` lists them, with their health; a stack's
services and tasks (``docker stack services / ps``) and what it uses; deploy and remove.

Enter shows the stack's tasks on the grid (``stack:NAME``); ``v`` the stack's detail (its
services, its tasks with their errors, its networks, secrets and configs). The networks,
secrets and configs are not in the snapshot: they are listed (GETs only) when the view is
shown and again after an engine event about one of them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.engine.stacks import list_stack_objects
from swarmtui.model.stacks import (
    NO_OBJECTS,
    STACK_COLUMNS,
    StackObjects,
    stack_detail_text,
    stack_names,
    stack_rows,
)
from swarmtui.model.state import ClusterState
from swarmtui.ops.base import Outcome
from swarmtui.ops.stack import Deployed, DeployStack, RemoveStack
from swarmtui.runtime import Runtime
from swarmtui.screens.base import operation_binding
from swarmtui.screens.table import TableScreen, TableSpec, columns

OBJECT_EVENTS = frozenset({"network", "secret", "config"})
DEFAULT_COMPOSE_FILE = "docker-compose.yml"


def _find_stack(state: ClusterState, key: str) -> str | None:
    return key if key in stack_names(state) else None


STACKS: TableSpec[str] = TableSpec(
    name="stacks",
    noun="stack",
    columns=columns(*STACK_COLUMNS),
    rows=stack_rows,
    find=_find_stack,
    grid_filter=lambda stack: {"stack": stack},  # the grid's stack:NAME
    event_types=frozenset({"service"}) | OBJECT_EVENTS,
)


def parse_deploy_input(text: str) -> tuple[str, str]:
    """``COMPOSE_FILE STACK`` (the stack name is the last word, so a path may have spaces);
    ValueError saying what is wanted."""
    parts = text.strip().rsplit(None, 1)
    if len(parts) != 2:
        raise ValueError("give the compose file and the stack name: FILE STACK")
    return parts[0], parts[1]


class StackDetailScreen(ModalScreen[None]):
    """``docker stack services`` and ``docker stack ps`` of one stack, and what it uses."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, runtime: Runtime, stack: str, objects: StackObjects) -> None:
        super().__init__()
        self.runtime = runtime
        self.stack = stack
        self.objects = objects

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stack-detail-box"):
            yield Static(Text(f"stack {self.stack}", style="bold"), id="stack-title")
            yield Static(id="stack-detail")
            yield Static("esc: close", classes="hint")

    def on_mount(self) -> None:
        self.watch(self.app, "state", self.render_detail, init=True)

    def render_detail(self, state: ClusterState) -> None:
        text = stack_detail_text(state, self.objects, self.stack, self.runtime.clock_ns())
        self.query_one("#stack-detail", Static).update(Text(text, no_wrap=True))


class StacksScreen(TableScreen[str]):
    SPEC = STACKS

    BINDINGS = [
        Binding("v", "detail", "Services & tasks"),
        replace(operation_binding("u", "deploy", "Deploy…"), priority=True),
        operation_binding("D", "remove", "Remove"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.objects: StackObjects = NO_OBJECTS
        self._objects_seen_ns = -1  # the newest network/secret/config event read for
        self._compose_files: dict[str, str] = {}  # stack -> the file it was last deployed from

    @property
    def spec(self) -> TableSpec[str]:
        # The rows and lookups include the listed networks, secrets and configs.
        objects = self.objects
        return replace(STACKS, rows=lambda state: stack_rows(state, objects),
                       find=lambda state, key: key if key in stack_names(state, objects)
                       else None)

    # -- networks, secrets, configs --------------------------------------------------------
    def on_screen_resume(self) -> None:
        self.load_objects()
        super().on_screen_resume()

    def show_state(self, state: ClusterState) -> None:
        newest = max((e.time_ns for e in state.events if e.type in OBJECT_EVENTS), default=0)
        # Read once the engine is known to be a manager, and again after an event about one.
        if self._objects_seen_ns < 0 or newest > self._objects_seen_ns:
            self.load_objects()
        super().show_state(state)

    def load_objects(self) -> None:
        if not self.state.is_swarm_manager:
            return
        self._objects_seen_ns = max(
            (e.time_ns for e in self.state.events if e.type in OBJECT_EVENTS), default=0)
        self._load_objects()

    @work(exclusive=True, group="stack-objects")
    async def _load_objects(self) -> None:
        try:
            objects = await list_stack_objects(self.runtime.live.client, partial=True)
        except EngineError as exc:
            self.notify(f"Stacks: networks, secrets and configs not read: {exc}",
                        severity="warning")
            return
        if objects != self.objects:
            self.objects = objects
            super().show_state(self.state)

    # -- keys ------------------------------------------------------------------------------
    def action_detail(self) -> None:
        """`v`: the stack's services, tasks (errors included) and objects."""
        stack = self.selected()
        if stack is not None:
            self.app.push_screen(StackDetailScreen(self.runtime, stack, self.objects))

    def action_remove(self) -> None:
        """`D`: remove the stack (every object listed first; the name is typed to confirm)."""
        stack = self.selected()
        if stack is not None:
            self.run_operation(RemoveStack(self.runtime.live.client, stack), verb="Remove")

    def action_deploy(self) -> None:
        """`u`: ask for ``COMPOSE_FILE STACK`` (the selected stack pre-filled), preview what
        the docker CLI will run, run it, then follow the rollout."""
        stack = self.table.cursor_key or ""
        value = f"{self._compose_files.get(stack, DEFAULT_COMPOSE_FILE)} {stack}".rstrip()
        live = self.runtime.live

        def accept(text: str) -> bool:
            try:
                compose_file, name = parse_deploy_input(text)
            except ValueError as exc:
                self.notify(f"Deploy: {exc}", severity="error")
                return False
            self._compose_files[name] = compose_file
            self.deploy(DeployStack(live.client, live.client.target, compose_file, name))
            return True

        self.prompt.open(value, hint="Deploy: COMPOSE_FILE STACK", verb="Preview",
                         accept=accept)

    def deploy(self, operation: DeployStack) -> None:
        self.run_operation(operation, verb="Deploy")

    def after_outcome(self, outcome: Outcome) -> None:
        """After a deploy that ran, follow its rollout: the updates timeline when the app
        has one, else the services."""
        if not outcome.ok or not isinstance(outcome.detail, Deployed):
            return
        views: Any = getattr(self.app, "views", ())
        self.app.switch_mode("updates" if "updates" in views else "services")
