"""Engine metrics, the pure part and the parser wrapper, on Prometheus text captured from the
lab (tests/fixtures/metrics: a manager, lab-node1, and a worker, lab-node2, both Docker
20.10 with ``--metrics-addr 127.0.0.1:9323``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmtui.engine.metrics import MetricsError, parse_samples
from swarmtui.model.metrics import (
    Histogram,
    MetricsBoard,
    NodeFigures,
    Reading,
    bucket_strip,
    figures,
    format_rate,
    format_seconds,
    interval_means,
    plausible_seconds,
    rates,
    record,
    sparkline,
    with_nodes,
)

DATA = Path(__file__).parent / "fixtures" / "metrics"


def lab_figures(name: str) -> NodeFigures:
    return figures(parse_samples((DATA / f"{name}.txt").read_text()))


def test_the_manager_s_figures() -> None:
    f = lab_figures("manager")
    assert (f.is_manager, f.is_leader, f.cpus, f.version) == (True, True, 2, "20.10.24+dfsg1")
    assert f.containers == {"paused": 0, "running": 4, "stopped": 0}
    # Counters keep their _total: the parser strips it from the family, not the sample.
    assert (f.health_checks, f.health_checks_failed) == (0, 0)
    assert sorted(f.actions) == ["changes", "commit", "create", "delete", "start"]
    assert f.actions["create"].count == 5 and len(f.actions["create"].buckets) == 12
    assert f.actions["create"].buckets[-1] == (float("inf"), 5)
    assert f.swarm_nodes == {"disconnected": 0, "down": 0, "ready": 3, "unknown": 0}
    assert f.swarm_tasks["running"] == 11 and len(f.swarm_tasks) == 14
    assert f.raft_transaction is not None and f.raft_transaction.count == 61
    assert f.raft_snapshot is not None and f.raft_snapshot.mean is None  # no snapshot yet
    assert sorted(f.store) == ["batch_latency", "lookup_latency", "memory_store_lock_duration",
                               "read_tx_latency", "write_tx_latency"]
    assert f.store["read_tx_latency"].count == 1141


def test_a_worker_has_no_swarm_figures_though_it_exports_zeros() -> None:
    f = lab_figures("worker")
    assert (f.is_manager, f.is_leader) == (False, False)
    assert f.containers["running"] == 4
    assert f.swarm_nodes == {} and f.swarm_tasks == {} and f.raft_transaction is None


def test_the_scheduling_delay_of_20_10_is_nanoseconds_and_is_scaled() -> None:
    h = lab_figures("manager").scheduling_delay
    assert h is not None and h.counts()[-1] == 11  # every observation above the top bucket
    scaled = plausible_seconds(h)
    assert scaled is not None and scaled.mean == pytest.approx(1.975171144023439e10 / 1e9 / 11)
    small = Histogram(((0.1, 1.0), (float("inf"), 1.0)), 0.05, 1)
    assert plausible_seconds(small) is small


def test_text_that_is_not_metrics_is_one_line() -> None:
    with pytest.raises(MetricsError) as exc:
        parse_samples('engine_daemon_x{state="a} 1\n')
    assert str(exc.value).startswith("not Prometheus metrics") and "\n" not in str(exc.value)


def test_counters_become_rates_and_a_restart_counts_from_zero() -> None:
    def at(t: float, failed: float) -> Reading:
        return Reading(t, NodeFigures(health_checks_failed=failed))

    assert rates([at(0, 10), at(10, 16), at(20, 2)], "health_checks_failed") == [0.6, 0.2]
    assert format_rate(0.6) == "36/min" and format_rate(0) == "0/min"


def test_latencies_are_the_mean_of_each_interval() -> None:
    def at(t: float, total: float, count: float) -> Reading:
        return Reading(t, NodeFigures(actions={"start": Histogram((), total, count)}))

    got = interval_means([at(0, 1.0, 10), at(10, 1.5, 15), at(20, 1.5, 15)], "actions", "start")
    assert got == [pytest.approx(0.1), 0.0]
    assert (format_seconds(0.1), format_seconds(0.0004), format_seconds(2)) == (
        "100 ms", "400 µs", "2 s")


def test_sparklines_scale_to_their_maximum_and_keep_the_newest() -> None:
    assert sparkline([0, 1, 2, 4], 10) == "▁▃▅█"
    assert sparkline([5, 0, 0], 2) == "▁▁"
    assert sparkline([], 5) == ""
    h = lab_figures("manager").actions["create"]
    assert len(bucket_strip(h)) == 12


def test_history_is_bounded_and_errors_keep_the_readings() -> None:
    board = with_nodes(MetricsBoard(), [("n1", "manager"), ("n2", "worker")])
    for t in range(40):
        board = record(board, "n1", float(t), source="probe", got=NodeFigures(cpus=t))
    board = record(board, "n1", 41.0, source="probe", error="probe task failed")
    n1 = board.node("n1")
    assert n1 is not None and len(n1.readings) == 30 and n1.readings[0].at_s == 10
    assert n1.error == "probe task failed" and n1.last is not None and n1.last.cpus == 39
    board = with_nodes(board, [("n2", "manager")])
    assert [(n.hostname, n.role) for n in board.nodes] == [("n2", "manager")]
