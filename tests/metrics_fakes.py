"""A metrics fleet over the lab captures (tests/fixtures/metrics), with a fixed clock and a
short seeded history, for the metrics view's Pilot and snapshot tests. It never opens a
connection: ``fetch`` serves the captured text and counts the calls."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from uistate import NOW

from swarmtui.engine.metrics import MetricsFleet, parse_samples
from swarmtui.engine.probe import ProbeConfig
from swarmtui.model.metrics import Histogram, NodeFigures, figures, record, with_nodes

DATA = Path(__file__).parent / "fixtures" / "metrics"
URLS = {"lab-node1": "http://10.231.7.11:9323/metrics",
        "lab-node2": "http://10.231.7.12:9323/metrics"}
TEXT = {URLS["lab-node1"]: (DATA / "manager.txt").read_text(),
        URLS["lab-node2"]: (DATA / "worker.txt").read_text()}


def _older(f: NodeFigures, step: int) -> NodeFigures:
    """The figures ``step`` readings back: fewer containers, fewer failed checks and
    actions (so rates and interval means have something to show)."""
    def back(h: Histogram) -> Histogram:
        return Histogram(h.buckets, h.sum * (1 - step / 10), max(h.count - step, 0))

    running = f.containers.get("running", 0)
    return replace(
        f,
        containers={**f.containers, "running": max(running - step % 3, 0)},
        health_checks=(f.health_checks or 0) + 20 - 2 * step,
        health_checks_failed=(f.health_checks_failed or 0) + max(6 - step, 0),
        actions={k: back(h) for k, h in f.actions.items()},
        raft_transaction=back(f.raft_transaction) if f.raft_transaction else None,
    )


class FakeMetrics(MetricsFleet):
    def __init__(self, seed: bool = True) -> None:
        super().__init__(URLS, ProbeConfig(), clock=lambda: NOW / 1e9, fetch=self._fetch)
        self.fetched: list[str] = []
        if seed:
            self.board = with_nodes(self.board, [("lab-node1", "manager"),
                                                 ("lab-node2", "worker")])
            for host, url in URLS.items():
                now = figures(parse_samples(TEXT[url]))
                for step in range(6, 0, -1):
                    self.board = record(self.board, host, NOW / 1e9 - 10 * step, source=url,
                                        got=_older(now, step))

    async def _fetch(self, url: str) -> str:
        self.fetched.append(url)
        return TEXT[url]
