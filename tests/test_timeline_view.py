"""The timeline screen's pure layout (swarmtui/model/timeline_view.py) from recorded lab
updates: the time track puts each slot's old end and new start where the engine's times say,
batches and their delays beneath; widths from 80 columns up keep every row on one line."""

from __future__ import annotations

from timeline_state import snapshots

from swarmtui.model.parse import parse_service, parse_tasks
from swarmtui.model.state import ClusterState
from swarmtui.model.timeline import UpdateHistory
from swarmtui.model.timeline_view import layout_updates, ordered_updates, task_update_lines


def history(scenario: str, upto: int | None = None) -> tuple[UpdateHistory, int]:
    h = UpdateHistory()
    docs = snapshots(scenario)
    docs = docs if upto is None else docs[: upto + 1]
    for doc in docs:
        svc = parse_service(doc["service"])
        tasks = parse_tasks(doc["tasks"])
        h = h.observe(ClusterState(services={svc.id: svc}, tasks={t.id: t for t in tasks}),
                      doc["now_ns"])
    return h, docs[-1]["now_ns"]


def plain(h: UpdateHistory, now: int, width: int) -> list[str]:
    return ["".join(text for text, _ in line) for line in layout_updates(h, now, width, {}).lines]


def test_slots_start_on_the_track_in_the_order_they_were_replaced() -> None:
    h, now = history("ok")
    lines = plain(h, now, 120)
    rows = {line.split()[1]: line for line in lines if line.startswith("  slot ")}
    starts = {slot: row.index("▸") for slot, row in rows.items()}
    # The engine replaced slots 3, 1, 4, 2 (tests/fixtures/engine/v1.41/update_README.md).
    assert sorted(starts, key=starts.__getitem__) == ["3", "1", "4", "2"]
    batches = next(line for line in lines if line.startswith("  batches"))
    assert [batches.index(d) for d in "1234"] == sorted(starts.values())
    assert "┄" in batches  # the 5 s delays between them


def test_every_line_fits_from_80_columns() -> None:
    for scenario in ("ok", "pause", "rollback"):
        h, now = history(scenario)
        for width in (80, 200):
            assert all(len(line) <= width for line in plain(h, now, width)), (scenario, width)


def test_the_monitor_phase_after_the_last_batch() -> None:
    h, now = history("ok", 14)
    assert any("batch 4 of 4 done, monitoring for 5 s" in line or "waiting out" in line
               for line in plain(h, now, 120))


def test_a_stopped_update_comes_first() -> None:
    ok, _ = history("ok")
    paused, _ = history("pause")
    both = UpdateHistory({**ok.by_service, **paused.by_service})
    assert [t.service_name for t, _ in ordered_updates(both)] == ["tl-pause", "tl-ok"]


def test_task_lines_name_the_tasks_role() -> None:
    h, now = history("ok")
    (tl,) = (e[-1] for e in h.by_service.values())
    row = next(r for r in tl.rows if r.slot == 3)
    assert row.old is not None and row.new is not None
    old = task_update_lines(tl, row.old.id, now, {})
    new = task_update_lines(tl, row.new.id, now, {})
    assert old[-1].startswith("this task: the old task of slot 3, batch 1 of 4: ended +")
    assert new[-1].startswith("this task: the new task of slot 3, batch 1 of 4: created +")
    assert task_update_lines(tl, "notataskofthisupdate00000", now, {}) == []
