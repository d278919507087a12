"""Disk usage and prune against the real 3-node lab (tests/lab_plugin.py).

* The panels, ``swarmtui df`` and the engine layer print exactly what ``docker system df``
  (and ``-v``) prints on each node.
* Every prune kind removes exactly what its preview listed, and the space it reports is the
  engine's: the same number as the ``reclaimed`` attribute of the engine's own ``prune``
  event (per-image deletes: the drop of df's LayersSize, measured independently).
* A preview never lists an image that a running service, a rolled-back service (PreviousSpec)
  or a scaled-to-zero service references.

The lab's only images, ``busybox:lab`` and ``busybox:lab2``, cannot be pulled again: every
image prune here runs while services reference them, and each test checks they survive.
Objects made here are named ``swt-*`` / ``swarmtui-test/*``; the ``swarm`` fixture removes
containers, volumes and networks, the tests remove their images and build cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from disk_fakes import execute_confirmed
from lab_plugin import clean_swarm
from swarmlab import Lab

from swarmtui.engine.disk import DiskEngine, DiskFleet, EngineSpec
from swarmtui.engine.target import resolve_target
from swarmtui.model.disk.render import render_df, render_df_verbose
from swarmtui.model.disk.view import PruneOptions, render_outcome

pytestmark = pytest.mark.lab

LAB_TAGS = ("busybox:lab", "busybox:lab2")
PRUNE_EVENT_TYPES = {
    "containers": "container",
    "images": "image",
    "volumes": "volume",
    "networks": "network",
    "build_cache": "builder",
}


# ---------------------------------------------------------------------------------- helpers


def make_fleet(lab: Lab) -> DiskFleet:
    primary = resolve_target(host=lab.manager_host, env={})
    extra = [EngineSpec(n.name, resolve_target(host=n.host, env={}), "test")
             for n in lab.nodes[1:]]
    return DiskFleet.from_targets(primary, extra)


@contextlib.asynccontextmanager
async def fleet_of(lab: Lab) -> Any:
    fleet = make_fleet(lab)
    try:
        await fleet.connect_all()
        assert [e.name for e in fleet.reachable()] == lab.hostnames
        yield fleet
    finally:
        await fleet.stop()


def engine_for(fleet: DiskFleet, lab: Lab, i: int) -> DiskEngine:
    engine = fleet.find(lab.nodes[i].name)
    assert engine is not None
    return engine


def tiny_tar(path: Path, content: bytes) -> Path:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("payload.txt")
        info.size = len(content)
        info.mtime = 1_700_000_000
        tar.addfile(info, io.BytesIO(content))
    return path


def import_image(lab: Lab, i: int, tmp: Path, tag: str | None, size: int = 50_000) -> str:
    """A new image on node i with one layer of ``size`` bytes; returns its ID."""
    content = os.urandom(size)
    tar = tiny_tar(tmp / f"img-{time.monotonic_ns()}.tar", content)
    args = ["import", str(tar)] + ([tag] if tag else [])
    return lab.docker(*args, node=i).stdout.strip()


def image_tags(lab: Lab, i: int) -> set[str]:
    out = lab.docker("images", "--format", "{{.Repository}}:{{.Tag}}", node=i).stdout
    return set(out.split())


def assert_lab_images_intact(lab: Lab) -> None:
    for i in range(len(lab.nodes)):
        tags = image_tags(lab, i)
        assert set(LAB_TAGS) <= tags, f"{lab.nodes[i].name} lost a lab image tag: {tags}"


@contextlib.contextmanager
def lab_images_guard(lab: Lab) -> Iterator[None]:
    """Re-tag busybox:lab / lab2 from the image ID if a test removed a tag (the image itself
    stays while services use it) -- then fail."""
    ids = {}
    for i in range(len(lab.nodes)):
        ids[i] = lab.docker("image", "inspect", "--format", "{{.Id}}", LAB_TAGS[0],
                            node=i).stdout.strip()
    try:
        yield
    finally:
        lost = []
        for i, iid in ids.items():
            tags = image_tags(lab, i)
            for tag in LAB_TAGS:
                if tag not in tags:
                    lost.append((lab.nodes[i].name, tag))
                    lab.docker("tag", iid, tag, node=i, check=False)
        assert not lost, f"lab image tags were removed (restored): {lost}"


def lab_image_ids(lab: Lab, i: int) -> set[str]:
    out = lab.docker("image", "inspect", "--format", "{{.Id}}", *LAB_TAGS, node=i,
                     check=False).stdout
    return {x.strip()[7:19] for x in out.split()}


def cleanup_images(lab: Lab) -> None:
    """Remove what these tests (and the probe tests) made: swarmtui-test/* tags, the probe
    image, dangling images (never the lab image, whatever its tags), build cache."""
    for i in range(len(lab.nodes)):
        keep = lab_image_ids(lab, i)
        out = lab.docker("images", "-a", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}",
                         node=i).stdout
        for line in out.splitlines():
            ref, iid = line.rsplit(" ", 1)
            # swarmtui-probe:lab is the node-probe tests' image (imported again on demand),
            # swt-* the images view's (tests/image_lab.py): unused images the prune previews
            # here must not meet.
            if ref.startswith(("swarmtui-test/", "swarmtui-probe:", "swt-")):
                lab.docker("rmi", ref, node=i, check=False)
            elif ref == "<none>:<none>" and keep and iid[:12] not in keep:
                lab.docker("rmi", iid, node=i, check=False)
        lab.docker("builder", "prune", "-af", node=i, check=False)
        vols = lab.docker("volume", "ls", "-q", "--filter", "name=swt-", node=i).stdout.split()
        if vols:  # volumes with mount options are never pruned
            lab.docker("volume", "rm", *vols, node=i, check=False)


@pytest.fixture
def lab_disk(swarm: Lab) -> Iterator[Lab]:
    """The swarm, plus image/build-cache cleanup and the lab-image guard."""
    cleanup_images(swarm)
    try:
        with lab_images_guard(swarm):
            yield swarm
    finally:
        # services and containers first: then their images can go. The swarm's agent may be
        # removing task containers at the same time ("removal … already in progress").
        for attempt in range(3):
            try:
                clean_swarm(swarm)
                break
            except Exception:
                if attempt == 2:
                    raise
                time.sleep(1)
        cleanup_images(swarm)


def service_create(lab: Lab, name: str, image: str, *args: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name, *args,
               image)


def wait_tasks_running(lab: Lab, service: str, want: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = lab.docker("service", "ps", service, "--filter", "desired-state=running",
                         "--format", "{{.CurrentState}}").stdout
        if sum(1 for x in out.splitlines() if x.startswith("Running")) >= want:
            return
        time.sleep(0.3)
    raise AssertionError(f"{service}: {want} running tasks not reached")


def protect_lab_images(lab: Lab) -> None:
    """Services that need busybox:lab (rollback) and busybox:lab2 (spec) on every node."""
    service_create(lab, "swt-guard", LAB_TAGS[0], "--mode", "global")
    wait_tasks_running(lab, "swt-guard", len(lab.nodes))
    lab.docker("service", "update", "--detach", "--no-resolve-image", "--image", LAB_TAGS[1],
               "swt-guard")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        svc = lab.api("/services/swt-guard")
        if (svc.get("PreviousSpec") or {}).get("TaskTemplate", {}).get("ContainerSpec", {}).get(
                "Image") == LAB_TAGS[0]:
            break
        time.sleep(0.2)
    wait_tasks_running(lab, "swt-guard", len(lab.nodes))


def prune_events(lab: Lab, i: int, since: float, until: float) -> dict[str, list[int]]:
    """``reclaimed`` of each of the engine's own prune events, by type."""
    out = lab.docker("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                     "--filter", "event=prune", "--format", "{{json .}}", node=i).stdout
    got: dict[str, list[int]] = {}
    for line in out.splitlines():
        ev = json.loads(line)
        got.setdefault(ev["Type"], []).append(int(ev["Actor"]["Attributes"]["reclaimed"]))
    return got


def swarmtui(*argv: str, env: dict[str, str], check: bool = False
             ) -> subprocess.CompletedProcess[str]:
    """Run the swarmtui CLI (stdin closed: not a terminal)."""
    return subprocess.run([sys.executable, "-m", "swarmtui", *argv], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          check=check)


def engine_flags(lab: Lab) -> list[str]:
    out = []
    for n in lab.nodes[1:]:
        out += ["--engine", f"{n.name}={n.host}"]
    return out


def df_rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:]]


async def assert_df_equal(lab: Lab, engine: DiskEngine, i: int) -> None:
    """render_df == docker system df, and -v == docker system df -v (retried: container
    statuses and ages are computed at request time)."""
    ours = theirs = ""
    for _ in range(10):
        theirs = lab.docker("system", "df", node=i).stdout
        ours = render_df(await engine.disk_usage())
        if ours == theirs:
            break
        await asyncio.sleep(0.3)
    assert ours == theirs
    candidates: set[str] = set()
    for _ in range(20):
        t0 = time.time()
        theirs = lab.docker("system", "df", "-v", node=i).stdout
        t1 = time.time()
        du = await engine.disk_usage()
        steps = [t0 + (t1 - t0) * k / 10 for k in range(11)]
        candidates = {render_df_verbose(du, t, style="20.10") for t in steps}
        if theirs in candidates:
            break
        await asyncio.sleep(0.5)
    if theirs not in candidates:
        ratio = lambda c: difflib.SequenceMatcher(None, c, theirs).ratio()  # noqa: E731
        closest = max(candidates, key=ratio)
        diff = difflib.unified_diff(theirs.splitlines(), closest.splitlines(), "docker",
                                    "swarmtui", lineterm="")
        raise AssertionError("docker system df -v differs:\n" + "\n".join(diff))


def populate(lab: Lab, i: int, tmp: Path, tag: str) -> None:
    """Something of every kind on node i: stopped containers (one with data), a created
    one, a running one, named / anonymous / in-use volumes, an unused network, dangling and
    unused images."""
    d = lambda *a: lab.docker(*a, node=i)  # noqa: E731
    d("run", "--name", f"swt-{tag}-exited", "-v", f"swt-{tag}-data:/data", "busybox:lab",
      "sh", "-c", "echo some data > /data/f; echo rw > /rw.txt")
    d("run", "--name", f"swt-{tag}-anon", "-v", "/anon", "busybox:lab", "true")
    d("rm", f"swt-{tag}-anon")  # leaves its anonymous volume
    d("create", "--name", f"swt-{tag}-created", "busybox:lab")
    d("run", "-d", "--name", f"swt-{tag}-running", "busybox:lab")
    d("volume", "create", f"swt-{tag}-named")
    d("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", f"swt-{tag}-opts")
    d("network", "create", f"swt-{tag}-net")
    import_image(lab, i, tmp, None, 30_000)  # dangling
    import_image(lab, i, tmp, f"swarmtui-test/unused-{tag}:1", 40_000)


def build_cache(lab: Lab, i: int, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Build records (and a dangling image) with BuildKit, nothing pulled."""
    ctx = tmp / f"ctx{i}"
    ctx.mkdir(exist_ok=True)
    (ctx / "f.txt").write_bytes(os.urandom(2000))
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY f.txt /f.txt\n")
    monkeypatch.setenv("DOCKER_BUILDKIT", "1")
    lab.docker("build", "-q", str(ctx), node=i, timeout=120)


async def prune_and_check(lab: Lab, fleet: DiskFleet, i: int, kind: str,
                          options: PruneOptions) -> Any:
    """Preview, execute, and check: removed exactly the preview; reported space = the
    engine's prune events (or the df drop for per-image deletes); what the docker CLI lists
    afterwards lacks every removed object."""
    engine = engine_for(fleet, lab, i)
    planned = await fleet.plan(engine, kind, options)
    plan = planned.plan
    for item in plan.items:  # the lab images are never in a preview
        assert not set(item.untags) & set(LAB_TAGS), item
    t0 = time.time() - 0.2
    outcome = await execute_confirmed(fleet, planned)
    t1 = time.time() + 0.5
    assert outcome.ok, outcome.errors
    assert outcome.diff is not None and outcome.diff.matches, outcome.diff
    events = prune_events(lab, i, t0, t1)
    for step in outcome.steps:
        result = step.result
        assert result is not None
        if step.method == "endpoint":
            typ = PRUNE_EVENT_TYPES[step.kind]
            if step.kind != "networks":
                # BuildKit's own garbage collection may prune too: one event is ours
                assert result.space_reclaimed in events.get(typ, []), (step.kind, events)
        else:
            assert step.kind == "images" and step.space_note
    text = render_outcome(outcome)
    assert "Total reclaimed space:" in text or kind == "networks"
    return planned, outcome


# ---------------------------------------------------------------------------------- df


async def test_df_panels_and_cli_equal_docker_system_df(lab_disk: Lab, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lab = lab_disk
    populate(lab, 1, tmp_path, "df")
    build_cache(lab, 2, tmp_path, monkeypatch)
    async with fleet_of(lab) as fleet:
        for i in range(len(lab.nodes)):
            await assert_df_equal(lab, engine_for(fleet, lab, i), i)
        assert fleet.uncovered() == []

    # swarmtui df: a heading per engine, then docker's own text
    env = {**lab.docker_env(0), "XDG_CONFIG_HOME": str(tmp_path)}
    flags = engine_flags(lab)
    for _ in range(10):
        out = swarmtui(*flags, "df", env=env, check=True).stdout
        sections = re.split(r"^==> (\S+) .*<==\n", out, flags=re.M)[1:]
        got = {sections[k]: sections[k + 1].rstrip("\n") + "\n" for k in range(0, len(sections), 2)}
        want = {n.name: lab.docker("system", "df", node=n.index).stdout for n in lab.nodes}
        if got == want:
            break
        await asyncio.sleep(0.3)
    assert got == want

    # --json: the documented schema, numbers equal to docker's cells
    data = json.loads(swarmtui(*flags, "df", "--json", env=env, check=True).stdout)
    assert [o["engine"] for o in data] == lab.hostnames
    for obj in data:
        assert obj["schema"] == "swarmtui.df.engine/1" and obj["covered"] and obj["reachable"]
        assert obj["df"]["schema"] == "swarmtui.df/1"
        rows = df_rows(lab.docker("system", "df", node=lab.hostnames.index(obj["engine"])).stdout)
        assert [[s["type"], str(s["total_count"]), str(s["active_count"]), s["size"],
                 s["reclaimable"]] for s in obj["df"]["summary"]] == rows

    # -v through the CLI too: the images table of every node, cell by cell (CREATED ages are
    # time-dependent and change the column widths)
    out = swarmtui(*flags, "df", "-v", env=env, check=True).stdout
    ago = re.compile(r"(\d+ \w+|Less than a second|About an? \w+) ago")

    def image_cells(text: str) -> list[list[str]]:
        table = text.split("Images space usage:\n\n", 1)[1].split("\n\n", 1)[0]
        rows = [re.split(r"\s{2,}", ago.sub("AGO", line).strip()) for line in table.splitlines()]
        return rows[:1] + sorted(rows[1:])  # the engine lists same-second images in any order

    blocks = re.split(r"^==> (\S+) .*<==\n", out, flags=re.M)[1:]
    ours_v = {blocks[k]: image_cells(blocks[k + 1]) for k in range(0, len(blocks), 2)}
    for n in lab.nodes:
        theirs = lab.docker("system", "df", "-v", node=n.index).stdout
        assert ours_v[n.name] == image_cells(theirs)


async def test_disk_screen_panels_equal_docker_system_df(lab_disk: Lab, tmp_path: Path) -> None:
    from uistate import make_app

    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.shot import render_screen

    lab = lab_disk
    populate(lab, 2, tmp_path, "panel")
    fleet = make_fleet(lab)
    target = resolve_target(host=lab.manager_host, env={})
    app = make_app(LiveSwarm(EngineClient(target)), start_mode="disk", disk=fleet)
    async with app.run_test(size=(160, 60)) as pilot:
        for _ in range(10):
            for _ in range(100):
                await pilot.pause(0.05)
                if all(e.df.usage is not None and not e.df.refreshing for e in fleet.engines):
                    break
            await pilot.pause(0.1)
            screen = render_screen(app, as_svg=False)
            want = {n.name: df_rows(lab.docker("system", "df", node=n.index).stdout)
                    for n in lab.nodes}
            got = {}
            lines = screen.splitlines()
            for name in want:
                start = next(k for k, x in enumerate(lines) if re.match(rf"▎ [▶ ] {name}  ", x))
                got[name] = [re.split(r"\s{2,}", x.strip("▎ "))[:5]
                             for x in lines[start + 2 : start + 6]]
            if got == want:
                break
            fleet.refresh()
        assert got == want, screen
        assert "Not covered" not in screen


# ---------------------------------------------------------------------------------- prune


async def test_prune_containers_exactly_the_preview(lab_disk: Lab, tmp_path: Path) -> None:
    lab = lab_disk
    populate(lab, 1, tmp_path, "c")
    async with fleet_of(lab) as fleet:
        planned, outcome = await prune_and_check(lab, fleet, 1, "containers", PruneOptions())
    names = {i.name for i in planned.plan.items}
    assert names == {"swt-c-exited", "swt-c-created"}
    assert outcome.space_reclaimed > 0  # /rw.txt of the exited one
    left = lab.docker("ps", "-a", "--format", "{{.Names}}", node=1).stdout.split()
    assert left == ["swt-c-running"]


async def test_prune_dangling_images_exactly_the_preview(lab_disk: Lab, tmp_path: Path) -> None:
    lab = lab_disk
    i = 2
    dangling = import_image(lab, i, tmp_path, None, 60_000)
    # a committed child of busybox:lab, untagged: dangling, with busybox:lab as its parent
    lab.docker("run", "--name", "swt-commit", "busybox:lab", "sh", "-c", "echo x > /x",
               node=i)
    child = lab.docker("commit", "swt-commit", node=i).stdout.strip()
    lab.docker("rm", "swt-commit", node=i)
    import_image(lab, i, tmp_path, "swarmtui-test/tagged:1", 1000)  # tagged: kept
    async with fleet_of(lab) as fleet:
        planned, outcome = await prune_and_check(lab, fleet, i, "images", PruneOptions())
    ids = set(planned.plan.item_ids)
    assert {dangling, child} <= ids
    assert "swarmtui-test/tagged:1" in image_tags(lab, i)
    assert outcome.steps[0].method == "endpoint"  # nothing protected: the engine's prune
    assert outcome.space_reclaimed >= 60_000


async def test_prune_all_images_protects_services_and_rollback(lab_disk: Lab,
                                                               tmp_path: Path) -> None:
    lab = lab_disk
    protect_lab_images(lab)
    i = 1
    for node in range(len(lab.nodes)):
        lab.docker("tag", "busybox:lab", "swarmtui-test/alias:1", node=node)
    unused = import_image(lab, i, tmp_path, "swarmtui-test/unused:1", 80_000)
    idle = import_image(lab, i, tmp_path, "swarmtui-test/idle:1", 20_000)
    # a service scaled to zero: no container anywhere, only its spec needs the image
    service_create(lab, "swt-idle", "swarmtui-test/idle:1", "--replicas", "0")
    async with fleet_of(lab) as fleet:
        engine = engine_for(fleet, lab, i)
        before = (await engine.disk_usage()).layers_size
        planned, outcome = await prune_and_check(lab, fleet, i, "images",
                                                 PruneOptions(all=True))
        after = (await engine.disk_usage()).layers_size
    plan = planned.plan
    assert set(plan.item_ids) == {unused}
    prot = {p.id: p.flags for p in plan.protected}
    assert idle in prot and "used by service swt-idle spec" in prot[idle]
    lab_id = lab.docker("image", "inspect", "--format", "{{.Id}}", "busybox:lab",
                        node=i).stdout.strip()
    assert "needed for rollback of service swt-guard (PreviousSpec)" in prot[lab_id]
    assert "used by service swt-guard spec" in prot[lab_id]
    assert planned.per_item_steps == ("images",)
    (step,) = outcome.steps
    assert step.method == "per-item" and step.request.startswith("DELETE /images/")
    assert step.result is not None and step.result.space_reclaimed == before - after
    assert before - after > 0
    tags = image_tags(lab, i)
    assert {"busybox:lab", "busybox:lab2", "swarmtui-test/alias:1", "swarmtui-test/idle:1"} <= tags
    assert "swarmtui-test/unused:1" not in tags


async def test_prune_volumes_exactly_the_preview(lab_disk: Lab, tmp_path: Path) -> None:
    lab = lab_disk
    populate(lab, 1, tmp_path, "v")
    async with fleet_of(lab) as fleet:
        planned, outcome = await prune_and_check(lab, fleet, 1, "volumes", PruneOptions())
    plan = planned.plan
    listed = {i.name for i in plan.items}
    assert {"swt-v-named"} <= listed  # API 1.41: named volumes are pruned too
    assert "swt-v-data" not in listed  # the stopped container still uses it
    kept = {k.name: k.flags[0] for k in plan.kept}
    assert kept["swt-v-data"].startswith("in use by container swt-v-exited")
    assert kept["swt-v-opts"].startswith("has mount options")
    left = set(lab.docker("volume", "ls", "-q", node=1).stdout.split())
    assert left == {"swt-v-data", "swt-v-opts"}, left
    assert outcome.results[0].deleted and set(outcome.results[0].deleted) == listed


async def test_prune_networks_local_and_swarm_scoped(lab_disk: Lab) -> None:
    lab = lab_disk
    lab.docker("network", "create", "swt-local", node=0)
    lab.docker("network", "create", "-d", "overlay", "swt-overlay-unused")
    lab.docker("network", "create", "-d", "overlay", "swt-overlay-used")
    # A task that keeps running: busybox's bare sh exits at once, and in the instant a
    # restarting task on the manager has no endpoint, the engine's local prune drops the
    # node's copy of the overlay and reports it deleted (the swarm network stays), a CI flake.
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", "swt-net-user",
               "--network", "swt-overlay-used", "busybox:lab", "sleep", "3600")
    lab.docker("network", "create", "swt-worker-net", node=2)
    async with fleet_of(lab) as fleet:
        planned, _ = await prune_and_check(lab, fleet, 0, "networks", PruneOptions())
        names = {i.name for i in planned.plan.items}
        assert names == {"swt-local", "swt-overlay-unused"}
        kept = {k.name: k.flags[0] for k in planned.plan.kept}
        assert kept["swt-overlay-used"] == "in use by service swt-net-user"
        assert "docker_gwbridge" in kept and "ingress" in kept
        worker, _ = await prune_and_check(lab, fleet, 2, "networks", PruneOptions())
        assert {i.name for i in worker.plan.items} == {"swt-worker-net"}
    left = set(lab.docker("network", "ls", "--format", "{{.Name}}").stdout.split())
    assert "swt-overlay-used" in left and not {"swt-local", "swt-overlay-unused"} & left


@pytest.mark.parametrize("all_cache", [False, True])
async def test_prune_build_cache_exactly_the_preview(lab_disk: Lab, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     all_cache: bool) -> None:
    lab = lab_disk
    build_cache(lab, 2, tmp_path, monkeypatch)
    async with fleet_of(lab) as fleet:
        planned, _ = await prune_and_check(lab, fleet, 2, "build-cache",
                                                 PruneOptions(all=all_cache))
    assert planned.plan.items
    if all_cache:
        assert lab.docker("system", "df", node=2).stdout.splitlines()[-1].split()[2] == "0"


async def test_system_prune_all_volumes_exactly_the_preview(lab_disk: Lab, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    lab = lab_disk
    protect_lab_images(lab)
    populate(lab, 1, tmp_path, "s")
    build_cache(lab, 1, tmp_path, monkeypatch)
    async with fleet_of(lab) as fleet:
        planned, outcome = await prune_and_check(lab, fleet, 1, "system",
                                                 PruneOptions(all=True, volumes=True))
    kinds = [s.kind for s in outcome.steps]
    assert kinds == ["containers", "networks", "volumes", "images", "build_cache"]
    assert planned.per_item_steps == ("images",)
    assert "Total reclaimed space:" in render_outcome(outcome)
    every = set(lab.docker("ps", "-a", "--format", "{{.Names}}", node=1).stdout.split())
    running = set(lab.docker("ps", "--format", "{{.Names}}", node=1).stdout.split())
    assert every == running and "swt-s-running" in running
    assert "swarmtui-test/unused-s:1" not in image_tags(lab, 1)


async def test_preview_never_lists_a_service_image(lab_disk: Lab, tmp_path: Path) -> None:
    lab = lab_disk
    protect_lab_images(lab)
    for node in range(len(lab.nodes)):
        lab.docker("tag", "busybox:lab", "swarmtui-test/app:2", node=node)
        import_image(lab, node, tmp_path, "swarmtui-test/idle:1", 5_000)
        import_image(lab, node, tmp_path, "swarmtui-test/unused:1", 5_000)
    service_create(lab, "swt-app", "swarmtui-test/app:2", "--replicas", "2")
    service_create(lab, "swt-idle", "swarmtui-test/idle:1", "--replicas", "0")
    wait_tasks_running(lab, "swt-app", 2)
    service_images = {"busybox:lab", "busybox:lab2", "swarmtui-test/app:2",
                      "swarmtui-test/idle:1"}
    async with fleet_of(lab) as fleet:
        for engine in fleet.reachable():
            for kind, opts in (("images", PruneOptions(all=True)),
                               ("images", PruneOptions()),
                               ("system", PruneOptions(all=True, volumes=True))):
                plan = (await fleet.plan(engine, kind, opts)).plan
                touched = {u for it in plan.items for u in it.untags}
                assert not touched & service_images, (engine.name, kind, touched)
                if opts.all:
                    assert touched == {"swarmtui-test/unused:1"}, (engine.name, touched)
                    prot = {u for p in plan.protected for u in p.untags} | {
                        p.name for p in plan.protected}
                    assert "swarmtui-test/idle:1" in prot
    # the CLI preview says so too, and changes nothing
    env = {**lab.docker_env(0), "XDG_CONFIG_HOME": str(tmp_path)}
    res = swarmtui(*engine_flags(lab), "prune", "images", "--all", "--dry-run",
                   "--all-engines", env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("Protected -- kept because a service needs them:") == 3
    assert "needed for rollback of service swt-guard (PreviousSpec)" in res.stdout
    for node in range(len(lab.nodes)):
        assert service_images | {"swarmtui-test/unused:1"} <= image_tags(lab, node)


async def test_cli_prune_refuses_without_terminal_and_read_only(lab_disk: Lab,
                                                                tmp_path: Path) -> None:
    lab = lab_disk
    populate(lab, 0, tmp_path, "cli")
    env = {**lab.docker_env(0), "XDG_CONFIG_HOME": str(tmp_path)}
    before = lab.docker("ps", "-a", "--format", "{{.Names}}", node=0).stdout
    for extra in (["prune", "containers"], ["--read-only", "prune", "containers", "--yes"]):
        res = swarmtui(*extra, env=env)
        assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert res.stdout == ""
    assert lab.docker("ps", "-a", "--format", "{{.Names}}", node=0).stdout == before
    # --yes: the docker CLI's output, with the engine's own numbers
    t0 = time.time() - 1
    res = swarmtui("prune", "containers", "--yes", env=env)
    assert res.returncode == 0, res.stderr
    out = res.stdout.split("Will remove", 1)[1]
    (reclaimed,) = prune_events(lab, 0, t0, time.time() + 1)["container"]
    from swarmtui.model.dockerfmt import human_size

    assert out.rstrip().endswith(f"Total reclaimed space: {human_size(reclaimed)}")
    assert "Deleted Containers:" in out
    assert lab.docker("ps", "-a", "--format", "{{.Names}}", node=0).stdout.split() == [
        "swt-cli-running"]


async def test_pilot_cancel_changes_nothing_then_prune_on_a_worker(lab_disk: Lab,
                                                                  tmp_path: Path) -> None:
    from test_disk_ui import open_preview, wait_screen
    from uistate import make_app

    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.screens.disk import DiskScreen
    from swarmtui.screens.operation import OutcomeScreen
    from swarmtui.shot import render_screen

    lab = lab_disk
    protect_lab_images(lab)
    populate(lab, 1, tmp_path, "ui")

    def engine_state() -> str:
        return "\n".join(" ".join(sorted(lab.docker(*a, node=1).stdout.split())) for a in (
            ("ps", "-a", "-q"), ("images", "-a", "-q"), ("volume", "ls", "-q"),
            ("network", "ls", "-q")))

    before = engine_state()
    fleet = make_fleet(lab)
    target = resolve_target(host=lab.manager_host, env={})
    app = make_app(LiveSwarm(EngineClient(target)), start_mode="disk", disk=fleet)
    async with app.run_test(size=(160, 60)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if all(e.df.usage is not None for e in fleet.engines):
                break
        await pilot.press("down")  # lab-node2
        for choice in ("images-all", "system-all-volumes", "volumes", "containers"):
            await open_preview(pilot, choice)
            await pilot.press("escape")
            await wait_screen(pilot, DiskScreen)
        await pilot.pause(0.5)
        assert engine_state() == before
        await open_preview(pilot, "containers")
        assert "swt-ui-exited" in render_screen(app, as_svg=False)
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        text = render_screen(app, as_svg=False)
        assert "Deleted Containers:" in text and "Removed exactly what the preview listed." in text
    names = lab.docker("ps", "-a", "--format", "{{.Names}}", node=1).stdout.split()
    assert "swt-ui-exited" not in names and "swt-ui-running" in names


# ---------------------------------------------------------------------------------- API 1.45

NEW_CLI = "/usr/local/bin/docker"  # docker CLI 28.2.2 on the dev/CI machines, when present


def new_cli_df(lab: Lab, *args: str) -> str | None:
    if not Path(NEW_CLI).exists():
        return None
    res = subprocess.run([NEW_CLI, "-H", lab.nodes[0].host, "system", "df", *args],
                         capture_output=True, text=True, timeout=60, env=lab.docker_env(0))
    return res.stdout if res.returncode == 0 else None


async def test_newer_engine_df_and_anonymous_only_volume_prune(newer_swarm: Lab) -> None:
    lab = newer_swarm
    lab.docker("volume", "create", "swt-n-named")
    lab.docker("run", "--name", "swt-n-anon", "-v", "/anon", "busybox:lab", "true")
    lab.docker("rm", "swt-n-anon")  # leaves an anonymous volume (labelled by Engine >= 23)
    fleet = DiskFleet.from_targets(resolve_target(host=lab.manager_host, env={}))
    try:
        await fleet.connect_all()
        (engine,) = fleet.reachable()
        assert engine.api == (1, 45)
        await assert_df_equal(lab, engine, 0)  # the 20.10 CLI
        for _ in range(10):  # the docker 28 CLI: -v with its 3-digit image sizes
            t0 = time.time()
            theirs = new_cli_df(lab, "-v")
            t1 = time.time()
            if theirs is None:
                break
            du = await engine.disk_usage()
            ours = {render_df_verbose(du, t0 + (t1 - t0) * k / 10, style="28")
                    for k in range(11)}
            if theirs in ours:
                break
            await asyncio.sleep(0.3)
        else:
            raise AssertionError(f"docker 28 df -v differs:\n{theirs}\n{ours}")

        planned = await fleet.plan(engine, "volumes", PruneOptions())
        anon = {i.name for i in planned.plan.items}
        assert len(anon) >= 1 and "swt-n-named" not in anon
        kept = {k.name: k.flags[0] for k in planned.plan.kept}
        assert kept["swt-n-named"].startswith("named volume: API >= 1.42 prunes anonymous")
        t0 = time.time() - 0.2
        outcome = await execute_confirmed(fleet, planned)
        assert outcome.ok and outcome.diff is not None and outcome.diff.matches
        assert set(outcome.results[0].deleted) == anon
        events = prune_events(lab, 0, t0, time.time() + 0.5)
        assert outcome.results[0].space_reclaimed in events["volume"]

        planned = await fleet.plan(engine, "volumes", PruneOptions(all=True))
        assert "swt-n-named" in {i.name for i in planned.plan.items}
        assert planned.plan.query == (("filters", '{"all":{"true":true}}'),)
        outcome = await execute_confirmed(fleet, planned)
        assert outcome.ok and outcome.diff is not None and outcome.diff.matches
        assert "swt-n-named" not in lab.docker("volume", "ls", "-q").stdout.split()
    finally:
        await fleet.stop()
