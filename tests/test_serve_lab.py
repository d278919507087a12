"""`swarmtui serve` against the lab: three browser tabs are three apps, each with its own
engine connection and streams (counted by the proxy in front of the manager)."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from browser import CHROMIUM, measure_tabs
from swarmlab import Lab

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs chromium")]


async def test_three_tabs_are_three_apps_with_their_own_streams(swarm: Lab) -> None:
    connected, per_minute, window, before = await measure_tabs(
        str(swarm.manager.sock), tabs=3, seconds=30, warmup=10)
    kinds = Counter(path.split("?")[0].rsplit("/", 1)[-1] for _, path in window)
    print(f"3 tabs: {per_minute:.1f} engine requests/min ({dict(kinds)})")
    assert connected == 3, before  # one event stream per tab
    assert not [r for r in before + window if r[0] != "GET"]  # served read-only
    # One idle app polls services every 10 s and tasks every 30 s (8/min): three apps more.
    assert per_minute >= 2 * 8, window
