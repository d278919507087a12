"""SVG snapshots of the updates screen from recorded lab updates (tests/timeline_state.py):
mid-update (batch 2 of 4 in its delay) and after (completed; paused with the failing task's
error), at 80x24 and 200x60."""

from __future__ import annotations

import pytest
from timeline_state import timeline_app

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}
CASES = {"mid_update": ("ok", 8), "completed": ("ok", None), "paused": ("pause", None)}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("size", list(SIZES))
def test_updates(snap_compare, case: str, size: str) -> None:  # type: ignore[no-untyped-def]
    scenario, upto = CASES[case]

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(5):  # the stop cause's log tail arrives from a worker
            await pilot.pause()

    assert snap_compare(timeline_app(scenario, upto), run_before=settle,
                        terminal_size=SIZES[size])
