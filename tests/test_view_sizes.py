"""Every registered view at 80x24 and 200x60 (issue 13): a snapshot of each at both sizes,
somewhere, and at 80x24 nothing essential cut (the view's name, its first columns, the
footer's ``?`` and ``q``).

The views come from the registry (:func:`swarmtui.views.default_views`), so a new view gets
its two snapshots here (failing until they are written with ``--snapshot-update``) and must
say what is essential in :data:`ESSENTIAL`. Views whose snapshots at both sizes already live
in another file are listed in :data:`ELSEWHERE` and not shot twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from uistate import fixed_app, text

from swarmtui.views import default_views

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}
SNAPSHOTS = Path(__file__).parent / "__snapshots__"
VIEWS = default_views().names

# View -> its snapshots at (80x24, 200x60) in another test file.
ELSEWHERE: dict[str, tuple[str, str]] = {
    "grid": ("test_snapshots/test_grid[80x24-cards].svg",
             "test_snapshots/test_grid[200x60-cards].svg"),
    "nodes": ("test_snapshots/test_nodes[80x24].svg", "test_snapshots/test_nodes[200x60].svg"),
    "updates": ("test_updates_snapshots/test_updates[80x24-mid_update].svg",
                "test_updates_snapshots/test_updates[200x60-mid_update].svg"),
    "events": ("test_events_snapshots/test_events[80x24].svg",
               "test_events_snapshots/test_events[200x60].svg"),
    "images": ("test_images_ui/test_images_list_80x24.svg",
               "test_images_ui/test_images_list_200x60.svg"),
    "metrics": ("test_metrics_snapshots/test_metrics_view_80x24.svg",
                "test_metrics_snapshots/test_metrics_view_200x60.svg"),
}

# View -> what must be on screen at 80x24 besides its name and the footer's ? and q: the
# first columns of a table, or what stands in for them.
ESSENTIAL: dict[str, tuple[str, ...]] = {
    "grid": ("unassigned", "lab-node1", "ready", "gpu_job.1", "pending"),
    "services": ("NAME", "MODE", "REPLICAS", "shop_web", "0/1"),
    "logs": ("following all services", "shop_web.1.taskweb1aaaa@lab-node1", "heartbeat"),
    "disk": ("lab-node1", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE", "Local Volumes"),
    "updates": ("tl-ok", "IN PROGRESS", "SLOT", "OLD TASK", "NEW TASK", "batch 2 of 4"),
    "nodes": ("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "lab-node4", "Down", "Drain"),
    "stacks": ("NAME", "SERVICES", "REPLICAS", "FAILING", "shop", "5/5"),
    "secrets": ("ID", "NAME", "db_pass", "old_token"),
    "configs": ("ID", "NAME", "nginx_conf"),
    "events": ("TIME", "TYPE", "ACTION", "OBJECT", "shop_web", "ready → down"),
    "images": ("REPOSITORY:TAG", "IMAGE ID", "CREATED", "SIZE", "busybox:lab"),
    "metrics": ("lab-node1", "manager, leader", "containers", "running 4", "swarm nodes"),
}

Before = Callable[[Any], Awaitable[None]]


async def pauses(pilot: Any, n: int = 5) -> None:
    for _ in range(n):
        await pilot.pause()


@dataclass(frozen=True)
class Setup:
    """How a view is shown with fixed data: the app, then what to do before the shot."""

    app: Callable[[], Any]
    before: Before = pauses


def _setups() -> dict[str, Setup]:
    # Each view's own fixed data, from its test module (imported here, not at module level,
    # so that collecting this file costs nothing when it is not run).
    from disk_fakes import fake_fleet
    from test_disk_ui import settle as disk_settle
    from test_events_ui import events_app
    from test_images_ui import images_app
    from test_images_ui import settle as images_settle
    from test_logs_ui import logs_app, open_logs
    from test_metrics_ui import metrics_app
    from test_metrics_ui import settle as metrics_settle
    from test_secrets_ui import secrets_app
    from test_stacks_ui import stacks_app
    from timeline_state import timeline_app

    async def logs(pilot: Any) -> None:
        await open_logs(pilot)
        await pauses(pilot)

    async def events(pilot: Any) -> None:
        await pilot.press("9")
        await pauses(pilot)

    async def disk(pilot: Any) -> None:
        await disk_settle(pilot)
        await pauses(pilot)

    async def images(pilot: Any) -> None:
        await images_settle(pilot)
        await pauses(pilot)

    return {
        "grid": Setup(fixed_app),
        "services": Setup(lambda: fixed_app(start_mode="services")),
        "logs": Setup(logs_app, logs),
        "disk": Setup(lambda: fixed_app(disk=fake_fleet(), start_mode="disk"), disk),
        "updates": Setup(lambda: timeline_app("ok", 8)),
        "nodes": Setup(lambda: fixed_app(start_mode="nodes")),
        "stacks": Setup(lambda: stacks_app()[0], lambda p: pauses(p, 20)),
        "secrets": Setup(lambda: secrets_app()[0]),
        "configs": Setup(lambda: secrets_app("configs")[0]),
        "events": Setup(events_app, events),
        "images": Setup(images_app, images),
        "metrics": Setup(metrics_app, metrics_settle),
    }


def setup_of(view: str) -> Setup:
    """The view's fixed-data setup; a view without one starts on the fixed swarm."""
    return _setups().get(view) or Setup(lambda: fixed_app(start_mode=view))


def test_every_view_has_both_sizes_somewhere() -> None:
    assert set(ELSEWHERE) <= set(VIEWS), set(ELSEWHERE) - set(VIEWS)
    for view, paths in ELSEWHERE.items():
        for size, path in zip(SIZES, paths, strict=True):
            assert size in path, (view, size, path)
            assert (SNAPSHOTS / path).is_file(), f"{view}: {path} is missing"
    # The rest are shot by test_view below, parametrised over the same registry.
    assert set(VIEWS) - set(ELSEWHERE) == set(SHOT_HERE)


def test_every_view_says_what_is_essential() -> None:
    missing = [v for v in VIEWS if v not in ESSENTIAL]
    assert not missing, f"add the views' essential words to ESSENTIAL: {missing}"


SHOT_HERE = [v for v in VIEWS if v not in ELSEWHERE]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", SHOT_HERE)
def test_view(snap_compare, view: str, size: str) -> None:  # type: ignore[no-untyped-def]
    setup = setup_of(view)
    assert snap_compare(setup.app(), run_before=setup.before, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", VIEWS)
async def test_nothing_essential_is_cut(view: str, size: str) -> None:
    setup = setup_of(view)
    app = setup.app()
    async with app.run_test(size=SIZES[size]) as pilot:
        await setup.before(pilot)
        lines = text(app).rstrip("\n").splitlines()
    assert lines[0].startswith(f" swarmtui · {view}  │"), lines[0]
    footer = lines[-1]
    assert "? Keys" in footer and "q Quit" in footer, footer
    shown = "\n".join(lines)
    for word in ESSENTIAL.get(view, ()):
        assert word in shown, (view, word, shown)


def test_readme_gallery_shows_every_view() -> None:
    """scripts/screenshots shoots every registered view into screenshots/; the README's
    gallery shows each of them."""
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    gallery = readme.split("## Screenshots", 1)[1].split("\n## ", 1)[0]
    for view in VIEWS:
        assert (root / "screenshots" / f"{view}.svg").is_file(), f"run scripts/screenshots ({view})"
        assert f"![{view}](screenshots/{view}.svg)" in gallery, f"README gallery lacks {view}"
    assert "default_views().names" in (root / "scripts" / "screenshots").read_text()
