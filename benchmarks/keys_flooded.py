"""Keys answered while the app is flooded: a log pane following services that print at full
speed, and 20 services converging, on the lab; the real app in tmux.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock; ~2 minutes):
    .venv/bin/python benchmarks/keys_flooded.py --switches 20

Load: ``bench-flood`` (2 replicas on the workers, each ``seq`` at full speed) followed by the
logs view, and 20 one-replica services whose tasks exit after ``--churn`` seconds and
restart after as long (so they never converge: the reconciler keeps listing their tasks at
its converging rate; the engine starts 20 containers per 2 x churn seconds, which is most of
the machine's load: at churn 3 s the load average passed 17 on the 2 cores). Measured: a view
key (``2``, services) and back (``3``, logs), each from the key sent to the first pane
capture (every 10 ms) whose status bar names the new view.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import docker, lab_lock, load_average
from tmuxapp import Tmux, summary

FLOOD = "bench-flood"
CHURN = "bench-churn-{}"
FLOOD_CMD = "trap 'exit 0' TERM; seq 1 100000000; while :; do sleep 1; done"


def view_shown(name: str) -> object:
    return lambda text: text.lstrip().startswith(f"swarmtui · {name}")


def run(args: argparse.Namespace) -> list[float]:
    host = f"unix://{args.socket}"
    took: list[float] = []
    with Tmux() as tmux:
        app = tmux.app(["-H", host], size=(200, 50))
        app.wait_for(lambda text: "lab-node3" in text and FLOOD in text, timeout=60)
        app.send_keys("3")
        app.wait_for(view_shown("logs"), timeout=20)  # type: ignore[arg-type]
        app.send_keys("f")
        time.sleep(0.5)
        app.send_keys(FLOOD, literal=True)
        app.send_keys("Enter")
        # Lines of the flood on screen: `bench-flood.1.xxxx@lab-node2 | 12345`.
        app.wait_for(lambda text: re.search(rf"{FLOOD}\.\d.*\d{{4,}}", text) is not None,
                     timeout=60)
        time.sleep(args.warm)
        for i in range(args.switches):
            for key, view in (("2", "services"), ("3", "logs")):
                sent = app.send_keys(key)
                shot = app.wait_for(view_shown(view), timeout=30,  # type: ignore[arg-type]
                                    period=args.period)
                took.append((shot.t - sent) * 1000)
                time.sleep(random.uniform(0.2, 0.6))
            if i == 0:
                print(f"first switch: {took[0]:.0f} ms, back: {took[1]:.0f} ms", flush=True)
        app.quit()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--services", type=int, default=20, help="converging services")
    parser.add_argument("--churn", type=float, default=10.0, help="task life and restart delay")
    parser.add_argument("--warm", type=float, default=10.0, help="seconds flooded before")
    parser.add_argument("--period", type=float, default=0.01, help="pane sampling (s)")
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    names = [CHURN.format(i) for i in range(args.services)]
    with lab_lock(args.lock):
        print(f"load average before: {load_average()}")
        try:
            docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", FLOOD,
                   "--replicas", "2", "--constraint", "node.role==worker", "busybox:lab",
                   "sh", "-c", FLOOD_CMD)
            for name in names:
                docker(host, "service", "create", "--detach", "--no-resolve-image", "--name",
                       name, "--replicas", "1", "--restart-delay", f"{args.churn}s", "busybox:lab",
                       "sh", "-c", f"sleep {args.churn}; exit 1")
            took = run(args)
        finally:
            docker(host, "service", "rm", FLOOD, *names)
        print(f"load average during: {load_average()}")
    print(summary("key -> view shown, flooded (logs + 20 converging services)", took))


if __name__ == "__main__":
    main()
