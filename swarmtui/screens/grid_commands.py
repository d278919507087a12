"""Command-palette entries for the grid: narrow it to a stack, service, node or any text."""

from __future__ import annotations

from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from swarmtui.model.state import ClusterState


class FilterableGrid(Protocol):
    """What these commands need of the grid screen (which imports this module)."""

    state: ClusterState

    def set_options(self, **changes: object) -> None: ...


class GridFilterCommands(Provider):
    """Offers "Grid: only stack X" etc. for what the swarm has now, plus a free text filter."""

    def _choices(self) -> list[tuple[str, str, dict[str, object]]]:
        state = cast(FilterableGrid, self.screen).state
        out: list[tuple[str, str, dict[str, object]]] = [
            ("Grid: show everything", "Clear all grid filters",
             {"text": "", "stack": None, "service": None, "node": None, "label": None}),
        ]
        stacks = sorted({s.stack for s in state.services.values() if s.stack})
        for stack in stacks:
            out.append((f"Grid: only stack {stack}", "Tasks of this stack's services",
                        {"stack": stack}))
        for svc in sorted(state.services.values(), key=lambda s: s.name):
            out.append((f"Grid: only service {svc.name}", "Tasks of this service",
                        {"service": svc.name}))
        for node in sorted(state.nodes.values(), key=lambda n: n.name):
            out.append((f"Grid: only node {node.name}", "One column", {"node": node.name}))
            for key, value in node.labels:
                out.append((f"Grid: nodes labelled {key}={value}", "Nodes with this label",
                            {"label": f"{key}={value}"}))
        return out

    async def discover(self) -> Hits:
        for text, help_text, changes in self._choices():
            yield DiscoveryHit(text, partial(self._apply, changes), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, changes in self._choices():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._apply, changes),
                          help=help_text)
        if query.strip():
            text = f"Grid: tasks matching '{query.strip()}'"
            yield Hit(0.01, text, partial(self._apply, {"text": query.strip()}),
                      help="Free text over task names, images, states and errors")

    def _apply(self, changes: dict[str, object]) -> None:
        cast(FilterableGrid, self.screen).set_options(**changes)
