"""What every screen shares: the status line on top, key hints below, state updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from swarmtui.model.state import ClusterState
from swarmtui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from swarmtui.app import SwarmApp

NEEDS_MANAGER = (
    "This engine is not a swarm manager, so swarm views are empty.\n"
    "Point swarmtui at a manager (--host / --context / DOCKER_HOST), or make this engine one "
    "with `docker swarm init`."
)


class SwarmScreen(Screen[None]):
    """Base screen. Subclasses compose ``body()`` and implement ``show_state``."""

    SCREEN_NAME: ClassVar[str] = ""
    NEEDS_SWARM: ClassVar[bool] = True

    @property
    def swarm_app(self) -> SwarmApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(self.SCREEN_NAME, id="status")
        yield Static(NEEDS_MANAGER, id="needs-manager", classes="notice")
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "state", self._state_changed, init=True)

    def on_screen_resume(self) -> None:
        self._state_changed(self.swarm_app.state)

    def _state_changed(self, state: ClusterState) -> None:
        if not self.is_current:
            return  # hidden screens catch up when they are shown again
        self.query_one("#status", StatusBar).refresh_text()
        notice = self.query_one("#needs-manager")
        notice.display = (
            self.NEEDS_SWARM and state.engine is not None and not state.is_swarm_manager
        )
        self.show_state(state)

    def show_state(self, state: ClusterState) -> None:
        """Render the snapshot. Called on every change while the screen is visible."""
