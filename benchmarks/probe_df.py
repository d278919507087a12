"""How long ``swarmtui df --all-nodes`` takes (a node probe: one global service, every node
answers through its log), the whole command as a user runs it.

Lab (3 nodes; the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock so no
lab test runs meanwhile):

    .venv/bin/python benchmarks/probe_df.py lab --runs 5

  swarmtui against the manager only (no engine configured) beside the reference measured in
  the same run: ``docker -H NODE system df`` for each node in sequence (what a user with a
  socket to every node would do).

Simulator (100 nodes, swarmtui/sim's ``scale`` scenario served on a unix socket):

    .venv/bin/python benchmarks/probe_df.py sim --runs 5 --speed 1

  The sim's virtual clock runs at ``--speed`` virtual seconds per wall second. Its tasks take
  the time the sim models (scheduling, a 1.2-3.5 s image pull on a node without the image, a
  start), so at ``--speed 1`` the wall time is an *estimate* of a real 100-node swarm's,
  made of the sim's modelled delays plus swarmtui's own work (100 log reads, parsing); at a
  high speed the modelled delays shrink and what is left is mostly swarmtui's own cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from labtools import docker, lab_lock

ROOT = Path(__file__).resolve().parent.parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()[-400:]}")
    return took


def summary(label: str, times: list[float]) -> float:
    med = statistics.median(times)
    print(f"{label}: median {med:.2f} s over {len(times)} runs "
          f"(min {min(times):.2f}, max {max(times):.2f})")
    return med


def bench_lab(args: argparse.Namespace) -> None:
    import swarmlab

    lab = swarmlab.load()
    if lab is None:
        raise SystemExit("no lab: python tests/swarmlab.py up")
    with lab_lock(args.lock):
        image, sock = lab.ensure_probe_image()
        env = {**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="bench-probe-")}
        cmd = [sys.executable, "-m", "swarmtui", "--host", lab.nodes[0].host,
               "--probe-image", image, "--probe-socket", sock, "df", "--all-nodes", "--yes"]
        print("command:", " ".join(cmd))
        timed(cmd, env)  # warm-up (the probe image is on every node after this)
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(timed(cmd, env))
            start = time.monotonic()
            for n in lab.nodes:
                docker(n.host, "system", "df")
            theirs.append(time.monotonic() - start)
        a = summary(f"swarmtui df --all-nodes ({len(lab.nodes)} nodes)", ours)
        b = summary(f"docker -H NODE system df x{len(lab.nodes)}, in sequence", theirs)
        print(f"ratio {a / b:.1f}")


def bench_sim(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="bench-probe-sim-")
    sock = os.path.join(folder, "docker.sock")
    server = subprocess.Popen(
        [sys.executable, "-m", "swarmtui.sim.server", "--scenario", "scale", "--socket", sock,
         "--start", "now", "--speed", str(args.speed)], cwd=ROOT, stdout=subprocess.PIPE,
        text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "simulated swarm … on unix://…": it is listening
        env = {**os.environ, "XDG_CONFIG_HOME": folder}
        cmd = [sys.executable, "-m", "swarmtui", "--host", f"unix://{sock}", "df",
               "--all-nodes", "--yes"]
        print("command:", " ".join(cmd), f"(sim scale: 100 nodes, speed {args.speed:g})")
        timed(cmd, env)
        times = [timed(cmd, env) for _ in range(args.runs)]
        summary(f"swarmtui df --all-nodes against the sim (100 nodes, speed {args.speed:g})",
                times)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="where", required=True)
    lab = sub.add_parser("lab")
    lab.add_argument("--runs", type=int, default=5)
    lab.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    sim = sub.add_parser("sim")
    sim.add_argument("--runs", type=int, default=5)
    sim.add_argument("--speed", type=float, default=1.0)
    args = p.parse_args()
    (bench_lab if args.where == "lab" else bench_sim)(args)


if __name__ == "__main__":
    main()
