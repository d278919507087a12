"""The nodes screen's actions: each key's preview (a drain's impact, the manager count) and
confirmation, each refusal's one line with nothing sent (the last manager, a label without a
key, removing a node that is up), the quorum's typed confirmation, and read-only."""

from __future__ import annotations

from typing import Any

from node_fakes import FakeNodeEngine, raw_node
from textual.widgets import DataTable, Input
from uistate import fixed_app, notices, text, wait_notice, wait_screen

from swarmtui.screens.nodes import NodesScreen
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.widgets.prompt import Prompt

N1, N2, N3, N4 = "node01id", "node02id", "node03id", "node04id"
SIZE = (170, 45)


def nodes_app(fake: FakeNodeEngine | None = None, **kw: Any) -> tuple[Any, FakeNodeEngine]:
    app = fixed_app(start_mode="nodes", **kw)
    fake = fake or FakeNodeEngine()
    app.runtime.live.client = fake
    return app, fake


async def select(pilot: Any, node_id: str) -> NodesScreen:
    await wait_screen(pilot, NodesScreen)
    screen: NodesScreen = pilot.app.screen
    table = screen.query_one("#nodes", DataTable)
    table.move_cursor(row=table.get_row_index(node_id))
    await pilot.pause()
    return screen


def prompt(app: Any) -> Prompt:
    return app.screen.query_one("#nodes-prompt", Prompt)


async def confirm(pilot: Any) -> OutcomeScreen:
    await pilot.click("#confirm-yes")
    return await wait_screen(pilot, OutcomeScreen)  # type: ignore[no-any-return]


async def test_drain_previews_where_tasks_go_and_which_have_nowhere() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("d")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Drain node lab-node2" in shown
        assert "Availability: active → drain" in shown
        assert "shop_web.2" in shown and "moves to lab-node1" in shown
        assert "NOWHERE TO GO: lab-node2 is the only node that satisfies" in shown
        assert "stops (global service" in shown
        assert "2 task(s) move to other nodes, 1 stop (global services), 2 have NOWHERE" in shown
        outcome = await confirm(pilot)
        assert "lab-node2: drained" in text(app) and outcome.outcome.ok
    assert fake.nodes[N2]["Spec"]["Availability"] == "drain"


async def test_pause_and_active_say_what_happens_to_running_tasks() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("p")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Tasks running on lab-node2 keep running" in text(app)
        await confirm(pilot)
        await pilot.press("escape")
        await select(pilot, N3)
        await pilot.press("a")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Availability: drain → active" in text(app)
        await confirm(pilot)
    assert fake.nodes[N2]["Spec"]["Availability"] == "pause"
    assert fake.nodes[N3]["Spec"]["Availability"] == "active"


async def test_promote_shows_the_manager_count() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("plus")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Managers: 1 → 2 (raft quorum: 1 → 2)" in text(app)
        await confirm(pilot)
    assert fake.nodes[N2]["Spec"]["Role"] == "manager"


async def test_demoting_the_only_manager_is_refused_in_one_line() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N1)
        await pilot.press("minus")
        assert await wait_notice(pilot) == [
            "No preview: lab-node1 is the only manager: a swarm needs one (promote another "
            "node first)"]
        assert isinstance(app.screen, NodesScreen)
    assert fake.calls and fake.mutations == []


async def test_a_demote_that_costs_the_quorum_needs_the_name_typed() -> None:
    nodes = [raw_node(1), raw_node(2, role="manager"), raw_node(3, role="manager")]
    nodes[2]["ManagerStatus"]["Reachability"] = "unreachable"
    app, fake = nodes_app(FakeNodeEngine(nodes))
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("minus")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Managers: 3 → 2 (1 reachable; raft quorum needs 2)" in shown
        assert "This costs the raft quorum" in shown and "Type lab-node2 to confirm" in shown
        assert dialog.query_one("#confirm-yes").disabled
        dialog.query_one("#confirm-typed", Input).focus()
        await pilot.press(*"lab-node2")
        await confirm(pilot)
    assert fake.nodes[N2]["Spec"]["Role"] == "worker"


async def test_a_label_without_a_key_is_one_line_and_the_prompt_stays() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("l")
        assert prompt(app).is_open and "Label lab-node2 (key=value)" in text(app)
        await pilot.press(*"=ssd", "enter")
        await pilot.pause()
        assert notices(app) == ["lab-node2: a label needs a key (key=value)"]
        assert prompt(app).is_open
        assert fake.calls == []
        await pilot.press("ctrl+u", *"disk=ssd", "enter")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Labels.disk: (unset) → ssd" in text(app)
        await confirm(pilot)
    assert fake.nodes[N2]["Spec"]["Labels"] == {"zone": "b", "disk": "ssd"}


async def test_removing_a_label_the_node_lacks_is_one_line_and_one_it_has_goes() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("L")
        assert "Remove a label of lab-node2" in text(app)
        await pilot.press(*"rack", "enter")
        assert await wait_notice(pilot) == ["No preview: lab-node2 has no label 'rack'"]
        assert fake.mutations == []
        await pilot.press("L", *"zone", "enter")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Labels.zone: b → (unset)" in text(app)
        await confirm(pilot)
    assert fake.nodes[N2]["Spec"]["Labels"] == {}


async def test_removing_a_node_that_is_up_is_refused_a_down_one_typed() -> None:
    app, fake = nodes_app()
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, N2)
        await pilot.press("D")
        (notice,) = await wait_notice(pilot)
        assert notice.startswith("No preview: lab-node2 is ready: only a down node can be "
                                 "removed")
        assert fake.mutations == []
        await select(pilot, N4)
        await pilot.press("D")
        dialog = await wait_screen(pilot, ConfirmOperationScreen)
        assert "Remove node lab-node4" in text(app) and "Type lab-node4 to confirm" in text(app)
        dialog.query_one("#confirm-typed", Input).focus()
        await pilot.press(*"lab-node4")
        await confirm(pilot)
    assert N4 not in fake.nodes


async def test_read_only_hides_every_node_action_and_its_key_does_nothing() -> None:
    app, fake = nodes_app(read_only=True)
    keys = {"a": "Active", "p": "Pause", "d": "Drain", "plus": "Promote", "minus": "Demote",
            "l": "Label…", "L": "Unlabel…", "D": "Remove"}
    async with app.run_test(size=(200, 40)) as pilot:
        await select(pilot, N2)
        footer = text(app).splitlines()[-1]
        assert "Tasks" in footer
        for label in keys.values():
            assert label not in footer
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, NodesScreen) and not prompt(app).is_open
        assert notices(app) == [f"Read-only mode: {label} is disabled." for label in
                                keys.values()]
    assert fake.calls == []


async def test_the_footer_lists_the_node_actions() -> None:
    app, _ = nodes_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await select(pilot, N2)
        footer = text(app).splitlines()[-1]
        for label in ("a Active", "p Pause", "d Drain", "+ Promote", "- Demote", "D Remove"):
            assert label in footer, footer
