"""Settings: read once from flags, then the environment, then engines.toml; a malformed value
in any source is one InputError line; a command reads only what it uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from swarmtui.cli import COMMANDS, build_parser, main
from swarmtui.cli.common import disk_fleet, engine_target
from swarmtui.settings import EVERYTHING, Scope, Settings
from swarmtui.validate import InputError


def load(argv: list[str], env: dict[str, str], scope: Scope = EVERYTHING) -> Settings:
    return Settings.load(build_parser().parse_args(argv), env, scope)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing of the machine's in it, and its config file's folder."""
    (tmp_path / "swarmtui").mkdir()
    return {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path),
            "DOCKER_CONFIG": str(tmp_path / ".docker")}


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "swarmtui" / "engines.toml"
    path.write_text(text)
    return path


def test_every_setting_from_its_source(env: dict[str, str]) -> None:
    path = write_config(env, '[engines]\nn3 = "unix:///run/n3.sock"\n')
    s = load(["-c", "ctx", "--read-only", "--engine", "n2=/run/n2.sock"],
             {**env, "SWARMTUI_LOG_LINES": "20000", "NO_COLOR": "1"})
    assert (s.host, s.context, s.read_only, s.demo) == (None, "ctx", True, None)
    # --demo with --context is refused (test_input_errors); with an extra engine it is not.
    assert load(["--demo-scenario", "scale", "--engine", "n2=/run/n2.sock"], env).demo == "scale"
    assert [(e.name, e.target.url, e.source) for e in s.extra_engines] == [
        ("n2", "unix:///run/n2.sock", "--engine")]
    assert s.config_path == path
    assert [(e.name, e.target.url) for e in s.config_engines] == [("n3", "unix:///run/n3.sock")]
    assert (s.log_lines, s.no_color) == (20000, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.read_only = False  # type: ignore[misc]


def test_defaults(env: dict[str, str]) -> None:
    s = load([], env)
    assert (s.host, s.context, s.read_only, s.demo) == (None, None, False, None)
    assert s.engines == () and s.log_lines is None and s.no_color is False
    assert load(["--demo"], env).demo == "demo"
    assert load(["--demo", "--demo-scenario", "chatty"], env).demo == "chatty"


@pytest.mark.parametrize(("value", "no_color"), [("", False), ("1", True), ("0", True)])
def test_no_color_is_set_and_non_empty(env: dict[str, str], value: str, no_color: bool) -> None:
    # https://no-color.org: "when present and not an empty string", whatever its value.
    assert load([], {**env, "NO_COLOR": value}).no_color is no_color


async def test_a_flag_wins_over_the_environment(env: dict[str, str]) -> None:
    s = load(["--host", "unix:///run/flag.sock"], {**env, "DOCKER_HOST": "unix:///run/env.sock"})
    async with engine_target(s) as target:
        assert (target.url, target.source) == ("unix:///run/flag.sock", "--host")
    async with engine_target(load([], {**env, "DOCKER_HOST": "unix:///run/env.sock"})) as target:
        assert (target.url, target.source) == ("unix:///run/env.sock", "DOCKER_HOST")


def test_the_environment_picks_the_config_file(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "swarmtui").mkdir(parents=True)
    (other / "swarmtui" / "engines.toml").write_text('[engines]\nfar = "tcp://10.0.0.9:2375"\n')
    write_config(env, '[engines]\nnear = "unix:///run/near.sock"\n')
    s = load([], {**env, "XDG_CONFIG_HOME": str(other)})
    assert s.config_path == other / "swarmtui" / "engines.toml"
    assert [e.name for e in s.engines] == ["far"]


async def test_flag_engines_come_before_the_config_files(env: dict[str, str]) -> None:
    write_config(env, '[engines]\nn3 = "unix:///run/n3.sock"\n')
    s = load(["--demo", "--engine", "n2=/run/n2.sock"], env)
    assert [e.name for e in s.engines] == ["n2", "n3"]
    async with engine_target(s) as target:
        fleet = disk_fleet(s, target)
        assert [e.configured_name for e in fleet.engines] == [None, "n2", "n3"]
        assert [e.source for e in fleet.engines] == [
            "--demo", "--engine", str(s.config_path)]
        await fleet.stop()


@pytest.mark.parametrize(
    ("argv", "extra_env", "config", "says"),
    [
        # flags
        (["--engine", "n2"], {}, None, "invalid --engine 'n2': use NAME=URL"),
        (["--demo-scenario", "nosuch"], {}, None, "invalid choice: 'nosuch'"),
        (["--engine", "n2=/a.sock"], {}, '[engines]\nn2 = "/b.sock"\n',
         "engine name(s) given twice: n2"),
        # environment
        ([], {"SWARMTUI_LOG_LINES": "abc"}, None, "invalid SWARMTUI_LOG_LINES='abc'"),
        ([], {"SWARMTUI_LOG_LINES": "5"}, None, "from 100 to 10000000"),
        # the config file
        ([], {}, "[engines\n", "invalid TOML"),
        ([], {}, "log_lines = 5\n", "unknown key(s) 'log_lines'"),
        ([], {}, "[engines]\nn2 = 5\n", "engines.n2 must be a URL or context name"),
        ([], {}, '[engines]\nn2 = "garbage::"\n', "invalid address for engines.n2 in "),
    ],
)
def test_a_malformed_value_in_any_source_is_one_line(
        env: dict[str, str], argv: list[str], extra_env: dict[str, str], config: str | None,
        says: str) -> None:
    if config is not None:
        write_config(env, config)
    with pytest.raises(InputError) as exc:
        load(argv, {**env, **extra_env})
    assert says in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_command_reads_only_what_it_uses(env: dict[str, str]) -> None:
    write_config(env, "[engines\n")
    bad_env = {**env, "SWARMTUI_LOG_LINES": "abc"}
    logs = load(["--engine", "n2", "logs", "web"], bad_env, COMMANDS["logs"].SCOPE)
    assert logs.engines == () and logs.config_path is None and logs.log_lines is None
    with pytest.raises(InputError, match="invalid TOML"):
        load(["df"], env, COMMANDS["df"].SCOPE)
    with pytest.raises(InputError, match="SWARMTUI_LOG_LINES"):
        load(["shot", "grid", "-o", "x"], bad_env, COMMANDS["shot"].SCOPE)
    assert {name: m.SCOPE for name, m in COMMANDS.items()} == {
        None: Scope(engines=True, app_env=True),
        "shot": Scope(engines=False, app_env=True),
        "logs": Scope(engines=False, app_env=False),
        "df": Scope(engines=True, app_env=False),
        "prune": Scope(engines=True, app_env=False),
        "rollout": Scope(engines=False, app_env=False),
        "serve": Scope(engines=True, app_env=True),  # checks once what every tab reads
    }
    rollout = load(["rollout", "status", "web"], bad_env, COMMANDS["rollout"].SCOPE)
    assert rollout.engines == () and rollout.log_lines is None


def test_shot_passes_read_only_to_the_app(tmp_path: Path) -> None:
    out = tmp_path / "grid.txt"
    assert main(["--demo", "--read-only", "shot", "grid", "-o", str(out), "--timeout", "30"]) == 0
    assert "READ-ONLY" in out.read_text()
    assert main(["--demo", "shot", "grid", "-o", str(out), "--timeout", "30"]) == 0
    assert "READ-ONLY" not in out.read_text()


def test_probe_settings_flag_then_env_then_config(env: dict[str, str]) -> None:
    assert (load([], env).probe_image, load([], env).probe_socket) == (
        "docker:cli", "/var/run/docker.sock")
    write_config(env, '[probe]\nimage = "cfg/cli:1"\nsocket = "/run/{{.Node.Hostname}}.sock"\n')
    s = load([], env)
    assert (s.probe_image, s.probe_socket) == ("cfg/cli:1", "/run/{{.Node.Hostname}}.sock")
    s = load([], {**env, "SWARMTUI_PROBE_IMAGE": "env/cli:2"})
    assert (s.probe_image, s.probe_socket) == ("env/cli:2", "/run/{{.Node.Hostname}}.sock")
    s = load(["--probe-image", "flag/cli:3", "--probe-socket", "/x.sock"],
             {**env, "SWARMTUI_PROBE_IMAGE": "env/cli:2"})
    assert (s.probe_image, s.probe_socket) == ("flag/cli:3", "/x.sock")


@pytest.mark.parametrize(("argv", "text", "message"), [
    (["--probe-socket", "run/docker.sock"], "", "invalid --probe-socket 'run/docker.sock'"),
    (["--probe-image", "a b"], "", "invalid --probe-image 'a b'"),
    ([], '[probe]\nimage = ""\n', "invalid probe.image in"),
    ([], '[probe]\ncolour = "red"\n', "unknown key(s) in [probe]: 'colour'"),
    ([], '[engines]\n[probes]\n', "unknown key(s) 'probes'"),
])
def test_bad_probe_settings_are_one_line(env: dict[str, str], argv: list[str], text: str,
                                         message: str) -> None:
    if text:
        write_config(env, text)
    with pytest.raises(InputError) as exc:
        load(argv, env)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_metrics_endpoints_flag_over_config(env: dict[str, str]) -> None:
    assert load([], env).metrics_urls == {}
    write_config(env, '[metrics]\nn1 = "10.0.0.11:9323"\nn2 = "http://10.0.0.12:9400/m"\n')
    s = load(["--metrics", "n2=127.0.0.1:9323", "--metrics", "n3=http://[::1]:9323"], env)
    assert s.metrics_urls == {"n1": "http://10.0.0.11:9323/metrics",
                              "n2": "http://127.0.0.1:9323/metrics",
                              "n3": "http://[::1]:9323/metrics"}


@pytest.mark.parametrize(("argv", "text", "message"), [
    (["--metrics", "n2"], "", "invalid --metrics 'n2': use NODE=HOST:PORT"),
    (["--metrics", "n2=https://h:9323"], "", "invalid --metrics n2 'https://h:9323'"),
    (["--metrics", "n2=h:99999"], "", "invalid --metrics n2 'h:99999'"),
    (["--metrics=.x=h:1"], "", "engine name '.x' is invalid"),
    ([], '[metrics]\nn1 = 9323\n', "metrics.n1 must be a string"),
    ([], '[metrics]\nn1 = "h"\n', "invalid metrics.n1 in"),
    ([], 'metrics = 1\n', "[metrics] must be a table"),
])
def test_bad_metrics_settings_are_one_line(env: dict[str, str], argv: list[str], text: str,
                                           message: str) -> None:
    if text:
        write_config(env, text)
    with pytest.raises(InputError) as exc:
        load(argv, env)
    assert message in str(exc.value) and "\n" not in str(exc.value)
