"""The updates screen (5): timelines from recorded lab updates, what it offers for a paused
or rolled-back update (roll back, update again = resume or on to the spec rolled back from,
redeploy: preview, confirm) and each refusal's one line; the history
recorded while another screen is shown; task details' update row; `shot updates`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service_fakes import FakeSwarmEngine
from timeline_state import raw_service, timeline_app
from uistate import fixed_app, notices, text, wait_notice, wait_screen

from swarmtui.screens.grid import GridScreen
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.screens.task_details import TaskDetailsScreen
from swarmtui.screens.updates import UpdatesScreen

SIZE = (160, 40)


def with_fake(app: Any, scenario: str, index: int = -1) -> FakeSwarmEngine:
    fake = FakeSwarmEngine(services=[raw_service(scenario, index)], tasks=[])
    app.runtime.live.client = fake
    return fake


# --------------------------------------------------------------------------- what it shows


async def test_mid_update_shows_the_batch_the_delay_and_each_slot() -> None:
    app = timeline_app("ok", 8)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        shown = text(app)
    assert "tl-ok  update  busybox:lab → busybox:lab2" in shown and "IN PROGRESS" in shown
    assert "state updating · 2 of 4 updated" in shown
    assert "batch 2 of 4, waiting out the 5 s delay (4.6 s left)" in shown
    assert "parallelism 1 · delay 5 s · monitor 5 s · stop-first · on failure pause" in shown
    rows = [line.split()[:2] for line in shown.splitlines() if line.lstrip().startswith("slot ")]
    assert rows == [["slot", "1"], ["slot", "2"], ["slot", "3"], ["slot", "4"]]
    assert "7maak446 shutdown   → s1o77330 running" in shown  # slot 1 replaced
    assert "pg8evcb6 running      -" in shown  # slot 2 waits its turn


async def test_the_phase_clock_ticks_while_an_update_runs() -> None:
    app = timeline_app("ok", 8)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_screen(pilot, UpdatesScreen)
        app.runtime.clock_ns.now_ns += 2_000_000_000
        screen._tick()
        await pilot.pause()
        assert "waiting out the 5 s delay (2.6 s left)" in text(app)


async def test_a_paused_update_says_why_with_the_tasks_error_exit_code_node_and_logs() -> None:
    app = timeline_app("pause")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        for _ in range(5):
            await pilot.pause()
        shown = text(app)
    assert "PAUSED" in shown and "state paused · 0 of 4 updated" in shown
    assert ("engine: update paused due to failure or early termination of task "
            "t4xuk33tai82o0as7z7fkhhd0") in shown
    assert ("✗ stopped because task t4xuk33tai82 (slot 4 on lab-node1) failed: non-zero exit "
            "(3) · exit code 3") in shown
    assert "│ config check failed: exit 3" in shown  # the task's last log lines
    assert ("next: R roll back to busybox:lab · U update again (resume, after fixing the "
            "cause) · F redeploy") in shown


async def test_a_rollback_shows_the_update_it_undid() -> None:
    app = timeline_app("rollback")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        shown = text(app)
    assert "tl-rollback  rollback  busybox:lab2 → busybox:lab" in shown
    assert "ROLLED BACK" in shown and "state rollback_completed" in shown
    assert "✗ rolled back because task o7h6eyvbzqg1 (slot 3 on lab-node3)" in shown
    assert "earlier: update busybox:lab → busybox:lab2" in shown


async def test_a_stalled_update_says_what_its_tasks_wait_for() -> None:
    # Snapshot 4: slot 3 runs its new task; then nothing moves for two minutes.
    app = timeline_app("ok", 4, later_s=120)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        shown = text(app)
    assert "STALLED" in shown and "⚠ stalled: nothing moved for 2 min" in shown
    assert "waiting: slot 1: waiting for its turn (old task running)" in shown


async def test_on_start_up_it_shows_what_task_history_holds_of_the_last_update() -> None:
    app = timeline_app("ok", started_late=True, no_update_status=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        shown = text(app)
    assert "state completed (inferred from task history) · 4 of 4 updated" in shown
    assert "7maak446 shutdown   → s1o77330 running" in shown


async def test_no_update_yet_says_how_one_appears() -> None:
    app = fixed_app(start_mode="updates")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        assert "No rolling update seen yet" in text(app)
        await pilot.press("R")
        assert await wait_notice(pilot) == ["No update to act on: none has been seen yet."]


async def test_the_history_is_recorded_while_another_screen_is_shown() -> None:
    app = timeline_app("ok", start_mode="grid")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, GridScreen)
        history = app.runtime.updates.history
        (tl,) = history.by_service.values()
        assert tl[-1].outcome == "completed" and tl[-1].updated == 4
        await pilot.press("5")
        await wait_screen(pilot, UpdatesScreen)
        assert "completed: 4 of 4 updated in 34 s" in text(app)


async def test_task_details_show_the_tasks_part_in_the_update() -> None:
    app = timeline_app("pause", start_mode="grid")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, GridScreen)
        app.push_screen(TaskDetailsScreen(app.runtime, "t4xuk33tai82o0as7z7fkhhd0"))
        await wait_screen(pilot, TaskDetailsScreen)
        await pilot.pause()
        shown = text(app)
    assert "Rolling update (5 shows its timeline):" in shown
    assert "update of tl-pause: busybox:lab → busybox:lab2, paused (0 of 4 updated)" in shown
    assert "this task: the new task of slot 4, batch 1 of 4: created +0 s, failed" in shown


# --------------------------------------------------------------------------- actions


async def test_paused_update_offers_rollback_preview_then_confirm() -> None:
    app = timeline_app("pause")
    fake = with_fake(app, "pause")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        assert "R Roll back" in text(app).splitlines()[-1]
        await pilot.press("R")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Roll back tl-pause to its previous spec" in shown
        assert "TaskTemplate.ContainerSpec.Image: busybox:lab2 → busybox:lab" in shown
        await pilot.click("#confirm-yes")
        outcome = await wait_screen(pilot, OutcomeScreen)
        assert outcome.outcome.ok
    ((method, path, params, _),) = fake.mutations
    assert (method, params["rollback"]) == ("POST", "previous")
    assert path.endswith("/update")


async def test_paused_update_update_again_resumes_it_previewed_old_to_new() -> None:
    app = timeline_app("pause")
    fake = with_fake(app, "pause")
    held = raw_service("pause")["Spec"]
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        await pilot.press("U")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Resume the paused update of tl-pause" in shown
        assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in shown
        assert "ForceUpdate" not in shown
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
    ((method, _, params, body),) = fake.mutations
    assert method == "POST" and "rollback" not in params
    assert body == held, "the spec the update moves to, sent unchanged: the engine resumes"


async def test_paused_update_redeploy_is_its_own_key() -> None:
    app = timeline_app("pause")
    fake = with_fake(app, "pause")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        assert "F Redeploy" in text(app).splitlines()[-1]
        await pilot.press("F")
        await wait_screen(pilot, ConfirmOperationScreen)
        assert "Force an update (redeploy) of tl-pause" in text(app)
        assert "TaskTemplate.ForceUpdate: 0 → 1" in text(app)
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
    ((method, _, params, body),) = fake.mutations
    assert method == "POST" and "rollback" not in params
    assert body["TaskTemplate"]["ForceUpdate"] == 1


async def test_rolled_back_update_update_again_sets_the_image_it_moved_to() -> None:
    # The engine rolled back on its own: PreviousSpec is gone, the timeline knows the image.
    app = timeline_app("rollback")
    fake = with_fake(app, "rollback")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        assert "next: U update again (to the spec rolled back from)" in text(app)
        await pilot.press("U")
        await wait_screen(pilot, ConfirmOperationScreen)
        shown = text(app)
        assert "Update tl-rollback again to the spec it rolled back from" in shown
        assert "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2" in shown
        assert "Only the image is set again" in shown
        await pilot.click("#confirm-yes")
        await wait_screen(pilot, OutcomeScreen)
    ((_, _, _, body),) = fake.mutations
    assert body["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox:lab2"


async def test_cancelled_rollback_changes_nothing() -> None:
    app = timeline_app("pause")
    fake = with_fake(app, "pause")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        await pilot.press("R")
        await wait_screen(pilot, ConfirmOperationScreen)
        await pilot.press("escape")
        await wait_screen(pilot, UpdatesScreen)
        await pilot.pause()
        assert any("cancelled, nothing was changed" in n for n in notices(app))
    assert fake.mutations == []


async def test_completed_update_refuses_rollback_and_update_again() -> None:
    app = timeline_app("ok")
    fake = with_fake(app, "ok")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        await pilot.press("R")
        await pilot.press("U")
        await pilot.pause()
        assert notices(app) == [
            "tl-ok: the update is completed; R here rolls back a paused, failed or running "
            "update (the services view rolls back any service).",
            "tl-ok: the update is completed; U goes on with an update that paused or was "
            "rolled back.",
        ]
        assert isinstance(app.screen, UpdatesScreen)
    assert fake.calls == []


async def test_update_in_flight_refuses_update_again_but_offers_rollback() -> None:
    app = timeline_app("ok", 8)
    fake = with_fake(app, "ok", 8)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        await pilot.press("U")
        assert await wait_notice(pilot) == [
            "tl-ok: the update is in progress; U goes on with an update that paused or was "
            "rolled back."]
        await pilot.press("R")
        await wait_screen(pilot, ConfirmOperationScreen)
    assert fake.mutations == []


async def test_a_rollback_refuses_rolling_back_again() -> None:
    app = timeline_app("rollback")
    fake = with_fake(app, "rollback")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        await pilot.press("R")
        assert await wait_notice(pilot) == [
            "tl-rollback: this is a rollback already; U updates again."]
    assert fake.calls == []


async def test_read_only_hides_the_actions_and_refuses_their_keys() -> None:
    app = timeline_app("pause", read_only=True)
    fake = with_fake(app, "pause")
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, UpdatesScreen)
        footer = text(app).splitlines()[-1]
        assert "Roll back" not in footer and "Update again" not in footer
        assert "Redeploy" not in footer
        await pilot.press("R", "U", "F")
        await pilot.pause()
        assert notices(app) == ["Read-only mode: Roll back is disabled.",
                                "Read-only mode: Update again is disabled.",
                                "Read-only mode: Redeploy is disabled."]
    assert fake.calls == []


async def test_shot_updates_renders_the_timeline(tmp_path: Path) -> None:
    from swarmtui.shot import take_shot

    app = timeline_app("pause")  # only for its runtime: take_shot makes its own app
    out = tmp_path / "updates.txt"
    await take_shot(app.runtime, "updates", out, (120, 30), timeout=5, delay=0)
    shown = out.read_text()
    assert "swarmtui · updates" in shown and "tl-pause  update" in shown
    assert "stopped because task t4xuk33tai82" in shown
