"""Start-up of the whole process: from the command to the first full frame, against the lab,
beside the docker CLI's ``docker node ls`` + ``docker service ls`` in the same run.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock; ~30 s):
    .venv/bin/python benchmarks/startup.py --runs 5

``python -m swarmtui -H HOST`` starts in a fresh tmux session (a real terminal, 200x50); the
first full frame is the first pane capture (every 10 ms) that names every node and every
service the CLI lists, under the status bar. Python start-up, imports, connecting, the
first listings and the paint are all inside the figure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import lab_lock, load_average
from tmuxapp import Tmux, summary


def cli_frame(host: str) -> tuple[float, list[str], list[str]]:
    start = time.perf_counter()
    nodes = subprocess.run(["docker", "-H", host, "node", "ls", "--format", "{{.Hostname}}"],
                           check=True, capture_output=True, text=True).stdout.split()
    services = subprocess.run(["docker", "-H", host, "service", "ls", "--format",
                               "{{.Name}}"], check=True, capture_output=True,
                              text=True).stdout.split()
    return time.perf_counter() - start, nodes, services


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    ours: list[float] = []
    peer: list[float] = []
    with lab_lock(args.lock):
        print(f"load average before: {load_average()}")
        with Tmux() as tmux:
            for i in range(args.runs + 1):  # the first run warms the page cache; not counted
                took, nodes, services = cli_frame(host)
                names = [*nodes, *services]

                def full(text: str, names: list[str] = names) -> bool:
                    return text.lstrip().startswith("swarmtui") and all(n in text for n in names)

                app = tmux.app(["-H", host], size=(200, 50), session=f"start{i}")
                shot = app.wait_for(full, timeout=60)
                if i:
                    ours.append((shot.t - app.started) * 1000)
                    peer.append(took * 1000)
                app.quit()
    print(summary("swarmtui, command -> first full frame (whole process)", ours))
    print(summary("docker node ls + docker service ls", peer))
    print(f"ratio of medians {statistics.median(ours) / statistics.median(peer):.1f}; "
          f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
