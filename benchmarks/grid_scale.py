"""The grid at 100 nodes and 5,000 tasks (simulated engine, served in another process).

    .venv/bin/python benchmarks/grid_scale.py [--runs 5]

Prints, for the whole app running headless over the engine API:
- time from app start to the first full frame of the grid (connect, list, parse, lay out,
  paint), with `docker node ls && docker service ls` against the same engine as the peer;
- time to apply one task change (store dispatch -> layout -> repaint of changed rows), median;
- the app's resident memory after the first frame.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.model.actions import TasksListed
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings
from swarmtui.widgets.task_grid import TaskGrid


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure(url: str, changes: int) -> tuple[float, list[float], list[int], float, int]:
    start = time.perf_counter()
    live = LiveSwarm(EngineClient(EngineTarget(url, "bench")))
    app = SwarmApp(build_runtime(Settings(), live))
    async with app.run_test(headless=True, size=(200, 60)) as pilot:
        await live.wait_full_state(60)
        grid = app.screen.query_one(TaskGrid)
        while grid.layout_model is None or len(grid.layout_model.columns) < 100:
            await pilot.pause()
        await pilot.pause()
        first = time.perf_counter() - start
        memory = rss_mib()
        tasks = len(live.store.state.tasks)
        # One task changes state, as a re-list would report it.
        times: list[float] = []
        rows: list[int] = []
        running = [t for t in live.store.state.tasks.values() if t.state == "running"]
        for i in range(changes):
            task = running[i * 37 % len(running)]
            # As the engine reports it: a new state, and the task's version bumped.
            changed = replace(task, state="failed", err=f"bench change {i}",
                              version=task.version + 1)
            state = live.store.state
            new_tasks = tuple(changed if t.id == task.id else t for t in state.tasks.values())
            t0 = time.perf_counter()
            live.store.dispatch(TasksListed(new_tasks, time.time_ns()))
            await pilot.pause()
            times.append(time.perf_counter() - t0)
            rows.append(grid.repainted_rows)
    return first, times, rows, memory, tasks


def docker_peer(url: str) -> float:
    docker = shutil.which("docker") or "/usr/bin/docker"
    t0 = time.perf_counter()
    subprocess.run([docker, "-H", url, "node", "ls"], check=True, capture_output=True)
    subprocess.run([docker, "-H", url, "service", "ls"], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--changes", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sock = f"{folder}/sim.sock"
        server = subprocess.Popen([sys.executable, "-m", "swarmtui.sim.server", "--scenario",
                                   "scale", "--socket", sock, "--frozen"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            time.sleep(0.5)
            url = f"unix://{sock}"
            firsts, peers, changes, rows_all, mems = [], [], [], [], []
            tasks = 0
            for _ in range(args.runs):
                first, times, rows, mem, tasks = asyncio.run(measure(url, args.changes))
                firsts.append(first)
                changes.extend(times)
                rows_all.extend(rows)
                mems.append(mem)
                peers.append(docker_peer(url))
        finally:
            server.terminate()
            server.wait()
    med_first, med_peer = statistics.median(firsts), statistics.median(peers)
    print(f"{tasks} tasks on 100 nodes, {args.runs} runs")
    print(f"first full frame: median {med_first * 1000:.0f} ms (min {min(firsts) * 1000:.0f}, "
          f"max {max(firsts) * 1000:.0f}); docker node ls + service ls: "
          f"{med_peer * 1000:.0f} ms; ratio {med_first / med_peer:.2f}")
    print(f"one task change applied and repainted: median {statistics.median(changes) * 1000:.1f}"
          f" ms, p95 {sorted(changes)[int(len(changes) * 0.95)] * 1000:.1f} ms, "
          f"rows repainted median {statistics.median(rows_all):.0f}")
    print(f"app RSS after first frame: median {statistics.median(mems):.0f} MiB")


if __name__ == "__main__":
    main()
