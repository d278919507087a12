"""The services screen's actions: each key's prompt, preview and confirmation, each
refusal's one line, a stale preview read again, and read-only keys that do nothing."""

from __future__ import annotations

from typing import Any

import pytest
from service_fakes import API, WEB, FakeSwarmEngine
from textual.widgets import DataTable, Input
from uistate import fixed_app, notices, text, wait_screen

from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.screens.services import ServicesScreen
from swarmtui.widgets.prompt import Prompt

AGENT = "svcagent000000000000000001"
SIZE = (160, 40)


def services_app(**kw: Any) -> tuple[Any, FakeSwarmEngine]:
    app = fixed_app(start_mode="services", **kw)
    fake = FakeSwarmEngine()
    app.runtime.live.client = fake
    return app, fake


async def select(pilot: Any, sid: str) -> ServicesScreen:
    await wait_screen(pilot, ServicesScreen)
    screen: ServicesScreen = pilot.app.screen
    table = screen.query_one("#services", DataTable)
    table.move_cursor(row=table.get_row_index(sid))
    await pilot.pause()
    return screen


def prompt(app: Any) -> Prompt:
    return app.screen.query_one("#services-prompt", Prompt)


async def answer(pilot: Any, value: str) -> None:
    """Replace the pre-filled value, as a user would (ctrl+u clears), and press Enter."""
    await pilot.press("ctrl+u", *value, "enter")
    await pilot.pause()


async def confirm(pilot: Any) -> OutcomeScreen:
    await pilot.click("#confirm-yes")
    return await wait_screen(pilot, OutcomeScreen)  # type: ignore[no-any-return]


async def test_scale_prompts_with_the_count_previews_and_scales() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("s")
        assert prompt(app).is_open and prompt(app).value == "3"
        assert "Scale shop_web to (replicas)" in text(app)
        await answer(pilot, "5")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Scale shop_web to 5" in shown
        assert "Mode.Replicated.Replicas: 3 → 5" in shown
        assert dialog.verb == "Scale"
        outcome = await confirm(pilot)
        assert outcome.outcome.ok and "shop_web: scaled to 5 replica(s)." in text(app)
    ((method, path, params, body),) = fake.mutations
    assert (method, path, params["version"]) == ("POST", f"services/{WEB}/update", "10")
    assert body["Mode"]["Replicated"]["Replicas"] == 5


async def test_image_prompts_with_the_image_previews_and_updates() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("i")
        assert prompt(app).value == "busybox:lab"
        await pilot.press("2", "enter")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in text(app)
        await confirm(pilot)
    assert fake.services[WEB]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab2"


async def test_force_update_previews_the_force_counter_and_redeploys() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("F")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Force an update (redeploy) of shop_web" in shown
        assert "TaskTemplate.ForceUpdate: 0 → 1" in shown and "Redeploy" in shown
        await confirm(pilot)
    assert fake.services[WEB]["Spec"]["TaskTemplate"]["ForceUpdate"] == 1


async def test_rollback_previews_the_previous_spec_and_rolls_back() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, API)
        await pilot.press("R")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert ("TaskTemplate.ContainerSpec.Image: registry.example.com/shop/api:2 → "
                "registry.example.com/shop/api:1") in text(app)
        await confirm(pilot)
    ((_, _, params, _),) = fake.mutations
    assert params == {"rollback": "previous", "version": "10"}
    image = fake.services[API]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert image == "registry.example.com/shop/api:1"


async def test_remove_lists_what_goes_and_needs_the_name_typed() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("D")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Remove service shop_web" in shown
        assert "its 3 running task(s): stopped and removed" in shown
        assert "Type shop_web to confirm" in shown
        assert dialog.query_one("#confirm-yes").disabled
        dialog.query_one("#confirm-typed", Input).focus()
        await pilot.press(*"shop_web")
        await confirm(pilot)
    assert WEB not in fake.services
    assert [(m, p) for m, p, _, _ in fake.mutations] == [("DELETE", f"services/{WEB}")]


async def test_update_config_prompts_with_the_config_in_force_and_previews_it() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("u")
        assert prompt(app).value == ("parallelism=1 delay=0s monitor=5s order=stop-first "
                                     "failure-action=pause")
        await answer(pilot, "parallelism=2 delay=1s order=start-first")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        for line in ("UpdateConfig.Parallelism: (unset) → 2", "UpdateConfig.Delay: (unset) → 1s",
                     "UpdateConfig.Order: (unset) → start-first"):
            assert line in shown
        await confirm(pilot)
    cfg = fake.services[WEB]["Spec"]["UpdateConfig"]
    assert (cfg["Parallelism"], cfg["Delay"], cfg["Order"]) == (2, 10**9, "start-first")


@pytest.mark.parametrize("key, value, message", [
    ("i", "Busybox:Lab", "shop_web: invalid image reference 'Busybox:Lab': the repository "
                         "name must be lowercase"),
    ("i", "busybox:-x", "shop_web: invalid image reference 'busybox:-x': the tag must be"),
    ("s", "-1", "shop_web: replicas must be a whole number of 0 or more, not '-1'"),
    ("s", "two", "shop_web: replicas must be a whole number of 0 or more, not 'two'"),
    ("u", "order=sideways", "shop_web: order must be stop-first or start-first"),
    ("u", "parallelism=-3", "shop_web: parallelism must be 0 (all at once) or more"),
])
async def test_bad_input_is_one_line_and_nothing_is_asked_of_the_engine(
        key: str, value: str, message: str) -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press(key)
        await answer(pilot, value)
        (notice,) = notices(app)
        assert notice.startswith(message) and "\n" not in notice
        assert prompt(app).is_open, "the prompt stays open to fix the value"
        assert isinstance(app.screen, ServicesScreen)
    assert fake.calls == []


async def test_scaling_a_global_service_is_refused_before_asking() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, AGENT)
        await pilot.press("s")
        await pilot.pause()
        assert notices(app) == ["Cannot scale agent: it is a global service: it runs one task "
                                "per node."]
        assert not prompt(app).is_open
    assert fake.calls == []


async def test_rollback_without_a_previous_spec_is_refused_in_one_line() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("R")
        for _ in range(50):
            await pilot.pause()
            if notices(app):
                break
        assert notices(app) == ["No preview: cannot roll back shop_web: it has no previous spec"]
        assert isinstance(app.screen, ServicesScreen)
    assert fake.calls and fake.mutations == []


async def test_cancel_changes_nothing() -> None:
    app, fake = services_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("F")
        await wait_screen(pilot, ConfirmOperationScreen)
        await pilot.press("escape")
        await wait_screen(pilot, ServicesScreen)
        await pilot.pause()
        assert any("cancelled, nothing was changed" in n for n in notices(app))
    assert fake.mutations == []


async def test_a_service_changed_meanwhile_is_read_again_and_asked_again() -> None:
    app, fake = services_app()
    # Another user sets the image between the preview and the confirmation.
    fake.before_write = lambda f: f.bump(
        WEB, lambda s: s["TaskTemplate"]["ContainerSpec"].update(Image="busybox:other"))
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, WEB)
        await pilot.press("s")
        await answer(pilot, "4")
        first = await wait_screen(pilot, ConfirmOperationScreen)
        await pilot.click("#confirm-yes")
        for _ in range(200):
            await pilot.pause()
            if isinstance(app.screen, ConfirmOperationScreen) and app.screen is not first:
                break
        assert any("the service changed since the preview: here is a new preview." in n
                   for n in notices(app))
        assert "spec version 11" in text(app), "the new preview is read again"
        assert "Mode.Replicated.Replicas: 3 → 4" in text(app)
        await confirm(pilot)
    versions = [p["version"] for m, _, p, _ in fake.mutations if m == "POST"]
    assert versions == ["10", "11"]
    spec = fake.services[WEB]["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 4
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:other", "kept"


async def test_read_only_hides_every_action_and_its_key_does_nothing() -> None:
    app, fake = services_app(read_only=True)
    keys = {"s": "Scale…", "i": "Image…", "F": "Force update", "R": "Rollback",
            "D": "Remove", "u": "Update config…"}
    async with app.run_test(size=(200, 40)) as pilot:
        await select(pilot, WEB)
        footer = text(app).splitlines()[-1]
        assert "Logs" in footer
        for label in keys.values():
            assert label not in footer
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ServicesScreen) and not prompt(app).is_open
        assert notices(app) == [f"Read-only mode: {label} is disabled." for label in
                                keys.values()]
    assert fake.calls == []


async def test_the_footer_lists_the_actions_when_changes_are_allowed() -> None:
    app, _ = services_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await select(pilot, WEB)
        footer = text(app).splitlines()[-1]
        for label in ("s Scale…", "i Image…", "F Force update", "R Rollback", "D Remove",
                      "u Update config…"):
            assert label in footer
