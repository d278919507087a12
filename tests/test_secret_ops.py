"""Secret and config operations on the fake manager: create, remove, rotate, their refusals,
and a secret's value kept out of every preview, outcome, error and repr."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from secret_fakes import DB_PASS, NGINX_CONF, UNUSED, FakeSecretsEngine
from service_fakes import API, WEB

from swarmtui.engine.client import EngineError
from swarmtui.model.parse import parse_secret, parse_service
from swarmtui.model.secrets import CONFIG, SECRET, content_text, name_problem
from swarmtui.ops.executor import Executor
from swarmtui.ops.secret import (
    CreateConfig,
    CreateSecret,
    RemoveSecret,
    RotateConfig,
    RotateSecret,
    RotationResult,
    SecretData,
)

VALUE = "hunter2-very-secret"


async def no_sleep(_: float) -> None:
    return None


def rotate(fake: FakeSecretsEngine, **kw: Any) -> RotateSecret:
    return RotateSecret(fake, "db_pass", "db_pass_v2", SecretData.typed(VALUE),
                        sleep=no_sleep, poll_s=0, timeout_s=5, **kw)


def everything_shown(plan: Any, outcome: Any) -> str:
    return " ".join([repr(plan), repr(plan.payload), *plan.preview.blocks,
                     *plan.preview.problems, plan.preview.summary, plan.preview.title,
                     repr(outcome), *outcome.blocks, *outcome.errors, *outcome.notes])


# -- names and data ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["db_pass", "a", "x.y-z_1", "A" * 64])
def test_names_docker_accepts(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name,why", [("", "needs a name"), ("-x", "only letters"),
                                       ("x_", "only letters"), ("a b", "only letters"),
                                       ("A" * 65, "longer than 64")])
def test_names_docker_refuses(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem


def test_secret_data_hides_its_value(tmp_path: Path) -> None:
    data = SecretData.typed(VALUE)
    assert VALUE not in repr(data) and VALUE not in str(data) and VALUE not in f"{data}"
    assert base64.b64decode(data.base64()).decode() == VALUE
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(data)
    path = tmp_path / "pass.txt"
    path.write_bytes(b"from-a-file")
    assert SecretData.from_file(str(path)).size == 11


@pytest.mark.parametrize("make,why", [
    (lambda p: str(p / "missing"), "No such file or directory"),
    (lambda p: str(p), "it is a directory"),
])
def test_unreadable_file_is_one_line(tmp_path: Path, make: Any, why: str) -> None:
    with pytest.raises(ValueError) as info:
        SecretData.from_file(make(tmp_path))
    assert why in str(info.value) and "\n" not in str(info.value)


def test_parse_recorded_lab_secret() -> None:
    import json
    raw = json.loads(Path("/work/shared/reference/docker-api/lab/secrets.json").read_text())
    item = parse_secret(raw[0])
    assert (item.id, item.name, item.version) == ("s223t0z9tnpql9yie1j7y3kbj",
                                                 "wordpress_secret", 47)
    assert item.created_ns is not None and item.driver == ""


def test_service_file_refs_are_parsed() -> None:
    fake = FakeSecretsEngine()
    web = parse_service(fake.services[WEB])
    assert [(r.id, r.name, r.target, r.uid, r.mode) for r in web.secrets] == [
        (DB_PASS, "db_pass", "db_pass", "0", 0o444)]
    assert [r.target for r in web.configs] == ["/etc/nginx.conf"]


def test_config_content_is_sanitised() -> None:
    text = content_text(base64.b64encode(b"a\x1b[2Jb\nline two\n").decode())
    assert text == "a␛b\nline two"
    assert "not base64" in content_text("!!!")


# -- create -----------------------------------------------------------------------------
async def test_create_sends_the_value_once_and_shows_it_nowhere() -> None:
    fake = FakeSecretsEngine()
    op = CreateSecret(fake, "api_key", SecretData.typed(VALUE))
    ex = Executor()
    plan = await ex.plan(op)
    assert fake.mutations == []
    outcome = await ex.execute(plan)
    assert outcome.ok, outcome
    assert "api_key created" in outcome.blocks[0]
    sent = [c for c in fake.calls if c[3] is not None]
    assert [(c[0], c[1]) for c in sent] == [("POST", "secrets/create")]
    assert base64.b64decode(sent[0][3]["Data"]).decode() == VALUE
    assert VALUE not in everything_shown(plan, outcome)


async def test_create_refuses_a_taken_name_and_bad_input() -> None:
    fake = FakeSecretsEngine()
    with pytest.raises(EngineError, match="a secret named db_pass already exists"):
        await CreateSecret(fake, "db_pass", SecretData.typed("x")).plan()
    with pytest.raises(ValueError, match="invalid secret name"):
        CreateSecret(fake, "bad name", SecretData.typed("x"))
    with pytest.raises(ValueError, match="must not be empty"):
        CreateSecret(fake, "ok", SecretData.typed(""))
    with pytest.raises(ValueError, match="less than 500 KiB"):
        CreateSecret(fake, "ok", SecretData(b"x" * 500 * 1024, "typed input"))
    assert fake.mutations == []


async def test_create_config() -> None:
    fake = FakeSecretsEngine()
    plan = await CreateConfig(fake, "app_conf", SecretData.typed("k=v")).plan()
    outcome = await Executor().execute(plan)
    assert outcome.ok and "config app_conf created" in outcome.blocks[0]
    assert [(c[0], c[1]) for c in fake.mutations] == [("POST", "configs/create")]


# -- remove -----------------------------------------------------------------------------
async def test_remove_refused_while_in_use_naming_the_users() -> None:
    fake = FakeSecretsEngine()
    with pytest.raises(EngineError) as info:
        await RemoveSecret(fake, DB_PASS).plan()
    assert str(info.value) == ("secret db_pass is in use by shop_api, shop_web: rotate it or "
                               "remove it from them first")
    with pytest.raises(EngineError, match="config nginx_conf is in use by shop_web"):
        await RemoveSecret(fake, NGINX_CONF, CONFIG).plan()
    with pytest.raises(EngineError, match="no such secret: nosuch"):
        await RemoveSecret(fake, "nosuch").plan()
    assert fake.mutations == []


async def test_remove_unused() -> None:
    fake = FakeSecretsEngine()
    plan = await RemoveSecret(fake, UNUSED).plan()
    assert "old_token" in plan.preview.title
    outcome = await Executor().execute(plan)
    assert outcome.ok and UNUSED not in fake.items["secrets"]
    assert [(c[0], c[1]) for c in fake.mutations] == [("DELETE", f"secrets/{UNUSED}")]


# -- rotate -----------------------------------------------------------------------------
def secret_ids(fake: FakeSecretsEngine, sid: str) -> list[str]:
    refs = fake.services[sid]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    return [r["SecretName"] for r in refs]


async def test_rotation_moves_every_user_one_after_the_other() -> None:
    fake = FakeSecretsEngine()
    op = rotate(fake)
    said: list[str] = []
    op.progress = said.append
    plan = await op.plan()
    assert fake.mutations == []
    text = "".join(plan.preview.blocks)
    assert "1. create secret db_pass_v2: 19 bytes from typed input" in text
    assert text.index("shop_api") < text.index("shop_web")  # by name
    assert "secret db_pass -> db_pass_v2 at /run/secrets/db_pass uid 0 gid 0 mode 0444" in text
    outcome = await Executor().execute(plan)
    assert outcome.ok, outcome
    writes = [(c[0], c[1], c[2].get("rollback")) for c in fake.mutations]
    assert writes == [("POST", "secrets/create", None),
                      ("POST", f"services/{API}/update", None),
                      ("POST", f"services/{WEB}/update", None)]
    assert secret_ids(fake, WEB) == ["db_pass_v2"] and secret_ids(fake, API) == ["db_pass_v2"]
    # The target, owner and mode stay; only the secret changes.
    ref = fake.services[WEB]["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][0]
    assert ref["File"] == {"Name": "db_pass", "UID": "0", "GID": "0", "Mode": 0o444}
    assert "shop_api: now on db_pass_v2; shop_web: now on db_pass_v2" in outcome.blocks[0]
    assert outcome.detail == RotationResult("secret", DB_PASS, "db_pass",
                                            ("shop_api", "shop_web"), None, old_unused=True)
    assert any("shop_web (2 of 2)" in line for line in said)
    assert VALUE not in everything_shown(plan, outcome) + " ".join(said)


async def test_rotation_failing_second_service_rolls_it_back_and_stops() -> None:
    fake = FakeSecretsEngine(failing=frozenset({"shop_web"}))
    plan = await rotate(fake).plan()
    outcome = await Executor().execute(plan)
    assert not outcome.ok
    writes = [(c[1], c[2].get("rollback")) for c in fake.mutations]
    assert writes == [("secrets/create", None), (f"services/{API}/update", None),
                      (f"services/{WEB}/update", None), (f"services/{WEB}/update", "previous")]
    assert secret_ids(fake, API) == ["db_pass_v2"]
    assert secret_ids(fake, WEB) == ["db_pass"]  # rolled back
    assert outcome.errors == ("shop_web: update failed (non-zero exit (3)), "
                              "rolled back to db_pass; stopped",)
    assert "shop_api: now on db_pass_v2" in outcome.blocks[0]
    assert "db_pass is still used by shop_web" in outcome.notes[0]
    assert isinstance(outcome.detail, RotationResult) and not outcome.detail.old_unused


async def test_rotation_of_chosen_services_and_refusals() -> None:
    fake = FakeSecretsEngine()
    plan = await rotate(fake, services=("shop_web",)).plan()
    assert plan.preview.problems == ("shop_api also uses db_pass and stays on it",)
    outcome = await Executor().execute(plan)
    assert outcome.ok and secret_ids(fake, API) == ["db_pass"]
    assert "db_pass is still used by shop_api" in outcome.notes[0]
    with pytest.raises(EngineError, match="agent does not use secret db_pass"):
        await rotate(FakeSecretsEngine(), services=("agent",)).plan()
    with pytest.raises(EngineError, match="old_token is used by no service"):
        await RotateSecret(fake, "old_token", "old_token_v2", SecretData.typed("x")).plan()
    with pytest.raises(EngineError, match="db_pass_v2 already exists"):
        await rotate(fake).plan()


async def test_rotation_stale_before_anything_is_written() -> None:
    fake = FakeSecretsEngine()
    plan = await rotate(fake).plan()
    fake.bump(WEB, lambda spec: spec.update(Labels={"x": "y"}))
    outcome = await Executor().execute(plan)
    assert outcome.stale and fake.mutations == []


async def test_config_rotates_the_same_way() -> None:
    fake = FakeSecretsEngine()
    plan = await RotateConfig(fake, "nginx_conf", "nginx_conf_v2",
                              SecretData.typed("server {}"), sleep=no_sleep, poll_s=0).plan()
    outcome = await Executor().execute(plan)
    assert outcome.ok
    refs = fake.services[WEB]["Spec"]["TaskTemplate"]["ContainerSpec"]["Configs"]
    assert [(r["ConfigName"], r["File"]["Name"]) for r in refs] == [
        ("nginx_conf_v2", "/etc/nginx.conf")]
    assert SECRET.noun == "secret"
