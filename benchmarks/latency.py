"""From a change on the engine to the real app's screen: the whole process in a terminal
(tmux), its pane read every 10 ms, against the lab; beside it, in the same run, the
engine's own event and a plain API poller.

Usage (the lab must be up: `python tests/swarmlab.py up`; takes the lab's lock so no lab
test runs meanwhile; ~3 minutes):
    .venv/bin/python benchmarks/latency.py --service-runs 20 --task-runs 8

* service change -> screen: ``docker service scale --detach NAME=K`` returns (t0); the
  services view's row first shows ``x/K`` in a pane capture. References: the ``service
  update`` event arriving on an ``/events`` stream read in this process, and a poller
  (``GET /services`` and ``GET /tasks`` every 100 ms) first seeing ``Replicas == K``.
* task change -> screen (the engine emits no task events): scale 1 -> 4 with the grid in
  "lines" density; for each new task, the first capture showing ``NAME.slot ... running``
  minus the engine's ``Status.Timestamp`` of it reaching running, and the poller's first
  sight of it running minus that same timestamp.
"""

from __future__ import annotations

import argparse
import calendar
import random
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import EngineHTTP, EventReader, docker, lab_lock, load_average
from tmuxapp import Tmux, summary

NAME = "bench-latency"
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"


def timestamp_s(text: str) -> float:
    """The engine's RFC 3339 time (nanoseconds, Z) as wall seconds."""
    whole, _, frac = text.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return secs + float(f"0.{frac or 0}")


class Poller:
    """A bare API client in a thread: ``GET /services`` and ``GET /tasks`` of one service
    every ``period``; what it saw first, and when."""

    def __init__(self, socket_path: str, name: str, period: float = 0.1) -> None:
        self.http = EngineHTTP(socket_path)
        self.name = name
        self.period = period
        self.replicas: list[tuple[float, int]] = []  # (seen, Spec replicas) on every change
        self.running: dict[str, tuple[float, int, float]] = {}  # task -> (seen, slot, engine)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="poller", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        flt = {"name": [self.name]}
        while not self._stop.is_set():
            begun = time.monotonic()
            services: list[dict[str, Any]] = self.http.get("/services", filters=flt)
            now = time.time()
            if services:
                want = services[0]["Spec"]["Mode"].get("Replicated", {}).get("Replicas", -1)
                if not self.replicas or self.replicas[-1][1] != want:
                    self.replicas.append((now, want))
            tasks: list[dict[str, Any]] = self.http.get("/tasks", filters={"service": [self.name]})
            now = time.time()
            for t in tasks:
                if t["Status"]["State"] == "running" and t["ID"] not in self.running:
                    self.running[t["ID"]] = (now, t.get("Slot", 0),
                                             timestamp_s(t["Status"]["Timestamp"]))
            self._stop.wait(max(0.0, self.period - (time.monotonic() - begun)))

    def first_replicas(self, want: int, after: float) -> float | None:
        return next((t for t, r in list(self.replicas) if t >= after and r == want), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.http.close()


def service_row(text: str, want: int) -> bool:
    """The services view shows NAME's replicas as ``running/want``."""
    return any(NAME in line and re.search(rf"\b\d+/{want}\b", line) for line in text.splitlines())


def running_slots(text: str) -> set[int]:
    """Slots of NAME the grid (lines density) shows running."""
    return {int(m) for m in re.findall(rf"▌{re.escape(NAME)}\.(\d+)\s+running ", text)}


def run(args: argparse.Namespace) -> None:
    host = f"unix://{args.socket}"
    poller = Poller(args.socket, NAME)
    events = EventReader(args.socket)
    svc_id = docker(host, "service", "inspect", "-f", "{{.ID}}", NAME).stdout.strip()
    screen_ms: list[float] = []
    event_ms: list[float] = []
    poll_ms: list[float] = []
    task_screen_ms: list[float] = []
    task_poll_ms: list[float] = []
    with Tmux() as tmux:
        app = tmux.app(["-H", host], size=(200, 50))
        app.wait_for(lambda text: f"{NAME}.1" in text, timeout=60)
        with app.sampling(args.period) as samples:
            app.send_keys("2")
            app.wait_for(lambda text: service_row(text, 1), timeout=20)
            for i in range(args.service_runs):
                want = 2 if i % 2 == 0 else 1
                start = time.time()
                docker(host, "service", "scale", "--detach", f"{NAME}={want}")
                t0 = time.time()
                shot = samples.wait(lambda text, w=want: service_row(text, w), after=start)
                assert shot is not None, f"the services view never showed {want} replicas"
                screen_ms.append((shot.t - t0) * 1000)
                ev = events.first(lambda e: e.get("Actor", {}).get("ID") == svc_id, start)
                if ev is not None:
                    event_ms.append((ev - t0) * 1000)
                time.sleep(0.4)
                polled = poller.first_replicas(want, start)
                if polled is not None:
                    poll_ms.append((polled - t0) * 1000)
                time.sleep(random.uniform(1.0, 2.5))  # land anywhere between idle polls
            print(f"pane captured every {samples.period_ms():.1f} ms on average "
                  f"(asked: {args.period * 1000:.0f} ms)")
            print(summary("service change -> services view", screen_ms))
            print(summary("  reference: the engine's service event", event_ms))
            print(summary("  reference: API poller (100 ms)", poll_ms))

            app.send_keys("1")
            app.send_keys("d")  # lines density: one line per task
            app.wait_for(lambda text: running_slots(text) == {1}, timeout=20)
            for _ in range(args.task_runs):
                start = time.time()
                known = set(poller.running)
                docker(host, "service", "scale", "--detach", f"{NAME}=4")
                shot = samples.wait(lambda text: running_slots(text) >= {1, 2, 3, 4},
                                    after=start, timeout=60)
                assert shot is not None, "the grid never showed 4 running"
                time.sleep(0.5)
                for tid, (seen, slot, engine) in list(poller.running.items()):
                    if tid in known:
                        continue
                    hit = samples.first(lambda text, s=slot: s in running_slots(text), start)
                    if hit is not None:
                        task_screen_ms.append((hit.t - engine) * 1000)
                    task_poll_ms.append((seen - engine) * 1000)
                docker(host, "service", "scale", "--detach", f"{NAME}=1")
                app.wait_for(lambda text: running_slots(text) == {1}, timeout=60)
                time.sleep(random.uniform(1.0, 2.5))
        app.quit()
    poller.close()
    events.close()
    print(summary("task change -> grid (behind the engine's Status.Timestamp)", task_screen_ms))
    print(summary("  reference: API poller (100 ms), behind the same timestamp", task_poll_ms))
    print(f"load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", default="/tmp/swarmtui-lab/n1/docker.sock")
    parser.add_argument("--lock", default="/tmp/swarmtui-lab-main.lock")
    parser.add_argument("--service-runs", type=int, default=20)
    parser.add_argument("--task-runs", type=int, default=8)
    parser.add_argument("--period", type=float, default=0.01, help="pane sampling (s)")
    args = parser.parse_args()
    host = f"unix://{args.socket}"
    with lab_lock(args.lock):
        print(f"load average before: {load_average()}")
        docker(host, "service", "create", "--detach", "--no-resolve-image", "--name", NAME,
               "--replicas", "1", "busybox:lab", "sh", "-c", LOOP)
        try:
            run(args)
        finally:
            docker(host, "service", "rm", NAME)


if __name__ == "__main__":
    main()
