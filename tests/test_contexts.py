"""Docker CLI contexts: listed from the CLI's store, switched from the command palette."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from uistate import text

from swarmtui.app import SwarmApp
from swarmtui.engine.target import list_contexts, resolve_target
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings
from swarmtui.sim.scenarios import build
from swarmtui.sim.server import start_sim_server


def write_context(config: Path, name: str, host: str, description: str = "") -> None:
    """A context as `docker context create NAME --docker host=HOST` stores it."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {"Description": description},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
    }))


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "docker"
    config.mkdir()
    # docker-py's context store (used for --context) reads os.environ, not Settings.env.
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return config


def test_contexts_are_listed_default_first(docker_config: Path) -> None:
    write_context(docker_config, "prod", "ssh://admin@prod", "the prod swarm")
    write_context(docker_config, "lab", "unix:///tmp/lab.sock")
    broken = docker_config / "contexts" / "meta" / "x"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    found = list_contexts({"DOCKER_CONFIG": str(docker_config)})
    assert [(c.name, c.host, c.description) for c in found] == [
        ("default", "unix:///var/run/docker.sock", "the local engine"),
        ("lab", "unix:///tmp/lab.sock", ""),
        ("prod", "ssh://admin@prod", "the prod swarm"),
    ]


def test_context_order_env_and_config(docker_config: Path) -> None:
    write_context(docker_config, "a", "unix:///tmp/a.sock")
    write_context(docker_config, "b", "unix:///tmp/b.sock")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "a"}))
    env = {"DOCKER_CONFIG": str(docker_config)}
    assert resolve_target(env=env).url == "unix:///tmp/a.sock"
    assert resolve_target(env={**env, "DOCKER_CONTEXT": "b"}).context == "b"
    assert resolve_target(context="b", env={**env, "DOCKER_HOST": "unix:///x"}).context == "b"


@pytest.fixture
async def two_sims(docker_config: Path) -> AsyncIterator[Path]:
    """Context "first" at the demo swarm, "second" at the chatty one (other node names)."""
    tmp = tempfile.mkdtemp(prefix="swctx")
    servers = []
    for name, scenario in (("first", "demo"), ("second", "chatty")):
        server = await start_sim_server(build(scenario), os.path.join(tmp, f"{name}.sock"),
                                        realtime=False)
        servers.append(server)
        write_context(docker_config, name, server.url, f"the {scenario} swarm")
    try:
        yield docker_config
    finally:
        for server in servers:
            await server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def names(scenario: str) -> set[str]:
    """What the grid shows of a scenario: its node and service names."""
    cluster = build(scenario)
    return {n.hostname for n in cluster.nodes.values()} | {
        s.name for s in cluster.services.values()}


async def test_palette_switches_the_whole_app_to_another_context(two_sims: Path) -> None:
    settings = Settings(context="first", env=dict(os.environ))
    runtime = build_runtime(settings, resolve_target(context="first"))
    app = SwarmApp(runtime)
    only_second = sorted(names("chatty") - names("demo"))
    only_first = sorted(names("demo") - names("chatty"))
    assert only_first and only_second
    async with app.run_test(size=(200, 50)) as pilot:
        await runtime.live.wait_full_state(10)
        await pilot.pause(0.3)
        assert only_first[0] in text(app) and only_second[0] not in text(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Switch context: second")
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.runtime is not runtime and app.runtime.live.store.state.nodes:
                break
        assert app.runtime.context == "second"
        await app.runtime.live.wait_full_state(10)
        await pilot.pause(0.3)
        shown = text(app)
        assert only_second[0] in shown and only_first[0] not in shown
        assert app.current_mode == "grid"
