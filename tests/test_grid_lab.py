"""The grid against the real lab: every running task sits under the node `docker node ps`
names, the drained node shows as drained, the failing task's error and the pending task's
reason are on screen."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from lab_plugin import wait_until
from swarmlab import Lab

pytestmark = pytest.mark.lab

IMAGE_ARGS = ["busybox:lab", "sh", "-c", "while true; do sleep 5; done"]


def create(lab: Lab, name: str, *args: str, cmd: list[str] | None = None) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name, *args,
               *(cmd or IMAGE_ARGS))




def parse_grid(text: str, nodes: list[str]) -> dict[str, list[list[str]]]:
    """Cards per node column from the text screen: each card is its lines, bar removed."""
    lines = text.splitlines()
    header_y = next(y for y, line in enumerate(lines) if all(n in line for n in nodes))
    starts = sorted((lines[header_y].index(n), n) for n in nodes)
    first = lines[header_y].index("unassigned") if "unassigned" in lines[header_y] else None
    if first is not None:
        starts = sorted([(first, "unassigned"), *starts])
    cards: dict[str, list[list[str]]] = defaultdict(list)
    open_card: dict[str, bool] = defaultdict(bool)
    for line in lines[header_y + 1:]:
        seen = set()
        for m in re.finditer("▌", line):
            x = m.start()
            col = max((s for s in starts if s[0] <= x), default=None)
            if col is None:
                continue
            idx = starts.index(col)
            end = starts[idx + 1][0] if idx + 1 < len(starts) else len(line)
            cell = line[x + 1:end].strip()
            name = col[1]
            seen.add(name)
            if not open_card[name]:
                cards[name].append([])
                open_card[name] = True
            cards[name][-1].append(cell)
        for _, name in starts:
            if name not in seen:
                open_card[name] = False
    return cards


def cli_running(lab: Lab, node: str) -> set[str]:
    out = lab.docker("node", "ps", node, "--filter", "desired-state=running", "--format",
                     "{{.Name}} {{.CurrentState}}").stdout
    names = set()
    for line in out.splitlines():
        name, state = line.split(" ", 1)
        if state.startswith("Running"):
            base, _, rest = name.partition(".")
            names.add(f"{base}.{rest}" if rest.isdigit() else base)  # global: service name
    return names


def test_grid_matches_node_ps(swarm: Lab, tmp_path: Path) -> None:
    create(swarm, "web", "--replicas", "4")
    create(swarm, "api", "--replicas", "2")
    create(swarm, "agent", "--mode", "global")
    create(swarm, "crashy", "--replicas", "1", "--restart-delay", "2s",
           cmd=["busybox:lab", "sh", "-c", "echo failing; exit 3"])
    create(swarm, "gpu", "--replicas", "1", "--constraint", "node.labels.gpu==true")
    drained = swarm.nodes[2].name
    swarm.docker("node", "update", "--availability", "drain", drained)

    def converged() -> bool:
        ls = swarm.docker("service", "ls", "--format", "{{.Name}} {{.Replicas}}").stdout
        want = {"web 4/4", "api 2/2", "agent 2/2", "crashy 0/1", "gpu 0/1"}
        return set(ls.splitlines()) == want
    wait_until(converged, 90, "the lab's services to converge")
    time.sleep(3)  # let crashy fail at least once more so its error is current

    out = tmp_path / "grid.txt"
    proc = subprocess.run([sys.executable, "-m", "swarmtui", "-H", swarm.manager_host, "shot",
                           "grid", "--output", str(out), "--size", "200x80"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    cards = parse_grid(text, swarm.hostnames)

    for node in swarm.hostnames:
        shown = {c[0] for c in cards.get(node, []) if len(c) > 2 and c[2].startswith("running")}
        shown = {s for s in shown if not s.startswith("crashy")}
        expected = {s for s in cli_running(swarm, node) if not s.startswith("crashy")}
        assert shown == expected, (node, text)

    header = next(line for line in text.splitlines() if drained in line)
    assert re.search(rf"{drained}\s+DRAINED", header)
    assert "non-zero exit (3)" in " ".join(" ".join(c) for cs in cards.values() for c in cs)
    pending = " ".join(" ".join(c) for c in cards.get("unassigned", []))
    assert "gpu.1" in pending and "no suitable node" in pending
    assert "scheduling constraints not satisfied" in re.sub(r"\s+", " ", pending)


async def test_task_details_show_its_last_log_lines(swarm: Lab) -> None:
    from uistate import make_app

    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.engine.target import EngineTarget
    from swarmtui.screens.task_details import TaskDetailsScreen
    from swarmtui.shot import render_screen

    create(swarm, "talker", "--replicas", "1",
           cmd=["busybox:lab", "sh", "-c", "i=0; while true; do i=$((i+1)); "
                "echo hello-from-talker-$i; echo oops-$i >&2; sleep 0.3; done"])
    live = LiveSwarm(EngineClient(EngineTarget(swarm.manager_host, "test")))
    app = make_app(live)
    async with app.run_test(size=(140, 45)) as pilot:
        await live.wait_full_state(30)
        for _ in range(100):
            state = live.store.state
            task = next((t for t in state.tasks.values() if t.state == "running"), None)
            if task is not None:
                break
            await pilot.pause(0.2)
        assert task is not None
        await pilot.pause(2.0)  # let it print a few lines
        app.push_screen(TaskDetailsScreen(app.runtime, task.id))
        for _ in range(50):
            await pilot.pause(0.2)
            text = render_screen(app, as_svg=False)
            if "hello-from-talker-" in text:
                break
        assert "Last log lines" in text and "hello-from-talker-" in text and "oops-" in text
