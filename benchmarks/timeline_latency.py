"""From a task changing state on the engine to the updates screen showing it, over rolling
updates on the lab, beside ``docker service update``'s own progress output in the same run;
and swarmtui's request rate during and after each update.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock so no lab
test runs meanwhile; ~1 minute per run):
    .venv/bin/python benchmarks/timeline_latency.py --runs 3

Each run: the docker CLI updates a 4-replica service (parallelism 1, delay 2 s, monitor 1 s)
to the other image, without ``--detach``, so it prints its progress; the app runs headless
in this process on the updates screen through its real engine layer (events + reconciler).

* swarmtui, every state change: for each (task, state) the timeline shows whose state was
  reached after the update began, the wall time ``show_state`` returned with it on screen
  minus the engine's ``Status.Timestamp`` of that state.
* "k of 4 updated", both tools: the engine's time the k-th new task reached running, against
  the first ``overall progress: k out of 4 tasks`` line of the CLI (it prints no per-slot
  lines when not on a terminal) and the first screen showing ``k of 4 updated``.
* Requests: swarmtui's ``EngineClient.requests`` during the update (the CLI's POST to the
  timeline saying completed) and over ``--after`` seconds after it; the CLI's own requests
  through the counting proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from counting_proxy import CountingProxy
from labtools import docker, lab_lock

from swarmtui.app import SwarmApp
from swarmtui.engine.target import EngineTarget
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import COMPLETED
from swarmtui.runtime import build_runtime
from swarmtui.screens.updates import UpdatesScreen
from swarmtui.settings import Settings

NAME = "bench-timeline"
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
REPLICAS = 4
CONFIG = ["--update-parallelism", "1", "--update-delay", "2s", "--update-monitor", "1s"]
IMAGES = ("busybox:lab2", "busybox:lab")


class Shown:
    """What the updates screen had on screen, and when (wall ns)."""

    def __init__(self) -> None:
        self.reset("")

    def reset(self, image: str) -> None:
        self.states: dict[tuple[str, str], tuple[int, int | None]] = {}
        self.updated: dict[int, int] = {}
        self.image = image

    def install(self) -> None:
        original = UpdatesScreen.show_state
        shown = self

        def show_state(screen: UpdatesScreen, state: ClusterState) -> None:
            original(screen, state)
            now = time.time_ns()
            for t in screen.timelines():
                if t.service_name != NAME or t.image_to != shown.image:
                    continue
                for row in t.rows:
                    for ref in (row.old, row.new, row.failed_attempt):
                        if ref is not None:
                            shown.states.setdefault((ref.id, ref.state), (now, ref.status_ns))
                shown.updated.setdefault(t.updated, now)

        UpdatesScreen.show_state = show_state  # type: ignore[method-assign]


def cli_update(host: str, image: str, lines: list[tuple[int, str]]) -> subprocess.Popen[str]:
    env = {**os.environ, "DOCKER_CLI_HINTS": "false"}
    proc = subprocess.Popen(["docker", "-H", host, "service", "update", "--no-resolve-image",
                             "--image", image, NAME], stdout=subprocess.PIPE, text=True,
                            env=env)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.time_ns(), line.rstrip("\n")))

    threading.Thread(target=read, daemon=True).start()
    return proc


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(label: str, ms: list[float]) -> str:
    if not ms:
        return f"{label}: none"
    return (f"{label}: median {statistics.median(ms):.0f} ms, p95 {pct(ms, 0.95):.0f} ms, "
            f"max {max(ms):.0f} ms (n={len(ms)})")


async def run(args: argparse.Namespace) -> None:
    host = f"unix://{args.socket}"
    runtime = build_runtime(Settings(), EngineTarget(host, "bench"))
    app = SwarmApp(runtime, start_mode="updates")
    shown = Shown()
    shown.install()
    client = runtime.live.client
    asked: list[tuple[float, str]] = []  # (monotonic, path) of every request, for --verbose
    request = client.request

    async def counted(method: str, path: str, *a: object, **kw: object) -> object:
        asked.append((time.monotonic(), f"{method} {path.split('?')[0]}"))
        return await request(method, path, *a, **kw)  # type: ignore[arg-type]

    client.request = counted  # type: ignore[method-assign]
    all_states: list[float] = []
    k_app: list[float] = []
    k_cli: list[float] = []
    during: list[float] = []
    after: list[float] = []
    cli_rates: list[float] = []
    async with app.run_test(headless=True, size=(200, 60)) as pilot:
        await runtime.live.wait_full_state(30)
        for i in range(args.runs):
            image = IMAGES[i % 2]
            shown.reset(image)
            lines: list[tuple[int, str]] = []
            with CountingProxy(args.socket) as proxy:
                start_req, start = client.requests, time.monotonic()
                begun_ns = time.time_ns()
                proc = cli_update(proxy.url, image, lines)
                timeline = None
                while time.monotonic() - start < 120:
                    svc = runtime.live.store.state.service_by_name(NAME)
                    tl = runtime.updates.history.latest(svc.id) if svc else None
                    if (tl is not None and tl.image_to == image and tl.outcome == COMPLETED
                            and tl.updated == REPLICAS):
                        timeline = tl
                        break
                    await asyncio.sleep(0.05)
                assert timeline is not None, "the update did not complete in 120 s"
                took = time.monotonic() - start
                during.append((client.requests - start_req) / took)
                while proc.poll() is None:
                    await asyncio.sleep(0.05)
                cli_took = time.monotonic() - start
                cli_rates.append(len(proxy.seen()) / cli_took)
            mark_req, mark = client.requests, time.monotonic()
            await asyncio.sleep(args.after)
            after.append((client.requests - mark_req) / (time.monotonic() - mark) * 60)
            if args.verbose:
                late = [f"{t - mark:5.1f} {what}" for t, what in asked if t >= mark]
                print("  after:", "; ".join(late))
            await pilot.pause()

            for (_tid, _state), (seen_ns, status_ns) in shown.states.items():
                if status_ns is not None and status_ns >= begun_ns:
                    all_states.append((seen_ns - status_ns) / 1e6)
            running = sorted(r.new.status_ns or 0 for r in timeline.rows if r.new is not None)
            for k, engine_ns in enumerate(running, start=1):
                if k in shown.updated:
                    k_app.append((shown.updated[k] - engine_ns) / 1e6)
                cli = next((t for t, line in lines
                            if line.startswith(f"overall progress: {k} out of")), None)
                if cli is not None:
                    k_cli.append((cli - engine_ns) / 1e6)
            print(f"run {i + 1}: {image}, update {took:.1f} s, swarmtui "
                  f"{during[-1]:.1f} req/s during, {after[-1]:.1f} req/min after; "
                  f"docker CLI {cli_rates[-1]:.1f} req/s")
    print(summary("swarmtui, task state change -> timeline shows it", all_states))
    print(summary("swarmtui, k-th new task running -> 'k of 4 updated' shown", k_app))
    print(summary("docker service update, k-th new task running -> 'overall progress: k'",
                  k_cli))
    print(f"swarmtui requests: {statistics.median(during):.1f}/s during an update (median), "
          f"{statistics.median(after):.1f}/min in the {args.after:.0f} s after; "
          f"docker CLI {statistics.median(cli_rates):.1f}/s while it waits")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--after", type=float, default=30.0, help="seconds measured after")
    parser.add_argument("--verbose", action="store_true", help="list the requests after")
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    with lab_lock(args.lock):
        docker(host, "service", "create", "--no-resolve-image", "--name", NAME, "--replicas",
               str(REPLICAS), *CONFIG, IMAGES[1], "sh", "-c", LOOP)
        try:
            asyncio.run(run(args))
        finally:
            docker(host, "service", "rm", NAME)


if __name__ == "__main__":
    main()
