"""The grid at swarm's real sizes (simulated engine, served in another process).

    .venv/bin/python benchmarks/grid_scale.py [--runs 5]                 # 100 nodes / 5,000 tasks
    .venv/bin/python benchmarks/grid_scale.py --curve 10,100,300,1000     # 30 tasks per node

Prints, for the whole app running headless over the engine API:
- time from app start to the first full frame of the grid (connect, list, parse, lay out,
  paint), with `docker node ls && docker service ls` against the same engine as the peer;
- time to apply one task change (store dispatch -> layout -> repaint of changed rows), median
  and p95, twice: until the Pilot's ``pause()`` returns (it waits for 20 ms windows of idle
  CPU, a fixed cost of the benchmark's own) and until the app composed its last frame;
- the app's resident memory after the first frame;
- with ``--curve``: the bytes the app reads from the engine per minute at idle (counted by a
  proxy in front of the engine's socket, after the first picture has settled).

Every measurement runs in a fresh process (``--child``), so RSS is that size's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's swarmtui, not an installed one
TASKS_PER_NODE = 30


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure(url: str, nodes: int, changes: int, idle_s: float) -> dict[str, Any]:
    from swarmtui.app import SwarmApp
    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.engine.target import EngineTarget
    from swarmtui.model.actions import TasksListed
    from swarmtui.runtime import build_runtime
    from swarmtui.settings import Settings
    from swarmtui.widgets.task_grid import TaskGrid

    start = time.perf_counter()
    live = LiveSwarm(EngineClient(EngineTarget(url, "bench")))
    app = SwarmApp(build_runtime(Settings(), live))
    out: dict[str, Any] = {}
    async with app.run_test(headless=True, size=(200, 60)) as pilot:
        await live.wait_full_state(120)
        grid = app.screen.query_one(TaskGrid)
        while grid.layout_model is None or len(grid.layout_model.columns) < nodes:
            await pilot.pause()
        await pilot.pause()
        out["first"] = time.perf_counter() - start
        out["rss"] = rss_mib()
        out["tasks"] = len(live.store.state.tasks)
        if idle_s:
            out["idle_requests"] = await idle_window(live, idle_s)
            return out
        # One task changes state, as the reconciler learns it: its service's counts drop,
        # and that service's tasks are listed (``GET /tasks?filters={"service":[id]}``).
        times: list[float] = []
        painted: list[float] = []
        rows: list[int] = []
        # When a frame was last composed (headless: composed, not written). The Pilot's
        # pause() ends only after 20 ms windows of an idle CPU (textual/_wait.py): that wait
        # is the benchmark's, so the change is timed to its last frame as well.
        frames: list[float] = [0.0]
        display = app._display

        def timed_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                frames[0] = time.perf_counter()

        app._display = timed_display  # type: ignore[method-assign]
        running = [t for t in live.store.state.tasks.values() if t.state == "running"]
        for i in range(changes):
            task = running[i * 37 % len(running)]
            # As the engine reports it: a new state, and the task's version bumped.
            changed = replace(task, state="failed", err=f"bench change {i}",
                              version=task.version + 1)
            state = live.store.state
            new_tasks = tuple(changed if t.id == task.id else t for t in state.tasks.values()
                              if t.service_id == task.service_id)
            t0 = time.perf_counter()
            live.store.dispatch(TasksListed(new_tasks, time.time_ns(),
                                            frozenset({task.service_id})))
            await pilot.pause()
            times.append(time.perf_counter() - t0)
            painted.append(max(0.0, frames[0] - t0))
            rows.append(grid.repainted_rows)
        out["changes"] = times
        out["painted"] = painted
        out["rows"] = rows
    return out


async def idle_window(live: Any, seconds: float) -> list[str]:
    """Let the first picture settle, then count what the app asks for during ``seconds``."""
    deadline = time.monotonic() + 60
    while live.reconciler.converging and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)
    PROXY.reset()
    await asyncio.sleep(seconds)
    return [f"{m} {t}" for m, t in PROXY.seen()]


PROXY: Any = None


def child(url: str, nodes: int, changes: int, idle_s: float) -> None:
    global PROXY
    if idle_s:
        sys.path.insert(0, str(HERE.parent / "tests"))
        from counting_proxy import CountingProxy

        with CountingProxy(url.removeprefix("unix://")) as PROXY:
            out = asyncio.run(measure(PROXY.url, nodes, changes, idle_s))
            out["idle_bytes"] = PROXY.bytes_read
    else:
        out = asyncio.run(measure(url, nodes, changes, 0))
    print(json.dumps(out))


def docker_peer(url: str) -> float:
    docker = shutil.which("docker") or "/usr/bin/docker"
    t0 = time.perf_counter()
    subprocess.run([docker, "-H", url, "node", "ls"], check=True, capture_output=True)
    subprocess.run([docker, "-H", url, "service", "ls"], check=True, capture_output=True)
    return time.perf_counter() - t0


@contextmanager
def sim_engine(nodes: int, tasks: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        sock = f"{folder}/sim.sock"
        server = subprocess.Popen([sys.executable, "-m", "swarmtui.sim.server", "--scenario",
                                   "scale", "--socket", sock, "--frozen", "--nodes", str(nodes),
                                   "--tasks", str(tasks)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            server.stdout.readline()  # "simulated swarm ... on unix://..." once it serves
            yield f"unix://{sock}"
        finally:
            server.terminate()
            server.wait()


def run_child(url: str, nodes: int, changes: int, idle_s: float = 0) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", url, "--nodes", str(nodes),
                           "--changes", str(changes), "--idle", str(idle_s)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement at {nodes} nodes failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def measure_size(nodes: int, tasks: int, runs: int, changes: int,
                 idle_s: float) -> dict[str, Any]:
    with sim_engine(nodes, tasks) as url:
        firsts, peers, all_changes, all_painted, rows, mems = [], [], [], [], [], []
        count = 0
        for _ in range(runs):
            out = run_child(url, nodes, changes)
            firsts.append(out["first"])
            mems.append(out["rss"])
            all_changes.extend(out["changes"])
            all_painted.extend(out["painted"])
            rows.extend(out["rows"])
            count = out["tasks"]
            peers.append(docker_peer(url))
        idle: dict[str, Any] = {}
        if idle_s:
            idle = run_child(url, nodes, 0, idle_s)
    return {
        "nodes": nodes, "tasks": count, "first": firsts, "peer": peers, "changes": all_changes,
        "painted": all_painted, "rows": rows, "rss": mems,
        "idle_bytes_min": idle["idle_bytes"] * 60 / idle_s if idle else None,
        "idle_requests": idle.get("idle_requests", []),
    }


def report(r: dict[str, Any]) -> str:
    first, peer = statistics.median(r["first"]), statistics.median(r["peer"])
    ch, pa = r["changes"], r["painted"]
    idle = r["idle_bytes_min"]
    idle_text = f"{idle / 1e6:.2f} MB/min" if idle is not None else "-"
    return (f"| {r['nodes']:,} | {r['tasks']:,} | {first * 1000:,.0f} "
            f"({min(r['first']) * 1000:,.0f}–{max(r['first']) * 1000:,.0f}) | {peer * 1000:.0f} | "
            f"{statistics.median(ch) * 1000:.1f} / {p95(ch) * 1000:.1f} | "
            f"{statistics.median(pa) * 1000:.1f} / {p95(pa) * 1000:.1f} | "
            f"{statistics.median(r['rows']):.0f} | {statistics.median(r['rss']):.0f} | "
            f"{idle_text} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--changes", type=int, default=30)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--curve", help="comma-separated node counts, 30 tasks per node")
    ap.add_argument("--idle", type=float, default=60.0,
                    help="seconds of idle to count bytes over (--curve; 0: skip)")
    ap.add_argument("--json", help="also write the raw figures to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.nodes, args.changes, args.idle)
        return
    if args.curve:
        sizes = [(n, n * TASKS_PER_NODE) for n in map(int, args.curve.split(","))]
        idle_s = args.idle
    else:
        sizes = [(args.nodes, args.tasks)]
        idle_s = 0.0
    load = os.getloadavg()
    results = []
    for nodes, tasks in sizes:
        results.append(measure_size(nodes, tasks, args.runs, args.changes, idle_s))
        print(report(results[-1]), file=sys.stderr, flush=True)
    print(f"{args.runs} runs per size, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"-> {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| nodes | tasks | first full frame, ms median (min–max) | docker node ls && "
          "service ls, ms | one change until the Pilot is idle, ms median / p95 | one change "
          "until its last frame, ms median / p95 | rows repainted | RSS MiB | idle bytes read |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(report(r))
    for r in results:
        if r["idle_requests"]:
            kinds: dict[str, int] = {}
            for line in r["idle_requests"]:
                key = line.split("?")[0]
                kinds[key] = kinds.get(key, 0) + 1
            print(f"idle requests at {r['nodes']} nodes over {idle_s:g} s: {kinds}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
