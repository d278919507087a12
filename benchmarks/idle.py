"""Idle cost of the whole app against a real engine, and time to the first full frame.

Usage (the lab must be up: `python tests/swarmlab.py up`):
    .venv/bin/python benchmarks/idle.py --host unix:///tmp/swarmtui-lab/n1/docker.sock --seconds 60

Prints engine requests per minute and CPU% of the app (Textual headless, all screens' work
included) over an idle window, and the time from app start to the first full frame, with
the docker CLI's `docker node ls && docker service ls` measured in the same run as the peer.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import subprocess
import time

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def first_frame(host: str) -> float:
    start = time.perf_counter()
    live = LiveSwarm(EngineClient(EngineTarget(host, "bench")))
    app = SwarmApp(build_runtime(Settings(), live))
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await live.wait_full_state(30)
        await pilot.pause()
        return time.perf_counter() - start


async def idle(host: str, seconds: float) -> tuple[float, float, int]:
    live = LiveSwarm(EngineClient(EngineTarget(host, "bench")))
    app = SwarmApp(build_runtime(Settings(), live))
    async with app.run_test(headless=True, size=(160, 50)):
        await live.wait_full_state(30)
        # Let start-up convergence end, then measure a quiet window.
        # Events of the last moments before the start (a test or a deploy that just ended)
        # rightly poll fast for their window: wait until nothing converges or is watched.
        for _ in range(200):
            if not live.reconciler.converging and not live.reconciler.node_watch:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        req0, cpu0, t0 = live.client.requests, cpu_seconds(), time.perf_counter()
        await asyncio.sleep(seconds)
        req1, cpu1, t1 = live.client.requests, cpu_seconds(), time.perf_counter()
    wall = t1 - t0
    return (req1 - req0) * 60 / wall, 100 * (cpu1 - cpu0) / wall, req1 - req0


def docker_cli_frame(host: str, docker: str) -> float:
    start = time.perf_counter()
    subprocess.run([docker, "-H", host, "node", "ls"], check=True, capture_output=True)
    subprocess.run([docker, "-H", host, "service", "ls"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="unix:///tmp/swarmtui-lab/n1/docker.sock")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    docker = shutil.which("docker") or "docker"
    ours = [asyncio.run(first_frame(args.host)) for _ in range(args.runs)]
    peer = [docker_cli_frame(args.host, docker) for _ in range(args.runs)]
    ours_ms, peer_ms = statistics.median(ours) * 1000, statistics.median(peer) * 1000
    print(f"first full frame (in-process, median of {args.runs}): {ours_ms:.0f} ms; "
          f"docker node ls + service ls: {peer_ms:.0f} ms; ratio {ours_ms / peer_ms:.2f}")
    rpm, cpu, n = asyncio.run(idle(args.host, args.seconds))
    print(f"idle for {args.seconds:.0f}s: {n} engine requests = {rpm:.1f}/min, app CPU {cpu:.2f}% "
          f"(visualizer peer: 36/min at its 5 s default, 180/min at 1 s)")


if __name__ == "__main__":
    main()
