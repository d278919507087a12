"""The Textual application: screens, key bindings, and the bridge from the live store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from swarmtui.engine.disk import DiskFleet
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.logs import LogSession, task_log_tail
from swarmtui.messages import StateChanged
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.ops.executor import Executor
from swarmtui.paths import stylesheets
from swarmtui.screens.disk import DiskScreen
from swarmtui.screens.events import EventsScreen
from swarmtui.screens.grid import GridScreen
from swarmtui.screens.logs import LogsScreen
from swarmtui.screens.services import ServicesScreen

# name -> (key, screen class, description). The order is the order of the number keys.
SCREENS: dict[str, tuple[str, type[Screen[None]], str]] = {
    "grid": ("1", GridScreen, "Nodes and their tasks, live"),
    "services": ("2", ServicesScreen, "Services with replica counts and update status"),
    "logs": ("3", LogsScreen, "Merged live logs"),
    "disk": ("4", DiskScreen, "Disk usage and prune per engine"),
    "events": ("9", EventsScreen, "The engine's event feed"),
}


class SwarmApp(App[None]):
    """swarmtui. Data flows one way: engine -> store -> ``state`` -> screens."""

    TITLE = "swarmtui"
    CSS_PATH = [str(p) for p in stylesheets()]
    MODES = {name: cls for name, (_, cls, _) in SCREENS.items()}
    DEFAULT_MODE = "grid"
    BINDINGS = [
        *(
            Binding(key, f"switch_mode('{name}')", name.title(), show=False)
            for name, (key, _, _) in SCREENS.items()
        ),
        Binding("question_mark", "toggle_help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    state: reactive[ClusterState] = reactive(EMPTY_STATE, always_update=True, init=False)
    """The latest snapshot from the store (identity-compared: a new object means a change)."""

    def __init__(
        self,
        live: LiveSwarm,
        *,
        read_only: bool = False,
        start_mode: str = "grid",
        clock_ns: Callable[[], int] = time.time_ns,
        disk: DiskFleet | None = None,
    ) -> None:
        super().__init__()
        self.live = live
        self.read_only = read_only
        self.executor = Executor(read_only=read_only)  # every change to an engine runs here
        self.clock_ns = clock_ns
        self._start_mode = start_mode
        self.disk = disk  # disk usage / prune engines; the disk screen makes one if None
        self.log_session: LogSession | None = None  # made when the logs screen first opens
        self._unsubscribe: Callable[[], None] | None = None

    def on_mount(self) -> None:
        def changed(_: ClusterState) -> None:
            self.post_message(StateChanged())

        self._unsubscribe = self.live.store.subscribe(changed)
        self.state = self.live.store.state
        self.live.start()
        self.switch_mode(self._start_mode)

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.log_session is not None:
            await self.log_session.stop()
        await self.live.stop()
        if self.disk is not None:
            await self.disk.stop()

    def logs(self, capacity: int) -> LogSession:
        """The app's one log session (the engine layer's merged followers), made on first use
        and kept while other screens are shown."""
        if self.log_session is None:
            self.log_session = LogSession(self.live.client, self.live.store, capacity=capacity)
        return self.log_session

    async def task_log_tail(self, task_id: str, lines: int = 10) -> list[tuple[str, str]]:
        """The last lines of one task from the engine (raises EngineError, one line)."""
        task = self.state.tasks.get(task_id)
        service = self.state.services.get(task.service_id) if task else None
        return await task_log_tail(self.live.client, task_id, lines,
                                   tty=bool(service and service.tty))

    def on_state_changed(self, _: StateChanged) -> None:
        with self.batch_update():
            self.state = self.live.store.state

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (key, _, description) in SCREENS.items():
            yield SystemCommand(
                f"Go to {name} ({key})", description, partial(self.switch_mode, name)
            )
