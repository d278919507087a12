"""The stacks view: rows like docker stack ls with health and objects, Enter to the grid,
the detail (docker stack services / ps with errors), remove's preview, typed confirmation
and refusals, deploy's prompt, preview, CLI output and errors, and read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stack_fakes import FakeStackEngine
from test_service_ops_ui import answer, notices, text, wait_screen
from test_stack_ops import COMPOSE, calls, fake_cli
from textual.widgets import DataTable, Input
from uistate import fixed_app

from swarmtui.screens.grid import GridScreen
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.screens.stacks import StackDetailScreen, StacksScreen
from swarmtui.widgets.prompt import Prompt

SIZE = (160, 40)


def stacks_app(**kw: Any) -> tuple[Any, FakeStackEngine]:
    app = fixed_app(start_mode="stacks", **kw)
    fake = FakeStackEngine()
    app.runtime.live.client = fake
    return app, fake


async def select(pilot: Any, stack: str) -> StacksScreen:
    screen: StacksScreen = await wait_screen(pilot, StacksScreen)
    table = screen.query_one("#stacks", DataTable)
    for _ in range(50):
        await pilot.pause()
        if screen.objects.listed and table.row_count:
            break
    table.move_cursor(row=table.get_row_index(stack))
    await pilot.pause()
    return screen


async def test_rows_count_services_health_and_objects() -> None:
    app, _ = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await select(pilot, "shop")
        rows = [line.split() for line in text(app).splitlines()[1:4]]
        assert rows[0] == ["NAME", "SERVICES", "REPLICAS", "FAILING", "UPDATING", "NETWORKS",
                           "SECRETS", "CONFIGS"]
        assert rows[1] == ["ops", "2", "0/2", "2", "-", "0", "0", "0"]
        assert rows[2] == ["shop", "2", "5/5", "-", "-", "1", "1", "1"]
        assert screen.objects.listed


async def test_enter_shows_the_stacks_tasks_on_the_grid() -> None:
    app, _ = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "shop")
        await pilot.press("enter")
        grid = await wait_screen(pilot, GridScreen)
        assert grid.options.stack == "shop"


async def test_detail_lists_services_tasks_with_errors_and_objects() -> None:
    app, _ = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "ops")
        await pilot.press("v")
        await wait_screen(pilot, StackDetailScreen)
        shown = app.screen.query_one("#stack-detail").render().plain  # type: ignore[attr-defined]
        assert "cron_backup   replicated   0/1" in shown
        assert '"task: non-zero exit (1)"' in shown and " \\_ cron_backup.1" in shown
        assert "(no networks, secrets or configs)" in shown


async def test_remove_previews_everything_and_needs_the_typed_name() -> None:
    app, fake = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "shop")
        await pilot.press("D")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        for line in ("Remove stack shop", "service  shop_api", "service  shop_web",
                     "secret   shop_token", "config   shop_settings", "network  shop_default",
                     "Type shop to confirm"):
            assert line in shown
        assert dialog.query_one("#confirm-yes").disabled
        dialog.query_one("#confirm-typed", Input).value = "shop"
        await pilot.pause()
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        assert "Removing network shop_default" in text(app)
        assert [m for m, *_ in fake.mutations] == ["DELETE"] * 5


async def test_remove_of_a_stack_the_engine_no_longer_has_is_one_line() -> None:
    app, fake = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "ops")  # in the snapshot, not on the (fake) engine
        await pilot.press("D")
        for _ in range(20):
            await pilot.pause()
        assert "No preview: no such stack: ops" in notices(app)
        assert not isinstance(app.screen, ConfirmOperationScreen) and not fake.mutations


async def test_read_only_hides_and_refuses_deploy_and_remove() -> None:
    app, fake = stacks_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "shop")
        assert "Remove" not in text(app).splitlines()[-1]
        await pilot.press("D")
        await pilot.press("u")
        await pilot.pause()
        assert "Read-only mode: Remove is disabled." in notices(app)
        assert "Read-only mode: Deploy… is disabled." in notices(app)
        assert not app.screen.query_one("#stacks-prompt", Prompt).is_open
        assert not fake.mutations


async def deploy(pilot: Any, value: str) -> None:
    await select(pilot, "shop")
    await pilot.press("u")
    prompt = pilot.app.screen.query_one("#stacks-prompt", Prompt)
    assert prompt.is_open and prompt.value == "docker-compose.yml shop"
    await answer(pilot, value)


@pytest.fixture
def cli_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "stack.yml").write_text(COMPOSE)
    return tmp_path


async def test_deploy_previews_runs_the_cli_then_follows_the_rollout(cli_dir: Path) -> None:
    fake_cli(cli_dir)
    app, fake = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await deploy(pilot, f"{cli_dir}/stack.yml shop")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "runs: docker stack deploy --resolve-image never -c" in shown
        assert "shop_worker  create" in shown
        assert not any(c.startswith("stack deploy") for c in calls(cli_dir))
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        assert "Creating service shop_worker" in text(app)
        await pilot.press("escape")
        follow = "updates" if "updates" in app.views else "services"
        for _ in range(50):
            await pilot.pause()
            if app.current_mode == follow:
                break
        assert app.current_mode == follow
        assert not fake.mutations


async def test_deploy_input_and_cli_errors_are_one_line(cli_dir: Path) -> None:
    fake_cli(cli_dir, deploy_exit=1)
    app, _ = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await deploy(pilot, "justonefile")
        assert "Deploy: give the compose file and the stack name: FILE STACK" in notices(app)
        assert app.screen.query_one("#stacks-prompt", Prompt).is_open
        await answer(pilot, f"{cli_dir}/stack.yml shop")
        await wait_screen(pilot, ConfirmOperationScreen)
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        shown = text(app)
        assert "Finished with errors" in shown
        assert "! yaml: line 3: did not find expected node content" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "stacks", "a failed deploy stays here"


async def test_deploy_without_the_cli_says_what_is_needed(cli_dir: Path) -> None:
    app, _ = stacks_app()
    async with app.run_test(size=SIZE) as pilot:
        await deploy(pilot, f"{cli_dir}/stack.yml shop")
        for _ in range(20):
            await pilot.pause()
        assert "No preview: stack deploy needs the docker CLI (docker.io)" in notices(app)
