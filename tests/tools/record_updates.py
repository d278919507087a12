"""Record real rolling updates on the lab for tests/test_timeline.py.

Run from a worktree as root with the lab up (``tests/swarmlab.py up``):

    /work/main/.venv/bin/python tests/tools/record_updates.py

Holds the lab's test lock (the one ``lab_plugin`` takes) so no lab test removes the services
mid-recording. For each scenario it creates a 4-replica service (parallelism 1, delay 5 s),
waits for it to run, updates it, polls ``GET /services/ID`` and ``GET /tasks?filters=...``
every ~0.5 s, and writes every snapshot whose content moved (a task's state, the update
state) to ``tests/fixtures/engine/v1.41/update_<scenario>/NN.json`` as
``{"now_ns": ..., "service": {...}, "tasks": [...]}``, plus ``nodes.json``. The service is
removed afterwards.
"""

from __future__ import annotations

import fcntl
import json
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import swarmlab

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "engine" / "v1.41"

COMMON = [
    "--detach",
    "--no-resolve-image",
    "--replicas",
    "4",
    "--update-parallelism",
    "1",
    "--update-delay",
    "5s",
]

# name -> (extra create flags, update flags, stop when UpdateStatus.State is one of)
SCENARIOS: dict[str, tuple[list[str], list[str], set[str]]] = {
    "ok": ([], ["--image", swarmlab.IMAGE2], {"completed"}),
    "pause": (
        ["--update-failure-action", "pause"],
        ["--image", swarmlab.IMAGE2, "--args", "sh -c 'sleep 1; exit 3'"],
        {"paused"},
    ),
    "rollback": (
        ["--update-failure-action", "rollback"],
        ["--image", swarmlab.IMAGE2, "--args", "sh -c 'sleep 1; exit 3'"],
        {"rollback_completed", "rollback_paused"},
    ),
}


def _signature(service: dict[str, Any], tasks: list[dict[str, Any]]) -> object:
    upd = service.get("UpdateStatus") or {}
    return (
        upd.get("State"),
        tuple(
            sorted(
                (t["ID"], t["Status"]["State"], t["DesiredState"], t.get("NodeID", ""))
                for t in tasks
            )
        ),
    )


def _snapshot(lab: swarmlab.Lab, sid: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    flt = urllib.parse.quote(json.dumps({"service": [sid]}))
    now_ns = time.time_ns()
    service = lab.api(f"/services/{sid}")
    tasks = lab.api(f"/tasks?filters={flt}")
    return now_ns, service, tasks


def record(lab: swarmlab.Lab, scenario: str) -> None:
    create_flags, update_flags, stop_states = SCENARIOS[scenario]
    name = f"tl-{scenario}"
    lab.docker("service", "rm", name, check=False)
    time.sleep(1)
    sid = lab.docker(
        "service", "create", *COMMON, *create_flags, "--name", name, swarmlab.IMAGE
    ).stdout.strip()
    out = OUT / f"update_{scenario}"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    (out / "nodes.json").write_text(json.dumps(lab.api("/nodes"), indent=1) + "\n")
    kept: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
    last: object = None
    phase = "create"
    deadline = time.monotonic() + 180
    settled_polls = 0
    while time.monotonic() < deadline:
        now_ns, service, tasks = _snapshot(lab, sid)
        sig = _signature(service, tasks)
        if sig != last:
            kept.append((now_ns, service, tasks))
            last = sig
        running = [t for t in tasks if t["Status"]["State"] == "running"]
        if phase == "create" and len(running) == 4:
            phase = "update"
            lab.docker("service", "update", "--detach", "--no-resolve-image", *update_flags, sid)
        elif phase == "update":
            state = (service.get("UpdateStatus") or {}).get("State")
            if state in stop_states:
                settled_polls += 1
                if settled_polls >= 6:  # a few more polls so the end state is settled
                    break
        time.sleep(0.5)
    # One last snapshot, whatever changed, as the settled end.
    now_ns, service, tasks = _snapshot(lab, sid)
    if _signature(service, tasks) != last:
        kept.append((now_ns, service, tasks))
    for i, (now_ns, service, tasks) in enumerate(kept):
        doc = {"now_ns": now_ns, "service": service, "tasks": tasks}
        (out / f"{i:02d}.json").write_text(json.dumps(doc, indent=1) + "\n")
    lab.docker("service", "rm", sid, check=False)
    print(f"{scenario}: {len(kept)} snapshots in {out}")


def main() -> int:
    lab = swarmlab.load()
    if lab is None or not lab.is_ready():
        print("lab is not up: run tests/swarmlab.py up", file=sys.stderr)
        return 1
    with open(lab.base_dir.parent / f"swarmtui-lab-{lab.kind}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        for scenario in sys.argv[1:] or list(SCENARIOS):
            record(lab, scenario)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
