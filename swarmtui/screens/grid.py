"""Screen 1: the visualizer grid (nodes as columns, tasks as cards)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from swarmtui.messages import ShowInGrid, ViewRequest
from swarmtui.model.grid import (
    DENSITIES,
    SHOW_MODES,
    GridLayout,
    GridLayouter,
    GridOptions,
    out_of_view,
)
from swarmtui.model.state import ClusterState
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen
from swarmtui.screens.grid_commands import GridFilterCommands
from swarmtui.screens.task_details import TaskDetailsScreen
from swarmtui.widgets.prompt import Prompt, prompt_focused
from swarmtui.widgets.task_grid import TaskGrid

FILTER_HINT = (
    "filter tasks: words match service, image, state, error · stack:X service:X node:X label:K=V"
)

MIN_COLUMN_WIDTH = {"cards": 24, "lines": 26, "counts": 20}
MAX_COLUMN_WIDTH = 34
AGE_REFRESH_S = 5.0


def show_in_grid(app: App[Any], **filters: object) -> None:
    """Show the grid narrowed by ``filters`` (GridOptions fields, e.g. ``service=NAME``)."""
    app.post_message(ShowInGrid(filters))


class GridScreen(SwarmScreen):
    SCREEN_NAME = "grid"
    COMMANDS = {GridFilterCommands}

    BINDINGS = [
        Binding("d", "cycle_density", "Density"),
        Binding("a", "cycle_show", "Running/all/failed"),
        Binding("s", "toggle_stacks", "By stack"),
        Binding("L", "toggle_labels", "Labels"),
        # priority: the app opens the prompt before it routes the keys typed after `/`
        Binding("slash", "filter", "Filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.options = GridOptions()
        self.layouter = GridLayouter()
        self._info_text = ""

    def body(self) -> ComposeResult:
        yield Static("", id="grid-info")
        yield Prompt(FILTER_HINT, verb="Apply", id="grid-filter")
        yield TaskGrid(id="grid")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TaskGrid).focus()
        # Card ages ("running 3m") move on even when nothing else changes.
        self.set_interval(AGE_REFRESH_S, self._refresh_ages)

    def apply_request(self, request: ViewRequest) -> None:
        """"Show these tasks" (from the services screen): the grid narrowed to them."""
        if not isinstance(request, ShowInGrid):
            return
        self.filter_prompt.close()
        self.set_options(**{"text": "", "stack": None, "service": None, "node": None,
                            "label": None, **request.filters})
        self.query_one(TaskGrid).focus()

    def _refresh_ages(self) -> None:
        if self.is_current:
            self.show_state(self.state)

    def _column_width(self, state: ClusterState) -> int:
        """Fit every node on screen when cards stay readable; otherwise scroll sideways."""
        available = self.query_one(TaskGrid).scrollable_content_region.width or self.size.width
        columns = max(1, len(state.nodes) + 1)
        narrowest = MIN_COLUMN_WIDTH[self.options.density]
        return max(narrowest, min(MAX_COLUMN_WIDTH, available // columns - 1))

    def on_resize(self) -> None:
        self.show_state(self.state)

    def show_state(self, state: ClusterState) -> None:
        options = replace(
            self.options, column_width=self._column_width(state), symbols=self.app.no_color
        )
        layout = self.layouter.layout(state, options, self.runtime.clock_ns())
        self.query_one(TaskGrid).set_layout(layout)
        self._show_info(layout, state)

    def on_task_grid_view_changed(self, _: TaskGrid.ViewChanged) -> None:
        layout = self.query_one(TaskGrid).layout_model
        if layout is not None:
            self._show_info(layout, self.state)

    def _show_info(self, layout: GridLayout, state: ClusterState) -> None:
        """The info line: view options, filters, and what is scrolled out of view."""
        o = self.options
        info = [f"density [b]{o.density}[/b]", f"showing [b]{o.show}[/b]"]
        if o.group_by_stack:
            info.append("[b]by stack[/b]")
        if o.show_labels:
            info.append("[b]labels[/b]")
        for label, value in (
            ("stack", o.stack),
            ("service", o.service),
            ("node", o.node),
            ("label", o.label),
            ("text", o.text),
        ):
            if value:
                info.append(f"{label}=[b]{value}[/b]")
        if layout.hidden_tasks:
            info.append(f"{layout.hidden_tasks} tasks filtered out")
        if not layout.columns and state.is_swarm_manager:
            info.append("no nodes match")
        hidden = out_of_view(layout, *self.query_one(TaskGrid).columns_in_view())
        if hidden:
            info.append(f"[b]{hidden}[/b]")
        text = "  ·  ".join(info)
        if text != self._info_text:  # an update re-lays the screen out: only when it changed
            self._info_text = text
            self.query_one("#grid-info", Static).update(text)

    def set_options(self, **changes: object) -> None:
        self.options = replace(self.options, **changes)  # type: ignore[arg-type]
        self.show_state(self.state)

    def action_cycle_density(self) -> None:
        i = DENSITIES.index(self.options.density)
        self.set_options(density=DENSITIES[(i + 1) % len(DENSITIES)])

    def action_cycle_show(self) -> None:
        i = SHOW_MODES.index(self.options.show)
        self.set_options(show=SHOW_MODES[(i + 1) % len(SHOW_MODES)])

    def action_toggle_stacks(self) -> None:
        self.set_options(group_by_stack=not self.options.group_by_stack)

    def action_toggle_labels(self) -> None:
        self.set_options(show_labels=not self.options.show_labels)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the filter prompt is open, keys type into it: the grid's keys are off (and
        # out of the footer, which shows the prompt's Enter/Esc instead).
        return not prompt_focused(self)

    @property
    def filter_prompt(self) -> Prompt:
        return self.query_one("#grid-filter", Prompt)

    def action_filter(self) -> None:
        """Open the filter prompt on the filter in force (typing narrows the grid live)."""
        before = self.options

        def accept(text: str) -> bool:
            # The filter stays in force; the info line shows it, `/` edits it again.
            self.apply_filter_text(text)
            return True

        def cancel() -> None:
            self.set_options(
                text=before.text, stack=before.stack, service=before.service,
                node=before.node, label=before.label,
            )

        self.filter_prompt.open(filter_text(before), accept=accept, cancel=cancel)

    def action_clear_filter(self) -> None:
        self.filter_prompt.close()
        self.set_options(text="", stack=None, service=None, node=None, label=None)
        self.query_one(TaskGrid).focus()

    def on_input_changed(self, event: Prompt.Changed) -> None:
        prompt = self.filter_prompt
        if event.input is prompt and prompt.is_open:
            # The prompt's value now, not the message's: a burst of keys may have moved on.
            self.apply_filter_text(prompt.value)

    def apply_filter_text(self, text: str) -> None:
        """Plain words match tasks; ``stack:x service:y node:z label:k=v`` narrow further."""
        changes: dict[str, object] = {"stack": None, "service": None, "node": None, "label": None}
        words = []
        for word in text.split():
            key, sep, value = word.partition(":")
            if sep and key in ("stack", "service", "node", "label") and value:
                changes[key] = value
            else:
                words.append(word)
        changes["text"] = " ".join(words)
        self.set_options(**changes)

    def on_task_grid_task_selected(self, message: TaskGrid.TaskSelected) -> None:
        self.app.push_screen(TaskDetailsScreen(self.runtime, message.task_id))


def filter_text(options: GridOptions) -> str:
    """The filter prompt's text for the filters in force (what ``apply_filter_text`` reads)."""
    words = [
        f"{key}:{value}"
        for key, value in (
            ("stack", options.stack),
            ("service", options.service),
            ("node", options.node),
            ("label", options.label),
        )
        if value
    ]
    if options.text:
        words.append(options.text)
    return " ".join(words)
