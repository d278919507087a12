"""Stack operations against an in-memory manager and a stand-in docker CLI: remove's
preview of everything that goes and its order, refusals in one line with only GETs sent,
and deploy's command, output and errors (the CLI runs only on execute, never read-only)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from service_fakes import API, WEB
from stack_fakes import FakeStackEngine

from swarmtui.engine.client import EngineError
from swarmtui.engine.target import EngineTarget, TLSFiles
from swarmtui.ops.base import Operation
from swarmtui.ops.executor import READ_ONLY_REFUSAL, Executor
from swarmtui.ops.stack import NEEDS_CLI, Deployed, DeployStack, RemoveStack, cli_environment

TARGET = EngineTarget("unix:///tmp/lab/n1/docker.sock", "test")
COMPOSE = """\
version: "3.8"
services:
  web:
    image: busybox:lab
    deploy:
      update_config: {parallelism: 1, delay: 1s}
      placement:
        constraints: [node.role==worker]
  worker:
    image: busybox:lab
"""


async def run(op: Operation[Any], *, read_only: bool = False) -> Any:
    executor = Executor(read_only=read_only)
    plan = await executor.plan(op)
    return plan, await executor.execute(plan)


# -- remove --------------------------------------------------------------------------------

async def test_remove_previews_every_object_and_removes_in_the_cli_order() -> None:
    fake = FakeStackEngine()
    plan, outcome = await run(RemoveStack(fake, "shop"))
    block = plan.preview.blocks[0]
    for line in ("service  shop_api", "service  shop_web", "secret   shop_token",
                 "config   shop_settings", "network  shop_default"):
        assert line in block
    assert "agent" not in block and "other" not in block
    assert plan.preview.typed_confirmation == "shop" and plan.preview.changes == 5
    assert "2 services, 1 network, 1 secret, 1 config" in plan.preview.summary
    assert outcome.ok
    deleted = [path for method, path, _, _ in fake.mutations if method == "DELETE"]
    assert deleted == [f"services/{API}", f"services/{WEB}", "secrets/secshop00000000000000001",
                       "configs/cfgshop00000000000000001", "networks/netshop00000000000000001"]
    assert outcome.blocks[0].splitlines() == [
        "Removing service shop_api", "Removing service shop_web", "Removing secret shop_token",
        "Removing config shop_settings", "Removing network shop_default"]
    assert set(fake.services) == {"svcagent000000000000000001"}
    assert [n["Name"] for n in fake.objects["networks"]] == ["other"]


async def test_a_network_still_in_use_for_a_moment_is_retried() -> None:
    fake = FakeStackEngine()
    fake.in_use_once.add("netshop00000000000000001")
    _, outcome = await run(RemoveStack(fake, "shop"))
    assert outcome.ok and "Removing network shop_default" in outcome.blocks[0]


async def test_an_unknown_stack_is_one_line_and_only_gets() -> None:
    fake = FakeStackEngine()
    with pytest.raises(EngineError, match=r"^no such stack: shpo$"):
        await Executor().plan(RemoveStack(fake, "shpo"))
    assert fake.calls and not fake.mutations


async def test_a_stack_that_gained_a_service_is_previewed_again() -> None:
    fake = FakeStackEngine()
    executor = Executor()
    plan = await executor.plan(RemoveStack(fake, "shop"))
    fake.find("agent")["Spec"]["Labels"] = {"com.docker.stack.namespace": "shop"}
    outcome = await executor.execute(plan)
    assert outcome.stale and not fake.mutations


async def test_read_only_refuses_remove() -> None:
    fake = FakeStackEngine()
    _, outcome = await run(RemoveStack(fake, "shop"), read_only=True)
    assert outcome.refused == READ_ONLY_REFUSAL and not fake.mutations


# -- deploy --------------------------------------------------------------------------------

def fake_cli(tmp_path: Path, *, deploy_exit: int = 0, config: str = "unsupported") -> Path:
    """A stand-in docker CLI: logs each call (argv and DOCKER_HOST) and answers ``stack
    config`` like 20.10 (usage error), like 28 (prints the file) or with a compose error."""
    log = tmp_path / "calls.log"
    config_part = {
        "unsupported": 'echo "unknown shorthand flag: \'c\' in -c" >&2; exit 125',
        "ok": 'cat "$4"; exit 0',
        "error": 'echo "services.web Additional property imagee is not allowed" >&2; exit 1',
    }[config]
    script = tmp_path / "docker"
    script.write_text(f"""#!/bin/sh
echo "$* DOCKER_HOST=$DOCKER_HOST" >> {log}
if [ "$2" = config ]; then {config_part}; fi
if [ {deploy_exit} -ne 0 ]; then
  echo "yaml: line 3: did not find expected node content" >&2; exit {deploy_exit}
fi
echo "Creating network $7_default"
echo "Creating service $7_web"
echo "Creating service $7_worker"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def compose(tmp_path: Path, text: str = COMPOSE) -> Path:
    path = tmp_path / "stack.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("config", ["unsupported", "ok"])
async def test_deploy_previews_the_command_and_services_then_runs_the_cli(
        tmp_path: Path, config: str) -> None:
    fake = FakeStackEngine()
    cli = fake_cli(tmp_path, config=config)
    op = DeployStack(fake, TARGET, str(compose(tmp_path)), "shop", cli=str(cli))
    plan = await Executor().plan(op)
    block = plan.preview.blocks[0]
    assert (f"runs: docker stack deploy --resolve-image never -c {tmp_path}/stack.yml shop"
            in block)
    assert "against unix:///tmp/lab/n1/docker.sock" in block
    assert "shop_web     update (exists)" in block and "shop_worker  create" in block
    assert "shop_api     kept (not in the file" in block
    assert not any(c.startswith("stack deploy") for c in calls(tmp_path)), "only on execute"
    outcome = await Executor().execute(plan)
    assert outcome.ok and "Creating service shop_worker" in outcome.blocks[0]
    assert outcome.detail == Deployed("shop", ("shop_web", "shop_worker"))
    assert calls(tmp_path)[-1] == (f"stack deploy --resolve-image never -c {tmp_path}/stack.yml "
                                   "shop DOCKER_HOST=unix:///tmp/lab/n1/docker.sock")
    assert not fake.mutations, "the CLI, not the app's client, writes"


async def test_a_compose_file_the_cli_rejects_is_its_error_line(tmp_path: Path) -> None:
    cli = fake_cli(tmp_path, deploy_exit=1)
    op = DeployStack(FakeStackEngine(), TARGET, str(compose(tmp_path)), "shop", cli=str(cli))
    _, outcome = await run(op)
    assert outcome.errors == ("yaml: line 3: did not find expected node content",)
    assert outcome.detail is None


async def test_a_cli_with_stack_config_refuses_a_bad_file_before_asking(tmp_path: Path) -> None:
    cli = fake_cli(tmp_path, config="error")
    op = DeployStack(FakeStackEngine(), TARGET, str(compose(tmp_path)), "shop", cli=str(cli))
    with pytest.raises(EngineError, match=r"Additional property imagee is not allowed$"):
        await Executor().plan(op)
    assert not any(c.startswith("stack deploy") for c in calls(tmp_path))


async def test_read_only_never_runs_the_cli(tmp_path: Path) -> None:
    cli = fake_cli(tmp_path)
    op = DeployStack(FakeStackEngine(), TARGET, str(compose(tmp_path)), "shop", cli=str(cli))
    _, outcome = await run(op, read_only=True)
    assert outcome.refused == READ_ONLY_REFUSAL
    assert not any(c.startswith("stack deploy") for c in calls(tmp_path))


async def test_without_the_cli_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    op = DeployStack(FakeStackEngine(), TARGET, str(compose(tmp_path)), "shop")
    with pytest.raises(EngineError, match=f"^{re.escape(NEEDS_CLI)}$"):
        await Executor().plan(op)


async def test_a_missing_file_and_a_bad_name_are_one_line(tmp_path: Path) -> None:
    cli = str(fake_cli(tmp_path))
    with pytest.raises(EngineError, match=r"^nope\.yml: No such file or directory$"):
        await Executor().plan(DeployStack(FakeStackEngine(), TARGET, "nope.yml", "shop", cli=cli))
    with pytest.raises(EngineError, match=r"^invalid stack name: '-x'$"):
        await Executor().plan(DeployStack(FakeStackEngine(), TARGET, "a.yml", "-x", cli=cli))


def test_the_cli_is_pointed_at_the_apps_engine() -> None:
    base = {"DOCKER_HOST": "tcp://elsewhere:2375", "DOCKER_CONTEXT": "prod", "PATH": "/bin"}
    args, env = cli_environment(TARGET, base)
    assert args == [] and env["DOCKER_HOST"] == TARGET.url and "DOCKER_CONTEXT" not in env
    tls = EngineTarget("tcp://10.0.0.1:2376", "--host",
                       tls=TLSFiles("/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem", True))
    _, env = cli_environment(tls, base)
    assert (env["DOCKER_CERT_PATH"], env["DOCKER_TLS_VERIFY"]) == ("/certs", "1")
    args, env = cli_environment(EngineTarget("ssh://x", "--context", context="lab"), base)
    assert args == ["--context", "lab"] and "DOCKER_HOST" not in env
