"""A task crashing on a worker while the app is idle: how long until the grid shows it.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock; ~40 s a run):
    .venv/bin/python benchmarks/crash_idle.py --runs 6

The real app runs in tmux against the manager, on the grid in "lines" density. Each run: a
one-replica service pinned to the workers (``--restart-condition none``, so the failed task
stays what the slot shows); once the grid shows it running, the app is left idle for
``--idle`` seconds plus a random part (so the crash lands anywhere between the app's idle
polls), then its container is killed on its worker (``docker -H worker kill``: the manager's
event stream carries no container events of other nodes, and there are no task events).
Latency = the first pane capture showing ``NAME.1 ... failed`` minus the kill's return.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import docker, lab_lock, load_average
from tmuxapp import Tmux, summary

LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
WORKERS = ("unix:///tmp/swarmtui-lab/n2/docker.sock", "unix:///tmp/swarmtui-lab/n3/docker.sock")


def shows(text: str, name: str, state: str) -> bool:
    return re.search(rf"▌{re.escape(name)}\.1\s+{state} ", text) is not None


def container_of(name: str) -> tuple[str, str]:
    """(worker host, container id) of the service's task."""
    for host in WORKERS:
        out = docker(host, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={name}")
        if out.stdout.strip():
            return host, out.stdout.split()[0]
    raise RuntimeError(f"no container of {name} on the workers")


def run(args: argparse.Namespace) -> list[float]:
    host = f"unix://{args.socket}"
    took: list[float] = []
    with Tmux() as tmux:
        app = tmux.app(["-H", host], size=(200, 50))
        app.wait_for(lambda text: "lab-node3" in text and "running" in text, timeout=60)
        app.send_keys("d")  # lines density: one line per task
        for i in range(args.runs):
            name = f"bench-crash-{i}"
            docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", name,
                   "--replicas", "1", "--restart-condition", "none",
                   "--constraint", "node.role==worker", "busybox:lab", "sh", "-c", LOOP)
            try:
                app.wait_for(lambda text, n=name: shows(text, n, "running"), timeout=60)
                time.sleep(args.idle + random.uniform(0, 10))
                worker, cid = container_of(name)
                subprocess.run(["docker", "-H", worker, "kill", cid], check=True,
                               capture_output=True)
                t0 = time.time()
                shot = app.wait_for(lambda text, n=name: shows(text, n, "failed"),
                                    timeout=120, period=args.period)
                took.append((shot.t - t0) * 1000)
                print(f"run {i + 1}: {took[-1] / 1000:.2f} s", flush=True)
            finally:
                docker(host, "service", "rm", name)
        app.quit()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--idle", type=float, default=20.0, help="idle seconds before a kill")
    parser.add_argument("--period", type=float, default=0.05, help="pane sampling (s)")
    args = parser.parse_args()
    with lab_lock(args.lock):
        print(f"load average before: {load_average()}")
        took = run(args)
    print(summary("task crash on a worker at idle -> grid shows failed", took))
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
