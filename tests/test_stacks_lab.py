"""Stacks on the real swarm lab: the view agrees with docker stack ls / services / ps; a
two-service compose file (update_config, a placement constraint) deploys from the app, its
update rolls out, and the stack is removed with a preview naming its network; a broken
compose file is the CLI's error and creates nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from lab_plugin import wait_until
from swarmlab import IMAGE, IMAGE2, Lab
from test_service_ops_ui import text, wait_screen
from textual.widgets import DataTable, Input
from uistate import make_app

from swarmtui.engine.client import EngineClient, EngineError
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.stacks import list_stack_objects
from swarmtui.engine.target import EngineTarget
from swarmtui.model.stacks import stack_rows, stack_services_text
from swarmtui.ops.executor import Executor
from swarmtui.ops.stack import DeployStack
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.screens.stacks import StacksScreen
from swarmtui.screens.updates import UpdatesScreen

pytestmark = pytest.mark.lab

COMPOSE = """\
version: "3.8"
services:
  web:
    image: {image}
    deploy:
      replicas: 2
      update_config: {{parallelism: 1, delay: 1s}}
      placement:
        constraints: [node.role==worker]
  api:
    image: {image}
    deploy:
      update_config: {{parallelism: 1, delay: 1s}}
"""
BROKEN = "version: \"3.8\"\nservices:\n  web:\n    imagee: busybox:lab\n"


def compose(folder: Path, image: str = IMAGE, text: str | None = None) -> Path:
    path = folder / "swt.yml"
    path.write_text(text if text is not None else COMPOSE.format(image=image))
    return path


def stack_ls(lab: Lab) -> list[tuple[str, str]]:
    out = lab.docker("stack", "ls", "--format", "{{.Name}} {{.Services}}").stdout
    return [tuple(line.split()) for line in out.splitlines()]  # type: ignore[misc]


def lab_app(lab: Lab) -> Any:
    return make_app(LiveSwarm(EngineClient(EngineTarget(lab.manager_host, "test"))))


async def settle(pilot: Any, pred: Any, what: str, tries: int = 200) -> None:
    for _ in range(tries):
        await pilot.pause(0.1)
        if pred():
            return
    raise AssertionError(f"not reached: {what}")


async def test_view_agrees_with_docker_stack_ls_services_and_networks(
        swarm: Lab, tmp_path: Path) -> None:
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(compose(tmp_path)),
                 "swt")
    other = tmp_path / "o"
    other.mkdir()
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c",
                 str(compose(other, text="version: \"3.8\"\nservices:\n  box:\n"
                                         f"    image: {IMAGE}\n")), "swt2")
    wait_until(lambda: "2/2" in swarm.docker("stack", "services", "swt").stdout, 60, "web 2/2")
    app = lab_app(swarm)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.runtime.live.wait_full_state(20)
        await pilot.press("7")
        screen = await wait_screen(pilot, StacksScreen)
        await settle(pilot, lambda: screen.objects.listed, "objects listed")

        def rows() -> list[tuple[str, ...]]:
            return [cells for _, cells in stack_rows(app.runtime.live.store.state,
                                                     screen.objects)]

        await settle(pilot, lambda: [r[:2] for r in rows()] == stack_ls(swarm), "stack ls")
        await settle(pilot, lambda: rows()[0][2] == "3/3", "3/3 running")
        swt = rows()[0]
        networks = swarm.docker("network", "ls", "--filter",
                                "label=com.docker.stack.namespace=swt", "-q").stdout.split()
        assert swt[5] == str(len(networks)) == "1"
        cli = swarm.docker("stack", "services", "--format",
                           "{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}", "swt").stdout
        ours = [line.split()[1:5] for line in
                stack_services_text(app.runtime.live.store.state, "swt").splitlines()[1:]]
        assert sorted(ours) == sorted(line.split() for line in cli.splitlines())
        table = screen.query_one("#stacks", DataTable)
        assert table.row_count == 2


async def test_deploy_update_and_remove_from_the_app(swarm: Lab, tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH")
    path = compose(tmp_path)
    app = lab_app(swarm)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.runtime.live.wait_full_state(20)
        await pilot.press("7")
        await wait_screen(pilot, StacksScreen)

        async def deploy() -> str:
            await pilot.press("u")
            await pilot.press("ctrl+u", *f"{path} swt", "enter")
            await wait_screen(pilot, ConfirmOperationScreen)
            preview = text(app)
            await pilot.click("#confirm-yes")
            await wait_screen(pilot, OutcomeScreen)
            assert "Done" in text(app), text(app)
            await pilot.press("escape")
            follow = "updates" if "updates" in app.views else "services"
            await settle(pilot, lambda: app.current_mode == follow, f"shows {follow}")
            return preview

        preview = await deploy()
        assert "swt_web  create" in preview and "swt_api  create" in preview
        wait_until(lambda: "2/2" in swarm.docker("service", "ls", "--filter", "name=swt_web",
                                                 "--format", "{{.Replicas}}").stdout,
                   60, "swt_web 2/2")
        assert swarm.docker("service", "inspect", "--format",
                            "{{.Spec.TaskTemplate.Placement.Constraints}} "
                            "{{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Delay}}",
                            "swt_web").stdout.split() == ["[node.role==worker]", "1", "1s"]
        nodes = swarm.docker("service", "ps", "--filter", "desired-state=running", "--format",
                             "{{.Node}}", "swt_web").stdout.split()
        assert sorted(nodes) and "lab-node1" not in nodes, "placed on workers only"

        # The update: a new image tag; its rollout reaches the app's state (the timeline).
        compose(tmp_path, IMAGE2)
        await pilot.press("7")
        await wait_screen(pilot, StacksScreen)
        preview = await deploy()
        assert "swt_web  update (exists)" in preview
        state = app.runtime.live.store

        def updated() -> bool:
            svc = state.state.service_by_name("swt_web")
            return bool(svc and svc.update_status and svc.update_status.state == "completed"
                        and svc.image.startswith(IMAGE2))

        await settle(pilot, updated, "swt_web's update completed in the app", tries=900)
        # ... and on the timeline: recorded while the stacks view was shown, then on screen.
        web = state.state.service_by_name("swt_web")
        assert web is not None

        def on_timeline() -> bool:
            tl = app.runtime.updates.history.latest(web.id)
            return tl is not None and tl.outcome == "completed" and tl.total == 2

        await settle(pilot, on_timeline, "swt_web's update on the timeline", tries=300)
        await pilot.press(app.views.get("updates").key)
        await wait_screen(pilot, UpdatesScreen)
        await pilot.pause(0.3)
        assert "swt_web" in text(app) and "completed" in text(app).lower()

        # Remove: the preview names its network; the typed name confirms.
        await pilot.press("7")
        screen = await wait_screen(pilot, StacksScreen)
        table = screen.query_one("#stacks", DataTable)
        await settle(pilot, lambda: table.row_count == 1, "one stack row")
        await pilot.press("D")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "network  swt_default" in shown and "service  swt_web" in shown
        dialog.query_one("#confirm-typed", Input).value = "swt"
        await pilot.pause()
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        assert "Removing network swt_default" in text(app), text(app)
    assert stack_ls(swarm) == []
    # The swarm's network is gone at once; a node's local copy once its last task stopped.
    wait_until(lambda: "swt_default" not in swarm.docker("network", "ls", "--format",
                                                         "{{.Name}}").stdout, 30, "no network")


@pytest.mark.parametrize("which", ["lab", "path"])
async def test_a_broken_compose_file_is_the_clis_error_and_creates_nothing(
        swarm: Lab, tmp_path: Path, which: str) -> None:
    cli = swarm.cli if which == "lab" else shutil.which("docker")
    if cli is None:
        pytest.skip("no docker CLI on PATH")
    client = EngineClient(EngineTarget(swarm.manager_host, "test"))
    await client.connect()
    try:
        op = DeployStack(client, client.target, str(compose(tmp_path, text=BROKEN)), "swtbad",
                         cli=cli)
        executor = Executor()
        try:
            plan = await executor.plan(op)
        except EngineError as exc:  # a CLI with `stack config` refuses it before asking
            error = str(exc)
        else:
            outcome = await executor.execute(plan)
            assert not outcome.ok
            (error,) = outcome.errors
        assert "imagee" in error and "\n" not in error
        objects = await list_stack_objects(client, "swtbad")
    finally:
        await client.close()
    assert objects.count == 0
    assert "swtbad" not in swarm.docker("service", "ls").stdout
