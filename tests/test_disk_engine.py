"""The per-engine disk service without a daemon: API-version parameters, the engine list
(--engine, engines.toml), df scheduling, services from the manager, safety checks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from disk_fakes import (
    FakeEngine,
    H,
    cache,
    execute_confirmed,
    fake_fleet,
    image,
    manager_engine,
    permit_for_tests,
    service,
    volume,
    worker_engine,
)

from swarmtui.cli import main
from swarmtui.engine.client import EngineError
from swarmtui.engine.disk import (
    DiskEngine,
    DiskFleet,
    EngineSpecError,
    build_prune_params,
    config_path,
    df_params,
    engines_from_config,
    parse_engine_flag,
    plan_drift,
)
from swarmtui.model.disk.prune_plan import PruneItem, PrunePlan
from swarmtui.model.disk.view import PruneOptions
from swarmtui.ops.executor import Executor


def test_api_version_parameters() -> None:
    assert df_params((1, 41)) == {} and df_params((1, 51)) == {}
    assert df_params((1, 52)) == {"verbose": "1"}
    q = (("all", "1"),)
    assert build_prune_params((1, 47), q, 5000) == {"all": "1", "keep-storage": "5000"}
    assert build_prune_params((1, 48), q, 5000) == {"all": "1", "reserved-space": "5000"}
    assert build_prune_params((1, 41), q, None) == {"all": "1"}


def test_engine_flag_and_config_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    spec = parse_engine_flag("node2=unix:///run/n2.sock", env)
    assert (spec.name, spec.target.url, spec.source) == ("node2", "unix:///run/n2.sock",
                                                         "--engine")
    assert parse_engine_flag("n3=10.0.0.3:2375", env).target.url == "tcp://10.0.0.3:2375"
    for bad in ("node2", "=unix:///x", "node2="):
        with pytest.raises(EngineSpecError, match="use NAME=URL"):
            parse_engine_flag(bad, env)
    assert config_path(env) == tmp_path / "swarmtui" / "engines.toml"
    assert engines_from_config(env=env) == []  # no file: no extra engines
    cfg = config_path(env)
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[engines]\nlab-node2 = "unix:///tmp/n2.sock"\nlab-node3 = "tcp://h3:2375"\n')
    specs = engines_from_config(env=env)
    assert [(s.name, s.target.url) for s in specs] == [
        ("lab-node2", "unix:///tmp/n2.sock"), ("lab-node3", "tcp://h3:2375")]
    assert specs[0].source == str(cfg)
    cfg.write_text("[engines\n")
    with pytest.raises(EngineSpecError, match="invalid TOML"):
        engines_from_config(env=env)
    cfg.write_text("[engines]\nx = 3\n")
    with pytest.raises(EngineSpecError, match=r"engines\.x must be a URL"):
        engines_from_config(env=env)


async def test_df_runs_once_at_a_time_and_keeps_the_last_result() -> None:
    fake = manager_engine()
    started = asyncio.Event()
    release = asyncio.Event()
    real_call = fake.call

    async def slow_call(method: str, path: str, params: Any = None, timeout: float = 30,
                        permit: Any = None) -> Any:
        if path == "system/df":
            started.set()
            await release.wait()
        return await real_call(method, path, params, timeout)

    fake.call = slow_call  # type: ignore[method-assign]
    engine = DiskEngine(fake)
    a = asyncio.create_task(engine.disk_usage())
    await started.wait()
    b = asyncio.create_task(engine.disk_usage())
    engine.refresh()
    assert engine.df.refreshing
    release.set()
    du_a, du_b = await asyncio.gather(a, b)
    assert du_a is du_b
    assert sum(1 for c in fake.calls if c[1] == "system/df") == 1
    assert not engine.df.refreshing and engine.df.usage is du_a and engine.df.error is None
    # a failure keeps the last data and says why
    fake.fail[("GET", "system/df")] = EngineError("GET /system/df timed out after 120s")
    with pytest.raises(EngineError):
        await engine.disk_usage()
    assert engine.df.usage is du_a and engine.df.error == "GET /system/df timed out after 120s"


async def test_df_timeout() -> None:
    fake = manager_engine()
    real_call = fake.call

    async def hang(method: str, path: str, params: Any = None, timeout: float = 30,
                   permit: Any = None) -> Any:
        if path == "system/df":
            await asyncio.sleep(timeout)
            raise EngineError(f"GET /{path} timed out after {timeout:.0f}s")
        return await real_call(method, path, params, timeout)

    fake.call = hang  # type: ignore[method-assign]
    engine = DiskEngine(fake, df_timeout_s=0.05)
    with pytest.raises(EngineError, match="timed out"):
        await engine.disk_usage()
    assert engine.df.error is not None and not engine.df.refreshing


async def test_verbose_df_from_api_1_52() -> None:
    fake = FakeEngine("new", "nodeNEW", manager=True, api="1.52")
    await DiskEngine(fake).disk_usage()
    assert ("GET", "system/df", {"verbose": "1"}) in fake.calls


async def test_worker_prune_uses_the_managers_services() -> None:
    mgr = manager_engine()
    mgr.services.append(service("svcold0000000000000000001", "legacy", "web:1",
                                previous="busybox:old"))
    wrk = worker_engine()
    fleet = fake_fleet(mgr, wrk)
    await fleet.connect_all()
    worker = fleet.find("lab-node2")
    assert worker is not None
    plan = (await fleet.plan(worker, "images", PruneOptions(all=True))).plan
    prot = {i.name: i.flags[0] for i in plan.protected}
    assert prot == {"busybox:old": "needed for rollback of service legacy (PreviousSpec)",
                    "busybox:lab": "used by service shop_web spec"}
    assert "busybox:old" not in {u for i in plan.items for u in i.untags}
    assert not any(c[1] == "services" for c in wrk.calls)  # asked the manager, not the worker
    planned = await fleet.plan(worker, "images", PruneOptions(all=True))
    outcome = await execute_confirmed(fleet, planned)
    assert outcome.ok and outcome.diff is not None and outcome.diff.matches
    assert {t for i in wrk.images for t in i["RepoTags"]} == {"busybox:lab", "busybox:lab2",
                                                              "busybox:old"}


async def test_no_manager_no_image_prune() -> None:
    mgr = manager_engine()
    mgr.connect_error = "no Docker engine listening at unix:///run/lab-node1 (connection refused)"
    wrk = worker_engine()
    fleet = fake_fleet(mgr, wrk)
    await fleet.connect_all()
    worker = fleet.find("lab-node2")
    assert worker is not None
    for kind in ("images", "system"):
        with pytest.raises(EngineError, match="no swarm manager is reachable"):
            await fleet.plan(worker, kind, PruneOptions())
    planned = await fleet.plan(worker, "containers", PruneOptions())
    assert planned.notes and "not checked" in planned.notes[0]


async def test_same_node_twice_is_shown_once_and_coverage() -> None:
    fleet = fake_fleet(manager_engine(), worker_engine(), worker_engine())
    fleet.engines[2].configured_name = "again"
    await fleet.connect_all()
    assert fleet.engines[2].duplicate_of == "lab-node2"
    assert [e.name for e in fleet.active_engines()] == ["lab-node1", "lab-node2"]
    assert [n.hostname for n in fleet.uncovered()] == ["lab-node3", "lab-node4"]
    assert fleet.find("node02") is fleet.engines[1]  # node ID prefix
    # the manager given again under its own name: shown once too
    again = fake_fleet(manager_engine(), manager_engine())
    again.engines[1].configured_name = "lab-node1"
    await again.connect_all()
    assert [e.name for e in again.active_engines()] == ["lab-node1"]


async def test_volume_all_filter_and_build_keep_storage_by_api_version() -> None:
    for api, key in (("1.47", "keep-storage"), ("1.48", "reserved-space")):
        fake = FakeEngine("e", "", api=api, build_cache=[cache("x1", 10)],
                          volumes=[volume("named", 5)])
        fleet = fake_fleet(fake)
        await fleet.connect_all()
        engine = fleet.engines[0]
        planned = await fleet.plan(engine, "build-cache", PruneOptions(keep_storage=1000))
        await execute_confirmed(fleet, planned)
        assert fake.mutations[-1] == ("POST", "build/prune", {key: "1000"})
        planned = await fleet.plan(engine, "volumes", PruneOptions(all=True))
        outcome = await execute_confirmed(fleet, planned)
        assert fake.mutations[-1] == ("POST", "volumes/prune",
                                      {"filters": '{"all":{"true":true}}'})
        assert outcome.results[0].deleted == ("named",)
    old = FakeEngine("e", "", api="1.41", volumes=[volume("named", 5)])
    fleet = fake_fleet(old)
    await fleet.connect_all()
    planned = await fleet.plan(fleet.engines[0], "volumes", PruneOptions(all=True))
    await execute_confirmed(fleet, planned)
    assert old.mutations[-1] == ("POST", "volumes/prune", {})  # < 1.42: all is implied


async def test_drift_is_refused_before_anything_is_sent() -> None:
    mgr = manager_engine()
    fleet = fake_fleet(mgr)
    await fleet.connect_all()
    planned = await fleet.plan(fleet.engines[0], "images", PruneOptions(all=True))
    mgr.images.append(image("9", ("late/arrival:1",)))
    outcome = await execute_confirmed(fleet, planned)
    assert outcome.refused is not None and "late/arrival:1" in outcome.refused
    assert mgr.mutations == []
    # an object gone meanwhile is fine: the result says it was not removed
    planned = await fleet.plan(fleet.engines[0], "containers", PruneOptions())
    mgr.containers = [c for c in mgr.containers if c["Names"] != ["/scratchpad"]]
    outcome = await execute_confirmed(fleet, planned)
    assert outcome.ok and outcome.diff is not None
    assert outcome.diff.planned_not_removed == ("f" * 64,)


def test_plan_drift_on_new_untag() -> None:
    a = PrunePlan("images", items=(PruneItem("x", "x:1", kind="image", untags=("x:1",)),))
    b = PrunePlan("images", items=(PruneItem("x", "x:1", kind="image",
                                                 untags=("x:1", "x:2")),))
    assert plan_drift(a, a) is None
    assert plan_drift(a, b) is not None


async def test_per_item_deletes_never_touch_a_service_image() -> None:
    mgr = manager_engine()
    engine = DiskEngine(mgr)
    state, _ = await engine.engine_state(mgr.services)
    bogus = PrunePlan("images", items=(
        PruneItem(H("5"), "tools/lint:1", kind="image", targets=("busybox:lab",)),
    ))
    out = await engine._delete_images(bogus, state, mgr.services, permit_for_tests())
    assert out.error == "refused to delete busybox:lab: it names an image a service needs"
    bogus = PrunePlan("images", items=(
        PruneItem(H("1"), "registry.example.com/shop/api:1", kind="image",
                    targets=("registry.example.com/shop/api:1",)),
    ))
    out = await engine._delete_images(bogus, state, mgr.services, permit_for_tests())
    assert out.error == "refused to delete registry.example.com/shop/api:1: a service needs it"
    assert mgr.mutations == []


async def test_in_use_conflict_is_one_line_and_stops() -> None:
    mgr = manager_engine()
    fleet = fake_fleet(mgr)
    await fleet.connect_all()
    planned = await fleet.plan(fleet.engines[0], "images", PruneOptions(all=True))
    mgr.fail[("DELETE", "images/sha256:" + "4" * 64)] = EngineError(
        "conflict: unable to delete 444444444444 (must be forced) - image is being used by "
        "stopped container 0123", 409)
    outcome = await execute_confirmed(fleet, planned)
    assert not outcome.ok
    (err,) = outcome.errors
    assert "\n" not in err and "image is being used" in err
    assert len(mgr.mutations) == 1  # stopped at the first error: nothing else touched


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["prune", "containers"], 1, "stdin is not a terminal"),
        (["--read-only", "prune", "images", "--yes"], 1, "--read-only is set"),
        (["prune", "images", "--volumes", "--dry-run"], 2, "--volumes applies to system"),
        (["prune", "networks", "--all", "--dry-run"], 2, "--all does not apply to networks"),
        (["--engine", "oops", "prune", "images", "--dry-run"], 2, "invalid --engine 'oops'"),
        (["--engine", "x=unix:///nonexistent.sock", "df"], 1, "no engine reachable"),
    ],
)
def test_prune_cli_refusals(argv: list[str], status: int, message: str,
                            capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    # An engine that does not exist: the refusals come before any engine is contacted.
    code = main(["-H", "unix:///nonexistent/docker.sock", *argv])
    err = capsys.readouterr().err
    assert code == status
    assert message in err
    assert err.strip().splitlines()[-1].startswith("swarmtui: error:")


def test_bad_config_file_is_one_line(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "swarmtui").mkdir()
    (tmp_path / "swarmtui" / "engines.toml").write_text("[engines]\nn2 = 1\n")
    assert main(["-H", "unix:///nonexistent/docker.sock", "df"]) == 2
    assert "engines.n2 must be a URL" in capsys.readouterr().err


def test_fleet_without_engines_is_harmless() -> None:
    assert DiskFleet([]).uncovered() == []


def _prune_args(kind: str, **kw: Any) -> Any:
    import argparse

    base = {"kind": kind, "all": False, "volumes": False, "dry_run": False, "yes": False,
            "engine_name": None, "all_engines": False, "read_only": False}
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.parametrize(
    ("kind", "answer", "pruned"),
    [
        ("containers", "n", False),
        ("containers", "", False),
        ("containers", "y", True),
        ("volumes", "y", False),  # volumes want the engine's name, not y
        ("volumes", "lab-node2", False),
        ("volumes", "lab-node1", True),
    ],
)
async def test_cli_prune_asks(kind: str, answer: str, pruned: bool,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui.cli import CliError
    from swarmtui.cli.prune import _prune, prune_options

    mgr = manager_engine()
    fleet = fake_fleet(mgr)
    args = _prune_args(kind)
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return answer

    if pruned:
        await _prune(args, fleet, prune_options(args), Executor(), ask)
    else:
        with pytest.raises(CliError, match="cancelled, nothing was changed"):
            await _prune(args, fleet, prune_options(args), Executor(), ask)
    out = capsys.readouterr().out
    what = "stopped containers" if kind == "containers" else "unused volumes"
    assert out.startswith(f"Prune {what} on lab-node1")
    assert prompts == (["Proceed? [y/N] "] if kind == "containers" else
                       ["Volume data cannot be recovered. Type 'lab-node1' to confirm: "])
    assert bool(mgr.mutations) == pruned
    if pruned:
        header = "Deleted Containers:" if kind == "containers" else "Deleted Volumes:"
        assert header in out and "Total reclaimed space:" in out


async def test_cli_dry_run_and_all_engines(capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui.cli.prune import _prune, prune_options

    mgr, wrk = manager_engine(), worker_engine()
    fleet = fake_fleet(mgr, wrk)
    args = _prune_args("system", all=True, dry_run=True, all_engines=True)
    await _prune(args, fleet, prune_options(args), Executor(), lambda _: "y")
    out = capsys.readouterr().out
    assert "System prune --all on lab-node1, lab-node2" in out
    assert out.count("Will remove") == 2 and "Protected -- kept because" in out
    assert mgr.mutations == [] and wrk.mutations == []
    args = _prune_args("containers", yes=True, all_engines=True)
    await _prune(args, fleet, prune_options(args), Executor(), lambda _: "n")
    out = capsys.readouterr().out
    assert "==> lab-node1 <==" in out and "==> lab-node2 <==" in out
    assert mgr.mutations and wrk.mutations


async def test_the_fleet_publishes_frozen_snapshots_only_when_something_changed() -> None:
    import dataclasses

    from swarmtui.engine.disk import FleetState

    mgr, wrk = manager_engine(), worker_engine()
    fleet = fake_fleet(mgr, wrk)
    published: list[FleetState] = []
    fleet.store.subscribe(published.append)
    first = fleet.store.state
    assert [e.name for e in first.engines] == [mgr.url, "lab-node2"]
    assert all(e.df.usage is None and not e.reachable for e in first.engines)
    await fleet.refresh_all()
    state = fleet.store.state
    assert state is published[-1] and state is not first
    assert [e.name for e in state.engines] == ["lab-node1", "lab-node2"]
    assert all(e.reachable and e.df.usage is not None for e in state.engines)
    assert state.interval_s == fleet.interval_s and state.config_error is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.engines[0].name = "x"  # type: ignore[misc]
    count = len(published)
    fleet._changed()  # nothing differs: the same snapshot object stays
    assert len(published) == count and fleet.store.state is state
    await fleet.stop()
