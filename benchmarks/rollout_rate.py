"""Request rate of ``swarmtui rollout status`` during a rolling update and after it, beside
``docker service update``'s own progress polling (the docker CLI polls every 200 ms).

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock so no lab
test runs meanwhile):
    .venv/bin/python benchmarks/rollout_rate.py --socket /tmp/swarmtui-lab/n1/docker.sock

Both are counted by the same counting proxy (tests/counting_proxy.py) in front of the
manager's socket, on the same service (3 replicas, parallelism 1, delay 2 s, monitor 2 s):
swarmtui waits for an update started with ``--detach``, the docker CLI runs the update back
without ``--detach`` (it then polls until the update converged).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from counting_proxy import CountingProxy
from labtools import docker, lab_lock

NAME = "bench-rollout"
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
CONFIG = ["--update-parallelism", "1", "--update-delay", "2s", "--update-monitor", "2s"]


def kinds(requests: list[tuple[str, str]]) -> str:
    def kind(path: str) -> str:
        path = path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p and not p.startswith("v1.")]
        if not parts:
            return path
        return parts[0] + ("/{id}" if len(parts) > 1 else "")

    counted = Counter(f"{m} {kind(p)}" for m, p in requests)
    return ", ".join(f"{k} x{n}" for k, n in counted.most_common())


def measure(socket: str, argv: list[str]) -> tuple[float, list[tuple[str, str]], str]:
    with CountingProxy(socket) as proxy:
        cmd = [a.replace("{HOST}", proxy.url) for a in argv]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        took = time.monotonic() - start
        seen = proxy.seen()
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    return took, seen, f"exit {proc.returncode}: {last}"


def report(label: str, took: float, seen: list[tuple[str, str]], last: str) -> None:
    gets = [r for r in seen if r[0] == "GET"]
    print(f"{label}: {len(seen)} requests ({len(gets)} GET) in {took:.1f} s = "
          f"{len(seen) / took:.1f}/s; {kinds(seen)}")
    print(f"    {last}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    swarmtui = [sys.executable, "-m", "swarmtui", "-H", "{HOST}", "--read-only",
                "rollout", "status", NAME]
    with lab_lock(args.lock):
        docker(host, "service", "create", "--no-resolve-image", "--name", NAME, "--replicas",
               "3", *CONFIG, "busybox:lab", "sh", "-c", LOOP)
        try:
            docker(host, "service", "update", "--detach", "--no-resolve-image", "--image",
                   "busybox:lab2", NAME)
            report("swarmtui rollout status, during the update", *measure(args.socket, swarmtui))
            report("swarmtui rollout status, nothing in flight", *measure(args.socket, swarmtui))
            env_cli = ["docker", "-H", "{HOST}", "service", "update", "--no-resolve-image",
                       "--image", "busybox:lab", NAME]
            os.environ.setdefault("DOCKER_CLI_HINTS", "false")
            report("docker service update (no --detach), the same update back",
                   *measure(args.socket, env_cli))
        finally:
            docker(host, "service", "rm", NAME)


if __name__ == "__main__":
    main()
