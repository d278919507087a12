"""The wall display (`--kiosk`): views in turn, read-only through the Settings, no input but q
and the view keys, secrets masked on screen; SVG snapshots at 80x24 and 200x60."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_logs_ui import API, WEB, make_line, sample_lines
from uistate import NOW, fixed_swarm, notices, text

from swarmtui.app import SwarmApp
from swarmtui.cli import build_parser
from swarmtui.cli.common import load_settings
from swarmtui.engine.logs import FollowOptions, LogSession
from swarmtui.model.actions import NodesListed, ServicesListed
from swarmtui.model.log_targets import LogTargets
from swarmtui.model.redact import DEFAULT_PATTERNS, MASK
from swarmtui.runtime import build_runtime
from swarmtui.settings import KIOSK_REDACT, KioskSettings, Settings
from swarmtui.validate import InputError

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}
SECRETS = ("hunter2", "abc123", "s3cr3t")


def kiosk_settings(tmp_path: Path, config: str = "", *argv: str) -> Settings:
    """Settings as the CLI loads them for `swarmtui --kiosk` with ``config`` as engines.toml."""
    folder = tmp_path / "swarmtui"
    folder.mkdir(exist_ok=True)
    (folder / "engines.toml").write_text(config)
    args = build_parser().parse_args(["--kiosk", *argv])
    return load_settings(args, env={"XDG_CONFIG_HOME": str(tmp_path)})


def kiosk_app(settings: Settings) -> SwarmApp:
    """The fixed swarm with secrets in node and service labels, a task error and log lines."""
    live = fixed_swarm()
    state = live.store.state
    nodes = list(state.nodes.values())
    nodes[0] = replace(nodes[0], labels=(("vault_token", "hunter2"), ("zone", "eu-1")))
    live.store.dispatch(NodesListed(tuple(nodes), NOW))
    services = [replace(s, labels=(*s.labels, ("com.example.api_key", "abc123")))
                for s in state.services.values()]
    live.store.dispatch(ServicesListed(tuple(services), NOW))
    runtime = build_runtime(settings, live, clock_ns=lambda: NOW)
    session = LogSession(None, live.store, capacity=1000)
    session.start(LogTargets(), FollowOptions(tail=200))
    session.ingest([*sample_lines(6),
                    make_line(7, API, "connecting to db with DB_PASSWORD=hunter2 user=shop"),
                    make_line(8, WEB, "started: nginx --auth-token s3cr3t --port 80")])
    runtime.log_session = session
    return SwarmApp(runtime)


def test_kiosk_forces_read_only_and_reads_its_table(tmp_path: Path) -> None:
    settings = kiosk_settings(tmp_path, '[kiosk]\nviews = ["nodes", "logs"]\nseconds = 4\n'
                              'redact = ["(?i)pin"]\n')
    assert settings.read_only
    assert settings.kiosk == KioskSettings(views=("nodes", "logs"), seconds=4.0,
                                           redact=("(?i)pin",))
    defaults = kiosk_settings(tmp_path)
    assert defaults.kiosk == KioskSettings()
    assert defaults.kiosk.views == ("grid", "services", "updates", "logs")
    assert defaults.kiosk.seconds == 15.0
    assert KIOSK_REDACT == DEFAULT_PATTERNS  # one default, said in two layers
    plain = load_settings(build_parser().parse_args([]), env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert plain.kiosk is None and not plain.read_only


@pytest.mark.parametrize(("config", "says"), [
    ("[kiosk]\nseconds = 0\n", "kiosk.seconds must be a number above 0"),
    ('[kiosk]\nviews = "grid"\n', "kiosk.views must be a list of strings"),
    ("[kiosk]\nviews = []\n", "kiosk.views must name at least one view"),
    ('[kiosk]\nredact = ["(open"]\n', "kiosk.redact pattern '(open' is not a regular"),
    ("[kiosk]\nspeed = 2\n", "unknown key(s) in [kiosk]: 'speed'"),
])
def test_bad_kiosk_settings_are_one_line(tmp_path: Path, config: str, says: str) -> None:
    with pytest.raises(InputError) as exc:
        kiosk_settings(tmp_path, config)
    assert says in str(exc.value) and "\n" not in str(exc.value)


async def test_kiosk_cycles_through_its_views(tmp_path: Path) -> None:
    settings = kiosk_settings(tmp_path, '[kiosk]\nviews = ["grid", "nodes", "logs"]\n'
                              "seconds = 0.2\n")
    app = kiosk_app(settings)
    seen: list[str] = []
    shown = app.switch_mode

    def switch_mode(mode: str) -> Any:
        seen.append(mode)
        return shown(mode)

    app.switch_mode = switch_mode  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(seen) < 5 and loop.time() < deadline:
            await asyncio.sleep(0.05)
            await pilot.pause()
    assert seen[:5] == ["grid", "nodes", "logs", "grid", "nodes"]
    assert app.theme == "swarmtui-kiosk" and app.has_class("-kiosk")


async def test_kiosk_hides_and_refuses_operations_and_opens_no_dialog(tmp_path: Path) -> None:
    settings = kiosk_settings(tmp_path, '[kiosk]\nviews = ["services"]\nseconds = 60\n')
    app = kiosk_app(settings)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        assert app.current_mode == "services"
        assert app.runtime.executor.read_only and not app.runtime.executor.can_execute
        footer = text(app).splitlines()[-1]
        assert "Scale" not in footer and "Remove" not in footer
        for key in ("s", "D", "enter", "i"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.screen_stack[0]  # no prompt, dialog or other screen
            assert app.current_mode == "services"
        assert "Prompt" not in {type(w).__name__ for w in app.screen.query("Prompt:focus")}
        assert any("Kiosk mode" in n and "keys are off" in n for n in notices(app))
        await pilot.press("6")  # a view key still switches views
        await pilot.pause()
        assert app.current_mode == "nodes"


async def test_kiosk_masks_secrets_in_labels_and_log_lines(tmp_path: Path) -> None:
    app = kiosk_app(kiosk_settings(tmp_path, '[kiosk]\nviews = ["nodes", "logs"]\n'
                                   "seconds = 60\n"))
    async with app.run_test(size=(220, 30)) as pilot:
        await pilot.pause()
        nodes = text(app)
        assert f"vault_token={MASK}" in nodes and "zone=eu-1" in nodes
        await app.next_kiosk_view()
        await pilot.pause()
        app.screen.flush()  # type: ignore[attr-defined]
        await pilot.pause()
        logs = text(app)
        assert f"DB_PASSWORD={MASK} user=shop" in logs
        assert f"--auth-token {MASK} --port 80" in logs
        for secret in SECRETS:
            assert secret not in nodes + logs
        exported = "\n".join(app.screen.view.export_lines(everything=True))  # type: ignore[attr-defined]
        assert "hunter2" not in exported and f"DB_PASSWORD={MASK}" in exported


@pytest.mark.parametrize("size", list(SIZES))
def test_kiosk_grid_snapshot(snap_compare, tmp_path: Path, size: str) -> None:  # type: ignore[no-untyped-def]
    app = kiosk_app(kiosk_settings(tmp_path, '[kiosk]\nviews = ["grid"]\nseconds = 600\n'))

    async def show_labels(pilot: Any) -> None:
        pilot.app.screen.set_options(show_labels=True)
        await pilot.pause()

    assert snap_compare(app, run_before=show_labels, terminal_size=SIZES[size])


def test_an_unknown_kiosk_view_is_one_line_before_anything_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui.cli import main

    kiosk_settings(tmp_path, '[kiosk]\nviews = ["grid", "walls"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for argv in (["--kiosk", "--demo"], ["--kiosk", "--demo", "serve"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "kiosk.views in " in err and "unknown view 'walls' (choose from: grid," in err
        assert err.count("\n") == 1
