"""Screen f3: images of an engine, ``docker image ls`` style, with the services that use
each; Enter shows an image's layers as ``docker history`` prints them; ``m`` marks one and
``c`` opens another beside it (shared base layers marked, layer counts, sizes), to compare a
squashed image with its layered original.

Images come from the fleet's engines (the manager and every configured one; ``e`` goes to
the next) and, after a node probe (``p``, an operation: previewed, refused in read-only),
from every swarm node the probe reached. The screen reads through
:mod:`swarmtui.engine.images` in workers; rows come from :mod:`swarmtui.model.images`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from swarmtui.engine.client import EngineError
from swarmtui.engine.images import EngineImages, ImageSource
from swarmtui.engine.probe import ProbeConfig
from swarmtui.model.disk.render import ellipsis, tabwrite
from swarmtui.model.disk.usage import ImageItem
from swarmtui.model.images import (
    COMPARE_COLUMNS,
    HISTORY_COLUMNS,
    IMAGE_COLUMNS,
    ImageLayers,
    compare,
    compare_rows,
    history_rows,
    image_rows,
    repo_tag_text,
    summary_text,
)
from swarmtui.model.state import ClusterState
from swarmtui.ops.base import Outcome
from swarmtui.ops.images import ImagesProbeOperation, ImagesProbeResult
from swarmtui.runtime import Runtime
from swarmtui.screens.base import operation_binding
from swarmtui.screens.table import TableScreen, TableSpec, columns

IMAGES: TableSpec[ImageItem] = TableSpec(
    name="images", noun="image", columns=columns(*IMAGE_COLUMNS),
    # The rows are the screen's (an engine's images are not in the swarm's snapshot).
    rows=lambda state: [], find=lambda state, key: None,
    event_types=frozenset({"image", "service"}),
)


class LayersScreen(ModalScreen[None]):
    """One image's ``docker history``."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, source: str, image: ImageLayers, now_ns: int) -> None:
        super().__init__()
        self.source = source
        self.image = image
        self.now_ns = now_ns

    def compose(self) -> ComposeResult:
        image = self.image
        with Vertical(id="layers-box", classes="op-box"):
            yield Static(Text(f"{image.name} on {self.source}: {summary_text(image)}",
                              style="bold"), id="layers-title")
            with VerticalScroll(id="layers-body"):
                body = tabwrite([HISTORY_COLUMNS, *history_rows(image, self.now_ns)])
                yield Static(Text(body, no_wrap=True), id="layers-table")
            yield Static("esc / enter: close", classes="hint")


NARROW_COMPARE = 120  # terminal columns below which the sides are stacked


class CompareScreen(ModalScreen[None]):
    """Two images' histories side by side, the shared base marked ``=``."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, source: str, left: ImageLayers, right: ImageLayers, now_ns: int
                 ) -> None:
        super().__init__()
        self.source = source
        self.comparison = compare(left, right)
        self.now_ns = now_ns

    def compose(self) -> ComposeResult:
        cmp = self.comparison
        with Vertical(id="compare-box", classes="op-box"):
            yield Static(Text(f"{cmp.left.name} ⇄ {cmp.right.name} on {self.source}: "
                              f"{cmp.summary()}", style="bold"), id="compare-title")
            with Horizontal(id="compare-sides"):
                for side in ("left", "right"):
                    with VerticalScroll(id=f"compare-{side}-scroll", classes="compare-side"):
                        yield Static("", id=f"compare-{side}")
            yield Static("esc / enter: close", classes="hint")

    def on_resize(self) -> None:
        self.call_after_refresh(self._fill)

    def on_mount(self) -> None:
        self.call_after_refresh(self._fill)

    def _fill(self) -> None:
        cmp = self.comparison
        # Narrow terminals: one history above the other (half of 80 columns fits no row).
        stacked = self.size.width < NARROW_COMPARE
        sides = self.query_one("#compare-sides")
        sides.set_class(stacked, "-stacked")
        # What the box leaves (its border, padding, a scroll bar), whole or halved.
        inner = sides.size.width or self.size.width - 6
        room = max(20, (inner if stacked else inner // 2) - 3)
        for side, image, shared in (("left", cmp.left, cmp.left_shared),
                                    ("right", cmp.right, cmp.right_shared)):
            lines = side_by_side_table(image, shared, self.now_ns, room)
            head = f"{image.name}\n{summary_text(image)}\n\n"
            self.query_one(f"#compare-{side}", Static).update(Text(head + lines, no_wrap=True))


def side_by_side_table(image: ImageLayers, shared: Sequence[bool], now_ns: int, room: int
                       ) -> str:
    """One side's table, fitted to ``room`` cells: CREATED BY takes what the other columns
    leave (at least 8); too narrow for that, CREATED goes first."""
    full = compare_rows(image, shared, now_ns, 10**6)
    header: tuple[str, ...] = COMPARE_COLUMNS
    if room < 60:  # a half of 80 columns: keep IMAGE and SIZE, drop the age
        full = [(r[0], r[2], r[3], r[4]) for r in full]
        header = (header[0], header[2], header[3], header[4])
    by = header.index("CREATED BY")
    others = sum(max(len(h), *(len(r[i]) for r in full)) + 3
                 for i, h in enumerate(header) if i != by)
    width = max(8, room - others)
    rows = [tuple(ellipsis(c, width) if i == by else c for i, c in enumerate(r)) for r in full]
    return tabwrite([header, *rows], minwidth=1)


class ImagesScreen(TableScreen[ImageItem]):
    SPEC = IMAGES
    NEEDS_SWARM = False

    BINDINGS: ClassVar = [
        Binding("enter", "layers", "Layers"),
        Binding("m", "mark", "Mark"),
        Binding("c", "compare", "Compare with marked"),
        Binding("e", "next_source", "Next engine"),
        Binding("r", "reload", "Refresh"),
        operation_binding("p", "probe", "Probe nodes…"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.sources: list[ImageSource] = []
        self.source_index = 0
        self.images: tuple[ImageItem, ...] = ()
        self.error: str | None = None
        self.loading = False
        self.marked: str | None = None
        self._layers: dict[tuple[str, str], ImageLayers] = {}

    def body(self) -> ComposeResult:
        yield Static("", id="images-info")
        yield from super().body()

    def on_mount(self) -> None:
        self.sources = [EngineImages(e) for e in self.runtime.fleet.engines]
        super().on_mount()
        self.load()

    @property
    def source(self) -> ImageSource | None:
        return self.sources[self.source_index] if self.sources else None

    # -- rendering ----------------------------------------------------------------------
    def show_state(self, state: ClusterState) -> None:
        self.table.show_rows(image_rows(self.images, state.services.values(),
                                        self.runtime.clock_ns()))
        self._show_info()

    def _show_info(self) -> None:
        source = self.source
        bits = [f"engine {source.name} ({self.source_index + 1}/{len(self.sources)}, e: next)"
                if source is not None else "no engine"]
        if self.loading:
            bits.append("reading images…")
        elif self.error is not None:
            bits.append(f"[red]{Text(self.error).markup}[/red]")
        else:
            bits.append(f"{len(self.images)} image(s)")
        marked = self._item(self.marked)
        if marked is not None:
            bits.append(f"marked: {Text(repo_tag_text(marked)).markup} (c: compare)")
        self.query_one("#images-info", Static).update("  ·  ".join(bits))

    def _item(self, image_id: str | None) -> ImageItem | None:
        return next((i for i in self.images if i.id == image_id), None)

    def _find(self, key: str | None) -> ImageItem | None:
        if key is None:
            self.notify("No images to choose from.", severity="warning")
            return None
        found = self._item(key)
        if found is None:
            self.notify("That image is gone.", severity="warning")
        return found

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_layers()

    # -- reading ------------------------------------------------------------------------
    @work(exclusive=True, group="images-load")
    async def load(self) -> None:
        source = self.source
        if source is None:
            return
        self.loading = True
        self._show_info()
        try:
            images = await source.images()
        except EngineError as exc:
            self.images, self.error = (), str(exc)
        else:
            self.images, self.error = images, None
        finally:
            self.loading = False
        if source is self.source:
            self.show_state(self.state)

    async def _layers_of(self, image_id: str) -> ImageLayers | None:
        source = self.source
        if source is None:
            return None
        key = (source.name, image_id)
        if key not in self._layers:
            try:
                self._layers[key] = await source.layers(image_id)
            except EngineError as exc:
                self.notify(f"{image_id[7:19]}: {exc}", severity="error")
                return None
        return self._layers[key]

    # -- actions ------------------------------------------------------------------------
    def action_next_source(self) -> None:
        if len(self.sources) > 1:
            self.source_index = (self.source_index + 1) % len(self.sources)
            self.images, self.marked = (), None
            self.show_state(self.state)
            self.load()

    def action_reload(self) -> None:
        self._layers.clear()
        self.load()

    def action_mark(self) -> None:
        item = self.selected()
        if item is not None:
            self.marked = None if self.marked == item.id else item.id
            self._show_info()

    @work(exclusive=True, group="images-layers")
    async def action_layers(self) -> None:
        item = self.selected()
        source = self.source
        if item is None or source is None:
            return
        image = await self._layers_of(item.id)
        if image is not None:
            await self.app.push_screen_wait(LayersScreen(source.name, image,
                                                         self.runtime.clock_ns()))

    @work(exclusive=True, group="images-layers")
    async def action_compare(self) -> None:
        item = self.selected()
        source = self.source
        if item is None or source is None:
            return
        if self.marked is None or self._item(self.marked) is None:
            self.notify("Mark an image first (m), then compare another with it (c).",
                        severity="warning")
            return
        if self.marked == item.id:
            self.notify("That is the marked image: choose another to compare with it.",
                        severity="warning")
            return
        left = await self._layers_of(self.marked)
        right = await self._layers_of(item.id)
        if left is not None and right is not None:
            await self.app.push_screen_wait(CompareScreen(source.name, left, right,
                                                          self.runtime.clock_ns()))

    def action_probe(self) -> None:
        settings = self.runtime.settings
        config = ProbeConfig(settings.probe_image, settings.probe_socket)
        self.run_operation(ImagesProbeOperation(self.runtime.live.client, config,
                                                sorted(self.runtime.fleet.covered_ids())),
                           verb="Probe")

    def after_outcome(self, outcome: Outcome) -> None:
        result: Any = outcome.detail
        if not isinstance(result, ImagesProbeResult):
            return
        names = {s.name for s in result.sources}
        self.sources = [s for s in self.sources if s.name not in names] + list(result.sources)
        self.source_index = min(self.source_index, len(self.sources) - 1)
        self._layers = {k: v for k, v in self._layers.items() if k[0] not in names}
        self._show_info()
        if result.sources:
            self.notify(f"{len(result.sources)} node(s) probed: e goes through them.")
