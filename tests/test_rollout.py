"""``swarmtui rollout status`` without the lab: the rollback config from recorded engine JSON,
the verdicts on the recorded updates, and the command against the simulator (which runs
rolling updates, pauses and rollbacks, swarmtui/sim/updater.py)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import load_fixture

from swarmtui.cli import build_parser, main
from swarmtui.cli import rollout as rollout_cli
from swarmtui.cli.common import load_settings
from swarmtui.model import parse
from swarmtui.model.timeline import timeline_for
from swarmtui.model.types import UpdateConfig
from swarmtui.sim.scenarios import build_ending_at
from swarmtui.sim.server import start_sim_server

FIXTURES = Path(__file__).parent / "fixtures" / "engine"
NS = 1_000_000_000
RECORDED_ROLLBACK_CONFIG = UpdateConfig(parallelism=2, delay_ns=NS, failure_action="continue",
                                        monitor_ns=3 * NS, max_failure_ratio=0.5,
                                        order="start-first")


# --------------------------------------------------------------------------- rollback config


@pytest.mark.parametrize("folder", ["v1.41", "v1.45"])
def test_rollback_config_parsed_from_recorded_service(folder: str) -> None:
    # `docker service create --rollback-parallelism 2 --rollback-delay 1s ...` recorded on
    # the lab's Docker 20.10 (API 1.41) and the newer engine (Docker 26.1, API 1.45).
    raw = json.loads((FIXTURES / folder / "service_rollback_config.json").read_text())
    svc = parse.parse_service(raw)
    assert svc.rollback_config == RECORDED_ROLLBACK_CONFIG
    assert svc.update_config.failure_action == "rollback" and svc.update_config.delay_ns == 2 * NS


def test_absent_rollback_config_is_the_engine_default(api_version: str) -> None:
    # Neither recording has a RollbackConfig: swarmkit then uses defaults.Service.Rollback.
    for svc in parse.parse_services(load_fixture(api_version, "services_status.json")):
        assert svc.rollback_config == UpdateConfig()
    web = next(s for s in parse.parse_services(load_fixture("v1.52", "services_status.json"))
               if s.name == "web_updating")
    assert web.rollback_config == UpdateConfig() != web.update_config


def _recorded(scenario: str, i: int) -> tuple[int, Any, Any]:
    doc = json.loads((FIXTURES / "v1.41" / f"update_{scenario}" / f"{i:02d}.json").read_text())
    return doc["now_ns"], doc["service"], doc["tasks"]


def test_rollback_timeline_uses_the_services_rollback_config() -> None:
    now, raw, raw_tasks = _recorded("rollback", 5)  # rollback_started
    svc = replace(parse.parse_service(raw), rollback_config=RECORDED_ROLLBACK_CONFIG)
    tl = timeline_for(svc, parse.parse_tasks(raw_tasks), now)
    assert tl is not None and tl.kind == "rollback"
    assert tl.config == RECORDED_ROLLBACK_CONFIG
    assert "parallelism 2, delay 1 s, monitor 3 s, order start-first, on failure continue" in (
        rollout_cli.render_timeline_text(tl, now))


# --------------------------------------------------------------------------- verdicts


def _judge(scenario: str, i: int, *, watched_s: float = 60) -> rollout_cli.Verdict:
    now, raw, raw_tasks = _recorded(scenario, i)
    return rollout_cli.judge(parse.parse_service(raw), parse.parse_tasks(raw_tasks), now, None,
                             dirty=rollout_cli.dirty_tasks(raw, raw_tasks),
                             watched_ns=now - int(watched_s * NS))


def test_verdicts_on_the_recorded_updates() -> None:
    mid = _judge("ok", 5)
    assert mid.status is None and mid.progress.startswith("tl-ok: batch ")
    assert mid.progress.endswith("of 4 updated)")
    done = _judge("ok", 15)
    assert done.status == 0 and done.reason.startswith("update completed, 4 of 4 updated in")
    paused = _judge("pause", 6)
    assert paused.status == 1
    assert paused.reason.startswith("update paused at batch 1 of 4: task t4xuk33")
    assert paused.reason.endswith("failed (non-zero exit (3))")  # the error names the code
    rolling_back = _judge("rollback", 5)
    assert rolling_back.status is None  # the rollback is still running: keep watching
    rolled_back = _judge("rollback", 7)
    assert rolled_back.status == 1
    # Seen only after it completed: the newest failed task of the image rolled away from.
    assert rolled_back.reason.startswith("rolled back to busybox:lab: task ")
    assert rolled_back.reason.endswith(" failed (non-zero exit (3))")
    # Watched through the rollback: the task the engine named when it started rolling back.
    previous = None
    for i in range(8):
        now, raw, raw_tasks = _recorded("rollback", i)
        watched = rollout_cli.judge(parse.parse_service(raw), parse.parse_tasks(raw_tasks), now,
                                    previous, dirty=0, watched_ns=now - 60 * NS)
        previous = watched.timeline
    assert watched.status == 1
    assert watched.reason == ("rolled back to busybox:lab: task o7h6eyvbzqg1 failed "
                              "(non-zero exit (3))")


def test_an_update_about_to_start_is_waited_for() -> None:
    # The first create, with the spec changed to the second image before the updater ran:
    # UpdateStatus is still absent, the tasks are dirty.
    now, raw, raw_tasks = _recorded("ok", 2)
    raw = json.loads(json.dumps(raw))
    raw["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "busybox:lab2"
    assert rollout_cli.dirty_tasks(raw, raw_tasks) == 4
    svc, tasks = parse.parse_service(raw), parse.parse_tasks(raw_tasks)
    early = rollout_cli.judge(svc, tasks, now, None, dirty=4, watched_ns=now - NS)
    assert early.status is None and "waiting for the update to start (4 tasks" in early.progress
    # Steady tasks of the current spec are not dirty (the recorded shapes compare equal).
    _, raw_done, tasks_done = _recorded("ok", 15)
    assert rollout_cli.dirty_tasks(raw_done, tasks_done) == 0


# --------------------------------------------------------------------------- simulator


async def _rollout(url: str, *words: str) -> int:
    args = build_parser().parse_args(["-H", url, "rollout", "status", *words])
    return await rollout_cli.run(args, load_settings(args, rollout_cli.SCOPE, env={}))


@pytest.mark.parametrize(
    ("service", "image", "status", "last"),
    [
        ("shop_web", "nginx:1.25.5-alpine", 0, "rolled out: shop_web (update completed, 3 of 3"),
        ("shop_web", "nginx:broken", 1, "rollout failed: shop_web: update paused at batch 1"),
        ("shop_api", "registry.example.com/shop/api:broken", 1,
         "rollout failed: shop_api: rolled back to registry.example.com/shop/api:2.4.1: task"),
    ],
)
async def test_rollout_status_against_the_simulator(
    service: str, image: str, status: int, last: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = build_ending_at("demo", time.time_ns())
    with tempfile.TemporaryDirectory() as tmp:
        # 20 virtual seconds per second: a 3-slot update with a 10 s delay takes ~2 s.
        server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=True,
                                        tick_s=0.05, speed=20)
        try:
            cluster.set_image(service, image)
            code = await _rollout(server.url, service, "--timeout", "30")
        finally:
            await server.stop()
    out = capsys.readouterr().out.splitlines()
    assert code == status, out
    assert out[-1].startswith(last), out[-1]
    kind = "rollback" if service == "shop_api" else "update"  # a rollback's timeline is its own
    assert f"{kind} of {service}: " in "\n".join(out)
    assert "\x1b[" not in "\n".join(out)  # not a terminal: no colour
    if status == 1:
        assert "exit code" in out[-1] or "failed" in out[-1]


async def test_timeout_names_what_it_waited_for(capsys: pytest.CaptureFixture[str]) -> None:
    cluster = build_ending_at("demo", time.time_ns())
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_sim_server(cluster, os.path.join(tmp, "d.sock"), realtime=True,
                                        tick_s=0.05)
        try:
            cluster.set_image("shop_web", "nginx:1.25.5-alpine")
            started = time.monotonic()
            code = await _rollout(server.url, "shop", "--timeout", "1")
            took = time.monotonic() - started
        finally:
            await server.stop()
    last = capsys.readouterr().out.splitlines()[-1]
    assert code == 124
    assert took < 5
    assert last.startswith("timed out after 1 s waiting for shop_web: ")
    assert "of 3 updated)" in last


def test_unknown_target_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "rollout", "status", "shop", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "swarmtui: error: no such service or stack: nosuch\n"


def test_no_update_in_flight_reports_the_last_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--read-only", "rollout", "status", "shop"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("rolled out: shop_api (no update), shop_db (no update), "
                              "shop_web (update completed, 3 of 3 updated")
    assert "update of shop_web: nginx:1.25.3-alpine -> nginx:1.25.4-alpine" in out


@pytest.mark.parametrize("flags", [["--timeout", "0"], ["--interval", "0.01"], []])
def test_bad_flags_are_usage_errors(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    words = ["rollout", "status", *flags] + (["web"] if flags else [])
    with pytest.raises(SystemExit) as exc:
        main(words)
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
