"""One table screen for every list view (services, nodes, later stacks, secrets, configs,
images): a view is a :class:`TableSpec` plus, when it has any, its operations.

The table is diffed by row key, as dolphie does: rows that went away are removed, new ones
added, and of the rows that stayed only the cells whose text changed are updated. The cursor
stays on the same row key across updates, and a snapshot whose rows are identical to the
shown ones touches nothing (no mutation, no repaint). Rows come from pure selectors
(:mod:`swarmtui.model.tables`), so what a view shows is tested without Textual.

A concrete screen sets ``SPEC`` (its ``SCREEN_NAME`` follows) and declares its operations as
:func:`~swarmtui.screens.base.operation_binding` s, each acting on :meth:`TableScreen.selected`;
the shared :class:`~swarmtui.widgets.prompt.Prompt` above the table asks for their input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from swarmtui.model.state import ClusterState
from swarmtui.model.tables import Row
from swarmtui.screens.base import SwarmScreen
from swarmtui.screens.grid import show_in_grid
from swarmtui.widgets.prompt import Prompt, prompt_focused

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, a fixed width (None: as wide as its widest cell) and how its
    cells line up."""

    label: str
    width: int | None = None
    justify: Literal["left", "center", "right"] = "left"


def columns(*labels: str) -> tuple[Column, ...]:
    """Columns that fit their content and line up left (the docker CLI's ``ls`` tables)."""
    return tuple(Column(label) for label in labels)


@dataclass(frozen=True, slots=True)
class TableSpec(Generic[T]):
    """What a list view shows; everything else is :class:`TableScreen`'s."""

    name: str
    """The view's name: its ``SCREEN_NAME``, the table's id (the prompt's is ``NAME-prompt``)."""
    noun: str
    """What one row is (``service``), for the one-line notices."""
    columns: tuple[Column, ...]
    rows: Callable[[ClusterState], Sequence[Row]]
    """The rows of a snapshot in display order: ``(key, cells)``, a cell per column (pure)."""
    find: Callable[[ClusterState, str], T | None]
    """The object a row key stands for in a snapshot; None once it is gone."""
    grid_filter: Callable[[T], Mapping[str, object]] | None = None
    """Enter: the grid narrowed by these filters (GridOptions fields) for the selected object."""
    detail: Callable[[ClusterState, str], str] | None = None
    """A row's details as text (for a detail pane; no list view has one yet)."""
    event_types: frozenset[str] = frozenset()
    """Engine event types (``service``, ``node``…) that can change these rows: a refresh may
    skip the table for events of no other type."""


def _cell(column: Column, text: str) -> Text:
    # Text, not str: DataTable reads a str as markup, and names are data, not markup. Left is
    # Rich's default; naming it would pad the cell differently.
    justify = None if column.justify == "left" else column.justify
    return Text(text, justify=justify, no_wrap=True, end="")


class ResourceTable(DataTable[Text]):
    """A DataTable that shows a spec's rows, changing only what changed (see module doc)."""

    BINDINGS = [Binding("enter", "select_cursor", "Tasks")]

    def __init__(self, spec: TableSpec[Any], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.spec = spec
        self._columns = spec.columns
        self._column_keys: list[ColumnKey] = []
        self._shown: dict[str, tuple[str, ...]] = {}  # key -> cells, in display order

    def on_mount(self) -> None:
        for column in self._columns:
            label = _cell(column, column.label)
            self._column_keys.append(self.add_column(label, width=column.width))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Enter opens the grid: a view that has no grid to open shows no "Tasks" key.
        if action == "select_cursor" and self.spec.grid_filter is None:
            return False
        return super().check_action(action, parameters)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Make the table show ``rows`` with the fewest changes, the cursor on its row key."""
        if list(self._shown.items()) == list(rows):
            return  # identical: no mutation, nothing repainted
        wanted = dict(rows)
        cursor_key = self.cursor_key
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted]:
                self._remove(key)
            # Rows keep their place up to the first one out of order (a new row in the
            # middle, a rename); DataTable only appends, so the rows after it are re-added.
            kept, order = list(self._shown), list(wanted)
            same = 0
            while same < min(len(kept), len(order)) and kept[same] == order[same]:
                same += 1
            for key in kept[same:]:
                self._remove(key)
            for key in kept[:same]:
                self._update(key, wanted[key])
            for key in order[same:]:
                self.add_row(*(_cell(c, t) for c, t in zip(self._columns, wanted[key],
                                                            strict=True)), key=key)
                self._shown[key] = wanted[key]
            if cursor_key in self._shown:
                index = self.get_row_index(cursor_key)
                if index != self.cursor_row:
                    self.move_cursor(row=index)

    def _remove(self, key: str) -> None:
        self.remove_row(key)
        del self._shown[key]

    def _update(self, key: str, cells: tuple[str, ...]) -> None:
        old = self._shown[key]
        for index, column in enumerate(self._columns):
            if old[index] != cells[index]:
                # A column that fits its content widens for a longer text rather than cut it.
                self.update_cell(key, self._column_keys[index], _cell(column, cells[index]),
                                 update_width=column.width is None)
        self._shown[key] = cells


class TableScreen(SwarmScreen, Generic[T]):
    """A list view: a :class:`TableSpec` rendered live. Enter opens the grid narrowed to the
    selected object (when the spec says how); subclasses add operations."""

    SPEC: ClassVar[TableSpec[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("SPEC")
        if spec is not None:
            cls.SCREEN_NAME = spec.name

    @property
    def spec(self) -> TableSpec[T]:
        return self.SPEC

    def body(self) -> ComposeResult:
        yield Prompt(id=f"{self.spec.name}-prompt")
        yield ResourceTable(self.spec, id=self.spec.name)

    @property
    def table(self) -> ResourceTable:
        return self.query_one(f"#{self.spec.name}", ResourceTable)

    @property
    def prompt(self) -> Prompt:
        return self.query_one(f"#{self.spec.name}-prompt", Prompt)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()  # not the (hidden) prompt above it

    def show_state(self, state: ClusterState) -> None:
        self.table.show_rows(self.spec.rows(state))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the prompt is open, keys type into it: the screen's keys are off (and out of
        # the footer, which shows the prompt's Enter/Esc instead).
        if prompt_focused(self):
            return False
        return super().check_action(action, parameters)

    def selected(self) -> T | None:
        """The object under the cursor; None (having said why in one line) when there is none
        or it has gone from the newest snapshot."""
        return self._find(self.table.cursor_key)

    def _find(self, key: str | None) -> T | None:
        if key is None:
            self.notify(f"No {self.spec.noun}s to choose from.", severity="warning")
            return None
        found = self.spec.find(self.state, key)
        if found is None:
            self.notify(f"That {self.spec.noun} is gone.", severity="warning")
        return found

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click on the selected row): the grid narrowed to that object."""
        event.stop()
        if self.spec.grid_filter is None:
            return
        found = self._find(None if event.row_key.value is None else str(event.row_key.value))
        if found is not None:
            show_in_grid(self.app, **self.spec.grid_filter(found))
