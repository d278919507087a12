"""The secrets (7) and configs (8) views: rows, details, content, and the create / remove /
rotate flows with their refusals, on the fake manager; snapshots of each view."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from secret_fakes import DB_PASS, NGINX_CONF, UNUSED, FakeSecretsEngine
from service_fakes import API, WEB
from textual.widgets import DataTable
from uistate import fixed_app, notices, text, wait_screen

from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.screens.secrets import ConfigsScreen, SecretsScreen, TextScreen, next_name
from swarmtui.widgets.prompt import Prompt

SIZE = (160, 40)
VALUE = "s3cr3t-Typed-Value"


def secrets_app(mode: str = "secrets", **kw: Any) -> tuple[Any, FakeSecretsEngine]:
    fake = FakeSecretsEngine(**kw)
    app = fixed_app(start_mode=mode)
    app.runtime.live.client = fake
    fake.dispatch_into(app.runtime.live.store)
    return app, fake


async def select(pilot: Any, key: str, cls: type = SecretsScreen) -> Any:
    screen = await wait_screen(pilot, cls)
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    return screen


async def typed(pilot: Any, value: str) -> None:
    await pilot.press("ctrl+u", *value, "enter")
    await pilot.pause()


async def confirm(pilot: Any) -> OutcomeScreen:
    await wait_screen(pilot, ConfirmOperationScreen)
    await pilot.click("#confirm-yes")
    screen: OutcomeScreen = await wait_screen(pilot, OutcomeScreen)
    return screen


def test_next_name() -> None:
    assert next_name("db_pass") == "db_pass_v2"
    assert next_name("db_pass_v2") == "db_pass_v3"


# -- the views -----------------------------------------------------------------------------
async def test_secrets_view_lists_metadata_and_users() -> None:
    app, _ = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, SecretsScreen)
        shown = text(app)
        assert "ID" in shown and "DRIVER" in shown and "USED BY" in shown
        assert f"{DB_PASS}  db_pass" in shown
        assert "2026-11-25 12:34:57" in shown
        assert "shop_api, shop_web" in shown
        assert "old_token" in shown
        footer = shown.splitlines()[-1]
        assert "c Create…" in footer and "r Rotate…" in footer and "D Remove" in footer
        await select(pilot, DB_PASS)
        await pilot.press("enter")
        await wait_screen(pilot, TextScreen)
        details = text(app)
        assert "shop_web: /run/secrets/db_pass uid 0 gid 0 mode 0444" in details
        assert "shop_api: /run/secrets/db_pass uid 0 gid 0 mode 0444" in details


async def test_configs_view_and_sanitised_content() -> None:
    app, fake = secrets_app("configs")
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, NGINX_CONF, ConfigsScreen)
        shown = text(app)
        assert "nginx_conf" in shown and "DRIVER" not in shown and "shop_web" in shown
        await pilot.press("v")
        await wait_screen(pilot, TextScreen)
        content = text(app)
        assert "listen 80;␛" in content and "\x1b" not in content
        assert ("GET", f"configs/{NGINX_CONF}", {}, None) in fake.calls
        await pilot.press("escape")
        await pilot.press("enter")
        await wait_screen(pilot, TextScreen)
        assert "shop_web: /etc/nginx.conf uid 0 gid 0 mode 0444" in text(app)


async def test_secret_data_is_never_requested() -> None:
    """No GET of one secret is needed to show the view or its details."""
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, DB_PASS)
        await pilot.press("enter")
        await wait_screen(pilot, TextScreen)
    assert not [c for c in fake.calls if c[1].startswith("secrets/")]


# -- create --------------------------------------------------------------------------------
async def test_create_typed_value_is_masked_and_sent_once() -> None:
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, SecretsScreen)
        await pilot.press("c")
        await typed(pilot, "api_key")
        prompt = app.screen.query_one(Prompt)
        assert prompt.password and "Value of api_key (hidden)" in text(app)
        await pilot.press(*VALUE)
        assert VALUE not in text(app) and "•" * 5 in text(app)
        await pilot.press("enter")
        confirm_screen = await wait_screen(pilot, ConfirmOperationScreen)
        assert "18 bytes from typed input" in text(app) and VALUE not in text(app)
        assert confirm_screen is app.screen
        outcome = await confirm(pilot)
        assert outcome.outcome.ok and "api_key created" in text(app)
        assert prompt.value == "" and not prompt.password
    posts = [c for c in fake.mutations]
    assert [(c[0], c[1]) for c in posts] == [("POST", "secrets/create")]
    assert base64.b64decode(posts[0][3]["Data"]).decode() == VALUE


async def test_create_from_a_file_and_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "conf"
    path.write_text("k=v\n")
    app, fake = secrets_app("configs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, ConfigsScreen)
        await pilot.press("c")
        await typed(pilot, "app_conf")
        assert not app.screen.query_one(Prompt).password  # a config is not secret
        await pilot.press("enter")  # empty: from a file
        await pilot.pause()
        assert "File with the data of app_conf" in text(app)
        await typed(pilot, str(tmp_path / "missing"))
        assert f"cannot read {tmp_path / 'missing'}: No such file or directory" in notices(app)
        assert app.screen.query_one(Prompt).is_open  # stays open to fix it
        await typed(pilot, str(path))
        await confirm(pilot)
    assert [(c[0], c[1]) for c in fake.mutations] == [("POST", "configs/create")]
    assert base64.b64decode(fake.mutations[0][3]["Data"]) == b"k=v\n"


async def test_create_refuses_a_bad_name_in_one_line() -> None:
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, SecretsScreen)
        await pilot.press("c")
        await typed(pilot, "bad name!")
        assert any("invalid secret name 'bad name!'" in n for n in notices(app))
        assert app.screen.query_one(Prompt).is_open
    assert fake.mutations == []


# -- remove --------------------------------------------------------------------------------
async def test_remove_in_use_is_refused_with_users_and_unused_is_removed() -> None:
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, DB_PASS)
        await pilot.press("D")
        for _ in range(50):
            await pilot.pause()
            if notices(app):
                break
        assert notices(app) == ["No preview: secret db_pass is in use by shop_api, shop_web: "
                                "rotate it or remove it from them first"]
        await select(pilot, UNUSED)
        await pilot.press("D")
        await confirm(pilot)
    assert [(c[0], c[1]) for c in fake.mutations] == [("DELETE", f"secrets/{UNUSED}")]


# -- rotate --------------------------------------------------------------------------------
async def rotate_flow(pilot: Any, answer: str | None = None) -> OutcomeScreen:
    await select(pilot, DB_PASS)
    await pilot.press("r")
    await pilot.pause()
    prompt = pilot.app.screen.query_one(Prompt)
    assert prompt.value == "db_pass_v2 shop_api shop_web"  # all users by default
    if answer is None:
        await pilot.press("enter")
    else:
        await typed(pilot, answer)
    await pilot.press(*VALUE, "enter")
    return await confirm(pilot)


async def test_rotate_moves_all_users_then_offers_removing_the_old() -> None:
    app, fake = secrets_app()
    app.runtime.live.client = fake
    async with app.run_test(size=SIZE) as pilot:
        await rotate_flow(pilot)
        shown = text(app)
        assert "shop_api: now on db_pass_v2; shop_web: now on db_pass_v2" in shown
        assert VALUE not in shown
        await pilot.press("escape")
        confirm_remove = await wait_screen(pilot, ConfirmOperationScreen)
        assert confirm_remove.preview.title == "Remove secret db_pass"
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
    writes = [(c[0], c[1]) for c in fake.mutations]
    assert writes == [("POST", "secrets/create"), ("POST", f"services/{API}/update"),
                      ("POST", f"services/{WEB}/update"), ("DELETE", f"secrets/{DB_PASS}")]


async def test_rotate_failure_says_so_and_offers_no_removal() -> None:
    app, fake = secrets_app(failing=frozenset({"shop_web"}))
    async with app.run_test(size=SIZE) as pilot:
        outcome = await rotate_flow(pilot)
        assert "rolled back to db_pass; stopped" in text(app)
        assert not outcome.outcome.ok
        await pilot.press("escape")
        await wait_screen(pilot, SecretsScreen)
        for _ in range(10):
            await pilot.pause()
        assert isinstance(app.screen, SecretsScreen)  # nothing offered: db_pass is in use
    assert ("DELETE", f"secrets/{DB_PASS}") not in [(c[0], c[1]) for c in fake.mutations]


async def test_rotate_chosen_service_and_unknown_service() -> None:
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, DB_PASS)
        await pilot.press("r")
        await typed(pilot, "db_pass_v2 agent")
        assert any("agent: not using db_pass" in n for n in notices(app))
        await typed(pilot, "db_pass_v2 shop_web")
        await pilot.press(*VALUE, "enter")
        await confirm(pilot)
        assert "shop_api also uses db_pass and stays on it" not in text(app)  # the outcome
    writes = [(c[0], c[1]) for c in fake.mutations]
    assert writes == [("POST", "secrets/create"), ("POST", f"services/{WEB}/update")]


async def test_rotate_unused_is_refused() -> None:
    app, fake = secrets_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, UNUSED)
        await pilot.press("r")
        await pilot.pause()
        assert "secret old_token is used by no service: nothing to rotate." in notices(app)
    assert fake.mutations == []


@pytest.mark.parametrize("key", ["c", "r", "D"])
async def test_read_only_refuses_every_operation(key: str) -> None:
    fake = FakeSecretsEngine()
    app = fixed_app(start_mode="secrets", read_only=True)
    app.runtime.live.client = fake
    fake.dispatch_into(app.runtime.live.store)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, DB_PASS)
        await pilot.press(key)
        await pilot.pause()
        assert any("Read-only mode" in n for n in notices(app))
        assert not app.screen.query_one(Prompt).is_open
    assert fake.mutations == []


# -- snapshots -----------------------------------------------------------------------------
def test_secrets_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(secrets_app()[0], terminal_size=(120, 24))


def test_configs_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(secrets_app("configs")[0], terminal_size=(120, 24))


def test_secret_details_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_details(pilot) -> None:  # type: ignore[no-untyped-def]
        await select(pilot, DB_PASS)
        await pilot.press("enter")

    assert snap_compare(secrets_app()[0], run_before=open_details, terminal_size=(120, 30))


def test_rotate_preview_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def preview(pilot) -> None:  # type: ignore[no-untyped-def]
        await select(pilot, DB_PASS)
        await pilot.press("r", "enter", *VALUE, "enter")
        await wait_screen(pilot, ConfirmOperationScreen)

    assert snap_compare(secrets_app()[0], run_before=preview, terminal_size=(120, 36))


@pytest.mark.parametrize("view,expect", [("secrets", "shop_db_password"),
                                         ("configs", "shop_nginx_conf")])
def test_shot_secrets_and_configs(tmp_path: Path, view: str, expect: str) -> None:
    """``swarmtui shot secrets|configs`` of the demo swarm shows its secrets and users."""
    from swarmtui.cli import main

    out = tmp_path / f"{view}.txt"
    assert main(["--demo", "shot", view, "-o", str(out), "--size", "140x20", "--delay", "0.5",
                 "--timeout", "20"]) == 0
    shown = out.read_text()
    assert f"swarmtui · {view}" in shown and expect in shown and "USED BY" in shown
