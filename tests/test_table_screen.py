"""The one table screen behind the list views: a new view is a small spec, rows are diffed by
key (only changed cells update, the cursor stays on its row), identical rows touch nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from uistate import _svc, fixed_app, text

from swarmtui.model.actions import ServicesListed, TasksListed
from swarmtui.model.types import Service
from swarmtui.screens.grid import GridScreen
from swarmtui.screens.nodes import NodesScreen
from swarmtui.screens.services import ServicesScreen
from swarmtui.screens.table import Column, ResourceTable, TableScreen, TableSpec
from swarmtui.views import ViewRegistry, ViewSpec, default_views

WEB, API = "svcweb00000000000000000001", "svcapi00000000000000000001"
AGENT = "svcagent000000000000000001"


# -- the toy: a whole list view in a few lines ---------------------------------------------
class RunningScreen(TableScreen[Service]):
    SPEC = TableSpec(
        name="running", noun="service",
        columns=(Column("NAME"), Column("RUNNING", width=9, justify="right")),
        rows=lambda state: [(s.id, (s.name, str(s.running)))
                            for s in sorted(state.services.values(), key=lambda s: s.name)],
        find=lambda state, key: state.services.get(key),
    )


def toy_app() -> Any:
    views: ViewRegistry = default_views().copy()
    views.register(ViewSpec.of(RunningScreen, "f6", "Running tasks per service"))
    return fixed_app(views=views, start_mode="running")


MUTATORS = ("add_row", "remove_row", "update_cell", "update_cell_at", "clear", "sort",
            "move_cursor", "refresh")


def spy(table: ResourceTable) -> list[tuple[str, tuple[Any, ...]]]:
    """Record every call of the table's mutating methods (and refresh) from now on."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def recording(name: str) -> Callable[..., Any]:
        original: Callable[..., Any] = getattr(table, name)

        def record(*args: Any, **kw: Any) -> Any:
            calls.append((name, args))
            return original(*args, **kw)
        return record

    for name in MUTATORS:
        setattr(table, name, recording(name))
    return calls


def relist(app: Any, change: Callable[[dict[str, Service]], None]) -> None:
    """Dispatch a service listing: the current services, changed by ``change``."""
    live = app.runtime.live
    services = dict(live.store.state.services)
    change(services)
    live.store.dispatch(ServicesListed(tuple(services.values()), 2))


async def test_a_toy_spec_is_a_live_keyed_list_view() -> None:
    app = toy_app()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunningScreen) and screen.SCREEN_NAME == "running"
        table = screen.table
        # agent, cron_backup, gpu_job, shop_api, shop_web
        assert table.get_row_at(0)[0].plain == "agent"
        table.move_cursor(row=table.get_row_index(API))
        await pilot.pause()
        calls = spy(table)

        # One service's count changes: exactly that cell is updated, nothing else.
        relist(app, lambda s: s.update({WEB: replace(s[WEB], running=1)}))
        await pilot.pause()
        updates = [c for c in calls if c[0] != "refresh"]
        assert [(name, str(args[0]), args[2].plain) for name, args in updates] == [
            ("update_cell", WEB, "1")]
        assert table.cursor_key == API
        lines = text(app).splitlines()
        header = next(line for line in lines if "RUNNING" in line)
        web_line = next(line for line in lines if "shop_web" in line)
        # RUNNING lines up right: the count ends where the header does.
        assert web_line.rstrip().endswith(" 1")
        assert len(web_line.rstrip()) == header.index("RUNNING") + len("RUNNING")

        # A row above the cursor goes away: it disappears, the cursor stays on shop_api.
        calls.clear()
        relist(app, lambda s: s.pop(AGENT))
        await pilot.pause()
        assert [c[0] for c in calls if c[0] in ("remove_row", "add_row", "update_cell")] == [
            "remove_row"]
        assert "agent" not in text(app)
        assert table.cursor_key == API and table.cursor_row == 2

        # A new row sorts in above the cursor: it is shown in order, the cursor follows its key.
        relist(app, lambda s: s.update({"svcaaa": _svc("svcaaa", "aaa_first", 1, running=1)}))
        await pilot.pause()
        assert table.get_row_at(0)[0].plain == "aaa_first"
        assert table.cursor_key == API and table.cursor_row == 3
        assert text(app).index("aaa_first") < text(app).index("cron_backup")


async def test_identical_rows_cause_no_table_mutation() -> None:
    app = fixed_app(start_mode="services")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServicesScreen)
        calls = spy(screen.table)
        live = app.runtime.live
        before = live.store.state
        # A task listing makes a new snapshot, but the services' rows are the same.
        live.store.dispatch(TasksListed(tuple(before.tasks.values()), 3))
        await pilot.pause()
        assert live.store.state is not before and screen.state is live.store.state
        assert calls == []


async def test_a_cell_that_grows_is_shown_whole() -> None:
    app = fixed_app(start_mode="services")
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        relist(app, lambda s: s.update({WEB: replace(s[WEB], image="registry.example:5000/"
                                                      "shop/web-frontend:2024.06.1")}))
        await pilot.pause()
        assert "registry.example:5000/shop/web-frontend:2024.06.1" in text(app)


async def test_nodes_view_lists_nodes_and_enter_shows_a_nodes_tasks() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, NodesScreen)
        shown = text(app)
        assert "node01id *" in shown and "Leader" in shown and "Drain" in shown
        assert "Tasks" in shown.splitlines()[-1]
        await pilot.press("down", "down", "enter")  # lab-node3
        await pilot.pause()
        grid = app.screen
        assert isinstance(grid, GridScreen) and grid.options.node == "lab-node3"
        assert "node=lab-node3" in text(app)


async def test_a_spec_without_a_grid_filter_has_no_enter_key() -> None:
    app = toy_app()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunningScreen)
        assert "Tasks" not in text(app).splitlines()[-1]
