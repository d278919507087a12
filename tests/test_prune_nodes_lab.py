"""``swarmtui prune KIND --all-nodes`` against the real 3-node lab with no engine configured
but the manager's: every node's engine removes exactly what its preview listed, something
that came into use after the preview is kept (the re-check and the engine's own refusal), and
no ``swarmtui.probe`` service is left (``--read-only``: tests/test_read_only_lab.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from swarmlab import Lab
from test_disk_lab import import_image, lab_disk, swarmtui  # noqa: F401 (fixture)
from test_probe_lab import probe, probe_services  # noqa: F401 (fixture)

from swarmtui.cli import build_parser
from swarmtui.cli import prune as prune_cli
from swarmtui.cli.common import CliError, load_settings

pytestmark = pytest.mark.lab


def objects(lab: Lab, i: int) -> set[str]:
    """Containers (name), images (short ID), volumes (name) on node i; probe task containers
    left out (the swarm's agent removes them on its own time)."""
    d = lambda *a: lab.docker(*a, node=i).stdout.split()  # noqa: E731
    names = {f"c:{n}" for n in d("ps", "-a", "--format", "{{.Names}}")
             if not n.startswith("swarmtui-probe-")}
    images = {f"i:{x.removeprefix('sha256:')[:12]}" for x in d("images", "-aq", "--no-trunc")}
    return names | images | {f"v:{n}" for n in d("volume", "ls", "-q")}


def block_of(stdout: str, host: str) -> str:
    """The preview block of one node (from its title line to the next blank line)."""
    start = stdout.index(f"{host} (")
    return stdout[start:stdout.find("\n\n", start)]


def seed(lab: Lab, i: int, tmp: Path) -> dict[str, str]:
    d = lambda *a: lab.docker(*a, node=i)  # noqa: E731
    image = import_image(lab, i, tmp, None, 20_000)  # dangling
    d("create", "--name", f"swt-pn{i}-stopped", "busybox:lab")
    d("volume", "create", f"swt-pn{i}-vol")
    return {"image": f"i:{image.removeprefix('sha256:')[:12]}",
            "container": f"c:swt-pn{i}-stopped", "volume": f"v:swt-pn{i}-vol"}


def run_prune(argv: list[str], env: dict[str, str], on_confirm: Callable[[], None]
              ) -> tuple[int, str, str]:
    """The CLI in this process, as from a terminal: the read probe is confirmed with y, the
    prune by typing what it asks for -- after ``on_confirm`` ran (between preview and
    execution)."""
    args = build_parser().parse_args(argv)
    settings = load_settings(args, prune_cli.SCOPE, env)

    def ask(prompt: str) -> str:
        if prompt.startswith("Proceed"):
            return "y"
        on_confirm()
        return prompt.split("'")[1]  # Type 'lab-node1 lab-node2 lab-node3' to confirm:

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            asyncio.run(prune_cli.run(args, settings, ask=ask, stdin_isatty=lambda: True))
            status = 0
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = exc.status
    return status, out.getvalue(), err.getvalue()


def test_prune_all_nodes_removes_what_each_preview_listed(lab_disk: Lab, probe: Any,  # noqa: F811
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    lab, flags, env = probe
    made = {n.index: seed(lab, n.index, tmp_path) for n in lab.nodes}
    argv = [*flags, "prune", "system", "--volumes", "--all-nodes"]
    dry = swarmtui(*argv, "--dry-run", "--yes", env=env)
    assert dry.returncode == 0, dry.stderr
    assert probe_services(lab) == []
    assert "Probe 2 node(s) for a prune preview" in dry.stderr  # the read probe, on stderr
    for n in lab.nodes:
        block = block_of(dry.stdout, n.name)
        assert ("(probe://" in block) == (n.index > 0)
        for obj in made[n.index].values():
            assert obj[2:] in block, (n.name, obj, block)
    assert all(o in objects(lab, n.index) for n in lab.nodes for o in made[n.index].values())

    before: dict[int, set[str]] = {}
    late = made[2]["image"][2:]

    def after_the_preview() -> None:
        # A container now uses node 3's dangling image: the re-check keeps the container (not
        # in the preview), and the engine refuses the image, which a container uses.
        lab.docker("create", "--name", "swt-pn-late", late, "x", node=2)
        before.update({n.index: objects(lab, n.index) for n in lab.nodes})

    monkeypatch.setattr(os, "environ", {**os.environ, **env})
    status, out, err = run_prune(argv, env, after_the_preview)
    assert status == 0, err
    assert probe_services(lab) == []
    for n in lab.nodes:
        gone = before[n.index] - objects(lab, n.index)
        expected = set(made[n.index].values()) - ({made[2]["image"]} if n.index == 2 else set())
        assert gone == expected, (n.name, gone, expected)
    after = objects(lab, 2)
    assert made[2]["image"] in after and "c:swt-pn-late" in after
    assert f"Kept {late}: the engine refused: " in out, out
    assert "Kept swt-pn-late" not in out  # never in the preview: not even tried
    assert "Deleted Containers:" in out and "Total reclaimed space:" in out


def test_prune_one_node_through_a_probe(lab_disk: Lab, probe: Any,  # noqa: F811
                                        tmp_path: Path) -> None:
    lab, flags, env = probe
    made = {n.index: seed(lab, n.index, tmp_path) for n in lab.nodes}
    res = swarmtui(*flags, "prune", "containers", "--node", lab.nodes[1].name, "--yes",
                   env=env)
    assert res.returncode == 0, res.stderr
    assert "Probe 1 node(s) for a prune preview" in res.stderr
    assert made[1]["container"] not in objects(lab, 1)
    assert made[0]["container"] in objects(lab, 0) and made[2]["container"] in objects(lab, 2)
    assert probe_services(lab) == []
