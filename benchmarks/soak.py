"""Soak: the whole app (Textual headless, log pane following) against the lab for a long
while, logs flowing and a rolling update every few minutes. Not in CI.

Usage (the lab must be up: `python tests/swarmlab.py up`; holds the lab's lock, so no lab
test runs meanwhile):
    .venv/bin/python benchmarks/soak.py --minutes 30

Every ``--sample`` seconds (30) it samples the app process's RSS and open file descriptors;
at the end it prints the RSS slope (least squares, MiB/hour, the first sample, taken once
the backlog is in, as the base), the fd count at the start and the end, the engine
requests per minute, and checks ``docker service ps`` for leaked tasks: every service has
exactly its replicas desired running, and no more history per slot than the engine keeps.
The RSS slope over the whole run includes the log ring filling up (20,000 lines by default,
about 11 minutes at this rate); the slope with the ring full is printed separately.
Exits 1 when a check fails (fds grew by more than 10, leaked tasks).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from labtools import docker, lab_lock

from swarmtui.app import SwarmApp
from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.target import EngineTarget
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings

TICK = "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo soak tick $i; sleep 0.1; done"
SERVICES = {"soak-tick": 3, "soak-web": 2}
HISTORY_LIMIT = 5  # the swarm's default task history retention per slot


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per hour."""
    if len(samples) < 2:
        return 0.0
    xs, ys = zip(*samples, strict=True)
    return statistics.linear_regression(xs, ys).slope * 3600


def create(host: str) -> None:
    docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", "soak-tick",
           "--replicas", str(SERVICES["soak-tick"]), "--update-delay", "1s",
           "busybox:lab", "sh", "-c", TICK)
    docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", "soak-web",
           "--replicas", str(SERVICES["soak-web"]), "busybox:lab", "sh", "-c",
           "trap 'exit 0' TERM; while :; do sleep 1; done")


def remove(host: str) -> None:
    for name in SERVICES:
        docker_ok(host, "service", "rm", name)


def docker_ok(host: str, *args: str) -> None:
    try:
        docker(host, *args)
    except Exception as exc:  # the clean-up goes on whatever one command says
        print(f"  ({' '.join(args)}: {exc})")


def leaked_tasks(host: str) -> list[str]:
    """What ``docker service ps`` shows beyond each service's replicas and history."""
    problems = []
    for name, replicas in SERVICES.items():
        out = docker(host, "service", "ps", name, "--format",
                     "{{.Name}} {{.DesiredState}} {{.CurrentState}}").stdout.splitlines()
        running = [ln for ln in out if ln.split()[1] == "Running"]
        if len(running) != replicas:
            problems.append(f"{name}: {len(running)} tasks desired running, want {replicas}")
        per_slot: dict[str, int] = {}
        for ln in out:
            slot = ln.split()[0].lstrip("\\_ ").rsplit(".", 1)[-1]
            per_slot[slot] = per_slot.get(slot, 0) + 1
        over = {s: n for s, n in per_slot.items() if n > HISTORY_LIMIT}
        if over:
            problems.append(f"{name}: more tasks per slot than the history keeps: {over}")
    return problems


async def soak(host: str, minutes: float, sample_s: float, update_s: float,
               log_lines: int | None) -> int:
    live = LiveSwarm(EngineClient(EngineTarget(host, "soak")))
    app = SwarmApp(build_runtime(Settings(log_lines=log_lines), live), start_mode="logs")
    samples: list[tuple[float, float]] = []
    full: list[tuple[float, float]] = []  # the samples once the ring is full (steady state)
    fds: list[int] = []
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await live.wait_full_state(30)
        session = app.runtime.logs
        await asyncio.wait_for(session.wait_backlog(), 30)
        await pilot.pause(5)  # the streams open, the first lines in
        start = time.monotonic()
        requests0 = live.client.requests
        next_sample = start
        next_update = start + update_s
        image = "busybox:lab"
        updates = 0
        while (now := time.monotonic()) < start + minutes * 60:
            if now >= next_sample:
                samples.append((now - start, rss_mib()))
                if len(session.ring) >= session.ring.capacity:
                    full.append(samples[-1])
                fds.append(open_fds())
                print(f"  {now - start:6.0f} s  RSS {samples[-1][1]:7.1f} MiB  fds {fds[-1]:4d}"
                      f"  ring {len(session.ring):6,}  dropped {session.dropped:8,}", flush=True)
                next_sample += sample_s
            if now >= next_update:
                image = "busybox:lab2" if image == "busybox:lab" else "busybox:lab"
                await asyncio.to_thread(docker, host, "service", "update", "--detach",
                                        "--no-resolve-image", "--image", image, "soak-tick")
                updates += 1
                next_update += update_s
            await pilot.pause(1)
        elapsed = time.monotonic() - start
        requests = live.client.requests - requests0
        streams = [h.state for h in session.health()]
    problems = await asyncio.to_thread(leaked_tasks, host)
    print(f"\nsoak: {elapsed / 60:.1f} min, {updates} rolling updates, {len(samples)} samples")
    print(f"RSS {samples[0][1]:.1f} -> {samples[-1][1]:.1f} MiB, slope "
          f"{slope_per_hour(samples):+.1f} MiB/hour (the log ring filling counts in it)")
    if len(full) >= 2:
        print(f"RSS with the ring full ({full[0][0]:.0f} s on, {len(full)} samples): "
              f"{full[0][1]:.1f} -> {full[-1][1]:.1f} MiB, slope "
              f"{slope_per_hour(full):+.1f} MiB/hour")
    else:
        print("the log ring never filled: no steady-state slope (use --log-lines)")
    print(f"open fds {fds[0]} at the start, {fds[-1]} at the end (max {max(fds)})")
    print(f"engine requests {requests / (elapsed / 60):.1f}/min; log streams at the end: {streams}")
    if fds[-1] - fds[0] > 10:
        problems.append(f"file descriptors grew by {fds[-1] - fds[0]}")
    print("leaked tasks: none" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="unix:///tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--update-every", type=float, default=180.0,
                        help="seconds between rolling updates of soak-tick")
    parser.add_argument("--log-lines", type=int, default=None,
                        help="the log pane's ring (default: the app's, 20,000 lines); a "
                        "smaller one fills early, so the steady-state slope covers more")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    args = parser.parse_args()
    with lab_lock(args.lock):
        remove(args.host)  # a soak that was interrupted
        create(args.host)
        try:
            return asyncio.run(soak(args.host, args.minutes, args.sample, args.update_every,
                                    args.log_lines))
        finally:
            remove(args.host)


if __name__ == "__main__":
    sys.exit(main())
