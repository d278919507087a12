"""View f2: every node's engine metrics (``dockerd --metrics-addr``), one panel per node.

Per node: container states, health-check failures (a rate), container action latencies
(mean and a small per-bucket histogram); on managers the swarm figures: nodes and tasks by
state, raft and store latencies, the dispatcher's scheduling delay. Each figure keeps a short
history drawn as a sparkline.

Where the figures come from: nodes given with ``--metrics NODE=HOST:PORT`` (or ``[metrics]``
in engines.toml) are read directly; the others through a node probe on the host network
(``p``: an operation, previewed and confirmed the first time, refused in read-only mode;
after that every period probes again). Everything is read every :attr:`PERIOD_S` seconds
*only while this view is shown*: a hidden view reads nothing.

A kiosk is read-only, so it reads configured endpoints only. ``--demo`` configures its
simulated nodes' endpoints (EngineTarget.metrics; worker-1 has none): the demo and ``--kiosk
--demo`` show figures without a key press, and the first probe is still previewed.

Nothing here talks to an engine: the runtime's
:class:`~swarmtui.engine.metrics.MetricsFleet` and the executor do, in workers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from swarmtui.engine.client import EngineError
from swarmtui.engine.metrics import PROBE_REQUESTS, MetricsFleet
from swarmtui.model.metrics import (
    CONTAINER_STATES,
    HOW_TO_ENABLE,
    NODE_STATES,
    TASK_STATES,
    MetricsBoard,
    NodeMetrics,
    bucket_strip,
    format_count,
    format_rate,
    format_seconds,
    gauge,
    interval_means,
    plausible_seconds,
    rates,
    sparkline,
)
from swarmtui.model.state import ClusterState
from swarmtui.ops.base import Outcome
from swarmtui.ops.probe import ProbeOperation, ProbeResult
from swarmtui.runtime import Runtime
from swarmtui.screens.base import SwarmScreen, operation_binding

SPARK_WIDTH = 20
RUNNING_FIRST = ("running", *(s for s in TASK_STATES if s != "running"))
LABEL_WIDTH = 15
FIGURES_WIDTH = 46  # the sparklines start in one column
MIN_FIGURES = 34  # an action's count, mean and bucket strip
NOTE_WIDTH = 11  # " failed/min"
PANEL_GUTTER = 3  # a panel's border and padding (styles/metrics.tcss)
STORE_NAMES = {"batch_latency": "batch", "lookup_latency": "lookup", "read_tx_latency": "read tx",
               "write_tx_latency": "write tx", "memory_store_lock_duration": "lock"}
PROBE_HINT = ("press p to read them through a node probe (a host-network service, "
              "previewed first), or give the node's endpoint with --metrics NODE=HOST:PORT")
READ_ONLY_HINT = ("read-only mode: node probes are off; give the node's endpoint with "
                  "--metrics NODE=HOST:PORT")


def _age(now_s: float, at_s: float) -> str:
    secs = max(int(now_s - at_s), 0)
    return f"{secs}s ago" if secs < 120 else f"{secs // 60}m ago"


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths of one panel: figures, sparkline (0: none) and its note."""

    figures: int = FIGURES_WIDTH
    spark: int = SPARK_WIDTH
    notes: bool = True

    @classmethod
    def fit(cls, width: int | None) -> Layout:
        """The widest layout for a panel ``width`` cells wide (None: not laid out yet). A
        narrow panel drops the notes, then narrows the figures, then the sparklines."""
        if width is None:
            return cls()
        room = width - 2 - LABEL_WIDTH
        figures = min(FIGURES_WIDTH, max(room - 2 - SPARK_WIDTH - NOTE_WIDTH, MIN_FIGURES))
        spark = max(min(SPARK_WIDTH, room - figures - 2), 0)
        return cls(figures, spark if spark >= 6 else 0,
                   room >= figures + 2 + spark + NOTE_WIDTH)


def _line(label: str, figures: str, layout: Layout, spark: str = "", note: str = "") -> Text:
    out = Text("  ", no_wrap=True, overflow="ellipsis")
    out.append(f"{label:<{LABEL_WIDTH}}", style="bold")
    if layout.spark and spark:
        out.append(f"{figures:<{layout.figures}}  ")
        out.append(spark[-layout.spark:], style="cyan")
        if note and layout.notes:
            out.append(f" {note}", style="dim")
    else:
        out.append(figures)
    return out


def _states(values: Mapping[str, float], order: tuple[str, ...], always: int) -> str:
    """``state count`` pairs: the first ``always`` states of ``order`` even at 0, then every
    other non-zero one (in ``order``, then by name)."""
    shown = [s for i, s in enumerate(order) if s in values and (i < always or values[s])]
    shown += sorted(s for s in values if s not in order and values[s])
    return "  ".join(f"{s} {format_count(values[s])}" for s in shown)


def node_panel(node: NodeMetrics, *, now_s: float, can_probe: bool,
               width: int | None = None) -> RenderableType:
    """One node's panel, ``width`` cells wide (pure: the board's figures as text)."""
    layout = Layout.fit(width)
    head = Text()
    head.append(node.hostname, style="bold")
    last = node.last
    bits = [node.role]
    if last is not None:
        if last.is_leader:
            bits[0] += ", leader"
        if last.version:
            bits.append(f"Docker {last.version.split('+')[0]}")
        if last.cpus is not None:
            bits.append(f"{format_count(last.cpus)} CPUs")
        if last.memory_bytes:
            bits.append(f"{last.memory_bytes / 2**30:.1f} GiB")
    if node.source:
        bits.append("via probe" if node.source == "probe" else node.source)
    if node.readings:
        bits.append(f"read {_age(now_s, node.readings[-1].at_s)}")
    head.append("  " + " · ".join(bits), style="dim")
    parts: list[RenderableType] = [head]
    if node.error is not None:
        parts.append(Text(f"  {node.error}", style="red"))
    if last is None:
        if node.error is None:
            parts.append(Text(f"  no metrics yet: {PROBE_HINT if can_probe else READ_ONLY_HINT}",
                              style="dim"))
            parts.append(Text(f"  without an endpoint: {HOW_TO_ENABLE}", style="dim"))
        return Group(*parts)
    r = node.readings
    parts.append(_line("containers", _states(last.containers, CONTAINER_STATES, 3), layout,
                       sparkline(gauge(r, "containers", "running"), SPARK_WIDTH), "running"))
    failed = rates(r, "health_checks_failed")
    parts.append(_line(
        "health checks",
        f"failed {format_rate(failed[-1] if failed else None)} "
        f"({format_count(last.health_checks_failed)} of {format_count(last.health_checks)})",
        layout,
        sparkline(failed, SPARK_WIDTH), "failed/min"))
    for action, h in sorted(last.actions.items()):
        means = interval_means(r, "actions", action)
        parts.append(_line(
            f"  {action}", f"{format_count(h.count):>5} × {format_seconds(h.mean):>8}  "
            f"[{bucket_strip(h)}]", layout, sparkline(means, SPARK_WIDTH), "mean"))
    if not last.is_manager:
        return Group(*parts)
    parts.append(_line("swarm nodes", _states(last.swarm_nodes, NODE_STATES, 2), layout,
                       sparkline(gauge(r, "swarm_nodes", "ready"), SPARK_WIDTH), "ready"))
    parts.append(_line("swarm tasks", _states(last.swarm_tasks, RUNNING_FIRST, 1), layout,
                       sparkline(gauge(r, "swarm_tasks", "running"), SPARK_WIDTH), "running"))
    for label, pick in (("raft tx", "raft_transaction"), ("raft snapshot", "raft_snapshot")):
        h = getattr(last, pick)
        if h is not None:
            parts.append(_line(label, f"{format_count(h.count):>5} × {format_seconds(h.mean):>8}",
                               layout, sparkline(interval_means(r, pick), SPARK_WIDTH), "mean"))
    store = "  ".join(f"{STORE_NAMES.get(k, k)} {format_seconds(h.mean)}"
                      for k, h in sorted(last.store.items()))
    if store:
        parts.append(_line("store", store, layout))
    delay = plausible_seconds(last.scheduling_delay)
    if delay is not None:
        parts.append(_line("scheduling", f"{format_count(delay.count):>5} × "
                                         f"{format_seconds(delay.mean):>8}", layout))
    return Group(*parts)


class MetricsScreen(SwarmScreen):
    SCREEN_NAME = "metrics"
    NEEDS_SWARM = False
    PERIOD_S: ClassVar[float] = 10.0

    BINDINGS: ClassVar[list[Any]] = [
        operation_binding("p", "probe", "Probe nodes"),
        ("r", "refresh", "Read now"),
    ]

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._timer: Timer | None = None
        self._probing = False
        self._reading = False
        self._probed_at = 0.0
        """The user confirmed a metrics probe: every period probes again (no preview)."""

    @property
    def fleet(self) -> MetricsFleet:
        return self.runtime.metrics

    def body(self) -> ComposeResult:
        yield Static("", id="metrics-info", classes="hint")
        yield Static("No swarm nodes listed and no --metrics endpoint given: nothing to read.",
                     id="metrics-empty", classes="hint")
        yield VerticalScroll(id="metrics-panels")

    # -- the period: only while shown ------------------------------------------------------
    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self._timer is None:
            self._timer = self.set_interval(self.PERIOD_S, self._tick)
        self._tick()

    def on_screen_suspend(self) -> None:
        # No new reads while hidden; a read under way finishes (a probe must remove its
        # service), it draws nothing while the view is hidden.
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_refresh(self) -> None:
        """``r``: read now (the endpoints, and the probe once confirmed)."""
        self._refresh(force=True)

    def _tick(self) -> None:
        self._refresh(force=False)

    def _refresh(self, *, force: bool) -> None:
        if not self.is_current or self._reading:
            return  # a slow probe: the next period starts after it, not beside it
        self._reading = True
        self._read(force)

    @work(group="metrics-read")
    async def _read(self, force: bool) -> None:
        try:
            await self._read_once(force)
        finally:
            self._reading = False

    async def _read_once(self, force: bool) -> None:
        fleet = self.fleet
        self._sync_nodes(self.state)
        self.show_board(fleet.set_reading(True))
        try:
            await fleet.read_direct()
            # A probe is a service on the swarm: not again sooner than a period after the
            # last one (back from its outcome, the view would probe twice at once).
            due = time.monotonic() - self._probed_at >= self.PERIOD_S * 0.9
            if self._probing and self.runtime.executor.can_execute and (force or due):
                self._probed_at = time.monotonic()
                await self._probe_again()
        finally:
            self.show_board(fleet.set_reading(False))

    async def _probe_again(self) -> None:
        executor = self.runtime.executor
        try:
            plan = await executor.plan(self._operation())
            outcome = await asyncio.shield(self.fleet.keep(executor.execute(plan)))
        except EngineError as exc:
            self.show_board(self.fleet.set_reading(True, f"probe failed: {exc}"))
            return
        self._apply(outcome)

    def _operation(self) -> ProbeOperation:
        fleet = self.fleet
        skip = [n.id for n in self.state.nodes.values() if n.hostname in fleet.urls]
        return ProbeOperation(self.runtime.live.client, fleet.probe_config(), PROBE_REQUESTS,
                              purpose="engine metrics", skip_node_ids=skip)

    def _apply(self, outcome: Outcome) -> None:
        result = outcome.detail
        if isinstance(result, ProbeResult):
            self.fleet.apply_probe(result.run, [(n.hostname, why)
                                                for n, why in result.plan.not_covered])
        note = "; ".join(outcome.errors)
        self.show_board(self.fleet.set_reading(self.fleet.board.reading, note))

    # -- the probe, an operation -----------------------------------------------------------
    def action_probe(self) -> None:
        self.run_operation(self._operation(), verb="Probe")

    def after_outcome(self, outcome: Outcome) -> None:
        if isinstance(outcome.detail, ProbeResult):
            self._probing = True
            self._probed_at = time.monotonic()
            self._apply(outcome)

    # -- drawing ---------------------------------------------------------------------------
    def on_resize(self) -> None:
        self.call_after_refresh(lambda: self.show_board(self.fleet.board))

    def _sync_nodes(self, state: ClusterState) -> None:
        nodes = sorted(state.nodes.values(), key=lambda n: (n.role != "manager", n.hostname))
        self.fleet.set_nodes([(n.hostname, n.role) for n in nodes])

    def show_state(self, state: ClusterState) -> None:
        self._sync_nodes(state)
        self.show_board(self.fleet.board)

    def show_board(self, board: MetricsBoard) -> None:
        if not self.is_mounted or not self.is_current:
            return  # drawn again when shown (on_screen_resume)
        found = self.query("#metrics-info").results(Static)
        info = next(found, None)
        if info is None:
            return  # not composed yet, or the app is closing
        direct = len(self.fleet.urls)
        how = f"{direct} endpoint(s) read directly; " if direct else ""
        if self._probing:
            how += "the others through a node probe"
        elif self.runtime.executor.can_execute:
            how += "p probes the others (previewed)"
        else:
            how += "read-only: no node probes"
        state = "reading…" if board.reading else f"every {self.PERIOD_S:g}s while shown"
        info.update(f"Engine metrics (dockerd --metrics-addr) · {how} · {state}"
                    + (f" · {board.note}" if board.note else ""))
        panels = self.query_one("#metrics-panels", VerticalScroll)
        now_s = self.runtime.clock_ns() / 1e9
        can_probe = self.runtime.executor.can_execute
        have = list(panels.query_children(Static))
        inner = panels.scrollable_content_region.width - PANEL_GUTTER
        width = inner if inner > 0 else None
        for i, node in enumerate(board.nodes):
            content = node_panel(node, now_s=now_s, can_probe=can_probe, width=width)
            if i < len(have):
                have[i].update(content)
            else:
                panels.mount(Static(content, classes="metrics-panel"))
        for extra in have[len(board.nodes):]:
            extra.remove()
        self.query_one("#metrics-empty").display = not board.nodes
