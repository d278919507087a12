"""The merged log pane: a line-API view over a :class:`~swarmtui.model.logs.LogRing`.

No widget per line and no per-line UI call: the screen calls :meth:`LogView.sync` from a
flush ticker, which reads the lines the ring gained since the last tick (one slice), appends
rows, drops rows whose lines the ring evicted, and repaints. Rows are ``(seq, part)`` pairs
(``part`` > 0 for the continuation rows of a wrapped line) keyed by the ring's absolute
sequence numbers, so evicting old lines never re-keys the strip cache (unlike ``Log``).

A big backlog while following (the pane shown again after a flood filled the ring, a
rebuild of the whole ring) is not taken in at once: the newest lines that fill the pane come
first, so the pane answers after work bounded by its height, and the older lines are caught
up ``CATCH_UP_LINES`` per sync, newest first (the ring evicts the oldest meanwhile, which
then cost nothing). Anything that needs every row (pausing, search, export) catches up first.

Painting: ``[time] service.slot.task@node | text`` with the prefix tinted per service (8
component classes, colours in ``styles/logs.tcss``), stderr text in its own style behind a
``!`` bar instead of ``|``, daemon errors in an error style, search matches highlighted.
The text is already sanitised by the engine layer; nothing here interprets escapes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swarmtui.model.grid import SERVICE_TINTS, service_tint
from swarmtui.model.logs import LineFilter, LogLine, LogRing, format_line, line_prefix

TINTS = SERVICE_TINTS  # the grid's palette, in styles/logs.tcss too
_CACHE_SIZE = 2048
_COMPACT_AT = 4096  # drop evicted rows from the list in batches (amortised O(1))
EAGER_LINES = 1000
"""A sync with at most this many new lines takes them all in at once (~3 ms)."""
CATCH_UP_LINES = 1000
"""Deferred lines taken in per sync (one per frame while following)."""


def short_time(timestamp: str) -> str:
    """``2026-11-25T13:40:47.870629349Z`` -> ``13:40:47.870`` (UTC, as the daemon sends it)."""
    if len(timestamp) >= 23 and timestamp[10] == "T":
        return timestamp[11:23]
    return timestamp[:12].ljust(12)


class LogView(ScrollView, can_focus=True):
    """Follows the tail while at the bottom; scrolling up pauses, End resumes."""

    COMPONENT_CLASSES = {
        "log-view--time",
        "log-view--bar",
        "log-view--stderr",
        "log-view--stderr-bar",
        "log-view--daemon",
        "log-view--partial",
        "log-view--match",
        "log-view--match-current",
        *(f"log-view--tint-{i}" for i in range(TINTS)),
    }

    DEFAULT_CSS = """
    LogView {
        scrollbar-gutter: stable;
        & > .log-view--time { color: $text-muted; }
        & > .log-view--bar { color: $text-muted; }
        & > .log-view--stderr { color: $text-warning; }
        & > .log-view--stderr-bar { color: $warning; text-style: bold; }
        & > .log-view--daemon { color: $text-error; text-style: bold; }
        & > .log-view--partial { text-style: italic; }
        & > .log-view--match { background: $warning 35%; }
        & > .log-view--match-current { background: $success; color: $background; text-style: bold; }
    }
    """

    BINDINGS = [
        Binding("end", "follow", "Follow", show=False),
        Binding("G", "follow", "Follow", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
    ]

    class FollowChanged(Message):
        """Following the tail was switched on or off (scrolling up, End)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.ring: LogRing | None = None
        self.following = True
        self.new_lines = 0  # shown lines that arrived while not following
        self.wrap = False
        self.timestamps = False
        self.task_ids = True
        self.replicas: Mapping[str, int | None] = {}
        # Service id -> tint, the grid's (model.grid.service_tints): the same service has the
        # same colour in both. A service not in it (gone) takes its name's own tint.
        self.tints: Mapping[str, int] = {}
        self.line_filter: LineFilter | None = None
        self.task_focus: str | None = None  # show only this task's lines
        self.search: LineFilter | None = None
        self.current_match: int | None = None  # seq of the line the search cursor is on
        self.redact: Callable[[str], str] | None = None
        """Masks secret-looking values in every shown or exported line (on a wall)."""
        self._rows: list[tuple[int, int]] = []  # (seq, part), from index _row0 on
        self._row0 = 0
        self._next_seq = 0  # first ring seq not looked at yet
        # Ring seq ranges [lo, hi) below _next_seq not looked at yet (deferred), oldest first;
        # each lies between the rows of older and newer lines.
        self._pending: list[tuple[int, int]] = []
        self._counted_seq = 0  # paused: lines before this seq are in new_lines already
        self._width = 0  # widest full line (cells), for horizontal scrolling
        self._cells: dict[int, int] = {}  # seq -> full line cells (wrap mode only)
        self._cache: OrderedDict[tuple[object, ...], Strip] = OrderedDict()
        self._prefixes: dict[tuple[str, str, int | None, str, bool, int | None], str] = {}
        self._head_cells: dict[str, int] = {}  # task id -> cells before the text (rebuilds)
        self._styles: dict[str, Style] = {}
        self._wrap_width = 0
        self._auto = False  # True while the view scrolls itself (not the user)
        self._base_style = Style()

    # -- data --------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows) - self._row0

    @property
    def catching_up(self) -> bool:
        """Lines of the ring are still to be taken in (deferred by a big backlog)."""
        return bool(self._pending)

    def shown_seqs(self) -> list[int]:
        """Sequence numbers of the lines shown (after filter), oldest first."""
        self.catch_up()
        return [seq for seq, part in self._rows[self._row0 :] if part == 0]

    def set_ring(self, ring: LogRing | None) -> None:
        self.ring = ring
        self.reset()

    def reset(self) -> None:
        """Forget every row and re-read the ring (after the session restarted)."""
        self.current_match = None
        self.new_lines = 0
        self._counted_seq = 0
        self._prefixes.clear()
        self._rebuild()

    def _shows(self, line: LogLine) -> bool:
        if self.task_focus is not None and line.task_id != self.task_focus:
            return False
        flt = self.line_filter
        return flt is None or flt.matches_text(line.text)

    def sync(self, *, initial: bool = False) -> int:
        """Take in what the ring gained since the last call (a big backlog while following:
        its newest lines that fill the pane, plus ``CATCH_UP_LINES`` of what was deferred);
        returns the lines added."""
        ring = self.ring
        if ring is None:
            return 0
        start = max(self._next_seq, ring.first_seq)
        total = ring.total
        if self.following and total - start > EAGER_LINES:
            cut = self._tail_start(start, total)
            if cut > start:
                self._pending.append((start, cut))
            start = cut
        new = ring.slice(start, total) if total > start else []
        self._next_seq = total
        rows, added, uncounted = self._rows_of(new)
        self._rows.extend(rows)
        added += self._catch_up(CATCH_UP_LINES)
        removed = self._trim_evicted()
        if not added and not removed:
            return 0
        self._update_virtual_size()
        if self.following:
            self._scroll_to_end()
        elif not initial:
            self.new_lines += uncounted
            if removed:
                self._scroll_by_rows(-removed)  # keep the lines being read in place
        self.refresh()
        return added

    def _rows_of(self, lines: list[LogLine]) -> tuple[list[tuple[int, int]], int, int]:
        """The rows of ``lines`` (those shown), how many lines, and how many of them
        count_new_lines has not counted yet; the widest line is noted."""
        rows: list[tuple[int, int]] = []
        added = 0
        wrap = self.wrap
        width = self._width
        uncounted = 0
        counted = self._counted_seq
        for line in lines:
            if not self._shows(line):
                continue
            added += 1
            uncounted += line.seq >= counted
            cells = self._full_cells(line)
            if cells > width:
                width = cells
            if wrap:
                self._cells[line.seq] = cells
                rows.extend((line.seq, part) for part in range(self._parts(cells)))
            else:
                rows.append((line.seq, 0))
        self._width = width
        return rows, added, uncounted

    def _tail_start(self, start: int, end: int) -> int:
        """The seq from which the lines in ``[start, end)`` the view shows fill the pane (twice
        the terminal's height, so paging up a little finds rows too)."""
        ring = self.ring
        assert ring is not None
        need = 2 * max(self.scrollable_content_region.height, self.app.size.height, 1)
        rows = 0
        hi = end
        while hi > start:
            lo = max(start, hi - max(need, 256))
            for line in reversed(ring.slice(lo, hi)):
                if self._shows(line):
                    rows += self._parts(self._full_cells(line)) if self.wrap else 1
                    if rows >= need:
                        return line.seq
            hi = lo
        return start

    def catch_up(self) -> None:
        """Take in every deferred line now (before anything that needs every row)."""
        if self._pending and self._catch_up(None):
            self._update_virtual_size()
            if self.following:
                self._scroll_to_end()
            self.refresh()

    def _catch_up(self, budget: int | None) -> int:
        """Take in up to ``budget`` deferred lines (None: all), newest first; the lines
        added. A paused view keeps showing the same lines."""
        ring = self.ring
        if not self._pending or ring is None:
            return 0
        first = ring.first_seq
        self._pending = [(max(lo, first), hi) for lo, hi in self._pending if hi > first]
        added = 0
        while self._pending and (budget is None or budget > 0):
            lo, hi = self._pending[-1]
            take = lo if budget is None else max(lo, hi - budget)
            if budget is not None:
                budget -= hi - take
            if take == lo:
                self._pending.pop()
            else:
                self._pending[-1] = (lo, take)
            rows, n, _ = self._rows_of(ring.slice(take, hi))
            if not rows:
                continue
            added += n
            at = bisect_left(self._rows, (hi, 0), lo=self._row0)
            top = self._row0 + self.scroll_offset.y
            self._rows[at:at] = rows
            if not self.following and at <= top:
                self._update_virtual_size()  # or the scroll is clamped to the old size
                self._scroll_by_rows(len(rows))  # the lines being read stay in place
        return added

    def count_new_lines(self) -> None:
        """Paused: count the lines that arrived (those the filter shows) without taking them
        in. Taking them in changes the virtual size, and Textual then repaints the whole
        pane: every visible row rewritten to the terminal, for rows below the viewport."""
        ring = self.ring
        if ring is None:
            return
        start = max(self._counted_seq, self._next_seq, ring.first_seq)
        if ring.total > start:
            self.new_lines += sum(1 for line in ring.slice(start, ring.total)
                                  if self._shows(line))
        self._counted_seq = ring.total

    def evicted_in_view(self) -> bool:
        """The ring dropped lines the viewport shows (a paused view must then catch up)."""
        top = self._top_seq()
        return self.ring is not None and top is not None and top < self.ring.first_seq

    def _trim_evicted(self) -> int:
        """Drop rows whose lines the ring no longer holds; returns how many."""
        ring = self.ring
        if ring is None:
            return 0
        first = ring.first_seq
        rows = self._rows
        n = len(rows)
        i = self._row0
        if i < n and rows[i][0] < first:
            i = bisect_left(rows, (first, 0), lo=i)  # rows are sorted: no loop over a flood
        removed = i - self._row0
        if removed:
            if self._cells:
                for seq, part in rows[self._row0 : i]:
                    if part == 0:
                        self._cells.pop(seq, None)
            self._row0 = i
            if self._row0 >= _COMPACT_AT and self._row0 * 2 >= n:
                del rows[: self._row0]
                self._row0 = 0
        return removed

    def _prefix(self, line: LogLine) -> str:
        key = (
            line.service_id,
            line.task_id,
            line.slot,
            line.node_name,
            self.task_ids,
            self.replicas.get(line.service_id),
        )
        p = self._prefixes.get(key)
        if p is None:
            p = line_prefix(line, task_ids=self.task_ids,
                            replicas=self.replicas.get(line.service_id))
            self._prefixes[key] = p
        return p

    def _text(self, line: LogLine) -> str:
        return line.text if self.redact is None else self.redact(line.text)

    def _full_cells(self, line: LogLine) -> int:
        text = self._text(line)
        cells = len(text) if text.isascii() else cell_len(text)  # isascii: a C-speed scan
        if line.stream == "daemon":
            return 29 + cells
        head = self._head_cells.get(line.task_id)
        if head is None:
            head = len(self._prefix(line)) + (13 if self.timestamps else 0)
            self._head_cells[line.task_id] = head
        return head + cells

    def _parts(self, cells: int) -> int:
        if self._wrap_width <= 0:
            return 1  # not laid out yet: on_resize rebuilds with the real width
        return max(1, -(-cells // self._wrap_width))

    def _update_virtual_size(self) -> None:
        width = self._wrap_width if self.wrap else self._width
        self.virtual_size = Size(width, self.row_count)

    # -- options -----------------------------------------------------------------------
    def set_options(
        self,
        *,
        wrap: bool | None = None,
        timestamps: bool | None = None,
        task_ids: bool | None = None,
    ) -> None:
        """Change how lines look; rows are rebuilt (wrapping depends on the line widths)."""
        if wrap is not None:
            self.wrap = wrap
        if timestamps is not None:
            self.timestamps = timestamps
        if task_ids is not None:
            self.task_ids = task_ids
        self._rebuild()

    def set_filter(self, line_filter: LineFilter | None, task_focus: str | None = None) -> None:
        self.line_filter = line_filter if line_filter is not None and line_filter.active else None
        self.task_focus = task_focus
        self._rebuild()

    def set_tints(self, tints: Mapping[str, int]) -> None:
        """The services' tints (by id); lines are repainted when they change."""
        if tints != self.tints:
            self.tints = tints
            self._cache.clear()
            self.refresh()

    def set_search(self, search: LineFilter | None) -> None:
        self.search = search if search is not None and search.active else None
        self.current_match = None
        self._cache.clear()
        self.refresh()

    def _rebuild(self) -> None:
        """Re-read every retained line, keeping the top visible line in view if paused."""
        anchor = self._top_seq()
        self._cache.clear()
        self._head_cells.clear()
        self._wrap_width = self.scrollable_content_region.width
        self._rows = []
        self._row0 = 0
        self._pending = []
        self._cells.clear()
        self._width = 0
        self._next_seq = self.ring.first_seq if self.ring is not None else 0
        self.sync(initial=True)
        self._update_virtual_size()
        if self.following:
            self._scroll_to_end()
        elif anchor is not None:
            self._scroll_to_seq(anchor, top=True)
        self.refresh()

    def _top_seq(self) -> int | None:
        y = self._row0 + self.scroll_offset.y
        return self._rows[y][0] if 0 <= y < len(self._rows) else None

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if self.wrap and width != self._wrap_width:
            self._rebuild()
        elif self.following:
            self._scroll_to_end()  # the first layout, or a taller window: still at the end

    # -- scrolling and following -------------------------------------------------------
    def _scroll_y_to(self, y: int) -> None:
        """Scroll now, as the view (not the user). ``force``: right after the rows grew the
        scrollbar is not laid out yet, and without it Textual ignores the scroll."""
        self._auto = True
        try:
            self.scroll_to(y=y, animate=False, force=True)
        finally:
            self._auto = False

    def _scroll_to_end(self) -> None:
        self._scroll_y_to(self.max_scroll_y)
        # Pin again once the new size is laid out (the scrollbar may take a row or change
        # max_scroll_y); a user who scrolled away meanwhile is not pulled back.
        self.call_after_refresh(self._repin)

    def _repin(self) -> None:
        if self.following and self.scroll_offset.y != self.max_scroll_y:
            self._scroll_y_to(self.max_scroll_y)

    def _scroll_by_rows(self, delta: int) -> None:
        self._scroll_y_to(max(0, self.scroll_offset.y + delta))

    def _row_of(self, seq: int) -> int | None:
        """Index (relative to the first shown row) of the first row of line ``seq``."""
        rows = self._rows
        lo, hi = self._row0, len(rows)
        while lo < hi:  # rows are sorted by seq
            mid = (lo + hi) // 2
            if rows[mid][0] < seq:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(rows) and rows[lo][0] == seq:
            return lo - self._row0
        return None

    def _scroll_to_seq(self, seq: int, *, top: bool = False) -> None:
        row = self._row_of(seq)
        if row is None:
            return
        height = self.scrollable_content_region.height
        y = self.scroll_offset.y
        if top:
            target = row
        elif row < y or row >= y + height:
            target = max(0, row - height // 2)
        else:
            return
        self._scroll_y_to(target)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._auto:
            return
        if new_value < old_value and round(new_value) < self.max_scroll_y and self.following:
            self._set_following(False)
        elif new_value > old_value and not self.following and round(new_value) >= self.max_scroll_y:
            # The user scrolled back down to the newest line. (Only downwards: a smaller
            # max_scroll_y after a resize clamps scroll_y down, which must not resume.)
            self._set_following(True)

    def _set_following(self, following: bool) -> None:
        if following == self.following:
            return
        self.following = following
        if not following:
            self.catch_up()  # a paused view has every row, so scrolling finds them all
        if following:
            self.new_lines = 0
        self.post_message(self.FollowChanged(following))

    def action_follow(self) -> None:
        """End: jump to the newest line and follow the tail again."""
        self._set_following(True)
        self._scroll_to_end()
        self.refresh()

    def pause(self) -> None:
        self._set_following(False)

    # -- search ------------------------------------------------------------------------
    def find(self, forward: bool = True) -> LogLine | None:
        """Move the search cursor to the next/previous shown line matching the search."""
        search, ring = self.search, self.ring
        if search is None or ring is None:
            return None
        seqs = self.shown_seqs()
        if not seqs:
            return None
        if self.current_match is not None:
            start = self.current_match
        else:
            top = self._top_seq()
            start = (top - 1 if forward else top + 1) if top is not None else seqs[0] - 1
        order = (
            [s for s in seqs if s > start] + [s for s in seqs if s <= start]
            if forward
            else [s for s in reversed(seqs) if s < start]
            + [s for s in reversed(seqs) if s >= start]
        )
        for seq in order:
            line = ring.get(seq)
            if line is not None and search.spans(line.text):
                self.current_match = seq
                self._cache.clear()
                self._set_following(False)
                self._scroll_to_seq(seq)
                self.refresh()
                return line
        return None

    def match_count(self) -> int:
        search, ring = self.search, self.ring
        if search is None or ring is None:
            return 0
        n = 0
        for seq in self.shown_seqs():
            line = ring.get(seq)
            if line is not None and search.spans(line.text):
                n += 1
        return n

    # -- export ------------------------------------------------------------------------
    def export_lines(self, everything: bool = False) -> Iterator[str]:
        """Plain text in the docker CLI's format (with the view's timestamp/task-id choice):
        the lines shown (after filters), or everything the ring holds."""
        ring = self.ring
        if ring is None:
            return
        lines = iter(ring) if everything else (ring.get(s) for s in self.shown_seqs())
        for line in lines:
            if line is not None:
                yield format_line(
                    line if self.redact is None else replace(line, text=self._text(line)),
                    timestamps=self.timestamps,
                    task_ids=self.task_ids,
                    replicas=self.replicas.get(line.service_id),
                )

    # -- painting ----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"log-view--{name}", partial=True)
            self._styles[name] = style
        return style

    def _line_strip(self, line: LogLine) -> Strip:
        current = line.seq == self.current_match
        key = (line.seq, self.timestamps, self.task_ids, current)
        strip = self._cache.get(key)
        if strip is not None:
            self._cache.move_to_end(key)
            return strip
        base = self._base_style
        segments: list[Segment] = []
        if line.stream == "daemon":
            text = f"error from daemon in stream: {self._text(line)}"
            segments.append(Segment(text, base + self._style("daemon")))
        else:
            if self.timestamps:
                segments.append(
                    Segment(short_time(line.timestamp) + " ", base + self._style("time"))
                )
            prefix = self._prefix(line)
            tint_index = self.tints.get(line.service_id)
            if tint_index is None:
                tint_index = service_tint(line.service_name)
            tint = self._style(f"tint-{tint_index}")
            segments.append(Segment(prefix[:-2], base + tint))
            if line.stream == "stderr":
                segments.append(Segment("! ", base + self._style("stderr-bar")))
                text_style = base + self._style("stderr")
            else:
                segments.append(Segment("| ", base + self._style("bar")))
                text_style = base
            if line.partial:
                text_style += self._style("partial")
            segments.extend(self._text_segments(self._text(line), text_style, current))
        strip = Strip(segments)
        self._cache[key] = strip
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return strip

    def _text_segments(self, text: str, style: Style, current: bool) -> list[Segment]:
        search = self.search
        spans = search.spans(text) if search is not None else []
        if not spans:
            return [Segment(text, style)]
        match = style + self._style("match-current" if current else "match")
        out: list[Segment] = []
        pos = 0
        for start, end in spans:
            if start > pos:
                out.append(Segment(text[pos:start], style))
            out.append(Segment(text[start:end], match))
            pos = end
        if pos < len(text):
            out.append(Segment(text[pos:], style))
        return out

    def render_lines(self, crop: Region) -> list[Strip]:
        # Widget.rich_style walks the ancestors: once per paint, not once per row.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        index = self._row0 + scroll_y + y
        ring = self.ring
        base = self._base_style
        if ring is None or not (self._row0 <= index < len(self._rows)):
            return Strip.blank(width, base)
        seq, part = self._rows[index]
        line = ring.get(seq)
        if line is None:
            return Strip.blank(width, base)
        strip = self._line_strip(line)
        if self.wrap:
            w = max(1, self._wrap_width)
            return strip.crop(part * w, (part + 1) * w).extend_cell_length(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
