"""A grid column's cards are built on first read (model/grid.py Column): what it holds
then is what an eager build holds, its height is known before, and it stays immutable."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from test_grid_layout import NOW, state, task

from swarmtui.model.actions import TasksListed
from swarmtui.model.grid import Column, GridLayouter, GridOptions, _body, grid_layout
from swarmtui.model.reducer import reduce
from swarmtui.model.state import ClusterState

OPTIONS = [GridOptions(), GridOptions(show="all"), GridOptions(show="failed"),
           GridOptions(density="lines"), GridOptions(density="counts"),
           GridOptions(group_by_stack=True), GridOptions(show="all", column_width=14),
           GridOptions(show="all", column_width=60, symbols=True), GridOptions(text="exit")]
REASONS = ["", "task: non-zero exit (1)", "no suitable node " * 9, "x" * 200,
           "starting container failed: OCI runtime create failed: unable to start"]


def random_state(rng: random.Random) -> ClusterState:
    s = state()
    extra = []
    for i in range(60):
        st = rng.choice(["running", "failed", "pending", "shutdown", "starting", "rejected"])
        extra.append(task(f"r{i}", rng.choice(["s1", "s2", "s3", "s4"]), rng.randrange(1, 6),
                          rng.choice(["n1", "n2", "n3", "n4", None]), state=st,
                          desired=rng.choice(["running", "shutdown"]),
                          err=rng.choice(REASONS) if st != "pending" else "",
                          message=rng.choice(REASONS), created_ns=NOW - i))
    return reduce(s, TasksListed((*s.tasks.values(), *extra), 2))


def eager(column: Column) -> tuple[object, ...]:
    return (column.key, column.title, column.header, column.body, column.task_at,
            column.running, column.attention)


@pytest.mark.parametrize("opts", OPTIONS, ids=repr)
def test_a_column_built_late_holds_what_an_eager_one_would(opts: GridOptions) -> None:
    rng = random.Random(hash(repr(opts)) % 1000)
    for _ in range(15):
        s = random_state(rng)
        layout = GridLayouter().layout(s, opts, NOW)
        for column in layout.columns:
            height, ids = column.height, [t for t in s.tasks if column.shows(t)]
            body, task_at = column.body, column.task_at  # builds it
            assert column.built and height == len(body) == len(task_at)
            assert ids == [t for t in s.tasks if t in task_at]
            assert column.shows("nope") is False
        assert layout.body_height == max((len(c.body) for c in layout.columns), default=0)
        assert layout == grid_layout(s, opts, NOW)


def test_the_cards_are_those_of_the_full_build() -> None:
    s = random_state(random.Random(3))
    opts = GridOptions(show="all")
    layout = grid_layout(s, opts, NOW)
    for column in layout.columns:
        node = s.nodes.get(column.key)
        tasks = [t for t in s.task_index.node(column.key if node else "").values()
                 if t.service_id in s.services] if node else None
        if tasks is not None:
            assert (column.body, column.task_at) == _body(
                tasks, s.services, node, opts, 30, NOW, layout_tints(s))


def layout_tints(s: ClusterState) -> dict[str, int]:
    from swarmtui.model.grid import service_tints

    return service_tints(s.services)


def test_a_column_is_immutable_built_or_not() -> None:
    layout = grid_layout(state(), GridOptions(), NOW)
    lazy, built = layout.columns[1], layout.columns[2]
    built.body  # noqa: B018 - build it
    for column in (lazy, built):
        with pytest.raises(AttributeError):
            column.title = "other"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            column.extra = 1  # type: ignore[attr-defined]
    assert not lazy.built and lazy == grid_layout(state(), GridOptions(), NOW).columns[1]
    assert hash(lazy) == hash(grid_layout(state(), GridOptions(), NOW).columns[1])


def test_ages_are_those_of_the_layouts_time_whenever_the_column_is_built() -> None:
    s = state()
    early = grid_layout(s, GridOptions(), NOW)
    later = grid_layout(s, GridOptions(), NOW + 3600 * 10**9)
    assert early.columns[1].body != later.columns[1].body
    assert early == grid_layout(s, GridOptions(), NOW)
    moved = reduce(s, TasksListed(tuple(replace(t, version=9, state="failed")
                                        for t in s.tasks.values()), 3))
    assert grid_layout(moved, GridOptions(), NOW) != early
