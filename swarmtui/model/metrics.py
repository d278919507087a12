"""Engine metrics, the pure part: the figures of one node's Prometheus text (``dockerd
--metrics-addr``), a short history per node, rates and sparklines.

The engine layer parses the text (``prometheus_client``) into frozen :class:`Sample` values;
everything here keys on *sample* names (the parser strips ``_total`` from counter family
names, not from their samples). The figures follow Netdata's docker_engine collector: per
node the container states, health-check failures and container action latencies; on
managers the swarm figures (leader, nodes and tasks by state, raft and store latencies, the
dispatcher's scheduling delay). Workers export the ``swarm_manager_*`` gauges as 0, so those
are only read where ``swarm_node_manager`` is 1.

Stdlib only, no IO.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

HISTORY = 30  # readings kept per node: 5 minutes at the view's 10 s period
SPARK = "▁▂▃▄▅▆▇█"
CONTAINER_STATES = ("running", "paused", "stopped")
NODE_STATES = ("ready", "down", "disconnected", "unknown")
# The task states worth a figure, in lifecycle order (the others are shown when non-zero).
TASK_STATES = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting",
               "running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned")
STORE_PREFIX = "swarm_store_"
HOW_TO_ENABLE = ("start dockerd with --metrics-addr 127.0.0.1:9323 (or set \"metrics-addr\": "
                 "\"127.0.0.1:9323\" in /etc/docker/daemon.json and restart it)")


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of the exposition: its name (with ``_total``, ``_bucket`` …), labels, value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str:
        return next((v for k, v in self.labels if k == key), "")


@dataclass(frozen=True, slots=True)
class Histogram:
    """A Prometheus histogram: cumulative ``(upper bound, count)`` buckets, sum and count."""

    buckets: tuple[tuple[float, float], ...] = ()
    sum: float = 0.0
    count: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count > 0 else None

    def counts(self) -> tuple[float, ...]:
        """Observations per bucket (not cumulative), ``+Inf`` included."""
        out, before = [], 0.0
        for _, cumulative in self.buckets:
            out.append(max(cumulative - before, 0.0))
            before = cumulative
        return tuple(out)

    def since(self, earlier: Histogram) -> Histogram:
        """The observations made after ``earlier`` (a restart: all of them)."""
        if self.count < earlier.count or len(self.buckets) != len(earlier.buckets):
            return self
        buckets = tuple((le, c - e) for (le, c), (_, e) in zip(self.buckets, earlier.buckets,
                                                                strict=True))
        return Histogram(buckets, self.sum - earlier.sum, self.count - earlier.count)


@dataclass(frozen=True, slots=True)
class NodeFigures:
    """What one reading of a node says."""

    is_manager: bool = False
    is_leader: bool = False
    cpus: float | None = None
    memory_bytes: float | None = None
    version: str = ""
    containers: Mapping[str, float] = field(default_factory=dict)
    health_checks: float | None = None
    health_checks_failed: float | None = None
    actions: Mapping[str, Histogram] = field(default_factory=dict)
    swarm_nodes: Mapping[str, float] = field(default_factory=dict)
    swarm_tasks: Mapping[str, float] = field(default_factory=dict)
    raft_transaction: Histogram | None = None
    raft_snapshot: Histogram | None = None
    store: Mapping[str, Histogram] = field(default_factory=dict)
    scheduling_delay: Histogram | None = None


def _histograms(samples: Iterable[Sample], base: str, by: str | None = None
                ) -> dict[str, Histogram]:
    """The histograms of family ``base`` keyed by the label ``by`` ("" without one)."""
    buckets: dict[str, list[tuple[float, float]]] = {}
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for s in samples:
        key = s.label(by) if by else ""
        if s.name == base + "_bucket":
            buckets.setdefault(key, []).append((float(s.label("le") or "inf"), s.value))
        elif s.name == base + "_sum":
            sums[key] = s.value
        elif s.name == base + "_count":
            counts[key] = s.value
    return {k: Histogram(tuple(sorted(buckets.get(k, []))), sums.get(k, 0.0), counts[k])
            for k in counts}


def figures(samples: Sequence[Sample]) -> NodeFigures:
    """The figures of one node's samples (missing series stay empty / None)."""
    by_name: dict[str, list[Sample]] = {}
    for s in samples:
        by_name.setdefault(s.name, []).append(s)

    def one(name: str) -> float | None:
        got = by_name.get(name)
        return got[0].value if got else None

    def by_label(name: str, label: str) -> dict[str, float]:
        return {s.label(label): s.value for s in by_name.get(name, [])}

    is_manager = one("swarm_node_manager") == 1
    info = by_name.get("engine_daemon_engine_info", [])
    out = NodeFigures(
        is_manager=is_manager,
        is_leader=is_manager and one("swarm_manager_leader") == 1,
        cpus=one("engine_daemon_engine_cpus_cpus"),
        memory_bytes=one("engine_daemon_engine_memory_bytes"),
        version=info[0].label("version") if info else "",
        containers=by_label("engine_daemon_container_states_containers", "state"),
        health_checks=one("engine_daemon_health_checks_total"),
        health_checks_failed=one("engine_daemon_health_checks_failed_total"),
        actions=_histograms(samples, "engine_daemon_container_actions_seconds", "action"),
    )
    if not is_manager:
        return out
    store_bases = sorted({s.name.removesuffix("_count") for s in samples
                          if s.name.startswith(STORE_PREFIX) and s.name.endswith("_count")})
    return replace(
        out,
        swarm_nodes=by_label("swarm_manager_nodes", "state"),
        swarm_tasks=by_label("swarm_manager_tasks_total", "state"),
        raft_transaction=_histograms(samples, "swarm_raft_transaction_latency_seconds").get(""),
        raft_snapshot=_histograms(samples, "swarm_raft_snapshot_latency_seconds").get(""),
        store={b.removeprefix(STORE_PREFIX).removesuffix("_seconds"):
               _histograms(samples, b)[""] for b in store_bases},
        scheduling_delay=_histograms(samples, "swarm_dispatcher_scheduling_delay_seconds").get(""),
    )


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    at_s: float
    figures: NodeFigures


@dataclass(frozen=True, slots=True)
class NodeMetrics:
    """One node's panel: where its metrics come from, the last readings, the last error."""

    hostname: str
    role: str = "worker"
    source: str = ""
    """``direct URL``, ``probe`` or "" (not read yet)."""
    readings: tuple[Reading, ...] = ()
    error: str | None = None
    error_at_s: float | None = None

    @property
    def last(self) -> NodeFigures | None:
        return self.readings[-1].figures if self.readings else None


@dataclass(frozen=True, slots=True)
class MetricsBoard:
    """Every node's panel, by hostname in swarm order; ``reading`` while a read runs."""

    nodes: tuple[NodeMetrics, ...] = ()
    reading: bool = False
    note: str = ""

    def node(self, hostname: str) -> NodeMetrics | None:
        return next((n for n in self.nodes if n.hostname == hostname), None)


def with_nodes(board: MetricsBoard, nodes: Sequence[tuple[str, str]]) -> MetricsBoard:
    """The board for the swarm's ``(hostname, role)`` nodes, keeping what is known of each."""
    known = {n.hostname: n for n in board.nodes}
    out = tuple(replace(known[h], role=r) if h in known else NodeMetrics(h, r) for h, r in nodes)
    return replace(board, nodes=out)


def record(board: MetricsBoard, hostname: str, at_s: float, *, source: str,
           got: NodeFigures | None = None, error: str | None = None,
           keep: int = HISTORY) -> MetricsBoard:
    """A reading (or an error) of ``hostname`` added; the oldest readings beyond ``keep``
    dropped. An error keeps the readings (the panel shows them, and the error)."""
    nodes = list(board.nodes)
    idx = next((i for i, n in enumerate(nodes) if n.hostname == hostname), None)
    if idx is None:
        nodes.append(NodeMetrics(hostname))
        idx = len(nodes) - 1
    node = nodes[idx]
    if got is not None:
        node = replace(node, source=source, readings=(*node.readings, Reading(at_s, got))[-keep:],
                       error=None, error_at_s=None)
    else:
        node = replace(node, source=source, error=error or "no answer", error_at_s=at_s)
    nodes[idx] = node
    return replace(board, nodes=tuple(nodes))


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------


def rates(readings: Sequence[Reading], value: str) -> list[float]:
    """Per-second rates of a counter between consecutive readings (``value`` names a
    NodeFigures attribute); a counter that went down (a restart) counts from 0."""
    out: list[float] = []
    for a, b in itertools.pairwise(readings):
        va, vb = getattr(a.figures, value), getattr(b.figures, value)
        dt = b.at_s - a.at_s
        if va is None or vb is None or dt <= 0:
            continue
        out.append((vb - va if vb >= va else vb) / dt)
    return out


def gauge(readings: Sequence[Reading], pick: str, key: str) -> list[float]:
    """A labelled gauge over the readings (``pick`` a mapping attribute, ``key`` its label)."""
    return [float(getattr(r.figures, pick).get(key, 0.0)) for r in readings]


def interval_means(readings: Sequence[Reading], pick: str, key: str | None = None
                   ) -> list[float]:
    """Mean latency of the observations between consecutive readings (0 when none)."""
    def hist(r: Reading) -> Histogram | None:
        value = getattr(r.figures, pick)
        return value.get(key) if isinstance(value, Mapping) else value

    out: list[float] = []
    for a, b in itertools.pairwise(readings):
        ha, hb = hist(a), hist(b)
        if ha is None or hb is None:
            continue
        out.append(hb.since(ha).mean or 0.0)
    return out


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as block characters, scaled from 0 to their maximum."""
    values = [v for v in values[-width:] if math.isfinite(v)] if width > 0 else []
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(int(v / top * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)]
                   if v > 0 else SPARK[0] for v in values)


def bucket_strip(h: Histogram) -> str:
    """A histogram's observations per bucket as one block each (``+Inf`` last)."""
    return sparkline(list(h.counts()), len(h.buckets))


def format_seconds(s: float | None) -> str:
    """``850 µs``, ``12 ms``, ``1.5 s``; "-" when unknown."""
    if s is None or not math.isfinite(s):
        return "-"
    if 0 < s < 1e-6:
        return "<1 µs"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def format_rate(per_s: float | None) -> str:
    """A rate per minute (engine counters move slowly): ``0/min``, ``1.5/min``."""
    if per_s is None:
        return "-"
    per_min = per_s * 60
    return f"{per_min:.2g}/min" if per_min else "0/min"


def format_count(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.3g}"


def plausible_seconds(h: Histogram | None) -> Histogram | None:
    """The dispatcher's scheduling delay on Docker 20.10 is in nanoseconds despite its name
    (all observations above the top bucket, sums of 1e10): scale such a histogram to seconds
    by its mean. Other histograms are returned unchanged."""
    if h is None or h.mean is None or h.mean < 1e6:
        return h
    return Histogram(h.buckets, h.sum / 1e9, h.count)
