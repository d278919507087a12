"""Every malformed value a user can give swarmtui -- flags, environment variables, engines.toml
keys, subcommand arguments -- ends as exactly one line on stderr and exit status 2 (usage) or
1 (runtime), never a traceback, and nothing starts (no engine is contacted for a usage error).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from swarmtui.cli import main
from swarmtui.engine import client as engine_client
from swarmtui.engine.client import describe_connect_error
from swarmtui.engine.target import EngineTarget, parse_engine_url

NOWHERE = "unix:///nonexistent/docker.sock"


@dataclass(frozen=True)
class Case:
    argv: list[str]
    status: int
    says: str  # a piece of the one line
    env: dict[str, str] = field(default_factory=dict)
    config: str | None = None  # engines.toml text

    def __str__(self) -> str:  # the test id
        extra = " ".join(f"{k}={v}" for k, v in self.env.items())
        return " ".join([extra, *self.argv, "[toml]" if self.config else ""]).strip()


CASES = [
    # --host / -H: parsed like the docker CLI's ParseHost
    Case(["--host", "garbage::"], 2, "invalid --host 'garbage::': use HOST:PORT"),
    Case(["--host", ""], 2, "invalid --host '': it is empty"),
    Case(["--host", "gar bage"], 2, "contains spaces"),
    Case(["--host", "npipe:////./pipe/docker_engine"], 2, "npipe:// is a Windows named pipe"),
    Case(["--host", "http://h:2375"], 2, "use tcp://h:2375"),
    Case(["--host", "fd://"], 2, "unknown scheme fd://"),
    Case(["--host", "tcp://h:99999"], 2, "port '99999' must be a number from 1 to 65535"),
    Case(["--host", "tcp://h:abc"], 2, "port 'abc'"),
    Case(["--host", "tcp://u@h"], 2, "no user"),
    Case(["--host", "ssh://"], 2, "no host"),
    Case(["--host", "ssh://u:secret@h"], 2, "password in the URL is not supported"),
    Case(["--host", "ssh://h/var/run/docker.sock"], 2, "no path"),
    Case(["--host", "ssh://user@127.0.0.1:1"], 1, "ssh:// needs the ssh extra: "
         "pip install 'swarmtui[ssh]'"),
    Case(["--host", "127.0.0.1"], 1, "tcp://127.0.0.1:2375 (--host '127.0.0.1': a bare host "
         "means tcp on port 2375"),
    Case(["--host", NOWHERE], 1, "socket does not exist"),
    Case(["-H", NOWHERE, "-c", "x"], 2, "either specify --host or --context"),
    # --context
    Case(["--context", ""], 2, "invalid docker context name ''"),
    Case(["--context", "bad/name"], 2, "invalid docker context name 'bad/name'"),
    Case(["--context", "nosuch"], 2, "docker context 'nosuch' does not exist"),
    # --engine NAME=URL
    Case(["--demo", "--engine", "n2=garbage::", "df"], 2,
         "invalid address for --engine n2 'garbage::'"),
    Case(["--demo", "--engine", "n2", "df"], 2, "invalid --engine 'n2': use NAME=URL"),
    Case(["--demo", "--engine", "=unix:///x", "df"], 2, "use NAME=URL"),
    Case(["--demo", "--engine", "n 2=unix:///x", "df"], 2, "engine name 'n 2' is invalid"),
    Case(["--demo", "--engine", "n2=nosuchctx", "df"], 2,
         "--engine n2: docker context 'nosuchctx' does not exist"),
    Case(["--demo", "--engine", "n2=npipe://x", "df"], 2, "npipe://"),
    Case(["--demo", "--engine", "n2=/a.sock", "--engine", "n2=/b.sock", "df"], 2,
         "engine name(s) given twice: n2 (in --engine)"),
    Case(["--demo", "--engine", "n2=ssh://u@h", "df"], 1, "n2: ssh://u@h: ssh:// needs the ssh "
         "extra"),
    # --demo-scenario
    Case(["--demo-scenario", "nosuch"], 2,
         "invalid choice: 'nosuch' (choose from: demo, scale, chatty)"),
    Case(["--demo", "--demo-scenario", "nosuch", "df"], 2, "invalid choice: 'nosuch'"),
    # shot
    Case(["--demo", "shot", "nope", "-o", "x.txt"], 2, "unknown screen 'nope'"),
    Case(["--demo", "shot", "grid", "-o", "x.txt", "--size", "10x5"], 2,
         "use COLSxROWS with COLS 20-1000 and ROWS 5-500"),
    Case(["--demo", "shot", "grid", "-o", "x.txt", "--size", "huge"], 2, "invalid size 'huge'"),
    Case(["--demo", "shot", "grid", "-o", "x.txt", "--timeout", "-1"], 2,
         "invalid duration '-1'"),
    Case(["--demo", "shot", "grid", "-o", "x.txt", "--timeout", "nan"], 2,
         "invalid duration 'nan'"),
    Case(["--demo", "shot", "grid", "-o", "x.txt", "--delay", "inf"], 2,
         "invalid duration 'inf'"),
    Case(["--demo", "shot", "grid", "-o", "/nonexistent/x.txt"], 2,
         "the folder /nonexistent does not exist"),
    Case(["--demo", "shot", "grid", "-o", "."], 2, "cannot write .: it is a directory"),
    Case(["--demo", "shot", "grid"], 2, "the following arguments are required: --output"),
    # logs
    Case(["--demo", "logs", "--tail", "ten", "shop"], 2, "invalid --tail 'ten'"),
    Case(["--demo", "logs", "--tail", "-1", "shop"], 2, "invalid --tail '-1'"),
    Case(["--demo", "logs", "--since", "soon", "shop"], 2, "failed to parse --since 'soon'"),
    Case(["--demo", "logs", "--since", "2026-13-45", "shop"], 2, "invalid --since timestamp"),
    Case(["--demo", "logs", "--since", "", "shop"], 2, "empty --since value"),
    Case(["--demo", "logs"], 2, "the following arguments are required: TARGET"),
    Case(["--demo", "--host", "unix:///tmp/x.sock", "shot", "grid", "-o", "x.txt"], 2,
         "--demo shows a simulated swarm, not an engine: drop --host or --demo"),
    Case(["--demo-scenario", "scale", "--context", "prod", "df"], 2,
         "--demo shows a simulated swarm, not an engine: drop --context or --demo"),
    # prune / df
    Case(["--demo", "prune", "everything"], 2, "argument KIND: invalid choice: 'everything'"),
    Case(["--demo", "prune", "images", "--volumes", "--dry-run"], 2,
         "--volumes applies to system prune only"),
    Case(["--demo", "prune", "containers", "--all", "--dry-run"], 2,
         "--all does not apply to containers"),
    Case(["--demo", "prune", "images", "--engine-name", "x", "--all-engines"], 2,
         "not allowed with argument"),
    Case(["--demo", "prune", "images", "--dry-run", "--engine-name", "nosuch"], 2,
         "unknown engine 'nosuch'"),
    Case(["--demo", "df", "--bogus"], 2, "unrecognized arguments: --bogus"),
    # environment variables
    Case([], 2, "invalid DOCKER_HOST 'garbage::'", env={"DOCKER_HOST": "garbage::"}),
    Case([], 2, "invalid DOCKER_HOST 'npipe://x'", env={"DOCKER_HOST": "npipe://x"}),
    Case([], 1, "no Docker engine at unix:///nonexistent.sock",
         env={"DOCKER_HOST": "unix:///nonexistent.sock"}),
    Case([], 2, "docker context 'nosuch' does not exist", env={"DOCKER_CONTEXT": "nosuch"}),
    Case([], 2, "invalid docker context name 'a b' (from DOCKER_CONTEXT)",
         env={"DOCKER_CONTEXT": "a b"}),
    Case([], 2, "TLS is on but certificate files are missing",
         env={"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1",
              "DOCKER_CERT_PATH": "/nonexistent"}),
    Case(["--demo"], 2, "invalid SWARMTUI_LOG_LINES='abc'", env={"SWARMTUI_LOG_LINES": "abc"}),
    Case(["--demo"], 2, "from 100 to 10000000", env={"SWARMTUI_LOG_LINES": "5"}),
    Case(["--demo", "shot", "logs", "-o", "x.txt"], 2, "invalid SWARMTUI_LOG_LINES='-1'",
         env={"SWARMTUI_LOG_LINES": "-1"}),
    Case(["--demo", "df"], 2, "cannot read", env={"XDG_CONFIG_HOME": "{tmp}/afile"}),
    # engines.toml keys
    Case(["--demo", "df"], 2, "invalid TOML", config="[engines\n"),
    Case(["--demo", "df"], 2, "[engines] must be a table", config="engines = 3\n"),
    Case(["--demo", "df"], 2, "unknown key(s) 'engine'",
         config='[engine]\nn2 = "unix:///x"\n'),
    Case(["--demo", "df"], 2, "engines.n2 must be a URL or context name",
         config="[engines]\nn2 = 5\n"),
    Case(["--demo", "df"], 2, "engines.n2 must be a URL", config='[engines]\nn2 = " "\n'),
    Case(["--demo", "df"], 2, "an empty engine name is invalid",
         config='[engines]\n"" = "unix:///x"\n'),
    Case(["--demo", "df"], 2, "engine name ' a' is invalid",
         config='[engines]\n" a" = "unix:///x"\n'),
    Case(["--demo", "df"], 2, "invalid address for engines.n2 in ",
         config='[engines]\nn2 = "garbage::"\n'),
    Case(["--demo", "df"], 2, "engines.n2 in ", config='[engines]\nn2 = "nosuchctx"\n'),
    Case(["--demo", "--engine", "n2=/a.sock", "df"], 2, "engine name(s) given twice: n2",
         config='[engines]\nn2 = "/b.sock"\n'),
    Case(["--demo", "df"], 1, "ssh:// needs the ssh extra", config='[engines]\nn2 = "ssh://h"\n'),
]


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No engine settings from the machine: an empty HOME, docker config and XDG dir."""
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS",
                "DOCKER_CERT_PATH", "SWARMTUI_LOG_LINES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / ".docker"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    # The ssh extra may be installed here; the message for its absence is what is tested.
    monkeypatch.setattr(engine_client, "has_asyncssh", lambda: False)
    return tmp_path


def _port_2375_closed() -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", 2375)) != 0


@pytest.mark.parametrize("case", CASES, ids=str)
def test_malformed_value_is_one_line(case: Case, clean_env: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if "127.0.0.1:2375" in case.says and not _port_2375_closed():
        pytest.skip("something listens on 127.0.0.1:2375 here")
    (clean_env / "afile").write_text("")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(clean_env)))
    if case.config is not None:
        folder = clean_env / "config" / "swarmtui"
        folder.mkdir(parents=True)
        (folder / "engines.toml").write_text(case.config)
    try:
        code = main(case.argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("swarmtui: error: "), err
    assert case.says in lines[0]
    assert code == case.status, err
    assert not (clean_env / "x.txt").exists()


def test_the_ssh_case_also_in_a_fresh_process(tmp_path: Path) -> None:
    """The reported crash, as typed: a 28-line traceback before (when asyncssh is absent)."""
    has = subprocess.run([sys.executable, "-c", "import asyncssh"], capture_output=True)
    if has.returncode == 0:
        pytest.skip("asyncssh is installed in this environment")
    proc = subprocess.run([sys.executable, "-m", "swarmtui", "--host", "ssh://user@127.0.0.1:1"],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "swarmtui[ssh]" in proc.stderr


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("garbage", "tcp://garbage:2375"),  # a bare host is tcp on 2375, like the docker CLI
        ("10.0.0.12:2376", "tcp://10.0.0.12:2376"),
        ("tcp://", "tcp://localhost:2375"),
        ("tcp://:2376", "tcp://localhost:2376"),
        ("tcp://[::1]", "tcp://[::1]:2375"),
        ("[::1]:2376", "tcp://[::1]:2376"),
        ("tcp://h:2375/prefix", "tcp://h:2375/prefix"),
        ("unix://", "unix:///var/run/docker.sock"),
        ("unix:///run/n2.sock", "unix:///run/n2.sock"),
        ("/run/n2.sock", "unix:///run/n2.sock"),  # swarmtui's one addition to the CLI's forms
        ("ssh://admin@node3", "ssh://admin@node3"),
        ("ssh://node3:2222", "ssh://node3:2222"),
        ("  tcp://h:1  ", "tcp://h:1"),
    ],
)
def test_addresses_read_like_the_docker_cli(text: str, url: str) -> None:
    assert parse_engine_url(text) == url


def test_unresolvable_host_names_what_was_understood() -> None:
    # No lookup is sent: the resolver's failure is built here.
    target = EngineTarget("tcp://garbage:2375", "--host", given="garbage")
    text = describe_connect_error(target, socket.gaierror(-2, "Name or service not known"))
    assert text == (
        "no Docker engine at tcp://garbage:2375 (--host 'garbage': a bare host means tcp on "
        "port 2375, as for the docker CLI): cannot resolve host 'garbage': point swarmtui at "
        "one with --host, --context or DOCKER_HOST"
    )
