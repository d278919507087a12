"""The node x task grid as one line-API widget (no widget per task).

Rows are painted from cached strips keyed by their content, so after a state change only the
rows whose content changed are refreshed. Node headers stay in view while the body scrolls.
"""

from __future__ import annotations

from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swarmtui.model.grid import SERVICE_TINTS, GridLayout, Line

GAP = 1
_CACHE_SIZE = 4096

_STYLE_NAMES = (
    "node-name",
    "node-ready",
    "node-down",
    "node-drain",
    "node-pause",
    "node-role",
    "node-meta",
    "node-label",
    "task-name",
    "task-image",
    "task-running",
    "task-starting",
    "task-pending",
    "task-failed",
    "task-shutdown",
    "task-stopping",
    "task-stale",
    "task-error",
    "task-bar",
    "stack-header",
    "cursor",
)


class TaskGrid(ScrollView, can_focus=True):
    """Columns of nodes with their task cards, painted line by line."""

    COMPONENT_CLASSES = {f"task-grid--{n}" for n in _STYLE_NAMES} | {
        f"task-grid--tint-{i}" for i in range(SERVICE_TINTS)
    }

    DEFAULT_CSS = """
    TaskGrid { scrollbar-gutter: stable; }
    """

    BINDINGS = [
        Binding("up,k", "move(0,-1)", "Up", show=False),
        Binding("down,j", "move(0,1)", "Down", show=False),
        Binding("left,h", "move(-1,0)", "Left", show=False),
        Binding("right,l", "move(1,0)", "Right", show=False),
        Binding("enter", "open", "Details"),
    ]

    class TaskSelected(Message):
        """The user opened a task (Enter or click)."""

        def __init__(self, task_id: str) -> None:
            super().__init__()
            self.task_id = task_id

    class ViewChanged(Message):
        """Which columns are wholly in view changed (scrolling sideways, resizing)."""

        def __init__(self, first: int, last: int) -> None:
            super().__init__()
            self.first = first
            self.last = last

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.layout_model: GridLayout | None = None
        self.cursor: tuple[int, str] | None = None  # (column index, task id)
        self._cache: OrderedDict[tuple[object, ...], Strip] = OrderedDict()
        self._styles: dict[str, Style] = {}
        self.repainted_rows = 0  # rows in view refreshed by the last set_layout (benchmarks)
        self._in_view: tuple[int, int] | None = None

    # -- model ------------------------------------------------------------------------
    def set_layout(self, layout: GridLayout) -> None:
        """Show a new layout, refreshing only rows whose content changed."""
        old = self.layout_model
        self.layout_model = layout
        self._keep_cursor_valid()
        self._fit_virtual_size()
        self._check_view()
        if (
            old is None
            or [c.key for c in old.columns] != [c.key for c in layout.columns]
            or old.column_width != layout.column_width
            or old.header_height != layout.header_height
        ):
            self.repainted_rows = layout.body_height + layout.header_height
            self.refresh()
            return
        # Unchanged columns are the same objects (GridLayouter): diff only the others, and
        # repaint only the changed cells (one column wide), not whole rows: a row of a wide
        # grid is hundreds of bytes on the terminal. Only cells in view: 1,000 columns of
        # 120 rows changing at once were 120,000 refresh calls (~3 s); scrolling repaints
        # the whole view anyway, so a cell out of view needs none.
        col_w = layout.column_width + GAP
        scroll_x, scroll_y = (int(v) for v in self.scroll_offset)
        view = self.scrollable_content_region.size
        first_col = scroll_x // col_w
        last_col = (scroll_x + view.width) // col_w
        body_top = scroll_y
        body_bottom = scroll_y + max(0, view.height - layout.header_height)
        header_rows: set[int] = set()
        body_rows: set[int] = set()
        pairs = zip(old.columns, layout.columns, strict=True)
        for i, (a, b) in enumerate(pairs):
            if a is b or i < first_col or i > last_col:
                continue
            x = i * col_w - scroll_x
            for y in range(layout.header_height):
                if a.header[y : y + 1] != b.header[y : y + 1]:
                    header_rows.add(y)  # headers do not scroll: screen row == y
                    self.refresh(Region(x, y, col_w, 1))
            for y in range(body_top, min(body_bottom, max(len(a.body), len(b.body)))):
                if a.body[y : y + 1] != b.body[y : y + 1]:
                    body_rows.add(y)
                    self.refresh(Region(x, layout.header_height + y - scroll_y, col_w, 1))
        self.repainted_rows = len(header_rows) + len(body_rows)

    def _fit_virtual_size(self) -> None:
        """The grid's size, but never smaller than the viewport: Textual repaints a whole
        widget (every row written to the terminal again) when its virtual size changes, so
        a column growing or shrinking by a card must not change it while everything fits."""
        layout = self.layout_model
        if layout is None:
            return
        view = self.scrollable_content_region.size
        width = len(layout.columns) * (layout.column_width + GAP)
        height = layout.header_height + layout.body_height
        self.virtual_size = Size(max(width, view.width), max(height, view.height))

    def columns_in_view(self) -> tuple[int, int]:
        """First and last column index wholly inside the viewport (last < first: none)."""
        layout = self.layout_model
        width = self.scrollable_content_region.width
        if layout is None or not width:
            return (0, -1)
        col_w = layout.column_width + GAP
        x = int(self.scroll_offset.x)
        first = -(-x // col_w)  # ceil: a column cut on the left is not in view
        last = min(len(layout.columns), (x + width + GAP) // col_w) - 1
        return (first, last)

    def _check_view(self) -> None:
        in_view = self.columns_in_view()
        if in_view != self._in_view:
            self._in_view = in_view
            self.post_message(self.ViewChanged(*in_view))

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        self._check_view()

    def on_resize(self) -> None:
        self._fit_virtual_size()
        self._check_view()

    def _row(self, body_y: int, first: int, last: int) -> tuple[Line, ...]:
        """Row ``body_y`` of every column; only those ``first..last`` (in view) are read:
        a column's cards are built on first read (model/grid.py Column)."""
        layout = self.layout_model
        assert layout is not None
        return tuple(
            c.body[body_y] if first <= i <= last and body_y < c.height else ()
            for i, c in enumerate(layout.columns)
        )

    def _keep_cursor_valid(self) -> None:
        layout = self.layout_model
        if layout is None or not layout.columns:
            self.cursor = None
            return
        if self.cursor is not None:
            col, tid = self.cursor
            # Its own column first: the others' cards may not be built yet (Column).
            if col < len(layout.columns) and layout.columns[col].shows(tid):
                return
            for i, c in enumerate(layout.columns):
                if c.shows(tid):
                    self.cursor = (i, tid)
                    return
            col = min(col, len(layout.columns) - 1)
        else:
            col = 0
        for i in list(range(col, len(layout.columns))) + list(range(col)):
            first = next((t for t in layout.columns[i].task_at if t), None)
            if first:
                self.cursor = (i, first)
                return
        self.cursor = None

    @property
    def selected_task(self) -> str | None:
        return self.cursor[1] if self.cursor else None

    # -- painting ---------------------------------------------------------------------
    def on_mount(self) -> None:
        self._styles.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, names: str, tint: int | None) -> Style:
        key = f"{names}|{tint}"
        style = self._styles.get(key)
        if style is None:
            style = Style()
            for n in names.split():
                style += self.get_component_rich_style(f"task-grid--{n}", partial=True)
            if tint is not None:
                style += self.get_component_rich_style(f"task-grid--tint-{tint}", partial=True)
            self._styles[key] = style
        return style

    def _cell_strip(self, line: Line, cursor: bool, w: int) -> Strip:
        """One column's slice of a row, exactly ``w + GAP`` cells, cached by content."""
        key = (line, cursor, w)
        strip = self._cache.get(key)
        if strip is not None:
            self._cache.move_to_end(key)
            return strip
        base = self.rich_style
        cursor_style = self._style("cursor", None)
        segments: list[Segment] = []
        used = 0
        for span in line:
            text = span.text[: w - used]
            if not text:
                continue
            style = base + self._style(span.style, span.tint)
            if cursor and span.style != "task-bar":
                style += cursor_style
            segments.append(Segment(text, style))
            used += len(text)
        segments.append(Segment(" " * (w - used + GAP), base))
        strip = Strip(segments, w + GAP)
        self._cache[key] = strip
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return strip

    def _row_strip(
        self, lines: tuple[Line, ...], cursor_col: int | None, scroll_x: int, width: int
    ) -> Strip:
        """Only the columns in view are assembled: at 100 nodes most of a row is off screen."""
        layout = self.layout_model
        assert layout is not None
        w = layout.column_width
        col_w = w + GAP
        first = scroll_x // col_w
        last = min(len(lines) - 1, (scroll_x + width) // col_w)
        if first > last:
            return Strip.blank(width, self.rich_style)
        row = Strip.join(
            self._cell_strip(lines[i], i == cursor_col, w) for i in range(first, last + 1)
        )
        offset = scroll_x - first * col_w
        return row.crop_extend(offset, offset + width, self.rich_style)

    def render_line(self, y: int) -> Strip:
        layout = self.layout_model
        width = self.scrollable_content_region.width
        if layout is None:
            return Strip.blank(width, self.rich_style)
        scroll_x, scroll_y = self.scroll_offset
        if y < layout.header_height:
            lines = tuple(c.header[y] if y < len(c.header) else () for c in layout.columns)
            return self._row_strip(lines, None, scroll_x, width)
        body_y = y - layout.header_height + scroll_y
        if body_y >= layout.body_height:
            return Strip.blank(width, self.rich_style)
        cursor_col = None
        if self.cursor is not None:
            col, tid = self.cursor
            at = layout.columns[col].task_at
            if body_y < len(at) and at[body_y] == tid:
                cursor_col = col
        col_w = layout.column_width + GAP
        in_view = self._row(body_y, int(scroll_x) // col_w, (int(scroll_x) + width) // col_w)
        return self._row_strip(in_view, cursor_col, scroll_x, width)

    # -- interaction ------------------------------------------------------------------
    def _cursor_rows(self) -> list[int]:
        layout = self.layout_model
        if layout is None or self.cursor is None:
            return []
        col, tid = self.cursor
        return [y for y, t in enumerate(layout.columns[col].task_at) if t == tid]

    def _refresh_cursor(self, rows: list[int]) -> None:
        layout = self.layout_model
        if layout is None:
            return
        for y in rows:
            self.refresh_line(layout.header_height + y)

    def action_move(self, dx: int, dy: int) -> None:
        layout = self.layout_model
        if layout is None or self.cursor is None:
            return
        before = self._cursor_rows()
        col, tid = self.cursor
        if dx:
            ncol = col
            while 0 <= ncol + dx < len(layout.columns):
                ncol += dx
                rows = before[0] if before else 0
                at = layout.columns[ncol].task_at
                ids = [t for t in at if t]
                if ids:
                    # keep roughly the same height when jumping between columns
                    near = min(range(len(at)), key=lambda y: (at[y] is None, abs(y - rows)))
                    self.cursor = (ncol, at[near] or ids[0])
                    break
        else:
            order: list[str] = []
            for t in layout.columns[col].task_at:
                if t and (not order or order[-1] != t):
                    order.append(t)
            if tid in order:
                i = max(0, min(len(order) - 1, order.index(tid) + dy))
                self.cursor = (col, order[i])
        after = self._cursor_rows()
        self._refresh_cursor(before + after)
        self._scroll_to_cursor(after)

    def _scroll_to_cursor(self, rows: list[int]) -> None:
        layout = self.layout_model
        if layout is None or not rows or self.cursor is None:
            return
        visible = self.scrollable_content_region.height - layout.header_height
        top, bottom = rows[0], rows[-1]
        y = self.scroll_offset.y
        if top < y:
            self.scroll_to(y=top, animate=False)
        elif bottom >= y + visible:
            self.scroll_to(y=bottom - visible + 1, animate=False)
        x0 = self.cursor[0] * (layout.column_width + GAP)
        width = self.scrollable_content_region.width
        if x0 < self.scroll_offset.x:
            self.scroll_to(x=x0, animate=False)
        elif x0 + layout.column_width > self.scroll_offset.x + width:
            self.scroll_to(x=x0 + layout.column_width - width, animate=False)

    def action_open(self) -> None:
        if self.cursor is not None:
            self.post_message(self.TaskSelected(self.cursor[1]))

    def on_click(self, event: events.Click) -> None:
        layout = self.layout_model
        if layout is None:
            return
        x = event.x + self.scroll_offset.x
        col = x // (layout.column_width + GAP)
        body_y = event.y - layout.header_height + self.scroll_offset.y
        if not 0 <= col < len(layout.columns) or event.y < layout.header_height:
            return
        at = layout.columns[col].task_at
        if 0 <= body_y < len(at) and at[body_y]:
            before = self._cursor_rows()
            self.cursor = (col, at[body_y])  # type: ignore[assignment]
            self._refresh_cursor(before + self._cursor_rows())
            if event.chain >= 2:
                self.post_message(self.TaskSelected(at[body_y]))  # type: ignore[arg-type]

    def grid_size(self) -> Size:
        return self.virtual_size
