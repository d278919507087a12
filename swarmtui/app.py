"""The Textual application: the views' modes and keys, and the bridge from the live store.

Everything long-lived (live swarm, disks, logs, executor, clock) is the
:class:`~swarmtui.runtime.Runtime` handed in; the views come from a
:class:`~swarmtui.views.ViewRegistry`. The app keeps the reactive ``state`` the screens
follow and routes :class:`~swarmtui.messages.ViewRequest`\\s between views.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from swarmtui.messages import OpenLogs, ShowInGrid, StateChanged, ViewRequest
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.paths import stylesheets
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen
from swarmtui.views import ViewRegistry, default_views


class SwarmApp(App[None]):
    """swarmtui. Data flows one way: engine -> store -> ``state`` -> screens."""

    TITLE = "swarmtui"
    CSS_PATH = [str(p) for p in stylesheets()]
    BINDINGS = [
        Binding("question_mark", "toggle_help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    state: var[ClusterState] = var(EMPTY_STATE, always_update=True, init=False)
    """The latest snapshot from the store (identity-compared: a new object means a change).
    A ``var``, not a ``reactive``: a reactive on the App repaints the whole screen on every
    change (every row rewritten to the terminal); the screens' watchers repaint what changed."""

    def __init__(
        self,
        runtime: Runtime,
        views: ViewRegistry | None = None,
        *,
        start_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.views = default_views() if views is None else views
        self._start_mode = start_mode or next(iter(self.views)).name
        self.views.get(self._start_mode)  # an unknown view fails here, naming the choices
        for spec in self.views:
            self.add_mode(spec.name, partial(spec.factory, runtime))
            self.bind(spec.key, f"switch_mode('{spec.name}')", description=spec.name.title(),
                      show=False)
        self._unsubscribe: object = None

    def on_mount(self) -> None:
        live = self.runtime.live

        def changed(_: ClusterState) -> None:
            self.post_message(StateChanged())

        self._unsubscribe = live.store.subscribe(changed)
        self.state = live.store.state
        self.runtime.start()
        self.switch_mode(self._start_mode)

    async def on_unmount(self) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()
        await self.runtime.stop()

    def on_state_changed(self, _: StateChanged) -> None:
        with self.batch_update():
            self.state = self.runtime.live.store.state

    # -- requests between views ----------------------------------------------------------
    async def on_open_logs(self, request: OpenLogs) -> None:
        await self.show_view_request(request)

    async def on_show_in_grid(self, request: ShowInGrid) -> None:
        await self.show_view_request(request)

    async def show_view_request(self, request: ViewRequest) -> None:
        """Show the view the request is for, then hand it the request."""
        if request.VIEW not in self.views:
            return
        await self.switch_mode(request.VIEW)
        base = self.screen_stack[0]
        if isinstance(base, SwarmScreen):
            base.apply_request(request)

    # -- keys and palette ---------------------------------------------------------------
    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in self.views:
            yield SystemCommand(
                f"Go to {spec.name} ({spec.key})", spec.description,
                partial(self.switch_mode, spec.name)
            )
