"""Pilot tests of the disk screen and the whole prune flow, against in-memory engines
(tests/disk_fakes.py): choose, preview, confirm or cancel, result; read-only refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from disk_fakes import (
    FakeEngine,
    execute_confirmed,
    fake_fleet,
    manager_engine,
    unreachable_engine,
    worker_engine,
)
from textual.widgets import Button, Input
from uistate import NOW as NOW_NS
from uistate import fixed_app, notices, text, wait_screen

from swarmtui.engine.client import EngineError
from swarmtui.model.disk.render import render_df
from swarmtui.model.disk.usage import parse_disk_usage
from swarmtui.ops.executor import READ_ONLY_REFUSAL
from swarmtui.screens.confirm_prune import PruneChooser
from swarmtui.screens.disk import DiskScreen, EnginePanel
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen

CHOICE_KEYS = {  # presses in the chooser (first option highlighted on open)
    "containers": [],
    "images": ["down"],
    "images-all": ["down"] * 2,
    "volumes": ["down"] * 3,
    "volumes-all": ["down"] * 4,
    "networks": ["down"] * 5,
    "build-cache": ["down"] * 6,
    "build-cache-all": ["down"] * 7,
    "system": ["down"] * 8,
    "system-all": ["down"] * 9,
    "system-volumes": ["down"] * 10,
    "system-all-volumes": ["down"] * 11,
}


async def settle(pilot: Any) -> None:
    """Until every engine has answered (df or an error)."""
    app = pilot.app
    for _ in range(200):
        await pilot.pause()
        engines = app.runtime.fleet.engines
        if all(e.df.usage is not None or e.connect_error for e in engines) and not any(
            e.df.refreshing for e in engines
        ):
            await pilot.pause()
            return
    raise AssertionError("the disk fleet did not settle")


async def open_preview(pilot: Any, choice: str, key: str = "p") -> ConfirmOperationScreen:
    await pilot.press(key)
    await wait_screen(pilot, PruneChooser)
    await pilot.press(*CHOICE_KEYS[choice], "enter")
    return await wait_screen(pilot, ConfirmOperationScreen)  # type: ignore[no-any-return]


def app_with(*fakes: FakeEngine, **kw: Any) -> Any:
    return fixed_app(disk=fake_fleet(*fakes), start_mode="disk", **kw)


def df_rows(docker_text: str) -> list[list[str]]:
    """The rows of ``docker system df`` output as cells (TYPE … RECLAIMABLE)."""
    return [re.split(r"\s{2,}", line.strip()) for line in docker_text.splitlines()[1:]]


def panel_rows_on_screen(screen_text: str, engine: str) -> list[list[str]]:
    """The four rows of an engine's panel as cells, read off the screen."""
    lines = screen_text.splitlines()
    start = next(i for i, x in enumerate(lines) if re.match(rf"▎ [▶ ] {re.escape(engine)}  ", x))
    rows = []
    for line in lines[start + 2 : start + 6]:
        cells = re.split(r"\s{2,}", line.strip("▎ "))
        rows.append(cells[:5])
    return rows


async def test_panels_show_docker_df_rows_age_errors_and_uncovered_nodes() -> None:
    mgr, wrk, bad = manager_engine(), worker_engine(), unreachable_engine()
    app = app_with(mgr, wrk, bad)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        screen_text = text(app)
        for fake in (mgr, wrk):
            du = parse_disk_usage(fake._get("system/df"), "1.41")
            assert panel_rows_on_screen(screen_text, fake.name) == df_rows(render_df(du))
        assert "data 42s old" in screen_text
        assert "edge" in screen_text and "unreachable: no Docker engine" in screen_text
        assert "Not covered" in screen_text
        assert "lab-node3 (worker, ready)" in screen_text
        assert "lab-node4 (worker, down)" in screen_text
        assert "--engine lab-node3=URL" in screen_text
        assert "3 engine(s), 2 reachable" in screen_text


async def test_verbose_tables_toggle() -> None:
    app = app_with(manager_engine())
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot)
        assert "Images space usage:" not in text(app)
        await pilot.press("v")
        await pilot.pause()
        t = text(app)
        assert "Images space usage:" in t and "Build cache usage: 30.13MB" in t
        assert "report-once" in t
        await pilot.press("v")
        await pilot.pause()
        assert "Images space usage:" not in text(app)


async def test_cancel_changes_nothing() -> None:
    mgr = manager_engine()
    before = mgr.snapshot()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        confirm = await open_preview(pilot, "images-all")
        t = text(app)
        assert "tools/lint:1" in t  # listed for removal
        assert "Protected" in t and "needed for rollback of service shop_api" in t
        await pilot.click("#confirm-no")
        await wait_screen(pilot, DiskScreen)
        assert confirm.is_attached is False
        # Escape on the chooser, and Escape on the preview: nothing either
        await pilot.press("p")
        await wait_screen(pilot, PruneChooser)
        await pilot.press("escape")
        await wait_screen(pilot, DiskScreen)
        await open_preview(pilot, "system-all-volumes")
        await pilot.press("escape")
        await wait_screen(pilot, DiskScreen)
        await pilot.pause()
    assert mgr.mutations == []
    assert mgr.snapshot() == before


async def test_prune_images_all_protects_services_and_reports_result() -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "images-all")
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        t = text(app)
        assert "Deleted Images:" in t and "untagged: tools/lint:1" in t
        assert "Total reclaimed space:" in t
        assert "Removed exactly what the preview listed." in t
        await pilot.press("escape")
        await wait_screen(pilot, DiskScreen)
    # per-image deletes (the blanket prune would remove the rollback image)
    assert sorted(c[:2] for c in mgr.mutations) == [
        ("DELETE", "images/sha256:" + "4" * 64),
        ("DELETE", "images/tools/lint:1"),
    ]
    tags = {t for i in mgr.images for t in i["RepoTags"]}
    assert {"busybox:lab", "busybox:lab2", "registry.example.com/shop/api:1",
            "registry.example.com/shop/api:2"} <= tags
    assert "tools/report:0.9" in tags  # a stopped container uses it
    assert "tools/lint:1" not in tags


async def test_volume_prune_needs_the_engine_name_typed() -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "volumes")
        t = text(app)
        assert "reports" in t and "driver nfs is not local: shared-nfs" in t
        prune = app.screen.query_one("#confirm-yes", Button)
        assert prune.disabled
        await pilot.press(*"lab-node2")
        await pilot.pause()
        assert prune.disabled
        app.screen.query_one("#confirm-typed", Input).value = ""
        await pilot.press(*"lab-node1")
        await pilot.pause()
        assert not prune.disabled
        await pilot.press("enter")
        await wait_screen(pilot, OutcomeScreen)
        assert "Deleted Volumes:" in text(app)
    assert {v["Name"] for v in mgr.volumes} == {"pgdata", "shared-nfs"}
    assert [c[:2] for c in mgr.mutations] == [("POST", "volumes/prune")]


async def test_prune_on_every_engine() -> None:
    mgr, wrk = manager_engine(), worker_engine()
    app = app_with(mgr, wrk, unreachable_engine())
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "containers", key="P")
        t = text(app)
        assert "lab-node1" in t and "lab-node2" in t
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        t = text(app)
        assert t.count("Deleted Containers:") == 2
    assert {c["Names"][0] for c in mgr.containers} == {"/shop_web.1.taskweb1",
                                                       "/shop_api.1.taskapi1"}
    assert {c["Names"][0] for c in wrk.containers} == {"/shop_web.2.taskweb2"}


async def test_engine_error_is_shown_and_stops_the_system_prune() -> None:
    busy = EngineError("a prune operation is already running", 409)
    mgr = manager_engine()
    mgr.fail[("POST", "networks/prune")] = busy
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "system")
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        t = text(app)
        assert "error (networks): a prune operation is already running" in t
        assert "not run (images): an earlier step failed" in t
        assert "Finished with errors" in t
    assert [c[1] for c in mgr.mutations] == ["containers/prune", "networks/prune"]
    assert len(mgr.images) == 6 and len(mgr.build_cache) == 3  # later steps untouched


async def test_engine_changed_since_preview_refuses() -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "containers")
        mgr.containers.append(dict(mgr.containers[2], Id="9" * 64, Names=["/late"]))
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        assert "refused, nothing was changed: the engine changed since the preview" in text(app)
    assert mgr.mutations == []


async def test_read_only_hides_and_refuses_prune() -> None:
    mgr = manager_engine()
    app = app_with(mgr, read_only=True)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        footer = text(app).splitlines()[-1]
        assert "Refresh" in footer and "Prune" not in footer
        await pilot.press("p")
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, DiskScreen)
        app.screen.action_prune()  # invoked directly: a preview, but nothing can run
        await wait_screen(pilot, PruneChooser)
        await pilot.press(*CHOICE_KEYS["containers"], "enter")
        confirm = await wait_screen(pilot, ConfirmOperationScreen)
        assert confirm.query_one("#confirm-yes", Button).disabled
        assert "Read-only mode: this change is disabled." in text(app)
        await pilot.press("escape")
        # and the executor refuses on its own
        fleet = app.runtime.fleet
        planned = await fleet.plan(fleet.engines[0], "containers", _opts())
        outcome = await execute_confirmed(fleet, planned, read_only=True)
        assert outcome.refused == READ_ONLY_REFUSAL
    assert mgr.mutations == []


def _opts() -> Any:
    from swarmtui.model.disk.view import PruneOptions

    return PruneOptions()


@pytest.mark.parametrize("choice", ["networks", "build-cache", "build-cache-all"])
async def test_other_kinds_remove_what_the_preview_listed(choice: str) -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, choice)
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
        assert "Removed exactly what the preview listed." in text(app)
    if choice == "networks":
        assert [n["Name"] for n in mgr.networks] == ["bridge", "host", "none"]
    elif choice == "build-cache":
        assert [b["ID"][:4] for b in mgr.build_cache] == ["a1s2", "q9w8"]
    else:
        assert [b["ID"][:4] for b in mgr.build_cache] == ["a1s2"]


async def test_read_only_p_says_prune_is_disabled_and_stays_out_of_the_footer() -> None:
    mgr = manager_engine()
    app = app_with(mgr, read_only=True)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert notices(app) == ["Read-only mode: Prune is disabled."]
        await pilot.press("P")
        await pilot.pause()
        assert notices(app)[-1] == "Read-only mode: Prune every engine is disabled."
        footer = text(app).splitlines()[-1]
        assert "Prune" not in footer
        shown = {k for k, b in app.screen.active_bindings.items() if b.binding.show}
        assert not shown & {"p", "P"}
        assert isinstance(app.screen, DiskScreen)
    assert mgr.mutations == []


async def test_p_on_an_unreachable_engine_says_why() -> None:
    app = app_with(manager_engine(), unreachable_engine())
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await pilot.press("down", "p")
        await pilot.pause()
        assert isinstance(app.screen, DiskScreen)
        (said,) = notices(app)
        assert said.startswith("Cannot prune on edge: unreachable (no Docker engine at ")


async def test_volume_prune_says_when_the_typed_name_is_wrong() -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await open_preview(pilot, "volumes")
        wrong = app.screen.query_one("#confirm-typed-wrong")
        await pilot.press(*"lab-node")  # still typing the right name: no nagging
        await pilot.pause()
        assert not wrong.display
        await pilot.press("2")
        await pilot.pause()
        assert wrong.display and "Type lab-node1 exactly to confirm." in text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmOperationScreen)
        assert notices(app) == ["Type lab-node1 exactly to confirm."]
        await pilot.press("backspace", "1")
        await pilot.pause()
        assert not wrong.display
        await pilot.press("escape")
    assert mgr.mutations == []


def _prune_event(time_ns: int) -> Any:
    from swarmtui.model.actions import EventReceived
    from swarmtui.model.types import EngineEvent

    return EventReceived(EngineEvent("image", "prune", "", (), "local", time_ns))


def _df_reads(fake: FakeEngine) -> int:
    return sum(1 for _, path, _ in fake.calls if path == "system/df")


async def test_rendering_the_disk_screen_sends_nothing() -> None:
    # The screen draws the fleet's snapshot; even a state that has a new prune in its
    # event feed (which once made show_state re-read df) sends no request when drawn.
    from swarmtui.model.reducer import reduce

    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiskScreen)
        before = list(mgr.calls)
        state = app.runtime.live.store.state
        for i in (1, 2):
            state = reduce(state, _prune_event(NOW_NS + i))
            for panel in screen.query(EnginePanel):
                panel.key = None  # force a full repaint
            screen.show_state(state)
            screen.render_panels()
            await pilot.pause()
        assert "manager" in text(app)
        await pilot.pause(0.1)
        assert mgr.calls == before


async def test_a_prune_in_the_event_feed_rereads_df_on_any_screen() -> None:
    mgr = manager_engine()
    app = app_with(mgr)
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await pilot.press("1")  # the grid: the disk screen is hidden
        await pilot.pause()
        assert not isinstance(app.screen, DiskScreen)
        reads = _df_reads(mgr)
        app.runtime.live.store.dispatch(_prune_event(NOW_NS + 1))
        for _ in range(100):
            await pilot.pause()
            if _df_reads(mgr) > reads and not app.runtime.fleet.engines[0].df.refreshing:
                break
        assert _df_reads(mgr) == reads + 1
        assert app.runtime.fleet.store.state.engines[0].df.fetched_ns is not None
