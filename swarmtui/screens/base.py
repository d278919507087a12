"""What every screen shares: the status line on top, key hints below, state updates."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey  # not re-exported by textual.widgets (8.2)

from swarmtui.engine.client import EngineError
from swarmtui.messages import ViewRequest
from swarmtui.model.state import ClusterState
from swarmtui.ops.base import Operation, Outcome
from swarmtui.runtime import Runtime
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.widgets.status_bar import StatusBar

NEEDS_MANAGER = (
    "This engine is not a swarm manager, so swarm views are empty.\n"
    "Point swarmtui at a manager (--host / --context / DOCKER_HOST), or make this engine one "
    "with `docker swarm init`."
)

# Bindings whose id starts so are operations: hidden and refused in read-only mode.
OPERATION_ID = "operation:"


def operation_binding(key: str, action: str, description: str, *, show: bool = True) -> Binding:
    """A key that starts an operation (a change to an engine). Declared this way, the base
    screen hides it and answers its key with a refusal in read-only mode: a screen needs no
    code of its own for that."""
    return Binding(key, action, description, show=show, id=f"{OPERATION_ID}{action}")


def _action_name(action: str) -> str:
    return action.split("(", 1)[0].strip()


# Actions whose keys the footer keeps in view at any width: how to get help and how to leave.
PINNED_ACTIONS = ("toggle_help", "quit")


class KeyFooter(Footer):
    """A Footer that keeps ``? Keys``, ``q Quit`` and the palette key docked on the right, so
    a narrow terminal cuts the screen's own keys (still listed by ``?``) before those."""

    DEFAULT_CSS = """
    KeyFooter > .pinned-keys {
        dock: right;
        width: auto;
        height: 1;
        border-left: vkey $foreground 20%;
        background: $footer-background;
        & > FooterKey.-command-palette { dock: none; border-left: none; margin-left: 1; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: object = None  # what the keys were composed from (see _keys_shown)

    def _keys_shown(self) -> object:
        """Everything the composed keys depend on: the shown bindings with their enabled
        state and tooltip, and whether this is a wall."""
        if not self._bindings_ready:
            return None
        return (
            getattr(self.app, "kiosk", None) is not None,
            self.show_command_palette,
            tuple(
                (binding.key, binding.action, binding.description, binding.show, enabled,
                 tooltip)
                for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            ),
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        # Textual recomposes the footer whenever the screen's bindings *may* have changed,
        # which includes every time its screen is shown again: ~20 ms of widgets rebuilt per
        # view switch for the same keys. Recompose only when what it shows changed.
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and self._keys_shown() != self._shown:
            self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        self._shown = self._keys_shown()
        pinned: list[Widget] = []
        palette: list[Widget] = []
        wall = getattr(self.app, "kiosk", None) is not None  # a wall takes only q and ?
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # Born with the footer's compactness, which Textual data-binds to each key
                # but the palette's: the binding otherwise flips the key's -compact class on
                # mount, a style update each (the footer is composed several times at
                # startup: 63 style updates on the first frame, 7 now; ~30 ms).
                widget.set_reactive(FooterKey.compact, self.compact)
            if wall and not (isinstance(widget, FooterKey) and widget.action in PINNED_ACTIONS):
                continue
            if isinstance(widget, FooterKey) and widget.has_class("-command-palette"):
                palette.append(widget)
            elif isinstance(widget, FooterKey) and widget.action in PINNED_ACTIONS:
                pinned.append(widget)
            else:
                yield widget
        if pinned or palette:
            yield HorizontalGroup(*pinned, *palette, classes="pinned-keys")

    async def recompose(self) -> None:
        await super().recompose()
        self._fit_keys()

    def on_resize(self) -> None:
        self._fit_keys()

    def _fit_keys(self) -> None:
        """Show the screen's keys that fit whole beside the pinned ones; hide the rest rather
        than cut one in half ("s By")."""
        size, viewport = self.size, self.app.size

        def width(widget: Widget) -> int:
            gutter = widget.styles.gutter.width + widget.styles.margin.width
            return widget.get_content_width(size, viewport) + gutter

        room = size.width
        for group in self.query_children(".pinned-keys"):
            room -= group.styles.gutter.width + sum(width(k) for k in group.children)
        used = 0
        for key in self.query_children(FooterKey):
            used += width(key)
            key.display = used <= room


class SwarmScreen(Screen[None]):
    """Base screen. Subclasses compose ``body()`` and implement ``show_state``.

    It is given the :class:`~swarmtui.runtime.Runtime` (live swarm, disks, logs, executor,
    clock) and follows the app's ``state`` (the newest snapshot, kept in :attr:`state`)."""

    SCREEN_NAME: ClassVar[str] = ""
    NEEDS_SWARM: ClassVar[bool] = True

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.state: ClusterState = runtime.live.store.state
        """The newest snapshot this screen was given (the app's ``state``)."""

    def compose(self) -> ComposeResult:
        status = StatusBar(self.SCREEN_NAME, read_only=self.runtime.executor.read_only,
                           clock_ns=self.runtime.clock_ns, failing=self.runtime.failing.failing,
                           id="status")
        status.state = self.state
        yield status
        yield Static(NEEDS_MANAGER, id="needs-manager", classes="notice")
        yield from self.body()
        yield KeyFooter()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "state", self._state_changed, init=True)

    def on_screen_resume(self) -> None:
        self._state_changed(self.state)

    def _state_changed(self, state: ClusterState) -> None:
        self.state = state
        if not self.is_current:
            return  # hidden screens catch up when they are shown again
        self.query_one("#status", StatusBar).show(state)
        notice = self.query_one("#needs-manager")
        notice.display = (
            self.NEEDS_SWARM and state.engine is not None and not state.is_swarm_manager
        )
        self.show_state(state)

    def show_state(self, state: ClusterState) -> None:
        """Render the snapshot. Called on every change while the screen is visible."""

    def apply_request(self, request: ViewRequest) -> None:
        """Another view asked for something here (the app has just shown this screen)."""

    # -- operations -----------------------------------------------------------------------
    def operation_bindings(self) -> dict[str, Binding]:
        """This screen's operation bindings by action name."""
        return {
            _action_name(b.action): b
            for bindings in self._bindings.key_to_bindings.values()
            for b in bindings
            if (b.id or "").startswith(OPERATION_ID)
        }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Operations are hidden (and their keys refused, see on_key) in read-only mode.
        return self.runtime.executor.can_execute or action not in self.operation_bindings()

    def on_key(self, event: events.Key) -> None:
        """In read-only mode an operation's key says why nothing happens."""
        if self.runtime.executor.can_execute:
            return
        for binding in self.operation_bindings().values():
            if binding.key == event.key:
                event.stop()
                what = binding.description or _action_name(binding.action)
                self.notify(f"Read-only mode: {what} is disabled.", severity="warning")
                return

    def operation_busy(self, text: str | None) -> None:
        """Say that an operation is being previewed or carried out (``None``: done)."""

    @work(exclusive=True, group="operation")
    async def run_operation(self, operation: Operation[Any], *, verb: str = "Confirm") -> None:
        """Preview -> confirm -> execute -> outcome. Cancel changes nothing; a plan whose
        objects changed meanwhile is read again and shown again before anything is done."""
        next_step: tuple[Operation[Any], str] | None = (operation, verb)
        while next_step is not None:
            operation, verb = next_step
            outcome = await self._run_one(operation, verb)
            next_step = None if outcome is None else self.after_outcome(outcome)

    def after_outcome(self, outcome: Outcome) -> tuple[Operation[Any], str] | None:
        """The one hook after an operation: ``outcome`` was shown and closed (not called when
        the preview failed or the user cancelled). A screen may act on the result (apply a
        probe's answers, move to the view that follows a deploy) and may return another
        operation with its verb, offered as a separate step with its own preview and
        confirmation (a rotation offers removing the old secret); None ends the flow."""
        return None

    async def _run_one(self, operation: Operation[Any], verb: str) -> Outcome | None:
        executor = self.runtime.executor
        while True:
            self.operation_busy("preparing the preview…")
            try:
                plan = await executor.plan(operation)
            except EngineError as exc:
                self.notify(f"No preview: {exc}", severity="error")
                return None
            finally:
                self.operation_busy(None)
            confirmed = await self.app.push_screen_wait(
                ConfirmOperationScreen(plan.preview, can_execute=executor.can_execute, verb=verb)
            )
            if not confirmed:
                self.notify(f"{plan.preview.title}: cancelled, nothing was changed.")
                return None
            self.operation_busy("working…")
            try:
                outcome: Outcome = await executor.execute(plan)
            finally:
                self.operation_busy(None)
            if not outcome.stale:
                break
            self.notify(f"{outcome.refused or 'changed meanwhile'}: here is a new preview.",
                        severity="warning")
        await self.app.push_screen_wait(OutcomeScreen(outcome))
        return outcome
