"""The view registry: a new view and a new operation are a few lines, and the palette, `shot`,
the key help and read-only all know them without code of their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.widgets import Static
from uistate import fixed_app, fixed_runtime, notices

from swarmtui.cli import build_parser
from swarmtui.engine.client import WritePermit
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.screens.base import SwarmScreen, operation_binding
from swarmtui.screens.operation import ConfirmOperationScreen, OutcomeScreen
from swarmtui.shot import render_screen, take_shot
from swarmtui.views import ViewRegistry, ViewSpec, default_views, key_order

ROOT = Path(__file__).resolve().parent.parent


# -- the toy: a view and an operation, with no read-only code ------------------------------
class ToyOp(Operation[None]):
    executed = 0

    async def plan(self) -> Plan[None]:
        return Plan(self, Preview("Toy change", blocks=("toy: a -> b",), changes=1), None)

    async def execute(self, plan: Plan[None], permit: WritePermit) -> Outcome:
        ToyOp.executed += 1
        return Outcome("Toy change", blocks=("changed",))


class ToyScreen(SwarmScreen):
    SCREEN_NAME = "toy"
    NEEDS_SWARM = False
    BINDINGS = [operation_binding("x", "toy", "Toy change")]

    def body(self) -> ComposeResult:
        yield Static("a toy view")

    def action_toy(self) -> None:
        self.run_operation(ToyOp())


def toy_views() -> ViewRegistry:
    views = default_views().copy()
    views.register(ViewSpec.of(ToyScreen, "f5", "A toy view"))
    return views


@pytest.fixture(autouse=True)
def _no_toy_ops() -> None:
    ToyOp.executed = 0


# -- the toy appears everywhere views are listed -------------------------------------------
async def test_toy_view_is_in_the_palette_keys_and_help() -> None:
    app = fixed_app(views=toy_views())
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to toy (f5)" in titles and "Go to grid (1)" in titles
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ToyScreen)
        text = render_screen(app, as_svg=False)
        assert "a toy view" in text and "swarmtui · toy" in text
        assert "x Toy change" in text.splitlines()[-1]  # the footer
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        assert "Toy change" in render_screen(app, as_svg=False)


async def test_toy_operation_runs_through_the_shared_flow() -> None:
    app = fixed_app(views=toy_views(), start_mode="toy")
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, ConfirmOperationScreen):
                break
        assert "toy: a -> b" in render_screen(app, as_svg=False)
        await pilot.click("#confirm-yes")
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, OutcomeScreen):
                break
        assert isinstance(app.screen, OutcomeScreen)
    assert ToyOp.executed == 1


class ChainingToyScreen(ToyScreen):
    """Acts on each outcome and offers one more operation after the first."""

    seen: list[str] = []

    def after_outcome(self, outcome: Outcome) -> tuple[Operation[None], str] | None:
        self.seen.append(outcome.title)
        return (ToyOp(), "Again") if len(self.seen) == 1 else None


async def test_after_outcome_is_the_one_hook_acting_on_a_result_and_offering_the_next() -> None:
    ChainingToyScreen.seen = []
    views = default_views().copy()
    views.register(ViewSpec.of(ChainingToyScreen, "f5", "A toy view"))
    app = fixed_app(views=views, start_mode="toy")

    async def wait_for(cls: type) -> None:
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, cls):
                return
        raise AssertionError(f"no {cls.__name__}")

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        for step in (1, 2):  # the operation, then the one its outcome offered
            await wait_for(ConfirmOperationScreen)
            await pilot.click("#confirm-yes")
            await wait_for(OutcomeScreen)
            await pilot.press("escape")
            await wait_for(ChainingToyScreen if step == 2 else ConfirmOperationScreen)
            assert len(ChainingToyScreen.seen) == step
    assert ToyOp.executed == 2 and ChainingToyScreen.seen == ["Toy change", "Toy change"]


def test_no_screen_keeps_the_old_two_hooks() -> None:
    """follow_up and operation_done became after_outcome: one left in a screen (a branch
    written before) would never be called."""
    def screens(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in screens(sub))]

    assert len(list(default_views())) >= 10  # every view's screen module is imported
    stale = [c.__qualname__ for c in screens(SwarmScreen)
             if {"follow_up", "operation_done"} & set(vars(c))]
    assert stale == []


async def test_toy_operation_is_hidden_and_refused_in_read_only() -> None:
    app = fixed_app(views=toy_views(), start_mode="toy", read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        text = render_screen(app, as_svg=False)
        assert "READ-ONLY" in text.splitlines()[0]
        assert "Toy change" not in text.splitlines()[-1]  # not in the footer
        await pilot.press("x")
        await pilot.pause()
        assert notices(app) == ["Read-only mode: Toy change is disabled."]
        assert isinstance(app.screen, ToyScreen), "no preview, no dialog"
    assert ToyOp.executed == 0


async def test_shot_renders_a_registered_view_by_name(tmp_path: Path) -> None:
    out = tmp_path / "toy.txt"
    await take_shot(fixed_runtime(), "toy", out, (120, 30), timeout=5, delay=0,
                    views=toy_views())
    assert "a toy view" in out.read_text()
    choices = ", ".join(default_views().names)  # grid, services, … in key order
    with pytest.raises(ValueError, match=f"choose from: {choices}\\)"):
        await take_shot(fixed_runtime(), "toy", out, (120, 30), timeout=5, delay=0)


# -- the registry itself -----------------------------------------------------------------
def test_registry_refuses_a_name_or_key_twice_and_copies_apart() -> None:
    views = default_views()
    with pytest.raises(ValueError, match="key '1' is taken by view 'grid'"):
        views.register(ViewSpec("other", "1", "", ToyScreen))
    with pytest.raises(ValueError, match="'grid' is registered twice"):
        views.register(ViewSpec("grid", "7", "", ToyScreen))
    copy = views.copy()
    copy.register(ViewSpec.of(ToyScreen, "f5", "A toy view"))
    assert "toy" in copy and "toy" not in views
    assert [v.key for v in copy] == sorted([*(v.key for v in views), "f5"], key=key_order)
    with pytest.raises(KeyError, match="choose from: grid, services"):
        views.get("nosuch")


def test_help_names_every_view_with_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["shot", "--help"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(argv)
        out = " ".join(capsys.readouterr().out.split())
        for view in default_views():
            assert view.name in out
            if argv == ["--help"]:
                assert f"{view.key} {view.name}" in out


def test_readme_key_table_matches_the_registry() -> None:
    """The README's first Keys row lists exactly the registered views, key by key."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Keys", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    keys_cell, where, names_cell = (c.strip() for c in rows[0].strip("|").split("|"))
    keys = re.findall(r"`([^`]+)`", keys_cell)
    names = [n.strip() for n in names_cell.split(",")]
    views = list(default_views())
    assert where == "everywhere"
    assert keys == [v.key for v in views]
    assert names == [v.name for v in views]
    shot_line = next(line for line in readme.splitlines() if line.strip().startswith("# screens:"))
    assert shot_line.split(":", 1)[1].strip() == ", ".join(v.name for v in views)


# How the README's Keys table writes the keys Textual names.
README_KEY_NAMES = {"escape": "esc", "slash": "/", "plus": "+", "minus": "-",
                    "ampersand": "&", "up": "↑", "down": "↓"}


def test_readme_key_table_lists_every_key_of_every_view() -> None:
    """Each key a view binds (shown or not) is in a Keys row for that view: the services
    view's operations and the disk view's probe key were missing."""
    from textual.binding import Binding

    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Keys", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| `")]
    missing = []
    for view in default_views():
        documented: set[str] = set()
        for keys_cell, where, _ in rows:
            if view.name in (w.strip() for w in where.split(",")):
                documented |= set(re.findall(r"`([^`]+)`", keys_cell))
        for binding in getattr(view.factory, "BINDINGS", []):
            b = binding if isinstance(binding, Binding) else Binding(*binding)
            for key in b.key.split(","):
                if README_KEY_NAMES.get(key, key) not in documented:
                    missing.append(f"{view.name}: {key} ({b.description})")
    assert missing == []
    assert sum(line.strip().startswith("# screens:") for line in readme.splitlines()) == 1


def test_readme_says_which_keys_a_kiosk_takes() -> None:
    from swarmtui.app import KIOSK_KEYS

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "question_mark" in KIOSK_KEYS
    assert "takes no input but `q`, `?` (the keys panel) and the view keys" in readme
