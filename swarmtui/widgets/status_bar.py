"""The top line: which engine, which swarm, how fresh the data is, or that it is disconnected."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from textual.widgets import Static

from swarmtui.model.selectors import Attention, attention
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.model.times import coarse_age


def attention_markup(needs: Attention) -> str:
    """``DISCONNECTED ⚠ 1 down, 2 failing`` in reverse/bold, so it reads without colour."""
    text = "[b reverse] DISCONNECTED [/]" if needs.disconnected else ""
    counts = ", ".join(p for p in needs.phrases if p != "disconnected")
    if counts:
        text += f"{' ' if text else ''}[b]⚠ {counts}[/b]"
    return text


def status_text(
    state: ClusterState,
    now_ns: int,
    read_only: bool,
    screen: str,
    needs: Attention | None = None,
) -> str:
    """One line, most important first so a narrow terminal cuts the least useful part:
    screen, read-only (what the keys can do), what needs attention, swarm size, freshness,
    then which engine.
    ``needs`` is ``attention(state)`` when the caller has it memoised."""
    parts = [f"[b]swarmtui[/b] · {screen}"]
    if read_only:
        parts.append("[reverse] READ-ONLY [/]")
    summary = attention_markup(attention(state) if needs is None else needs)
    if summary:
        parts.append(summary)
    engine = state.engine
    conn = state.connection
    if engine is not None:
        swarm = engine.swarm
        if swarm.is_manager:
            managers = sum(1 for n in state.nodes.values() if n.is_manager)
            ready = sum(1 for n in state.nodes.values() if n.state == "ready")
            parts.append(
                f"{len(state.nodes)} nodes ({ready} ready, {managers} mgr) · "
                f"{len(state.services)} services"
            )
        elif swarm.local_node_state == "active":
            parts.append("swarm worker: swarm views need a manager")
        else:
            parts.append("not in a swarm: swarm views need a manager (docker swarm init)")
    if conn.status == "disconnected":
        parts.append(f"{conn.error} · retrying")
    elif conn.lost:
        parts.append(f"{conn.error} · reconnecting…")
    elif conn.status == "connecting" and engine is None:
        parts.append("connecting…")
    elif state.data_ns is not None:
        # Coarse: the header is rewritten only when this text changes (every 10 s at most).
        parts.append(f"data {coarse_age(now_ns, state.data_ns)} old")
    if engine is not None:
        name = f"{engine.name} " if engine.name else ""
        parts.append(
            f"{name}{engine.endpoint} · Docker {engine.version.split('+')[0]} "
            f"API {engine.api_version}"
        )
    return "  │  ".join(parts)


class StatusBar(Static):
    """Header line, refreshed on state changes (:meth:`show`) and once a second for the
    data age (and for failing services whose hold ran out). ``read_only``, the clock and
    ``failing`` (the failing services now, steady across crash-loop restarts: the runtime's
    FailingRecorder; without it, each snapshot's own) come from the screen's runtime."""

    DEFAULT_CSS = "StatusBar { height: 1; }"

    def __init__(self, screen_name: str, *, read_only: bool = False,
                 clock_ns: Callable[[], int] = time.time_ns,
                 failing: Callable[[], Sequence[str]] | None = None,
                 id: str | None = None) -> None:
        super().__init__("", id=id, markup=True)
        self.screen_name = screen_name
        self.read_only = read_only
        self.clock_ns = clock_ns
        self.failing = failing
        self.state: ClusterState = EMPTY_STATE
        self._text = ""
        # Memo by snapshot identity and the failing services it was counted with.
        self._needs: tuple[ClusterState, Sequence[str] | None, Attention] | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_text)
        self.refresh_text()

    def show(self, state: ClusterState) -> None:
        self.state = state
        self.refresh_text()

    def refresh_text(self) -> None:
        state = self.state
        failing = None if self.failing is None else tuple(self.failing())
        if self._needs is None or self._needs[0] is not state or self._needs[1] != failing:
            self._needs = (state, failing, attention(state, failing))
        text = status_text(state, self.clock_ns(), self.read_only, self.screen_name,
                           self._needs[2])
        if text != self._text:  # repaint only when it reads differently
            self._text = text
            # One line high whatever it says (DEFAULT_CSS): no layout of the screen, which
            # at 1,000 nodes cost ~15 ms for every change of the failing count.
            self.update(text, layout=False)
