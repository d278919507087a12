"""What every screen shares: the status line on top, key hints below, state updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey  # not re-exported by textual.widgets (8.2)

from swarmtui.model.state import ClusterState
from swarmtui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from swarmtui.app import SwarmApp

NEEDS_MANAGER = (
    "This engine is not a swarm manager, so swarm views are empty.\n"
    "Point swarmtui at a manager (--host / --context / DOCKER_HOST), or make this engine one "
    "with `docker swarm init`."
)

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

    def compose(self) -> ComposeResult:
        pinned: list[Widget] = []
        palette: list[Widget] = []
        for widget in super().compose():
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
        yield KeyFooter()

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
