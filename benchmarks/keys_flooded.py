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

``--sim``: the same load from the simulated engine (``swarmtui.sim.server``, chatty scenario,
in another process; no lab, no lock): ``bench-flood`` is 2 tasks logging ``--rate`` lines/s
each, and the converging services are tasks that exit after ``--churn`` seconds. The lab's
flood (two ``seq`` containers and three dockerds relaying and storing the lines) loads the 2
cores to 10 by itself, so the lab figure measures a starved app; the simulator's flood costs
a fraction of one core. ``--roots A,B`` measures each checkout's app in turn against the same
flood (e.g. a ``git worktree`` of main beside this branch), ``--rounds`` times alternately:

    .venv/bin/python benchmarks/keys_flooded.py --sim --roots /work/wt/keys-base,. --rounds 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import docker, lab_lock, load_average
from tmuxapp import ROOT, Tmux, summary

FLOOD = "bench-flood"
CHURN = "bench-churn-{}"
FLOOD_CMD = "trap 'exit 0' TERM; seq 1 100000000; while :; do sleep 1; done"


def view_shown(name: str) -> object:
    return lambda text: text.lstrip().startswith(f"swarmtui · {name}")


def run(args: argparse.Namespace, host: str, last_node: str, root: Path = ROOT,
        stats: dict[str, float] | None = None) -> list[float]:
    """The switches' latencies (ms); ``stats`` gets the app's CPU seconds and wall seconds
    from the first switch to the last."""
    took: list[float] = []
    # A tmux server of its own per run: the last run's server (same name) may still be
    # exiting, and a new session on its socket then fails ("server exited unexpectedly").
    with Tmux(f"swarmtui-bench-{os.getpid()}-{time.monotonic_ns()}") as tmux:
        app = tmux.app(["-H", host], size=(200, 50), root=root)
        app.wait_for(lambda text: last_node in text and FLOOD in text, timeout=60)
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
        began, cpu = time.monotonic(), cpu_seconds(app.pid)
        for i in range(args.switches):
            for key, view in (("2", "services"), ("3", "logs")):
                sent = app.send_keys(key)
                shot = app.wait_for(view_shown(view), timeout=30,  # type: ignore[arg-type]
                                    period=args.period)
                took.append((shot.t - sent) * 1000)
                time.sleep(random.uniform(0.2, 0.6))
            if i == 0:
                print(f"first switch: {took[0]:.0f} ms, back: {took[1]:.0f} ms", flush=True)
        if stats is not None:
            stats["app_cpu"] = cpu_seconds(app.pid) - cpu
            stats["seconds"] = time.monotonic() - began
        app.quit()
    return took


@contextlib.contextmanager
def simulator(folder: str) -> Iterator[tuple[str, int]]:
    """The simulated swarm served from another process; its ``unix://`` address and pid."""
    sock = f"{folder}/sim.sock"
    server = subprocess.Popen([sys.executable, "-m", "swarmtui.sim.server", "--scenario",
                               "chatty", "--start", "now", "--socket", sock],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "simulated swarm ... on unix://..." once it serves
        yield f"unix://{sock}", server.pid
    finally:
        server.terminate()
        server.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc, clock ticks)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_sim(args: argparse.Namespace) -> None:
    roots = [Path(r).resolve() for r in args.roots.split(",")] if args.roots else [ROOT]
    took: dict[Path, list[float]] = {root: [] for root in roots}
    with tempfile.TemporaryDirectory(prefix="keys-flooded-") as folder, \
            simulator(folder) as (host, sim_pid):
        docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", FLOOD,
               "--replicas", "2", "registry.example.com/tools/chatty:1.0",
               "--rate", str(args.rate))
        for i in range(args.services):
            docker(host, "service", "create", "--detach", "--no-resolve-image", "--name",
                   CHURN.format(i), "--replicas", "1", "--restart-delay", f"{args.churn}s",
                   "busybox:lab", "sh", "-c", f"sleep {args.churn:g}; exit 1")
        print(f"load average before: {load_average()}", flush=True)
        for round_ in range(args.rounds):
            for root in roots:
                stats: dict[str, float] = {}
                sim_cpu = cpu_seconds(sim_pid)
                took[root] += run(args, host, "worker-2", root, stats)
                sim_cpu = cpu_seconds(sim_pid) - sim_cpu
                seconds = stats["seconds"]
                print(f"round {round_ + 1} {root}: load average {load_average()}; while "
                      f"switching ({seconds:.0f} s) the app used "
                      f"{100 * stats['app_cpu'] / seconds:.0f} % of a core (the simulator "
                      f"{100 * sim_cpu / seconds:.0f} % over its whole run)", flush=True)
    for root in roots:
        print(summary(f"{root}: key -> view shown, flooded by the simulator "
                      f"(2 x {args.rate} lines/s + {args.services} converging)", took[root]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim", action="store_true",
                        help="flood from the simulator in another process (no lab)")
    parser.add_argument("--rate", type=int, default=20_000,
                        help="--sim: lines/s of each of the flood's 2 tasks")
    parser.add_argument("--roots", default="",
                        help="--sim: checkouts whose app is measured, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="--sim: passes over --roots")
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--services", type=int, default=20, help="converging services")
    parser.add_argument("--churn", type=float, default=10.0, help="task life and restart delay")
    parser.add_argument("--warm", type=float, default=10.0, help="seconds flooded before")
    parser.add_argument("--period", type=float, default=0.01, help="pane sampling (s)")
    args = parser.parse_args()
    if args.sim:
        main_sim(args)
        return
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
            took = run(args, host, "lab-node3")
        finally:
            docker(host, "service", "rm", FLOOD, *names)
        print(f"load average during: {load_average()}")
    print(summary("key -> view shown, flooded (logs + 20 converging services)", took))


if __name__ == "__main__":
    main()
