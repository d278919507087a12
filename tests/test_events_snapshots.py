"""SVG snapshots of the events view with the fixed swarm's events (tests/uistate.py
fixed_events): unfiltered at both sizes, and filtered to one type."""

from __future__ import annotations

import pytest
from test_events_ui import events_app

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}


@pytest.mark.parametrize("size", list(SIZES))
def test_events(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(events_app(), press=["9"], terminal_size=SIZES[size])


def test_events_filtered(snap_compare) -> None:  # type: ignore[no-untyped-def]
    presses = ["9", "slash", *"type:service", "enter"]
    assert snap_compare(events_app(), press=presses, terminal_size=(120, 30))


def test_events_empty(snap_compare) -> None:  # type: ignore[no-untyped-def]
    from uistate import fixed_app

    assert snap_compare(fixed_app(), press=["9"], terminal_size=(120, 30))
