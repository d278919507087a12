"""SVG snapshots of the metrics view from fixed data (tests/metrics_fakes.py: lab captures,
a seeded history, a stopped clock). `pytest tests/test_metrics_snapshots.py
--snapshot-update` rewrites them."""

from __future__ import annotations

from test_metrics_ui import metrics_app, settle


def test_metrics_view_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(metrics_app(), run_before=settle, terminal_size=(80, 24))


def test_metrics_view_200x60(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(metrics_app(), run_before=settle, terminal_size=(200, 60))
