"""Screen 3: merged live logs of a stack, some services, or services matching a pattern.

The screen renders and turns keys into intent; following is done by the app's
:class:`~swarmtui.engine.logs.LogSession` (one per app, kept while other screens are shown,
so coming back shows what arrived meanwhile — bounded by the ring). A 10 Hz ticker moves new
lines from the ring into the :class:`~swarmtui.widgets.log_view.LogView` only while this
screen is visible: one slice per tick, never a call per line.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from swarmtui.engine.logs import (
    CONNECTING,
    ENDED,
    ERROR,
    IDLE,
    LIVE,
    NODE_UNAVAILABLE,
    RECONNECTING,
    STALLED,
    FollowOptions,
    LogSession,
    StreamHealth,
)
from swarmtui.messages import OpenLogs, ViewRequest
from swarmtui.model.grid import service_tints
from swarmtui.model.log_targets import (
    LogTargets,
    describe_window,
    parse_targets,
    parse_window,
    resolve_targets,
)
from swarmtui.model.logs import LineFilter
from swarmtui.model.state import ClusterState
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen
from swarmtui.widgets.log_view import LogView
from swarmtui.widgets.prompt import Prompt, prompt_focused

DEFAULT_TAIL = 200
FLUSH_S = 0.1
"""The frame interval while following: new lines reach the view in one batch per frame, so
the bytes written stay bounded (every visible row moves up) however fast lines arrive."""
LOW_BANDWIDTH_FLUSH_S = 1.0
"""The frame interval over SSH (``--low-bandwidth``): ~11 KB a frame at 160x45."""
PAUSED_FLUSH_S = 1.0
"""While paused, new lines are only counted (and the scrollbar moved) this often."""

_STATE_MARKS = {
    LIVE: "[$success]●[/]",
    IDLE: "[$text-muted]○[/]",
    CONNECTING: "[$warning]◌[/]",
    RECONNECTING: "[$warning]◌[/]",
    STALLED: "[$warning]▲[/]",
    NODE_UNAVAILABLE: "[$error]✕[/]",
    ENDED: "[$text-muted]■[/]",
    ERROR: "[$error]✕[/]",
}

_PROMPTS = {
    "follow": "follow: NAME (stack or service)  stack:NAME  service:NAME  ~regex"
    "   (empty = all services)",
    "window": "since/tail: 500 (last lines per task) · 5m · 1h · 2026-11-25T12:00 · all",
    "search": "search (regex; n/N next/previous)",
    "filter": "show only lines whose message matches a regex (!regex hides them; empty = all)",
    "export": "export to file",
}
_VERBS = {"follow": "Follow", "window": "Apply", "search": "Find", "filter": "Apply",
          "export": "Export"}


def open_logs(app: App[Any], service_id: str, task_id: str | None = None) -> None:
    """Show the logs of one service (and only one task's lines if ``task_id``)."""
    app.post_message(OpenLogs(service_id, task_id))


def _stream_markup(h: StreamHealth) -> str:
    name = escape(h.service_name)
    if h.state == NODE_UNAVAILABLE and h.tasks:
        # Per task: some tasks sit on unreachable nodes. Red only when nothing streams.
        live = h.tasks - h.unreachable
        colour, mark = ("$error", "✕") if live <= 0 else ("$warning", "●")
        n = len(h.nodes_down)
        down = f"{n} node{'' if n == 1 else 's'} down"
        text = f"[{colour}]{mark}[/] {name} [{colour}]{live}/{h.tasks} live · {down}[/]"
        if h.nodes_down:
            text += f" [$text-muted]({escape(', '.join(h.nodes_down))})[/]"
    else:
        text = f"{_STATE_MARKS.get(h.state, '?')} {name} {h.state}"
        if h.detail and h.state not in (LIVE, IDLE):
            text += f" [$text-muted]({escape(h.detail)})[/]"
    if h.dropped:
        text += f" [$warning]−{h.dropped:,}[/]"
    return text


def health_markup(health: list[StreamHealth], ring_len: int, capacity: int, dropped: int) -> str:
    parts = [_stream_markup(h) for h in health]
    summary = f"[$text-muted]{ring_len:,}/{capacity:,} lines kept · {dropped:,} dropped[/]"
    return "  ".join(parts) + ("  │  " if parts else "") + summary


class LogsScreen(SwarmScreen):
    SCREEN_NAME = "logs"

    # Keys that open a prompt have priority: the app opens it before it routes the next key.
    BINDINGS = [
        Binding("f", "prompt('follow')", "Follow…", priority=True),
        Binding("s", "prompt('window')", "Since/tail", priority=True),
        Binding("slash", "prompt('search')", "Search", priority=True),
        Binding("n", "find(True)", "Next", show=False),
        Binding("N", "find(False)", "Previous", show=False),
        Binding("ampersand", "prompt('filter')", "Filter", priority=True),
        Binding("w", "toggle_option('wrap')", "Wrap"),
        Binding("t", "toggle_option('timestamps')", "Time"),
        Binding("i", "toggle_option('task_ids')", "Task IDs"),
        Binding("e", "prompt('export')", "Export", priority=True),
        Binding("E", "export_all", "Export all", show=False, priority=True),
        Binding("a", "all_tasks", "All tasks", show=False),
        Binding("c", "clear", "Clear", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.session: LogSession | None = None
        self.window_label = describe_window(DEFAULT_TAIL, None, 0)
        self.prompt_mode: str | None = None
        self.export_everything = False
        self._filter_raw = ""
        self._health_markup = ""
        self._seen: tuple[int, int, int] = (-1, -1, -1)  # generation, version, health
        self._replicas: dict[str, int | None] = {}
        self._tints_of: object = None  # the services map the view's tints were made from
        self._flushed_at = 0.0  # time.monotonic() of the last flush
        self._paused_markup = ""

    def body(self) -> ComposeResult:
        yield Static("", id="logs-info", markup=True)
        yield Prompt(id="logs-prompt")
        yield LogView(id="logs-view")
        yield Static("", id="logs-paused", markup=True)
        yield Static("", id="logs-health", markup=True)

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.query_one("#logs-paused").display = False
        session = self.session = self.runtime.logs
        self.view.set_ring(session.ring)
        if self.runtime.redactor is not None:  # a wall: KEY=value secrets masked
            self.view.redact = self.runtime.redactor.text
        if not session.active:
            session.start(LogTargets(), FollowOptions(tail=DEFAULT_TAIL))
        super().on_mount()
        self.set_interval(self.frame_s, self._tick)
        self.set_interval(1.0, self.refresh_health)  # idle is a matter of time passing
        self.view.focus()

    @property
    def frame_s(self) -> float:
        return LOW_BANDWIDTH_FLUSH_S if self.runtime.settings.low_bandwidth else FLUSH_S

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.flush()

    def _tick(self) -> None:
        # A paused pane shows nothing new: count what arrived once a second, not each frame.
        now = time.monotonic()
        if not self.view.following and now - self._flushed_at < PAUSED_FLUSH_S:
            return
        self.flush()

    def apply_request(self, request: ViewRequest) -> None:
        """"The logs of this service/task" (from the services screen or the task details)."""
        if isinstance(request, OpenLogs) and self.session is not None:
            self.follow(LogTargets(services=(request.service_id,)), task_focus=request.task_id)

    # -- following ---------------------------------------------------------------------
    def follow(
        self,
        targets: LogTargets | None = None,
        options: FollowOptions | None = None,
        *,
        task_focus: str | None = None,
    ) -> None:
        """Restart the session on other targets/options (the buffer starts afresh)."""
        assert self.session is not None
        self.view.following = True
        self.view.task_focus = task_focus
        self.session.start(targets, options)
        self.flush()

    def show_state(self, state: ClusterState) -> None:
        if state.services is not self._tints_of:
            self._tints_of = state.services
            self.view.set_tints(service_tints(state.services))  # the grid's colours
        replicas = {sid: svc.replicas for sid, svc in state.services.items()}
        if replicas != self._replicas:
            self._replicas = replicas
            self.view.replicas = replicas
            self.view.set_options()  # prefixes pad to the replica count: repaint
        self.refresh_info()

    def flush(self) -> None:
        """The 10 Hz tick: move new lines into the view, only while this screen shows."""
        session = self.session
        if session is None or not self.is_current:
            return
        self._flushed_at = time.monotonic()
        generation, version, health = self._seen
        view = self.view
        if session.generation != generation:
            view.reset()
            self.refresh_info()
        elif view.following or view.evicted_in_view():
            view.sync()  # nothing new: returns at once, nothing repainted
        else:
            view.count_new_lines()
        self._seen = (session.generation, session.version, session.health_version)
        if session.health_version != health or session.version != version:
            self.refresh_health()
        self.refresh_paused()

    def refresh_paused(self) -> None:
        view = self.view
        paused = self.query_one("#logs-paused", Static)
        paused.display = not view.following
        if not view.following:
            markup = (f"[reverse] PAUSED [/] [b]{view.new_lines:,}[/b] new lines · "
                      "[b]End[/b] follows the newest again")
            if markup != self._paused_markup:  # an update repaints the line: only on a change
                self._paused_markup = markup
                paused.update(markup)

    def refresh_health(self) -> None:
        session = self.session
        if session is None or not self.is_current:
            return
        ring = session.ring
        markup = health_markup(session.health(), len(ring), ring.capacity, session.dropped)
        if markup != self._health_markup:  # repaint the strip only when it changed
            self._health_markup = markup
            self.query_one("#logs-health", Static).update(markup)

    def refresh_info(self) -> None:
        session = self.session
        if session is None:
            return
        view = self.view
        what = session.targets.describe(self.state)
        parts = [f"following [b]{escape(what)}[/b]", self.window_label]
        if view.task_focus:
            parts.append(f"task [b]{view.task_focus[:12]}[/b] only (a: all tasks)")
        flags = [
            name
            for name, on in (("wrap", view.wrap), ("time", view.timestamps), ("ids", view.task_ids))
            if on
        ]
        parts.append(" ".join(flags) or "-")
        if view.line_filter is not None:
            parts.append(f"filter [b]{escape(self._filter_raw)}[/b]")
        if view.search is not None:
            parts.append(f"search [b]{escape(view.search.pattern)}[/b] ({view.match_count()})")
        self.query_one("#logs-info", Static).update("  ·  ".join(parts))

    # -- prompts -----------------------------------------------------------------------
    @property
    def prompt(self) -> Prompt:
        return self.query_one("#logs-prompt", Prompt)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a prompt is open, keys type into it: the pane's keys are off (and out of the
        # footer, which shows the prompt's Enter/Esc instead).
        return not prompt_focused(self)

    def action_prompt(self, mode: str) -> None:
        self.prompt_mode = mode
        self.prompt.open(
            self._prefill(mode),
            hint=_PROMPTS[mode],
            verb=_VERBS[mode],
            accept=self._take_value,
            cancel=self._prompt_cancelled,
        )

    def _prefill(self, mode: str) -> str:
        view, session = self.view, self.session
        if mode == "follow" and session is not None:
            return session.targets.to_text(self.state)
        if mode == "search" and view.search is not None:
            return view.search.pattern
        if mode == "filter" and view.line_filter is not None:
            return self._filter_raw
        if mode == "export":
            stamp = datetime.fromtimestamp(self.runtime.clock_ns() / 1e9, tz=UTC)
            return f"swarmtui-logs-{stamp:%Y%m%d-%H%M%S}.log"
        return ""

    def action_export_all(self) -> None:
        self.export_everything = True
        self.action_prompt("export")

    def action_cancel(self) -> None:
        if self.view.search is not None:
            self.view.set_search(None)
            self.refresh_info()

    def _prompt_cancelled(self) -> None:
        if self.prompt_mode == "search":
            self.view.set_search(None)
            self.refresh_info()
        self.prompt_mode = None
        self.export_everything = False

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.prompt and self.prompt_mode == "search":
            # The prompt's value now, not the message's: a burst of keys may have moved on.
            self._apply_search(self.prompt.value, quiet=True)

    def _take_value(self, value: str) -> bool:
        """Enter in a prompt: apply its value; False (with the error shown) keeps it open."""
        mode = self.prompt_mode
        ok = True
        if mode == "follow":
            ok = self._apply_targets(value)
        elif mode == "window":
            ok = self._apply_window(value)
        elif mode == "search":
            ok = self._apply_search(value)
            if ok:
                self.view.find(True)
        elif mode == "filter":
            ok = self._apply_filter(value)
        elif mode == "export":
            ok = self._export(value, self.export_everything)
            if ok:
                self.export_everything = False
        if ok:
            self.prompt_mode = None
        self.refresh_info()
        return ok

    def _apply_targets(self, text: str) -> bool:
        """Follow what the words match now; a word matching nothing changes nothing."""
        state = self.state
        try:
            resolution = resolve_targets(state, parse_targets(text))
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return False
        if resolution.unknown:
            assert self.session is not None
            words = ", ".join(repr(w) for w in resolution.unknown)
            current = self.session.targets.describe(state)
            self.notify(f"nothing matches {words}: still following {current}",
                        severity="warning")
            return False
        self.follow(resolution.targets)
        self.notify(resolution.summary(), timeout=3)
        return True

    def _apply_window(self, text: str) -> bool:
        now = self.runtime.clock_ns()
        try:
            tail, since = parse_window(text, now, local_offset_s=_local_offset_s())
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return False
        assert self.session is not None
        self.window_label = describe_window(tail, since, now)
        self.follow(options=FollowOptions(tail=tail, since_ns=since))
        return True

    def _apply_search(self, text: str, quiet: bool = False) -> bool:
        try:
            search = LineFilter(text, regex=True, ignore_case=text == text.lower())
        except ValueError as exc:
            if not quiet:
                self.notify(str(exc), severity="error")
            return False
        self.view.set_search(search)
        self.refresh_info()
        return True

    def _apply_filter(self, text: str) -> bool:
        invert = text.startswith("!")
        pattern = text[1:] if invert else text
        try:
            flt = LineFilter(pattern, regex=True, invert=invert)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return False
        self._filter_raw = text
        self.view.set_filter(flt, self.view.task_focus)
        return True

    def _export(self, name: str, everything: bool) -> bool:
        path = Path(name.strip() or self._prefill("export")).expanduser()
        try:
            with path.open("w", encoding="utf-8") as fh:
                count = 0
                for line in self.view.export_lines(everything):
                    fh.write(line + "\n")
                    count += 1
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error")
            return False
        what = "buffered" if everything else "shown"
        self.notify(f"exported {count:,} {what} lines to {path}")
        return True

    # -- toggles and keys --------------------------------------------------------------
    def action_toggle_option(self, option: str) -> None:
        view = self.view
        view.set_options(**{option: not getattr(view, option)})
        self.refresh_info()

    def action_find(self, forward: bool) -> None:
        if self.view.search is None:
            self.action_prompt("search")
            return
        if self.view.find(forward) is None:
            self.notify("no match", severity="warning", timeout=2)

    def action_all_tasks(self) -> None:
        self.view.set_filter(self.view.line_filter, None)
        self.refresh_info()

    def action_clear(self) -> None:
        session = self.session
        if session is not None:
            session.clear()
            self.view.reset()

    def on_log_view_follow_changed(self, _: LogView.FollowChanged) -> None:
        self.refresh_paused()


def _local_offset_s() -> int:
    return -time.altzone if time.daylight and time.localtime().tm_isdst > 0 else -time.timezone
