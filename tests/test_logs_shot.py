"""`swarmtui shot logs` against the demo simulator: the shot of a following pane shows the
newest lines of the (merged) backlog, every time, however soon it is taken."""

from __future__ import annotations

from pathlib import Path

import pytest

import swarmtui.shot as shot
from swarmtui.app import SwarmApp
from swarmtui.demo import demo_engine
from swarmtui.model.logs import LogLine
from swarmtui.runtime import build_runtime
from swarmtui.settings import Settings


@pytest.mark.parametrize("run", range(3))
async def test_shot_of_the_log_pane_shows_the_tail_of_the_backlog(
    run: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newest: list[LogLine] = []
    render = shot.render_screen

    def render_and_remember(app: SwarmApp, as_svg: bool) -> str:
        session = app.runtime.log_session
        assert session is not None
        newest.extend(session.ring.tail(3))
        return render(app, as_svg)

    monkeypatch.setattr(shot, "render_screen", render_and_remember)
    out = tmp_path / "logs.txt"
    async with demo_engine("demo", scripted=False) as target:
        await shot.take_shot(build_runtime(Settings(), target), "logs", out, (200, 40),
                             timeout=10, delay=0)
    text = out.read_text()
    assert len(newest) == 3, "the backlog had arrived when the shot was taken"
    rows = [row for row in text.splitlines() if " | " in row or " ! " in row]
    for line in newest:
        assert any(line.text[:40] in row for row in rows[-4:]), (line.text, rows[-4:])
    assert "PAUSED" not in text
