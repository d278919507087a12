"""The grid layout is a pure function of the snapshot and the view options."""

from __future__ import annotations

from dataclasses import replace

from swarmtui.model.actions import NodesListed, ServicesListed, TasksListed
from swarmtui.model.grid import UNASSIGNED, GridOptions, column_text, grid_layout, out_of_view
from swarmtui.model.reducer import reduce
from swarmtui.model.state import EMPTY_STATE, ClusterState
from swarmtui.model.types import Node, Service, Task

NOW = 1_800_000_000 * 10**9


def node(i: int, **kw: object) -> Node:
    base = Node(id=f"n{i}", version=1, hostname=f"node{i}", name=f"node{i}",
                role="manager" if i == 1 else "worker", availability="active", state="ready",
                addr=f"10.0.0.{i}", engine_version="20.10.24", nano_cpus=2 * 10**9,
                memory_bytes=2**33, os="linux", arch="x86_64", leader=i == 1)
    return replace(base, **kw)  # type: ignore[arg-type]


def task(tid: str, svc: str, slot: int | None, node_id: str | None, state: str = "running",
         desired: str = "running", **kw: object) -> Task:
    t = Task(id=tid, version=1, service_id=svc, slot=slot, node_id=node_id, state=state,
             desired_state=desired, image="busybox:lab", status_ns=NOW - 65 * 10**9)
    return replace(t, **kw)  # type: ignore[arg-type]


def svc(sid: str, name: str, mode: str = "replicated", stack: str | None = None) -> Service:
    labels = (("com.docker.stack.namespace", stack),) if stack else ()
    return Service(id=sid, version=1, name=name, image="busybox:lab", mode=mode, replicas=2,
                   labels=labels)


def state() -> ClusterState:
    s = EMPTY_STATE
    s = reduce(s, NodesListed((node(1), node(2), node(3, availability="drain"),
                               node(4, state="down")), 1))
    s = reduce(s, ServicesListed((svc("s1", "web", stack="shop"), svc("s2", "agent", "global"),
                                  svc("s3", "bad"), svc("s4", "gpu")), 1))
    s = reduce(s, TasksListed((
        task("t1", "s1", 1, "n1"),
        task("t2", "s1", 2, "n2"),
        task("t3", "s2", None, "n1"),
        task("t4", "s2", None, "n2"),
        task("t5", "s3", 1, "n2", state="failed", desired="shutdown",
             err="task: non-zero exit (1)"),
        task("t6", "s3", 1, "n1", state="starting"),
        task("t7", "s4", 1, None, state="pending",
             err="no suitable node (scheduling constraints not satisfied on 4 nodes)"),
        task("t8", "s1", 1, "n2", state="shutdown", desired="shutdown"),
        task("t9", "gone-service", 1, "n1"),        # ghost: service removed
        task("t10", "s1", 3, "n-removed"),          # ghost: node removed
        task("t11", "s1", 4, "n4", state="running"),  # on a down node: stale
    ), 1))
    return s


def text(layout) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(column_text(layout))


def test_columns_per_node_with_unassigned_first() -> None:
    layout = grid_layout(state(), GridOptions(), NOW)
    assert [c.key for c in layout.columns] == [UNASSIGNED, "n1", "n2", "n3", "n4"]
    out = text(layout)
    assert "DRAINED" in out and "DOWN" in out and "manager ★leader" in out


def test_running_mode_hides_history_and_ghosts() -> None:
    layout = grid_layout(state(), GridOptions(), NOW)
    ids = {t for c in layout.columns for t in c.task_at if t}
    # t5 is history (desired shutdown) but the newest failure of a slot with nothing
    # running, so it stays visible to explain the crash loop; t8 (old shutdown) does not.
    assert ids == {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t11"}
    by = {c.key: c for c in layout.columns}
    assert by["n1"].running == 2  # t1, t3 (t6 is starting; ghost t9 never counts)
    assert by["n4"].running == 0  # tasks on a down node are stale, not running


def column_words(layout, key: str) -> str:  # type: ignore[no-untyped-def]
    col = next(c for c in layout.columns if c.key == key)
    return " ".join(" ".join("".join(s.text for s in line).replace("▌", " ").split())
                    for line in col.body)


def test_failed_and_pending_reasons_visible() -> None:
    layout = grid_layout(state(), GridOptions(show="all"), NOW)
    assert "task: non-zero exit (1)" in column_words(layout, "n2")
    assert "no suitable node (scheduling constraints not satisfied on 4 nodes)" in column_words(
        layout, UNASSIGNED)
    failed = text(grid_layout(state(), GridOptions(show="failed", column_width=60), NOW))
    assert "bad.1" in failed and "web.2" not in failed


def test_cards_show_label_image_state_age() -> None:
    out = text(grid_layout(state(), GridOptions(), NOW))
    assert "web.1" in out and "busybox:lab" in out and "running 1m" in out
    assert "agent" in out  # global tasks are labelled by service name


def test_densities() -> None:
    s = state()
    cards = grid_layout(s, GridOptions(density="cards"), NOW)
    lines = grid_layout(s, GridOptions(density="lines"), NOW)
    counts = grid_layout(s, GridOptions(density="counts"), NOW)
    assert cards.body_height > lines.body_height >= counts.body_height
    col = {c.key: c for c in counts.columns}["n1"]
    assert any("agent" in "".join(sp.text for sp in line) for line in col.body)


def test_filters() -> None:
    s = state()
    only_web = grid_layout(s, GridOptions(service="web"), NOW)
    assert {t for c in only_web.columns for t in c.task_at if t} == {"t1", "t2", "t11"}
    by_stack = grid_layout(s, GridOptions(stack="shop", group_by_stack=True), NOW)
    assert "shop" in text(by_stack)
    one_node = grid_layout(s, GridOptions(node="node2"), NOW)
    assert [c.key for c in one_node.columns] == ["n2"]
    typed = grid_layout(s, GridOptions(text="exit"), NOW)
    assert typed.hidden_tasks > 0


def test_layout_is_deterministic() -> None:
    assert grid_layout(state(), GridOptions(), NOW) == grid_layout(state(), GridOptions(), NOW)


def test_failure_hidden_once_the_slot_runs_again() -> None:
    s = state()
    s = reduce(s, TasksListed((*s.tasks.values(), task("t12", "s3", 1, "n1", state="running",
                                                        created_ns=NOW)), 2))
    ids = {t for c in grid_layout(s, GridOptions(), NOW).columns for t in c.task_at if t}
    assert "t5" not in ids and "t12" in ids


def test_layouter_reuses_unchanged_columns() -> None:
    from swarmtui.model.grid import GridLayouter

    layouter = GridLayouter()
    s = state()
    first = layouter.layout(s, GridOptions(), NOW)
    t1 = s.tasks["t1"]
    changed = replace(t1, state="failed", err="boom", version=t1.version + 1)
    s2 = reduce(s, TasksListed(tuple(changed if t.id == "t1" else t for t in s.tasks.values()),
                               2))
    second = layouter.layout(s2, GridOptions(), NOW)
    by_key = {c.key: c for c in first.columns}
    for col in second.columns:
        if col.key == "n1":
            assert col is not by_key["n1"]  # t1 lives on n1
        else:
            assert col is by_key[col.key]
    assert second == grid_layout(s2, GridOptions(), NOW)  # memory never changes the answer


def test_layouter_returns_the_same_layout_when_nothing_it_shows_changed() -> None:
    from swarmtui.model.actions import EventReceived
    from swarmtui.model.grid import GridLayouter
    from swarmtui.model.types import EngineEvent

    layouter = GridLayouter()
    s = state()
    first = layouter.layout(s, GridOptions(), NOW)
    s2 = reduce(s, EventReceived(EngineEvent("container", "start", "c1", (), "local", NOW)))
    assert layouter.layout(s2, GridOptions(), NOW) is first  # an event alone re-lays nothing
    later = NOW + 120 * 10**9  # ages ticked: the text must move on
    assert layouter.layout(s2, GridOptions(), later) is not first
    assert layouter.layout(s2, GridOptions(), later) == grid_layout(s2, GridOptions(), later)


def test_layouter_follows_a_renamed_service() -> None:
    from swarmtui.model.grid import GridLayouter

    layouter = GridLayouter()
    s = state()
    layouter.layout(s, GridOptions(), NOW)
    renamed = replace(s.services["s1"], name="frontend", version=2)
    s2 = reduce(s, ServicesListed(tuple(renamed if v.id == "s1" else v
                                        for v in s.services.values()), 2))
    text = "\n".join(column_text(layouter.layout(s2, GridOptions(), NOW)))
    assert "frontend.1" in text and "web.1" not in text


def test_columns_out_of_view_say_what_they_hide() -> None:
    layout = grid_layout(state(), GridOptions(), NOW)  # unassigned, n1, n2, n3 drained, n4 down
    assert [c.attention for c in layout.columns] == ["", "", "", "drained", "down"]
    assert out_of_view(layout, 0, 4) == ""
    assert out_of_view(layout, 0, 2) == "→ 2 more nodes (1 down, 1 drained)"
    assert out_of_view(layout, 1, 3) == "← unassigned · → 1 more node (1 down)"
    assert out_of_view(layout, 3, 4) == "← 2 more nodes + unassigned"


def test_symbols_carry_task_states_without_colour() -> None:
    plain = text(grid_layout(state(), GridOptions(show="all"), NOW))
    assert "✕" not in plain and "●" not in plain
    out = text(grid_layout(state(), GridOptions(show="all", symbols=True), NOW))
    assert "● running 1m" in out and "✕ failed" in out and "◌ pending" in out
    assert "? unknown (node down)" in out and "○ shutdown" in out
    lines = text(grid_layout(state(), GridOptions(density="lines", symbols=True), NOW))
    assert "● running 1m" in lines
