"""Screen 4: disk usage per engine (``docker system df``) and safe prune.

One panel per engine (the manager and every ``--engine`` / engines.toml one): images,
containers, local volumes and build cache with TOTAL, ACTIVE, SIZE, RECLAIMABLE (with %) and
a usage bar, the data's age, "refreshing…" while df runs; ``v`` shows the ``-v`` tables.
Swarm nodes that no engine covers are listed with how to add them. ``p`` prunes on the
selected engine, ``P`` on every reachable one: choose, preview, confirm, result.

``a`` probes every node (a node probe: a short-lived global service that asks each node's
own engine, :mod:`swarmtui.ops.probe`): previewed and confirmed like any change; the
preview says that ``R`` (and ``r`` on a probed panel) re-runs it for the rest of the session
without asking again, which confirming agrees to. Probed nodes get panels like engines,
marked "via probe" with the read time; the fleet keeps their answers.

Nothing here talks to an engine: the runtime's :class:`~swarmtui.engine.disk.DiskFleet` does,
in workers and background tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.engine.disk import DiskEngine, DiskFleet, EngineSnapshot, FleetState
from swarmtui.engine.probe import DF_REQUESTS, ProbeConfig
from swarmtui.model.disk.render import render_df_verbose
from swarmtui.model.disk.view import (
    PanelRow,
    cli_style_for,
    coverage_text,
    format_age_s,
    panel_rows,
)
from swarmtui.model.state import ClusterState
from swarmtui.ops.base import Outcome
from swarmtui.ops.probe import ProbeOperation, ProbeResult
from swarmtui.ops.prune import PruneOperation
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen, operation_binding
from swarmtui.screens.confirm_prune import PruneChooser

BAR_WIDTH = 24  # the usage bar when the panel has room
MIN_BAR_WIDTH = 8  # narrower than this says nothing the RECLAIMABLE % does not: drop it
_TABLE_HEADERS = ("    TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE")
_COLUMN_GAP = 4  # padding=(0, 2) on both sides of every inner column edge


def bar_width(rows: list[PanelRow], room: int | None) -> int:
    """The widest bar (up to BAR_WIDTH) that leaves every table column whole in ``room``
    cells; 0 (no bar column) below MIN_BAR_WIDTH. ``room`` None: not laid out yet."""
    if room is None:
        return BAR_WIDTH
    cells = [
        (f"    {r.type}", r.total, r.active, r.size, r.reclaimable) for r in rows
    ]
    text_width = sum(
        max(cell_len(h), *(cell_len(c[i]) for c in cells))
        for i, h in enumerate(_TABLE_HEADERS)
    ) + _COLUMN_GAP * len(_TABLE_HEADERS)
    width = min(BAR_WIDTH, room - text_width)
    return width if width >= MIN_BAR_WIDTH else 0




PROBE_KEY = "a"
PROBE_NOTE = ("Confirming also lets R (and r on a probed node) re-run this probe without "
              "asking again for the rest of this session.")


def probe_clock(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%H:%M:%S UTC")


def _cannot_prune(engine: EngineSnapshot) -> str | None:
    """Why ``engine`` cannot be pruned now (None when it can)."""
    if engine.probed:
        return ("it was read through a node probe, which only reads; prune needs an engine "
                "configured for the node (--engine NAME=URL)")
    if engine.duplicate_of is not None:
        return f"it is the same swarm node as {engine.duplicate_of}, prune there"
    if engine.connect_error is not None:
        return f"unreachable ({engine.connect_error})"
    if not engine.reachable:
        return "still connecting, try again in a moment"
    return None


class DiskChanged(Message):
    """The fleet published a new snapshot (read it from ``fleet.store.state``)."""


def panel_renderable(
    engine: EngineSnapshot,
    *,
    now_ns: int,
    verbose: bool,
    selected: bool,
    width: int | None = None,
    no_color: bool = False,
) -> RenderableType:
    """One engine's panel, ``width`` cells wide (None: as wide as it likes). A narrow panel
    shrinks the usage bar, then drops it, before any table column is cut. ``no_color``
    (NO_COLOR): errors in bold reverse, as red would turn the faintest grey."""
    error_style = "bold reverse" if no_color else "red"
    ident = engine.identity
    head = Text()
    head.append("▶ " if selected else "  ", style="bold")
    head.append(engine.name, style="bold")
    bits = []
    if ident is not None:
        if ident.node_id:
            role = "manager" if ident.is_manager else "worker"
            host = f" {ident.hostname}" if ident.hostname != engine.name else ""
            bits.append(f"{role}{host}")
        else:
            bits.append("not in a swarm")
    bits.append(engine.url)
    if engine.probed_ns is not None:
        bits.append(f"via probe {probe_clock(engine.probed_ns)}")
    if ident is not None:
        bits.append(f"Docker {ident.engine_version.split('+')[0]} · API {ident.api_version}")
    df = engine.df
    if df.fetched_ns is not None:
        bits.append(f"data {format_age_s((now_ns - df.fetched_ns) / 1e9)} old")
    head.append("  " + " · ".join(bits), style="dim")
    if df.refreshing:
        head.append("  refreshing…", style="bold yellow")
    parts: list[RenderableType] = [head]
    if engine.duplicate_of is not None:
        parts.append(Text(f"    same swarm node as {engine.duplicate_of}: shown once", "dim"))
        return Group(*parts)
    if engine.connect_error is not None and df.usage is None:
        parts.append(Text(f"    unreachable: {engine.connect_error}", error_style))
        return Group(*parts)
    if df.error is not None:
        when = ""
        if df.usage is not None and df.fetched_ns is not None:
            when = f" (showing data from {format_age_s((now_ns - df.fetched_ns) / 1e9)} ago)"
        parts.append(Text(f"    last df failed: {df.error}{when}", error_style))
    usage = df.usage
    if usage is None:
        if df.error is None:
            parts.append(Text("    reading disk usage…", "dim"))
        return Group(*parts)
    table = Table(box=None, padding=(0, 2), pad_edge=False, show_edge=False)
    table.add_column(_TABLE_HEADERS[0], no_wrap=True)
    for name in _TABLE_HEADERS[1:]:
        table.add_column(name, justify="right", no_wrap=True)
    bar_cells = bar_width(panel_rows(usage.rows(), BAR_WIDTH), width)
    if bar_cells:
        table.add_column(
            "IN USE / RECLAIMABLE" if bar_cells >= 20 else "USAGE", no_wrap=True
        )
    for row in panel_rows(usage.rows(), bar_cells or BAR_WIDTH):
        cells: list[RenderableType] = [
            "    " + row.type, row.total, row.active, row.size, row.reclaimable
        ]
        if bar_cells:
            bar = Text()
            bar.append("█" * row.used_cells, style="cyan")
            bar.append("░" * row.reclaimable_cells, style="yellow")
            bar.append("·" * (row.width - row.used_cells - row.reclaimable_cells), style="dim")
            cells.append(bar)
        table.add_row(*cells)
    parts.append(table)
    if verbose:
        text = render_df_verbose(usage, now_ns / 1e9, style=cli_style_for(usage.api_version))
        parts.append(Text(text, no_wrap=True, overflow="crop"))
    return Group(*parts)


class EnginePanel(Static):
    """A panel; rendered by the screen."""

    def __init__(self, index: int) -> None:
        super().__init__("", classes="engine-panel")
        self.index = index
        self.key: object = None


class DiskScreen(SwarmScreen):
    SCREEN_NAME = "disk"
    NEEDS_SWARM = False

    BINDINGS: ClassVar = [
        Binding("down,j", "select(1)", "Next engine", show=False),
        Binding("up,k", "select(-1)", "Previous engine", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("R", "refresh_all", "Refresh all"),
        Binding("v", "toggle_verbose", "-v tables"),
        operation_binding("p", "prune", "Prune"),
        operation_binding("P", "prune_all", "Prune every engine"),
        operation_binding(PROBE_KEY, "probe_nodes", "Probe all nodes"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.selected = 0
        self.verbose = False
        self.busy: str | None = None
        self._unsubscribe: object = None

    # -- wiring -------------------------------------------------------------------------
    @property
    def fleet(self) -> DiskFleet:
        return self.runtime.fleet

    def body(self) -> ComposeResult:
        yield Static("", id="disk-info")
        with VerticalScroll(id="disk-panels"):
            for i, _ in enumerate(self.fleet.engines):
                yield EnginePanel(i)
            yield Static("", id="disk-uncovered")

    def on_mount(self) -> None:
        fleet = self.fleet
        def changed() -> None:
            self.post_message(DiskChanged())

        self._unsubscribe = fleet.subscribe(changed)
        fleet.start(self.runtime.live.store)
        self.set_interval(1.0, self.render_panels)
        super().on_mount()
        self.query_one("#disk-panels").focus()

    def on_unmount(self) -> None:
        if callable(self._unsubscribe):
            self._unsubscribe()

    def on_disk_changed(self, _: DiskChanged) -> None:
        self.render_panels()

    # -- rendering ----------------------------------------------------------------------
    def show_state(self, state: ClusterState) -> None:
        # The fleet follows the swarm itself (nodes for coverage, prunes re-read df): here
        # there is only the fleet's snapshot to draw.
        self.render_panels()

    def _sync_panels(self, count: int) -> list[EnginePanel]:
        """One panel per engine of the snapshot (a node probe adds engines)."""
        panels = list(self.query(EnginePanel))
        if len(panels) < count:
            new = [EnginePanel(i) for i in range(len(panels), count)]
            self.query_one("#disk-panels", VerticalScroll).mount_all(
                new, before="#disk-uncovered")
            panels += new
            # Drawn again once laid out: more panels may bring a scrollbar, less room.
            self.call_after_refresh(self.render_panels)
        for panel in panels[count:]:
            panel.remove()
        return panels[:count]

    def render_panels(self) -> None:
        """Draw ``fleet.store.state``; sends nothing to any engine."""
        if not self.is_mounted or not self.is_current:
            return  # a hidden screen catches up when it is shown again (show_state)
        fleet: FleetState = self.fleet.store.state
        now = self.runtime.clock_ns()
        panels = self._sync_panels(len(fleet.engines))
        if panels:
            self.selected = max(0, min(self.selected, len(panels) - 1))
        room = self._panel_room(panels)
        for panel in panels:
            if panel.index >= len(fleet.engines):
                continue
            engine = fleet.engines[panel.index]
            selected = panel.index == self.selected
            key = (
                engine,
                selected,
                self.verbose,
                (now - engine.df.fetched_ns) // 1_000_000_000 if engine.df.fetched_ns else None,
                room,
            )
            if key != panel.key:
                panel.key = key
                panel.update(
                    panel_renderable(
                        engine,
                        now_ns=now,
                        verbose=self.verbose,
                        selected=selected,
                        width=room,
                        no_color=self.app.no_color,
                    )
                )
            panel.set_class(selected, "-selected")
        reachable = len(fleet.reachable)
        info = [
            f"{len(fleet.active)} engine(s), {reachable} reachable",
            f"df every {format_age_s(fleet.interval_s)}",
            "-v tables on" if self.verbose else "-v tables off (v)",
        ]
        probed = sum(1 for e in fleet.engines if e.probed)
        if probed:
            info.append(f"{probed} node(s) via probe")
        if fleet.probing:
            info.append("[b]probing nodes…[/b]")
        if self.busy:
            info.append(f"[b]{self.busy}[/b]")
        if fleet.config_error:
            info.append(f"[red]config: {fleet.config_error}[/red]")
        self.query_one("#disk-info", Static).update("  ·  ".join(info))
        can_probe = self.runtime.executor.can_execute and self.state.is_swarm_manager
        hint = coverage_text(fleet.uncovered, dict(fleet.not_probed),
                             f"press {PROBE_KEY} to probe every node through the swarm"
                             if can_probe else "")
        uncovered = self.query_one("#disk-uncovered", Static)
        uncovered.update(Text(hint))
        uncovered.display = bool(hint)

    def _panel_room(self, panels: list[EnginePanel]) -> int | None:
        """Cells inside a panel (the scroll area less the panel's border and padding)."""
        width = self.query_one("#disk-panels", VerticalScroll).scrollable_content_region.width
        if not width or not panels:
            return None
        return max(0, width - panels[0].styles.gutter.width)

    def on_resize(self) -> None:
        self.render_panels()

    # -- actions ------------------------------------------------------------------------
    def _selected_engine(self) -> DiskEngine | None:
        engines = self.fleet.all_engines()
        return engines[self.selected] if 0 <= self.selected < len(engines) else None

    def action_select(self, step: int) -> None:
        count = len(self.fleet.all_engines())
        if count:
            self.selected = (self.selected + step) % count
            self.render_panels()
            panels = list(self.query(EnginePanel))
            if panels:
                panels[self.selected].scroll_visible()

    def action_refresh(self) -> None:
        engine = self._selected_engine()
        if engine is not None and engine.probe_node_id:
            self._reprobe() if self.fleet.probe_confirmed else self.notify(
                f"{engine.name} was read through a node probe: press {PROBE_KEY} to probe again.")
        elif engine is not None:
            engine.refresh()

    def action_refresh_all(self) -> None:
        self.fleet.refresh()
        if self.fleet.probe_confirmed:
            self._reprobe()

    # -- node probes --------------------------------------------------------------------
    def _probe_operation(self) -> ProbeOperation | None:
        client = self.fleet.manager_client()
        if client is None:
            self.notify("No swarm manager among the engines: node probes run on a manager.",
                        severity="error")
            return None
        settings = self.runtime.settings
        return ProbeOperation(client, ProbeConfig(settings.probe_image, settings.probe_socket),
                              DF_REQUESTS, purpose="disk usage",
                              skip_node_ids=sorted(self.fleet.covered_ids()), note=PROBE_NOTE)

    def action_probe_nodes(self) -> None:
        """Preview -> confirm -> probe -> outcome; the answers go to the fleet."""
        operation = self._probe_operation()
        if operation is not None:
            self.run_operation(operation, verb="Probe")

    def after_outcome(self, outcome: Outcome) -> None:
        if isinstance(outcome.detail, ProbeResult):
            self.fleet.probe_confirmed = True  # the preview said so (PROBE_NOTE)
            self._apply_probe(outcome.detail)

    @work(exclusive=True, group="probe-apply")
    async def _apply_probe(self, result: ProbeResult) -> None:
        await self.fleet.apply_probe(result.run.nodes, result.reasons(),
                                     clock_ns=self.runtime.clock_ns)

    @work(exclusive=True, group="probe")
    async def _reprobe(self) -> None:
        """Probe again without a preview: the user agreed to it this session (PROBE_NOTE).
        Still through the executor, so read-only mode refuses it there too."""
        operation = self._probe_operation()
        if operation is None:
            return
        executor = self.runtime.executor
        self.fleet.set_probing(True)
        try:
            plan = await executor.plan(operation)
            outcome = await executor.execute(plan)
        except EngineError as exc:
            self.notify(f"Node probe: {exc}", severity="error")
            return
        finally:
            self.fleet.set_probing(False)
        if isinstance(outcome.detail, ProbeResult):
            await self.fleet.apply_probe(outcome.detail.run.nodes, outcome.detail.reasons(),
                                         clock_ns=self.runtime.clock_ns)
        problems = ([outcome.refused] if outcome.refused else []) + list(outcome.errors)
        if problems:
            self.notify(f"Node probe: {'; '.join(problems)}", severity="error")

    def action_toggle_verbose(self) -> None:
        self.verbose = not self.verbose
        self.render_panels()

    def action_prune(self) -> None:
        engine = self._selected_engine()
        if engine is None:
            self.notify("No engine to prune on.", severity="error")
            return
        shown = self.fleet.store.state.engines
        why_not = _cannot_prune(shown[self.selected] if self.selected < len(shown)
                                else engine.snapshot())
        if why_not:
            self.notify(f"Cannot prune on {engine.name}: {why_not}", severity="error")
            return
        self.prune_flow([engine])

    def action_prune_all(self) -> None:
        engines = self.fleet.reachable()
        if not engines:
            self.notify("No engine is reachable.", severity="error")
            return
        self.prune_flow(engines)

    def operation_busy(self, text: str | None) -> None:
        self.busy = text
        self.render_panels()

    @work(exclusive=True, group="prune")
    async def prune_flow(self, engines: list[DiskEngine]) -> None:
        """Choose what to prune, then preview -> confirm -> prune -> result as every
        operation does. Cancel at any step changes nothing."""
        where = engines[0].name if len(engines) == 1 else f"{len(engines)} engines"
        choice = await self.app.push_screen_wait(PruneChooser(where))
        if choice is None:
            return
        kind, options = choice
        self.run_operation(PruneOperation(self.fleet, engines, kind, options), verb="Prune")
