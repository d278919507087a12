"""The simulator's ``dockerd --metrics-addr`` endpoints (swarmtui/sim/metrics.py): their text
has the families, label sets and histogram buckets of the lab captures
(tests/fixtures/metrics/), parses with the engine's own parser into the same figures, follows
the simulated swarm (containers of the node, nodes and tasks on managers), moves with the
virtual clock without a counter going back; and a node probe's loopback request is answered
from it, or refused on the demo's worker-1, which runs without ``--metrics-addr``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import pytest

from swarmtui.engine.metrics import LOOPBACK_METRICS_URL, METRICS_KEY, PROBE_REQUESTS, parse_samples
from swarmtui.engine.probe import NodeProbe, ProbeConfig
from swarmtui.model.metrics import NodeFigures, Sample, figures
from swarmtui.model.probe import ProbeAnswerError, answer_text, probe_script, reassemble
from swarmtui.sim import metrics as simmetrics
from swarmtui.sim.probe import answer, requests_of
from swarmtui.sim.scenarios import build

CAPTURES = Path(__file__).parent / "fixtures" / "metrics"
OURS = ("engine_daemon_", "swarm_")  # the daemon's own families (not go_, grpc_, process_ …)


def capture(name: str) -> tuple[Sample, ...]:
    return parse_samples((CAPTURES / name).read_text())


def label_shape(samples: Sequence[Sample]) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Per sample name: its label sets, the values of free-text labels blanked."""
    free = {"node_id", "swarm_id", "daemon_id", "version", "kernel", "architecture", "commit",
            "os", "os_version", "os_type", "graphdriver"}
    out: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for s in samples:
        if s.name.startswith(OURS):
            out.setdefault(s.name, set()).add(
                tuple((k, "" if k in free else v) for k, v in s.labels))
    return out


def figure_keys(f: NodeFigures) -> dict[str, object]:
    """Which figures a reading has: None or not, and the keys of the labelled ones."""
    out: dict[str, object] = {}
    for fl in fields(f):
        v = getattr(f, fl.name)
        out[fl.name] = sorted(v) if isinstance(v, dict) else v is not None
    return out


@pytest.fixture(scope="module")
def demo() -> object:
    return build("demo")


def node_id(c: object, hostname: str) -> str:
    return next(n.id for n in c.nodes.values() if n.hostname == hostname)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("host", "fixture"), [("manager-1", "manager.txt"),
                                                ("manager-2", "manager.txt"),
                                                ("worker-2", "worker.txt")])
def test_the_text_is_shaped_like_the_lab_captures(demo: object, host: str, fixture: str) -> None:
    ours = parse_samples(simmetrics.metrics_text(demo, node_id(demo, host)))  # type: ignore[arg-type]
    real = capture(fixture)
    assert label_shape(ours) == label_shape(real)  # names, label sets, buckets
    assert figure_keys(figures(ours)) == figure_keys(figures(real))


def test_the_figures_follow_the_simulated_swarm(demo: object) -> None:
    c = demo
    leader = node_id(c, "manager-1")
    got = figures(parse_samples(simmetrics.metrics_text(c, leader)))  # type: ignore[arg-type]
    running = sum(1 for t in c.tasks.values()  # type: ignore[attr-defined]
                  if t.node_id == leader and t.state == "running")
    assert got.containers["running"] == running > 0
    assert got.is_manager and got.is_leader and got.version == "20.10.24+dfsg1"
    assert got.cpus == 4 and got.memory_bytes == 8 * 2**30
    assert got.swarm_nodes == {"ready": 4, "down": 1, "disconnected": 0, "unknown": 0}
    assert got.swarm_tasks["running"] == sum(1 for t in c.tasks.values()  # type: ignore[attr-defined]
                                             if t.state == "running")
    other = figures(parse_samples(simmetrics.metrics_text(c, node_id(c, "manager-2"))))  # type: ignore[arg-type]
    assert other.is_manager and not other.is_leader
    worker = figures(parse_samples(simmetrics.metrics_text(c, node_id(c, "worker-2"))))  # type: ignore[arg-type]
    assert not worker.is_manager and worker.swarm_nodes == {}


def test_the_figures_move_with_the_clock_and_counters_never_go_back() -> None:
    c = build("demo")
    nid = node_id(c, "manager-1")
    readings = []
    for _ in range(40):
        readings.append({(s.name, s.labels): s.value
                         for s in parse_samples(simmetrics.metrics_text(c, nid))})
        c.advance(10)
    counters = [k for k in readings[0] if k[0].endswith(("_total", "_count", "_sum", "_bucket"))
                and not k[0].startswith(("swarm_manager_", "engine_daemon_events_subscribers"))]
    assert counters
    for a, b in itertools.pairwise(readings):
        assert all(b[k] >= a[k] for k in counters)
        assert a != b  # something moved in every 10 s
    raft = ("swarm_raft_transaction_latency_seconds_count", ())
    assert readings[-1][raft] > readings[0][raft]
    fig = figures(parse_samples(simmetrics.metrics_text(c, nid)))
    assert fig.health_checks and fig.health_checks_failed is not None
    assert all(h.count > 0 for h in fig.actions.values() if h)


def test_a_probe_reads_the_endpoint_of_its_own_node(demo: object) -> None:
    c = demo
    script = probe_script(PROBE_REQUESTS)
    assert requests_of(script) == [(METRICS_KEY, "GET", LOOPBACK_METRICS_URL)]
    nid = node_id(c, "manager-2")
    text = answer_text(answer(c, nid, "GET", LOOPBACK_METRICS_URL), LOOPBACK_METRICS_URL)  # type: ignore[arg-type]
    assert text == simmetrics.metrics_text(c, nid)  # type: ignore[arg-type]
    # worker-1 runs without --metrics-addr: wget is refused, the script answers 502.
    raw = answer(c, node_id(c, "worker-1"), "GET", LOOPBACK_METRICS_URL)  # type: ignore[arg-type]
    assert raw.startswith(b"HTTP/1.0 502 Bad Gateway\r\n\r\n")
    with pytest.raises(ProbeAnswerError, match="HTTP 502: wget: can't connect to remote host "
                       r"\(127.0.0.1\): Connection refused"):
        answer_text(raw, LOOPBACK_METRICS_URL)
    # Another port or path: refused, or 404 as busybox wget says it.
    assert b"Connection refused" in answer(c, nid, "GET", "http://127.0.0.1:9100/metrics")  # type: ignore[arg-type]
    assert b"404 Not Found" in answer(c, nid, "GET", "http://127.0.0.1:9323/other")  # type: ignore[arg-type]


def test_a_metrics_probe_task_logs_its_nodes_text() -> None:
    c = build("demo")
    spec = NodeProbe(None, ProbeConfig(host_network=True), PROBE_REQUESTS,  # type: ignore[arg-type]
                     clock=lambda: c.now_ns / 1e9).service_spec([])
    sid = c.create_service(spec)["ID"]
    c.advance(8)
    got = {}
    for t in c.services[sid].tasks.values():
        lines = reassemble(line.text for line in c.task_logs(t.id).lines)
        got[c.nodes[t.node_id].hostname] = lines.answers[METRICS_KEY]
    assert sorted(got) == ["manager-1", "manager-2", "worker-1"]
    assert b"502 Bad Gateway" in got["worker-1"]
    fig = figures(parse_samples(answer_text(got["manager-2"], "m")))
    assert fig.is_manager and fig.containers["running"] >= 1  # its probe container counts
