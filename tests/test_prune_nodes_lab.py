"""``swarmtui prune KIND --all-nodes`` against the real 3-node lab with no engine configured
but the manager's: every node's engine removes exactly what its preview listed, something
that came into use after the preview is kept (the re-check and the engine's own refusal), and
no ``swarmtui.probe`` service is left (``--read-only``: tests/test_read_only_lab.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from swarmlab import Lab
from test_disk_lab import import_image, lab_disk, swarmtui  # noqa: F401 (fixture)
from test_probe_lab import probe, probe_services  # noqa: F401 (fixture)

pytestmark = pytest.mark.lab


def objects(lab: Lab, i: int) -> set[str]:
    """Containers (name), images (short ID), volumes (name) on node i; probe task containers
    left out (the swarm's agent removes them on its own time)."""
    d = lambda *a: lab.docker(*a, node=i).stdout.split()  # noqa: E731
    names = {f"c:{n}" for n in d("ps", "-a", "--format", "{{.Names}}")
             if not n.startswith("swarmtui-probe-")}
    images = {f"i:{x[:12]}" for x in d("images", "-aq", "--no-trunc")}
    images = {f"i:{x[2:][7:19]}" if x.startswith("i:sha256:") else x for x in images}
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
    return {"image": f"i:{image[7:19]}", "container": f"c:swt-pn{i}-stopped",
            "volume": f"v:swt-pn{i}-vol"}


def test_prune_all_nodes_removes_what_each_preview_listed(lab_disk: Lab, probe: Any,  # noqa: F811
                                                           tmp_path: Path) -> None:
    lab, flags, env = probe
    made = {n.index: seed(lab, n.index, tmp_path) for n in lab.nodes}
    argv = [*flags, "prune", "system", "--volumes", "--all-nodes", "--yes"]
    dry = swarmtui(*argv, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert probe_services(lab) == []
    assert "Probe 2 node(s) for a prune preview" in dry.stderr  # the read probe, on stderr
    for n in lab.nodes:
        block = block_of(dry.stdout, n.name)
        assert "(probe://" in block or n.index == 0
        for obj in made[n.index].values():
            assert obj[2:] in block, (n.name, obj, block)
    # After the preview: a container now uses node 2's dangling image.
    late = made[2]["image"][2:]
    lab.docker("create", "--name", "swt-pn-late", late, "x", node=2)
    before = {n.index: objects(lab, n.index) for n in lab.nodes}

    res = swarmtui(*argv, env=env)
    assert res.returncode == 0, res.stderr
    assert probe_services(lab) == []
    for n in lab.nodes:
        gone = before[n.index] - objects(lab, n.index)
        block = block_of(dry.stdout, n.name)
        for obj in gone:  # nothing the preview did not list
            assert obj[2:] in block, (n.name, obj)
        expected = set(made[n.index].values()) - ({made[2]["image"]} if n.index == 2 else set())
        assert expected <= gone, (n.name, expected - gone)
    after2 = objects(lab, 2)
    assert made[2]["image"] in after2 and "c:swt-pn-late" in after2
    assert f"Kept {late}" in res.stdout or late in res.stdout
    assert "the engine refused" in res.stdout, res.stdout

