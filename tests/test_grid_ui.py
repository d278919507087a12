"""Pilot tests: what a user sees and can do on the grid and around it."""

from __future__ import annotations

from typing import Any

from uistate import fixed_app

from swarmtui.model.grid import GridLayout, column_text
from swarmtui.screens.grid import GridScreen
from swarmtui.shot import render_screen
from swarmtui.widgets.task_grid import TaskGrid


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return render_screen(app, as_svg=False)


async def test_grid_shows_nodes_tasks_and_reasons() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        for name in ("lab-node1", "lab-node2", "lab-node3", "lab-node4", "unassigned"):
            assert name in text
        assert "DRAINED" in text and "DOWN" in text and "★leader" in text
        assert "shop_web.1" in text and "agent" in text
        assert "no suitable node" in text  # pending task's scheduler reason
        assert "unknown (node down)" in text  # stale task on the down node


async def test_density_and_show_modes_cycle() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        cards = grid.layout_model.body_height  # type: ignore[union-attr]
        await pilot.press("d")
        assert "density lines" in screen_text(app)
        assert grid.layout_model.body_height < cards  # type: ignore[union-attr]
        await pilot.press("d")
        assert "density counts" in screen_text(app)
        await pilot.press("d", "a")
        text = screen_text(app)
        assert "showing all" in text and "task: non-zero exit (1)" in text
        await pilot.press("a")
        text = screen_text(app)
        assert "showing failed" in text and "shop_api" not in text


async def test_filter_narrows_and_escape_clears() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"service:shop_api")
        await pilot.pause()
        text = "\n".join(column_text(app.screen.query_one(TaskGrid).layout_model))
        assert "shop_api.1" in text and "shop_web" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert "shop_web.1" in screen_text(app)


async def test_enter_opens_task_details_and_escape_closes() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        assert grid.selected_task is not None
        grid.cursor = (0, "taskgpu1aaaaaaaaaaaaaaaaaa")
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "taskgpu1aaaaaaaaaaaaaaaaaa" in text and "no suitable node" in text
        assert "pending  (desired: running)" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)


async def test_keys_move_between_columns() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        start = grid.cursor
        await pilot.press("right")
        assert grid.cursor is not None and start is not None and grid.cursor[0] > start[0]
        await pilot.press("down")
        await pilot.press("left")
        assert grid.cursor[0] == start[0]


async def test_click_selects_a_task() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        layout = grid.layout_model
        assert layout is not None
        col = 2  # lab-node2
        y = next(i for i, t in enumerate(layout.columns[col].task_at) if t)
        await pilot.click(TaskGrid, offset=(col * (layout.column_width + 1) + 3,
                                            layout.header_height + y))
        assert grid.cursor == (col, layout.columns[col].task_at[y])


async def test_number_keys_switch_screens() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "REPLICAS" in text and "cron_backup" in text and "0/1" in text
        await pilot.press("9")
        await pilot.pause()
        assert "ACTION" in screen_text(app)
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)


async def test_task_details_l_opens_that_tasks_logs() -> None:
    """The details (a dialog) ask for the logs with a message: the app shows the log pane,
    which follows the task's service and shows only that task's lines."""
    from swarmtui.screens.logs import LogsScreen

    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.screen.query_one(TaskGrid).cursor = (0, "taskbad1aaaaaaaaaaaaaaaaaa")
        await pilot.press("enter", "l")
        for _ in range(20):
            await pilot.pause()
            if isinstance(app.screen, LogsScreen):
                break
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        assert app.runtime.logs.targets.services == ("svcbad000000000000000000001",)
        assert logs.view.task_focus == "taskbad1aaaaaaaaaaaaaaaaaa"
        assert "task taskbad1aaaa only" in screen_text(app)
        await pilot.press("1", "enter", "L")  # and L: the whole service, from the log pane's side
        for _ in range(20):
            await pilot.pause()
            if isinstance(app.screen, LogsScreen):
                break
        assert app.screen is logs and logs.view.task_focus is None


async def test_question_mark_shows_keys() -> None:
    app = fixed_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_header_shows_engine_swarm_and_age() -> None:
    app = fixed_app()
    async with app.run_test(size=(250, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Docker 20.10.24 API 1.41" in text and "4 nodes" in text
        assert "data 0s old" in text


async def test_command_palette_filters_the_grid() -> None:
    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"only stack ops")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GridScreen) and screen.options.stack == "ops"
        text = "\n".join(column_text(screen.query_one(TaskGrid).layout_model))
        assert "gpu_job.1" in text and "shop_web" not in text


async def test_one_task_change_repaints_only_its_rows() -> None:
    from dataclasses import replace

    from swarmtui.model.actions import TasksListed

    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        grid = app.screen.query_one(TaskGrid)
        live = app.runtime.live
        task = live.store.state.tasks["taskapi2aaaaaaaaaaaaaaaaaa"]
        changed = replace(task, state="failed", err="oom", version=task.version + 1)
        live.store.dispatch(TasksListed(
            tuple(changed if t.id == task.id else t for t in live.store.state.tasks.values()),
            1))
        await pilot.pause()
        layout = grid.layout_model
        assert layout is not None
        assert 0 < grid.repainted_rows < layout.body_height + layout.header_height
        assert "oom" in screen_text(app)


async def test_services_enter_shows_its_tasks_and_l_its_logs() -> None:
    from swarmtui.screens.logs import LogsScreen
    from swarmtui.screens.services import ServicesScreen

    app = fixed_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ServicesScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "Tasks" in footer and "Logs" in footer
        await pilot.press("down")  # rows by name: agent, cron_backup, gpu_job, shop_api, …
        await pilot.press("enter")
        await pilot.pause()
        grid = app.screen
        assert isinstance(grid, GridScreen) and grid.options.service == "cron_backup"
        text = "\n".join(column_text(grid.query_one(TaskGrid).layout_model))
        assert "cron_backup" in text and "shop_web" not in text
        assert "service=cron_backup" in screen_text(app)
        await pilot.press("2", "l")
        await pilot.pause()
        assert isinstance(app.screen, LogsScreen)
        assert app.runtime.logs.targets.services == ("svcbad000000000000000000001",)


async def test_the_headers_failing_count_holds_through_a_crash_loops_restart() -> None:
    from dataclasses import replace

    from uistate import NOW, fixed_swarm, make_app

    from swarmtui.model.actions import ServicesListed, TasksListed
    from swarmtui.model.times import NS_PER_S
    from swarmtui.widgets.status_bar import StatusBar

    clock = [NOW]
    live = fixed_swarm()
    app = make_app(live, clock_ns=lambda: clock[0])
    bad = "svcbad000000000000000000001"
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert "⚠ 1 down, 1 drained, 2 failing" in screen_text(app)
        # The crash loop's replacement runs for a moment: the counts say 1/1 and the failed
        # task (20 s ago) has left the listing. A snapshot alone would say 1 failing.
        state = live.store.state
        live.store.dispatch(ServicesListed(tuple(
            replace(s, running=1) if s.id == bad else s for s in state.services.values()),
            NOW))
        running = replace(state.tasks["taskbad2aaaaaaaaaaaaaaaaaa"], state="running")
        live.store.dispatch(TasksListed((running,), NOW, service_ids=frozenset({bad})))
        await pilot.pause()
        assert "2 failing" in screen_text(app)
        # Once it ran cleanly for 30 s since that failure, the header says so by itself.
        clock[0] = NOW + 11 * NS_PER_S
        app.screen.query_one(StatusBar).refresh_text()
        await pilot.pause()
        assert "⚠ 1 down, 1 drained, 1 failing" in screen_text(app)
async def test_a_new_header_text_repaints_the_header_without_a_layout_of_the_screen() -> None:
    # A task failing changes the header's count: that re-laid the whole screen out (~15 ms
    # at 1,000 nodes) though the header is one line high whatever it says.
    from dataclasses import replace

    from swarmtui.model.actions import TasksListed
    from swarmtui.widgets.status_bar import StatusBar

    app = fixed_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert "2 failing" in screen_text(app)
        bar = app.screen.query_one(StatusBar)
        layouts: list[bool] = []
        refresh = bar.refresh

        def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
            layouts.append(bool(kwargs.get("layout")))
            return refresh(*args, **kwargs)

        bar.refresh = spy  # type: ignore[method-assign]
        live = app.runtime.live
        task = live.store.state.tasks["taskapi2aaaaaaaaaaaaaaaaaa"]
        changed = replace(task, state="failed", err="oom", version=task.version + 1)
        live.store.dispatch(TasksListed((changed,), 1, service_ids=frozenset({task.service_id})))
        await pilot.pause()
        assert "3 failing" in screen_text(app)
        assert layouts and not any(layouts)


def narrow_grid(app: Any) -> tuple[TaskGrid, GridLayout, int]:
    """The grid of an app run at 60x40 (some columns out of view), its layout, and the
    index of the last column wholly in view."""
    grid = app.screen.query_one(TaskGrid)
    layout = grid.layout_model
    assert layout is not None
    _first, last = grid.columns_in_view()
    return grid, layout, last


async def test_a_change_in_a_column_out_of_view_repaints_nothing_until_scrolled_to() -> None:
    # 1,000 columns changing at once (the first task listing) were 120,000 refresh calls,
    # ~3 s of the first frame: cells out of view are not refreshed; scrolling repaints them.
    from dataclasses import replace

    from swarmtui.model.actions import TasksListed
    from swarmtui.widgets.task_grid import GAP

    app = fixed_app()
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        grid, layout, last = narrow_grid(app)
        index = len(layout.columns) - 1
        assert index > last, "the fixture needs a column out of view at this size"
        task_id = next(t for t in layout.columns[index].task_at if t)
        live = app.runtime.live
        task = live.store.state.tasks[task_id]
        changed = replace(task, state="failed", err="oom offscreen", version=task.version + 1)
        live.store.dispatch(TasksListed(
            tuple(changed if t.id == task.id else t for t in live.store.state.tasks.values()),
            1))
        await pilot.pause()
        assert grid.repainted_rows == 0
        assert "oom offscreen" not in screen_text(app)
        grid.scroll_to(x=index * (layout.column_width + GAP), animate=False)
        await pilot.pause()
        assert "oom offscreen" in screen_text(app)


async def test_the_first_frame_builds_the_cards_of_the_columns_in_view_only() -> None:
    # At 1,000 nodes the first layout built 30,000 cards (~0.5 s) for ~6 columns in view.
    from swarmtui.widgets.task_grid import GAP

    app = fixed_app()
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        grid, layout, last = narrow_grid(app)
        beyond = layout.columns[last + 2 :]
        assert beyond, "the fixture needs a column wholly out of view at this size"
        assert not any(c.built for c in beyond)
        assert all(c.built for c in layout.columns[: last + 1])
        # The grid's extent is known without them: their heights are exact.
        assert grid.virtual_size.height >= layout.header_height + max(c.height for c in beyond)
        column = beyond[-1]
        grid.scroll_to(x=(len(layout.columns) - 1) * (layout.column_width + GAP),
                       animate=False)
        await pilot.pause()
        assert column.built and column.height == len(column.body)
        text = screen_text(app)
        assert column.title in text
        card = next(s.text for line in column.body for s in line if s.style == "task-name")
        assert card.strip() in text
