"""The rolling-update timeline: a line-API widget painting the lines of
:func:`swarmtui.model.timeline_view.layout_updates`.

It lays out again only when what it shows changes: the history object (identity), the
width, the selected service, the log tails, or the second of the clock while an update is in
flight (the phase clock: "waiting out the 5 s delay (3 s left)"). Strips are cached per line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from swarmtui.model.timeline import UpdateHistory
from swarmtui.model.timeline_view import Line, UpdatesLayout, layout_updates
from swarmtui.model.times import NS_PER_S

STYLE_NAMES = ("title", "ok", "bad", "warn", "info", "dim", "key", "sel", "old")


class UpdateTimelineView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {f"timeline--{name}" for name in STYLE_NAMES}

    DEFAULT_CSS = """
    UpdateTimelineView {
        height: 1fr;
        scrollbar-gutter: stable;
        & > .timeline--title { text-style: bold; }
        & > .timeline--ok { color: $text-success; }
        & > .timeline--bad { color: $text-error; text-style: bold; }
        & > .timeline--warn { color: $text-warning; }
        & > .timeline--info { color: $text-accent; }
        & > .timeline--dim { color: $text-muted; }
        & > .timeline--key { color: $text-primary; text-style: bold; }
        & > .timeline--sel { color: $text-accent; text-style: bold; }
        & > .timeline--old { color: $text-muted; text-style: bold; }
    }
    /* NO_COLOR greys orange out: what needs a look (paused, rolled back, replacing) in bold. */
    UpdateTimelineView:nocolor {
        & > .timeline--warn { text-style: bold; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = UpdateHistory()
        self.now_ns = 0
        self.names: Mapping[str, str] = {}
        self.selected: str | None = None
        self.log_tails: Mapping[str, Sequence[str]] = {}
        self.layout_result = UpdatesLayout((), {}, ())
        self._key: tuple[object, ...] = ()
        self._strips: dict[int, Strip] = {}
        self._styles: dict[str, Style] = {}
        self._base = Style()

    def show(self, history: UpdateHistory, now_ns: int, names: Mapping[str, str],
             selected: str | None, log_tails: Mapping[str, Sequence[str]]) -> None:
        """Lay out again if anything shown changed; else nothing (not even a repaint)."""
        self.history, self.names, self.selected, self.log_tails = (
            history, names, selected, log_tails)
        self.now_ns = now_ns
        self.relayout()

    @property
    def ticking(self) -> bool:
        """Whether the clock matters: some update is still in flight."""
        return any(e and e[-1].in_progress for e in self.history.by_service.values())

    def relayout(self) -> None:
        width = max(20, self.scrollable_content_region.width or self.size.width or 80)
        second = self.now_ns // NS_PER_S if self.ticking else None
        key = (id(self.history), width, self.selected, id(self.log_tails), second,
               id(self.names))
        if key == self._key:
            return
        self._key = key
        self.layout_result = layout_updates(self.history, self.now_ns, width, self.names,
                                            self.selected, self.log_tails)
        self._strips.clear()
        self.virtual_size = Size(width, len(self.layout_result.lines))
        self.refresh()

    def on_resize(self) -> None:
        self.relayout()

    def scroll_to_service(self, service_id: str) -> None:
        block = self.layout_result.blocks.get(service_id)
        if block is not None:
            first, end = block
            self.scroll_to_region(Region(0, first, 1, max(1, min(end - first, self.size.height))),
                                  animate=False, top=True)

    # -- painting ----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def _style(self, name: str) -> Style:
        if not name:
            return self._base
        style = self._styles.get(name)
        if style is None:
            style = self._base + self.get_component_rich_style(f"timeline--{name}",
                                                               partial=True)
            self._styles[name] = style
        return style

    def _strip(self, index: int, line: Line) -> Strip:
        strip = self._strips.get(index)
        if strip is None:
            strip = Strip([Segment(text, self._style(style)) for text, style in line])
            self._strips[index] = strip
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        base = self.rich_style
        if base != self._base:
            self._base = base
            self._styles.clear()
            self._strips.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        lines = self.layout_result.lines
        if not 0 <= index < len(lines):
            return Strip.blank(width, self._base)
        return self._strip(index, lines[index]).crop_extend(scroll_x, scroll_x + width,
                                                             self._base)
