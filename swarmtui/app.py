"""The Textual application: the views' modes and keys, and the bridge from the live store.

Everything long-lived (live swarm, disks, logs, executor, clock) is the
:class:`~swarmtui.runtime.Runtime` handed in; the views come from a
:class:`~swarmtui.views.ViewRegistry`. The app keeps the reactive ``state`` the screens
follow and routes :class:`~swarmtui.messages.ViewRequest`\\s between views.

On a wall (``--kiosk``, :attr:`~swarmtui.settings.Settings.kiosk`) it shows the chosen views
in turn, in a high-contrast theme (``-kiosk`` class, ``styles/kiosk.tcss``), read-only (the
executor refuses), with every snapshot redacted before any screen sees it, and it takes no
keys or clicks but ``q`` and the view keys: nothing can open a dialog nobody can close.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from functools import partial

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.widget import AwaitMount
from textual.widgets import Input

from swarmtui.engine.client import EngineError, exempt_from_collections
from swarmtui.messages import OpenLogs, ShowInGrid, StateChanged, ViewRequest
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.ops.probe import LeftoverProbeCleanup
from swarmtui.paths import stylesheets
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen
from swarmtui.validate import InputError
from swarmtui.views import ViewRegistry, default_views

# High contrast for a projector or a wall: black, white, saturated signal colours, and no
# muted or disabled greys (the theme's derived text-muted/text-disabled are pinned).
KIOSK_THEME = Theme(
    name="swarmtui-kiosk",
    primary="#00d7ff",
    secondary="#ffd700",
    accent="#ffff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#262626",
    success="#00ff5f",
    warning="#ffaf00",
    error="#ff3030",
    dark=True,
    variables={
        "text-muted": "#ffffff",
        "text-disabled": "#d0d0d0",
        "footer-key-foreground": "#ffff00",
        "footer-description-foreground": "#ffffff",
    },
)
INPUT_FIRST_S = 0.15
"""The longest a key holds log intake while it is answered (see SwarmApp._hold_log_intake)."""
# On a wall only these keys do anything (besides the view keys).
KIOSK_KEYS = frozenset({"q", "ctrl+q", "ctrl+c", "question_mark"})


def exempt_startup_heap() -> None:
    """When the first app of a process mounts: what exists then (modules, classes, Textual's
    parsed stylesheets, the app) lives as long as the process, and the cyclic collector's
    full collections re-scanned all of it, three times during the first frame even at 10
    nodes (~0.1 s each on a loaded machine). See client.exempt_from_collections (once per
    process: tests mount hundreds of apps in one)."""
    exempt_from_collections("startup")


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
        self._view_unpainted = False
        self._resuming_switch = False  # switch_mode is showing a view composed before
        self._switch_end: Callable[[], None] | None = None  # ends that switch's batch
        self.runtime = runtime
        self.views = default_views() if views is None else views
        self.kiosk = runtime.settings.kiosk
        if self.kiosk is not None:
            self.ENABLE_COMMAND_PALETTE = False  # type: ignore[misc]  # its key is off on a wall
        self._kiosk_views = self.kiosk.views if self.kiosk else ()
        for name in self._kiosk_views:
            self.views.get(name)  # an unknown view fails here, naming the choices
        self._start_mode = start_mode or (
            self._kiosk_views[0] if self._kiosk_views else next(iter(self.views)).name)
        self.views.get(self._start_mode)
        self._redacted: tuple[ClusterState, ClusterState] | None = None
        for spec in self.views:
            self.add_mode(spec.name, partial(spec.factory, runtime))
            self.bind(spec.key, f"switch_mode('{spec.name}')", description=spec.name.title(),
                      show=False)
        self._unsubscribe: object = None
        self._leftovers_checked = False

    def on_mount(self) -> None:
        exempt_startup_heap()
        self._follow_runtime()
        self.switch_mode(self._start_mode)

    # The garbage collector's full passes walked every object the app holds (~140,000:
    # modules, widgets, screens), and a log flood makes them frequent (lines that live a
    # moment in the ring reach the oldest generation): 100–400 ms pauses, several a second
    # per ten, which were most of the slowest key answers. What exists once a view is
    # composed lives as long as the app, so it is frozen out of those passes (nothing is
    # copied; it is still freed by reference counting) and unfrozen when the app ends.
    @staticmethod
    def _freeze_long_lived() -> None:
        gc.freeze()

    def _follow_runtime(self) -> None:
        """Follow the runtime's store and start it."""
        live = self.runtime.live

        def changed(_: ClusterState) -> None:
            self.post_message(StateChanged())

        self._unsubscribe = live.store.subscribe(changed)
        if self.kiosk is not None:
            self.register_theme(KIOSK_THEME)
            self.theme = KIOSK_THEME.name
            self.add_class("-kiosk")
            self.set_interval(self.kiosk.seconds, self.next_kiosk_view)
        self.state = self.shown_state()
        self.runtime.start()

    async def switch_context(self, name: str) -> None:
        """Reconnect everything to docker context ``name``: the old runtime stops, a new one
        is built from the same settings, and every view is made afresh on it (so none keeps
        the old engine's state)."""
        try:
            runtime = self.runtime.for_context(name)
        except InputError as exc:
            self.notify(str(exc), severity="error")
            return
        mode = self.current_mode
        if callable(self._unsubscribe):
            self._unsubscribe()
        await self.runtime.stop()
        self.runtime = runtime
        # The active mode cannot be removed: park on a blank one while the views are remade.
        self.add_mode("_switching", Screen)
        await self.switch_mode("_switching")
        for spec in self.views:
            await self.remove_mode(spec.name)
            self.add_mode(spec.name, partial(spec.factory, runtime))
        self._follow_runtime()
        await self.switch_mode(mode)
        await self.remove_mode("_switching")
        self.notify(f"switched to docker context {name}")

    async def on_unmount(self) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()
        await self.runtime.stop()
        gc.unfreeze()  # what the app held is collectable again (tests run many apps)

    # Textual drops, rather than defers, a frame drawn while a batch is open (App._display
    # returns early). A view's first frame after a switch falls in switch_mode's 50 ms
    # delay_update batch, whose end repaints the screen only when no other batch is open at
    # that moment. A footer recompose (an async batch, ~0.5 s under load) spanning it left
    # the new view unpainted: metrics -> images on the lab kept showing metrics while keys
    # went to images, and its widgets never repainted until they changed. So when that
    # repaint is skipped, the view is laid out and repainted whole once the batches end.
    #
    # A view shown before is composed and laid out already: masking its transition needs no
    # 50 ms, only until it has handled its ScreenResume (its content brought up to date). So
    # that batch ends on a callback queued behind the resume (the timer stays as a bound);
    # under a log flood the fixed 50 ms was half the time a key took to show its view.
    def switch_mode(self, mode: str) -> AwaitMount:
        shown_before = mode != self._current_mode and mode in self._screen_stacks
        first_compose = mode in self._modes and mode not in self._screen_stacks
        self._switch_end = None
        self._resuming_switch = shown_before
        try:
            await_mount = super().switch_mode(mode)
        finally:
            self._resuming_switch = False
        end = self._switch_end
        if end is not None and not self.screen.call_later(end):
            end()  # the screen takes no messages (closing): end the batch now
        if first_compose:
            self.call_after_refresh(self._freeze_long_lived)  # its widgets, once painted
        session = self.runtime.log_session
        if session is not None and not session.intake.is_open:
            # Held by the key that asked for this view: released once the view is painted
            # (the screen's after-refresh callbacks wait for the end of the batch).
            self.screen.call_after_refresh(session.intake.release)
        return await_mount

    def delay_update(self, delay: float = 0.05) -> None:
        self._begin_batch()
        ended = False

        def end_batch() -> None:
            nonlocal ended
            if ended:
                return  # the resume callback or the timer, whichever came first
            ended = True
            self._end_batch()
            if self._batch_count:
                self._view_unpainted = True  # Textual would skip the repaint here
            elif self.screen_stack:
                self.screen.refresh()

        if self._resuming_switch:
            self._switch_end = end_batch
        self.set_timer(delay, end_batch, name="delay_update")

    def _end_batch(self) -> None:
        super()._end_batch()
        if self._view_unpainted and not self._batch_count:
            self._view_unpainted = False
            self.set_timer(0.05, self._repaint_view)  # after the mounts that batch awaited

    def _repaint_view(self) -> None:
        if self._batch_count:
            self._view_unpainted = True  # another batch began: its end repaints
            return
        if not self.screen_stack:
            return  # closing
        screen = self.screen
        # screen.refresh() alone is not enough: the compositor's map predates the first
        # layout. The widgets are not refreshed one by one: the dropped frame rendered them
        # already, and a widget's own refresh, left unsent under the screen's whole repaint,
        # would go out again with its next change (the whole grid for the next task).
        screen._refresh_layout(self.size)
        screen.refresh()

    def on_state_changed(self, _: StateChanged) -> None:
        with self.batch_update():
            self.state = self.shown_state()
        if not self._leftovers_checked and self.state.is_swarm_manager:
            self._leftovers_checked = True
            self.remove_leftover_probes()

    @work(exclusive=True, group="leftover-probes")
    async def remove_leftover_probes(self) -> None:
        """Once connected to a manager: node probe services a killed run left behind, whose
        time is up, are removed through the executor without asking (they are swarmtui's
        own and expired: see LeftoverProbeCleanup); read-only only says they exist."""
        executor = self.runtime.executor
        operation = LeftoverProbeCleanup(self.runtime.live.client)
        try:
            plan = await executor.plan(operation)
            if plan.preview.empty:
                return
            if not executor.can_execute:
                names = ", ".join(name for _, name in plan.payload)
                self.notify(f"Leftover probe service(s) of an earlier run remain: {names} "
                            "(read-only: not removed).", severity="warning")
                return
            outcome = await executor.execute(plan)
        except EngineError as exc:
            self.notify(f"Leftover probe services: {exc}", severity="warning")
            return
        for line in (*outcome.notes, *outcome.errors):
            self.notify(line[:1].upper() + line[1:] + ".")

    def shown_state(self) -> ClusterState:
        """The store's snapshot as the screens may show it (redacted on a wall; unchanged
        maps keep their identity, so the screens' diffs still skip them)."""
        state = self.runtime.live.store.state
        redactor = self.runtime.redactor
        if redactor is None:
            return state
        if self._redacted is not None and self._redacted[0] is state:
            return self._redacted[1]
        shown = redactor.state(state, self._redacted)
        self._redacted = (state, shown)
        return shown

    # -- the wall -----------------------------------------------------------------------
    async def next_kiosk_view(self) -> None:
        """Show the next of the wall's views (after the one shown, wherever that is)."""
        names = self._kiosk_views
        if not names or not self.is_running or not self.screen_stack:
            return  # the app is closing: its screens are gone (a ScreenStackError flake)
        current = self.current_mode
        following = names[(names.index(current) + 1) % len(names)] if current in names \
            else names[0]
        if following != current:
            await self.switch_mode(following)

    async def on_event(self, event: events.Event) -> None:
        # A wall takes no input but q and the view keys: a key or click that would open a
        # dialog or a prompt does nothing (one line says so).
        if self.kiosk is not None and not event.is_forwarded:
            if isinstance(event, events.Key) and not self._kiosk_key(event.key):
                self.notify("Kiosk mode: read-only wall display, keys are off (q quits).",
                            severity="warning", timeout=3)
                return
            if isinstance(event, events.MouseDown | events.MouseUp | events.Click):
                return
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._hold_log_intake(event.key)
        await super().on_event(event)

    def _hold_log_intake(self, key: str) -> None:
        """Input first: a view key holds log intake (see IntakeGate) until the new view is
        painted (switch_mode releases it), for at most ``INPUT_FIRST_S``. Other keys are
        answered by one repaint of what is shown: they hold nothing."""
        session = self.runtime.log_session
        if session is None or not session.active or isinstance(self.focused, Input):
            return  # (a digit typed into a prompt switches nothing)
        if any(spec.key == key and spec.name != self._current_mode for spec in self.views):
            session.intake.hold(INPUT_FIRST_S)

    def _kiosk_key(self, key: str) -> bool:
        return key in KIOSK_KEYS or any(spec.key == key for spec in self.views)

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
        if self.runtime.settings.demo is not None:
            return  # the demo has no docker contexts to offer
        current = self.runtime.context
        for ctx in self.runtime.contexts():
            mark = " (current)" if ctx.name == current else ""
            yield SystemCommand(
                f"Switch context: {ctx.name}", f"{ctx.description or ctx.host}{mark}",
                partial(self.start_context_switch, ctx.name),
            )

    def start_context_switch(self, name: str) -> None:
        """Switch in a worker: the palette closes at once and a second pick wins."""
        self.run_worker(self.switch_context(name), exclusive=True, group="switch-context")
