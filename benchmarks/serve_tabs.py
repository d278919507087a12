"""Engine cost of `swarmtui serve`: requests per minute with 1 and with N browser tabs open.

Usage (the lab must be up: `python tests/swarmlab.py up`; chromium installed):
    .venv/bin/python benchmarks/serve_tabs.py --socket /tmp/swarmtui-lab/n1/docker.sock --tabs 3

Serves the dashboard through a counting proxy in front of the manager, opens the tabs in
headless Chromium (tests/browser.py, plain CDP), waits for them to settle, and counts the
engine requests over a quiet window. Every tab runs its own app, so the figure should be
N times one tab's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser import measure_tabs
from labtools import lab_lock


async def run(socket_path: str, tabs: int, seconds: float) -> None:
    for count in (1, tabs):
        connected, per_minute, window, _ = await measure_tabs(socket_path, count, seconds)
        kinds = Counter(path.split("?")[0].rsplit("/", 1)[-1] for _, path in window)
        print(f"{count} tab(s), {connected} app(s) connected: {per_minute:.1f} engine "
              f"requests/min over {seconds:.0f} s ({dict(sorted(kinds.items()))})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--tabs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with lab_lock(args.lock):
        asyncio.run(run(args.socket, args.tabs, args.seconds))


if __name__ == "__main__":
    main()
