"""Log throughput end to end: `swarmtui logs` and the log pane vs `docker service logs`.

Usage (the lab must be up: `python tests/swarmlab.py up`):

    .venv/bin/python benchmarks/logs_throughput.py [--lines 400000] [--rounds 3]
        [--rss-lines 1000000]

Everything runs against a flooding service on the lab (2 replicas on the workers, each
printing ``seq 1 lines/2`` once), in the same run, alternating the consumers round by round:

* backlog: read the whole backlog (non-follow) — `docker service logs SVC`, `swarmtui logs
  SVC` (both whole processes, output to a pipe that counts lines), and the pane (a headless
  SwarmApp on the logs screen, following with ``tail=all``: time until the ring has seen
  every line, flush ticker and repaint included; a line counts once it is in the ring or
  counted as dropped: a backlog bigger than the ring is cut while it is gathered);
* follow: a fresh flood while following with ``--tail 0``: first line to last line;
* memory: the pane after ``--rss-lines`` lines went through its ring (default capacity).

The pane runs in a child process (``--pane``) so its RSS is its own. Takes the lab lock that
the pytest ``swarm`` fixture takes, and removes its services afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
LOCK = Path("/tmp/swarmtui-lab-main.lock")
TIMEOUT_S = 180
FLOOD = "trap 'exit 0' TERM; {delay}seq 1 {n}; while :; do sleep 1; done"


# ------------------------------------------------------------------------------ the pane


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def pane(host: str, service: str, expect: int, follow: bool, capacity: int) -> dict[str, Any]:
    from swarmtui.app import SwarmApp
    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.engine.logs import FollowOptions, LogSession
    from swarmtui.engine.target import EngineTarget
    from swarmtui.model.log_targets import LogTargets
    from swarmtui.runtime import build_runtime
    from swarmtui.screens.logs import LogsScreen
    from swarmtui.settings import Settings

    rss_before = rss_kib()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    live = LiveSwarm(EngineClient(EngineTarget(host, "bench")))
    runtime = build_runtime(Settings(), live)
    app = SwarmApp(runtime, start_mode="logs")
    session = LogSession(live.client, live.store, capacity=capacity)
    session.start(LogTargets(services=(service,)), FollowOptions(tail=0 if follow else None))
    runtime.log_session = session
    lags: list[float] = []
    first = last = 0.0

    async def lag_probe() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        probe = asyncio.create_task(lag_probe())
        give_up = time.perf_counter() + TIMEOUT_S
        # lines_seen, not ring.total: a backlog bigger than the ring is cut (counted as
        # dropped) while it is gathered, and those lines never enter the ring.
        while session.lines_seen < expect and time.perf_counter() < give_up:
            if not first and session.lines_seen:
                first = time.perf_counter()
            await asyncio.sleep(0.005)
        last = time.perf_counter()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        screen.flush()
        await pilot.pause()
        rows = screen.view.row_count
        probe.cancel()
        total, dropped = session.lines_seen, session.dropped
        rss_after = rss_kib()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    lags.sort()
    return {
        "lines": total,
        "wall_s": last - start,
        "stream_s": last - (first or last),
        "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "maxrss_kib": cpu1.ru_maxrss,
        "ring_len": total - dropped,
        "dropped": dropped,
        "view_rows": rows,
        "lag_p99_ms": 1000 * lags[int(len(lags) * 0.99)] if lags else 0.0,
        "lag_max_ms": 1000 * lags[-1] if lags else 0.0,
    }


# ------------------------------------------------------------------------------ helpers


@contextlib.contextmanager
def lab_lock() -> Iterator[None]:
    with LOCK.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def count_lines(argv: list[str], expect: int, env: dict[str, str], *,
                follow: bool) -> dict[str, float]:
    """Run a consumer, count the lines on its stdout; stop it after ``expect`` if following."""
    t0 = time.perf_counter()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            bufsize=0)
    assert proc.stdout is not None
    guard = threading.Timer(TIMEOUT_S, proc.send_signal, [signal.SIGINT])
    guard.start()
    n = 0
    first = 0.0
    while n < expect:
        chunk = proc.stdout.read(1 << 16)
        if not chunk:
            break
        if not first:
            first = time.perf_counter()
        n += chunk.count(b"\n")
    last = time.perf_counter()
    if follow:
        proc.send_signal(signal.SIGINT)
    proc.stdout.read()
    proc.wait(timeout=30)
    guard.cancel()
    end = time.perf_counter()
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    return {"lines": n, "wall_s": (end if not follow else last) - t0, "stream_s": last - first,
            "cpu_s": cpu, "maxrss_kib": kids1.ru_maxrss}


def run_pane(host: str, service: str, expect: int, *, follow: bool,
             capacity: int) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--pane", "--host", host, "--service", service,
            "--expect", str(expect), "--capacity", str(capacity)]
    if follow:
        argv.append("--follow")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=TIMEOUT_S + 60)
    return json.loads(out.strip().splitlines()[-1])


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


# ------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=400_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rss-lines", type=int, default=1_000_000)
    ap.add_argument("--capacity", type=int, default=20_000)
    ap.add_argument("--pane", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--follow", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--host", help=argparse.SUPPRESS)
    ap.add_argument("--service", help=argparse.SUPPRESS)
    ap.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pane:
        result = asyncio.run(pane(args.host, args.service, args.expect, args.follow,
                                  args.capacity))
        print(json.dumps(result), flush=True)
        return

    import swarmlab

    lab = swarmlab.load()
    if lab is None or not lab.is_ready():
        sys.exit("the lab is not up: python tests/swarmlab.py up")
    host = lab.manager_host
    env = lab.docker_env()
    docker = [lab.cli, "-H", host, "service", "logs"]
    swarmtui = [sys.executable, "-m", "swarmtui", "-H", host, "logs"]
    per_task = args.lines // 2

    def create(name: str, n: int, delay: str = "") -> None:
        lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name,
                   "--replicas", "2", "--constraint", "node.role==worker", "busybox:lab",
                   "sh", "-c", FLOOD.format(n=n, delay=delay))

    def backlog_done(name: str, n: int) -> bool:
        out = lab.docker("service", "logs", "--raw", "--tail", "1", name).stdout
        return out.split().count(str(n)) == 2

    def remove(*names: str) -> None:
        lab.docker("service", "rm", *names, check=False)

    results: dict[str, list[dict[str, Any]]] = {}
    with lab_lock():
        try:
            # -- backlog ---------------------------------------------------------------
            create("bench_flood", per_task)
            deadline = time.monotonic() + 120
            while not backlog_done("bench_flood", per_task):
                if time.monotonic() > deadline:
                    sys.exit("the flood did not finish in 120 s")
                time.sleep(0.5)
            for _ in range(args.rounds):
                results.setdefault("backlog docker", []).append(
                    count_lines([*docker, "bench_flood"], args.lines, env, follow=False))
                results.setdefault("backlog swarmtui", []).append(
                    count_lines([*swarmtui, "bench_flood"], args.lines, env, follow=False))
                results.setdefault("backlog pane", []).append(
                    run_pane(host, "bench_flood", args.lines, follow=False,
                             capacity=args.capacity))
            remove("bench_flood")

            # -- follow ----------------------------------------------------------------
            for r in range(args.rounds):
                for who in ("docker", "swarmtui", "pane"):
                    name = f"bench_live{r}{who[0]}"
                    # The flood starts 8 s after the service is created: the consumer is
                    # connected by then (with --tail 0 it sees only what comes after).
                    create(name, per_task, delay="sleep 8; ")
                    if who == "pane":
                        res = run_pane(host, name, args.lines, follow=True,
                                       capacity=args.capacity)
                    else:
                        cmd = docker if who == "docker" else swarmtui
                        res = count_lines([*cmd, "-f", "--tail", "0", name], args.lines, env,
                                          follow=True)
                    results.setdefault(f"follow {who}", []).append(res)
                    remove(name)

            # -- memory ----------------------------------------------------------------
            create("bench_big", args.rss_lines // 2)
            deadline = time.monotonic() + 300
            while not backlog_done("bench_big", args.rss_lines // 2):
                if time.monotonic() > deadline:
                    sys.exit("the big flood did not finish in 300 s")
                time.sleep(1)
            results["rss pane"] = [run_pane(host, "bench_big", args.rss_lines, follow=False,
                                            capacity=args.capacity)]
        finally:
            remove("bench_flood", "bench_big",
                   *(f"bench_live{r}{w}" for r in range(args.rounds) for w in "dsp"))

    print(f"\nlogs throughput, {args.lines:,} lines (2 tasks on 2 workers), median of "
          f"{args.rounds} rounds, same run")
    for kind in ("backlog", "follow"):
        ref = args.lines / median(results[f"{kind} docker"],
                                  "wall_s" if kind == "backlog" else "stream_s")
        print(f"\n{kind}:")
        for who in ("docker", "swarmtui", "pane"):
            rows = results[f"{kind} {who}"]
            key = "wall_s" if kind == "backlog" else "stream_s"
            rate = args.lines / median(rows, key)
            extra = f"  cpu {median(rows, 'cpu_s'):.1f}s"
            if who == "pane":
                extra += ("  loop lag p99 "
                         f"{median(rows, 'lag_p99_ms'):.0f} ms "
                         f"max {median(rows, 'lag_max_ms'):.0f} ms")
            print(f"  {who:9s} {rate:9,.0f} lines/s  ({median(rows, key):.2f} s)  "
                  f"ratio {rate / ref:.2f}{extra}  "
                  f"lines seen {min(r['lines'] for r in rows):,}")
    big = results["rss pane"][0]
    print(f"\nmemory: pane after {big['lines']:,} lines through a {args.capacity:,}-line ring: "
          f"RSS {big['rss_after_kib'] / 1024:.0f} MiB (before start "
          f"{big['rss_before_kib'] / 1024:.0f} MiB, peak {big['maxrss_kib'] / 1024:.0f} MiB), "
          f"ring {big['ring_len']:,} kept, {big['dropped']:,} dropped, view rows "
          f"{big['view_rows']:,}; {big['lines'] / big['wall_s']:,.0f} lines/s")
    print("\nraw:", json.dumps(results))


if __name__ == "__main__":
    main()
