"""The bad-input sweep: every value a user can type -- every option of every command, the
environment, engines.toml, and the app's prompts -- tried malformed, against an engine behind
the counting proxy. Each gives one clear line (``swarmtui: error: …`` and exit 2/1 in the
shell; a notice or the prompt's error line in the app), no traceback, and the proxy sees no
POST, PUT or DELETE.

The engine is the simulator (``swarmtui/sim`` on a unix socket, non-lab) and, marked lab, the
lab manager; one proxy per engine for the whole module. The option table is checked against
the argparse parsers: a new option without a malformed case here fails
``test_every_option_has_a_malformed_case``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from counting_proxy import CountingProxy
from test_input_errors import CASES as BASE_CASES
from test_input_errors import Case

from swarmtui.cli import build_parser, main
from swarmtui.engine import client as engine_client

ENGINE = "{engine}"  # replaced by the proxy's URL


@dataclass(frozen=True)
class Bad:
    """A malformed command line; ``{engine}`` in argv is the proxy's URL."""

    argv: list[str]
    status: int
    says: str
    env: dict[str, str] = field(default_factory=dict)
    config: str | None = None
    covers: tuple[str, ...] = ()  # positionals and subcommand choices, as "prune KIND"

    def __str__(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.env.items())
        argv = [a if a.strip() == a and a and len(a) < 40 else repr(a[:20])
                for a in self.argv if a != ENGINE]
        return " ".join([extra, *argv, "[toml]" if self.config else ""]).strip()


H = ["--host", ENGINE]
LONG_IMAGE = "a" * 300
SWEEP = [
    # -- global flags -------------------------------------------------------------------------
    Bad(["--read-only=yes", "df"], 2, "argument --read-only: ignored explicit argument 'yes'"),
    Bad(["--demo=1", "df"], 2, "argument --demo: ignored explicit argument '1'"),
    Bad(["--version=2"], 2, "argument --version: ignored explicit argument '2'"),
    Bad(["-c", "nosuch", "df"], 2, "docker context 'nosuch' does not exist"),
    Bad([*H, "--probe-image", "", "df", "--all-nodes", "--yes"], 2, "invalid --probe-image ''"),
    Bad([*H, "--probe-image", "bad image", "df", "--all-nodes", "--yes"], 2,
        "invalid --probe-image 'bad image'"),
    Bad([*H, "--probe-image", "Docker:cli", "df", "--all-nodes", "--yes"], 2,
        "invalid --probe-image 'Docker:cli': the repository name must be lowercase"),
    Bad([*H, "--probe-image", "docker::cli", "df", "--all-nodes", "--yes"], 2,
        "invalid --probe-image 'docker::cli'"),
    Bad([*H, "--probe-image", "::", "prune", "images", "--all-nodes", "--yes"], 2,
        "invalid --probe-image '::'"),
    Bad([*H, "--probe-image", LONG_IMAGE, "df", "--all-nodes", "--yes"], 2,
        "longer than 255 characters"),
    Bad([*H, "--probe-socket", "", "df", "--all-nodes", "--yes"], 2, "invalid --probe-socket ''"),
    Bad([*H, "--probe-socket", "run/docker.sock", "df", "--all-nodes", "--yes"], 2,
        "invalid --probe-socket 'run/docker.sock': an absolute path"),
    Bad([*H, "--probe-socket", "/a b.sock", "df", "--all-nodes", "--yes"], 2,
        "invalid --probe-socket '/a b.sock'"),
    Bad([*H, "--probe-socket", "/a.sock,readonly", "prune", "images", "--node", "x", "--yes"], 2,
        "invalid --probe-socket '/a.sock,readonly'"),
    Bad([*H, "df", "--all-nodes", "--yes"], 2, "invalid SWARMTUI_PROBE_IMAGE 'A B'",
        env={"SWARMTUI_PROBE_IMAGE": "A B"}),
    Bad([*H, "df", "--all-nodes", "--yes"], 2, "invalid SWARMTUI_PROBE_IMAGE 'Busybox'",
        env={"SWARMTUI_PROBE_IMAGE": "Busybox"}),
    Bad([*H, "df", "--all-nodes", "--yes"], 2, "invalid SWARMTUI_PROBE_SOCKET 'x'",
        env={"SWARMTUI_PROBE_SOCKET": "x"}),
    Bad(["nosuchcommand"], 2, "argument COMMAND: invalid choice: 'nosuchcommand'",
        covers=("COMMAND",)),
    # -- engines.toml: wrong types, unknown keys ------------------------------------------------
    Bad([*H, "df"], 2, "[probe] must be a table", config="probe = 3\n"),
    Bad([*H, "df"], 2, "unknown key(s) in [probe]: 'imag'", config='[probe]\nimag = "x"\n'),
    Bad([*H, "df"], 2, "probe.image must be a string", config="[probe]\nimage = 5\n"),
    Bad([*H, "df"], 2, "invalid probe.image in ", config='[probe]\nimage = "Bad Image"\n'),
    Bad([*H, "df"], 2, "invalid probe.image in ", config='[probe]\nimage = "UPPER"\n'),
    Bad([*H, "df"], 2, "invalid probe.socket in ", config='[probe]\nsocket = "rel"\n'),
    Bad([*H, "df"], 2, "engines.n2 must be a URL or context name",
        config='[engines]\nn2 = ["unix:///x"]\n'),
    Bad([*H, "df"], 2, "unknown key(s) 'engines2'", config="[engines2]\n"),
    # -- shot -------------------------------------------------------------------------------
    Bad([*H, "shot", "grid", "-o", "x.txt", "--size", ""], 2, "invalid size ''"),
    Bad([*H, "shot", "grid", "-o", "x.txt", "--size", "0x0"], 2, "invalid size '0x0'"),
    Bad([*H, "shot", "grid", "-o", "x.txt", "--timeout", "1e9"], 2, "invalid duration '1e9'"),
    Bad([*H, "shot", "grid", "-o", "x.txt", "--delay", "-5"], 2, "invalid duration '-5'"),
    Bad([*H, "shot", "", "-o", "x.txt"], 2, "unknown screen ''", covers=("shot screen",)),
    Bad([*H, "shot", "grid", "--output", ""], 2, "cannot write", covers=()),
    # -- logs -------------------------------------------------------------------------------
    Bad([*H, "logs", "~["], 2, "invalid regular expression '['", covers=("logs TARGET",)),
    Bad([*H, "logs", "~(a"], 2, "invalid regular expression '(a'"),
    Bad([*H, "logs", "nosuch-service"], 2, "no such service or stack: nosuch-service"),
    Bad([*H, "logs", "--follow=yes", "x"], 2, "argument -f/--follow: ignored explicit"),
    Bad([*H, "logs", "--tail", "1.5", "x"], 2, "invalid --tail '1.5'"),
    Bad([*H, "logs", "--tail", "١٢", "x"], 2, "invalid --tail"),
    Bad([*H, "logs", "--since", "5x", "x"], 2, "--since: invalid duration '5x': unknown unit"),
    Bad([*H, "logs", "--timestamps=1", "x"], 2, "argument -t/--timestamps: ignored explicit"),
    Bad([*H, "logs", "--no-task-ids=1", "x"], 2, "argument --no-task-ids: ignored explicit"),
    Bad([*H, "logs", "--no-trunc=1", "x"], 2, "argument --no-trunc: ignored explicit"),
    Bad([*H, "logs", "--raw=1", "x"], 2, "argument --raw: ignored explicit"),
    # -- df ---------------------------------------------------------------------------------
    Bad([*H, "df", "--verbose=1"], 2, "argument -v/--verbose: ignored explicit"),
    Bad([*H, "df", "--json=1"], 2, "argument --json: ignored explicit"),
    Bad([*H, "df", "--all-nodes=1"], 2, "argument --all-nodes: ignored explicit"),
    Bad([*H, "df", "--yes"], 2, "--yes and --probe-timeout go with --all-nodes"),
    Bad([*H, "df", "--probe-timeout", "5"], 2, "--yes and --probe-timeout go with --all-nodes"),
    Bad([*H, "df", "--all-nodes", "--yes", "--probe-timeout", "0"], 2,
        "invalid --probe-timeout '0'"),
    Bad([*H, "df", "--all-nodes", "--yes", "--probe-timeout", "abc"], 2,
        "invalid duration 'abc'"),
    Bad([*H, "df", "--all-nodes", "--yes", "--probe-timeout", "nan"], 2,
        "invalid duration 'nan'"),
    # -- prune ------------------------------------------------------------------------------
    Bad([*H, "prune", "", "--dry-run"], 2, "argument KIND: invalid choice: ''",
        covers=("prune KIND",)),
    Bad([*H, "prune", "Images", "--dry-run"], 2, "argument KIND: invalid choice: 'Images'"),
    Bad([*H, "prune", "image", "--dry-run"], 2, "argument KIND: invalid choice: 'image'"),
    Bad([*H, "prune", "all", "--yes"], 2, "argument KIND: invalid choice: 'all'"),
    Bad([*H, "prune", "images", "--all=1", "--yes"], 2, "argument -a/--all: ignored explicit"),
    Bad([*H, "prune", "images", "--volumes=1", "--yes"], 2, "argument --volumes: ignored"),
    Bad([*H, "prune", "images", "--dry-run=no", "--yes"], 2, "argument --dry-run: ignored"),
    Bad([*H, "prune", "images", "--yes=no"], 2, "argument -y/--yes/-f/--force: ignored"),
    Bad([*H, "prune", "images", "--force=no"], 2, "argument -y/--yes/-f/--force: ignored"),
    Bad([*H, "prune", "containers", "--yes", "--engine-name", ""], 2,
        "invalid --engine-name '': it is empty"),
    Bad([*H, "prune", "containers", "--yes", "--engine-name", "nosuch"], 2,
        "unknown engine 'nosuch'"),
    Bad([*H, "prune", "containers", "--yes", "--all-engines=1"], 2,
        "argument --all-engines: ignored explicit"),
    Bad([*H, "prune", "containers", "--yes", "--all-nodes=1"], 2,
        "argument --all-nodes: ignored explicit"),
    Bad([*H, "prune", "containers", "--yes", "--all-nodes", "--node", "x"], 2,
        "argument --node: not allowed with argument --all-nodes"),
    Bad([*H, "prune", "containers", "--yes", "--node", "nosuch-node"], 2,
        "unknown node 'nosuch-node'"),
    Bad([*H, "prune", "containers", "--yes", "--node", ""], 2, "invalid --node '': it is empty"),
    Bad([*H, "prune", "containers", "--yes", "--node", " "], 2, "invalid --node ' ': it is empty"),
    Bad([*H, "prune", "containers", "--yes", "--probe-timeout", "5"], 2,
        "--probe-timeout goes with --all-nodes or --node"),
    Bad([*H, "prune", "containers", "--yes", "--all-nodes", "--probe-timeout", "-1"], 2,
        "invalid duration '-1'"),
    Bad([*H, "prune", "volumes", "--yes", "--all-nodes", "--probe-timeout", "inf"], 2,
        "invalid duration 'inf'"),
    # -- rollout status ---------------------------------------------------------------------
    Bad([*H, "rollout"], 2, "the following arguments are required: COMMAND"),
    Bad([*H, "rollout", "nosuch"], 2, "argument COMMAND: invalid choice: 'nosuch'",
        covers=("rollout COMMAND",)),
    Bad([*H, "rollout", "status"], 2, "the following arguments are required: TARGET"),
    Bad([*H, "rollout", "status", "~["], 2, "invalid regular expression '['",
        covers=("rollout status TARGET",)),
    Bad([*H, "rollout", "status", "nosuch-service"], 2, "no such service or stack: nosuch"),
    Bad([*H, "rollout", "status", "x", "--timeout", "0"], 2, "invalid seconds '0'"),
    Bad([*H, "rollout", "status", "x", "--timeout", "-1"], 2, "invalid seconds '-1'"),
    Bad([*H, "rollout", "status", "x", "--timeout", "abc"], 2, "invalid seconds 'abc'"),
    Bad([*H, "rollout", "status", "x", "--timeout", "inf"], 2, "invalid seconds 'inf'"),
    Bad([*H, "rollout", "status", "x", "--timeout", "nan"], 2, "invalid seconds 'nan'"),
    Bad([*H, "rollout", "status", "x", "--interval", "0.1"], 2, "invalid --interval '0.1'"),
    Bad([*H, "rollout", "status", "x", "--interval", "60"], 2, "invalid --interval '60'"),
    Bad([*H, "rollout", "status", "x", "--interval", ""], 2, "invalid seconds ''"),
    # -- kiosk, metrics ---------------------------------------------------------------------
    Bad(["--kiosk=1", "df"], 2, "argument --kiosk: ignored explicit argument '1'"),
    Bad(["--ssh=1", "df"], 2, "ignored explicit argument '1'"),
    Bad([*H, "--kiosk", "serve"], 2, "kiosk.seconds must be a number above 0",
        config="[kiosk]\nseconds = 0\n"),
    Bad([*H, "--kiosk", "serve"], 2, "kiosk.views must be a list of strings",
        config='[kiosk]\nviews = "grid"\n'),
    Bad([*H, "--kiosk", "serve"], 2, "is not a regular expression",
        config='[kiosk]\nredact = ["("]\n'),
    Bad([*H, "--metrics", "nodeonly", "df"], 2, "invalid --metrics 'nodeonly': use NODE=HOST:PORT"),
    Bad([*H, "--metrics", "n1=:x", "df"], 2, "invalid --metrics n1 ':x'"),
    Bad([*H, "df"], 2, "metrics.n1 must be a string", config="[metrics]\nn1 = 9323\n"),
    # -- serve ------------------------------------------------------------------------------
    Bad([*H, "serve", "--bind", "0.0.0.0"], 2, "refusing to serve on 0.0.0.0, which is not "
        "loopback, without --public"),
    Bad([*H, "serve", "--bind", "nosuch..host"], 2, "refusing to serve on nosuch..host"),
    Bad([*H, "serve", "--port", "99999"], 2, "argument --port: invalid port '99999'"),
    Bad([*H, "serve", "--port", "http"], 2, "argument --port: invalid port 'http'"),
    Bad([*H, "serve", "--public=1"], 2, "argument --public: ignored explicit argument '1'"),
    Bad([*H, "serve", "--public-url", "garbage"], 2, "argument --public-url: invalid URL"),
    Bad([*H, "serve", "--public-url", "ftp://x/"], 2, "argument --public-url: invalid URL"),
    Bad([*H, "serve", "--allow-writes=1"], 2,
        "argument --allow-writes: ignored explicit argument '1'"),
]


def _aimed(case: Case) -> Bad:
    """A case of test_input_errors aimed at the proxy: ``--demo`` becomes ``--host``, unless
    the case picks its own engine (then it fails before contacting one)."""
    picks = {"--host", "-H", "--context", "-c", "--demo-scenario"} & set(case.argv) or (
        {"DOCKER_HOST", "DOCKER_CONTEXT"} & set(case.env))
    argv = list(case.argv)
    if "--demo" in argv and not picks:
        i = argv.index("--demo")
        argv[i:i + 1] = H
    return Bad(argv, case.status, case.says, dict(case.env), case.config)


ALL_CASES = [*map(_aimed, BASE_CASES), *SWEEP]


# -- every option of every command has a case ---------------------------------------------------
def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            yield path, action
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))
        else:
            yield path, action


def _covered(path: tuple[str, ...], action: argparse.Action, case: Bad) -> bool:
    argv = case.argv
    # the command's words, in order; the option after the last of them
    at = 0
    for word in path:
        if word not in argv[at:]:
            return False
        at = argv.index(word, at) + 1
    if not action.option_strings:
        name = " ".join([*path, action.metavar or action.dest])  # type: ignore[list-item]
        return name in case.covers
    rest = argv[at:] if path else argv[: min([argv.index(c) for c in _TOP if c in argv],
                                              default=len(argv))]
    return any(a.split("=", 1)[0] in action.option_strings for a in rest)


_TOP = {name for name in build_parser()._subparsers._group_actions[0].choices}  # type: ignore


def test_every_option_has_a_malformed_case() -> None:
    missing = [
        " ".join([*path, "/".join(a.option_strings) or str(a.metavar or a.dest)])
        for path, a in _commands(build_parser())
        if not any(_covered(path, a, c) for c in ALL_CASES)
    ]
    assert missing == [], "options without a malformed case in the sweep"


# -- the engines, each behind one counting proxy for the module ---------------------------------
class SimThread:
    """The demo simulator serving a unix socket from its own thread and event loop (the CLI
    runs its own loop with asyncio.run, the app its own)."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="swarmtui-sweep-")
        self.path = os.path.join(self.folder.name, "docker.sock")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: Any = None

    def __enter__(self) -> SimThread:
        from swarmtui.sim.scenarios import build_ending_at
        from swarmtui.sim.server import start_sim_server

        self.thread.start()
        cluster = build_ending_at("demo", time.time_ns())
        self.server = asyncio.run_coroutine_threadsafe(
            start_sim_server(cluster, self.path, realtime=True), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.folder.cleanup()


@dataclass
class Backend:
    name: str
    proxy: CountingProxy
    services: tuple[str, ...]  # a replicated service to scale, one to re-image


@pytest.fixture(scope="module", params=["sim", pytest.param("lab", marks=pytest.mark.lab)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "sim":
        with SimThread() as sim, CountingProxy(sim.path) as proxy:
            yield Backend("sim", proxy, ("shop_web",))
        return
    from lab_plugin import _exclusive, clean_swarm

    lab = request.getfixturevalue("lab")
    with _exclusive(lab):
        clean_swarm(lab)
        lab.docker("service", "create", "--name", "swt-bad-web", "--replicas", "2",
                   "--no-resolve-image", "--detach", "busybox:lab", "sleep", "3600")
        lab.docker("volume", "create", "swt-bad-volume")  # so a volume prune asks for a name
        try:
            with CountingProxy(lab.manager.sock) as proxy:
                yield Backend("lab", proxy, ("swt-bad-web",))
        finally:
            clean_swarm(lab)


@contextlib.contextmanager
def clean_environment(home: Path, env: dict[str, str]) -> Iterator[None]:
    """No engine settings from the machine, plus the case's own variables."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS",
                    "DOCKER_CERT_PATH", "SWARMTUI_LOG_LINES", "SWARMTUI_PROBE_IMAGE",
                    "SWARMTUI_PROBE_SOCKET"):
            mp.delenv(var, raising=False)
        mp.setenv("HOME", str(home))
        mp.setenv("DOCKER_CONFIG", str(home / ".docker"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.chdir(home)
        mp.setattr(engine_client, "has_asyncssh", lambda: False)
        for name, value in env.items():
            mp.setenv(name, value.replace("{tmp}", str(home)))
        yield


def run_cli_case(case: Bad, url: str, home: Path) -> tuple[int, str]:
    """Run one case as from the shell; returns its exit status and stderr."""
    (home / "afile").write_text("")
    if case.config is not None:
        folder = home / "config" / "swarmtui"
        folder.mkdir(parents=True)
        (folder / "engines.toml").write_text(case.config)
    argv = [url if a == ENGINE else a for a in case.argv]
    err, out = io.StringIO(), io.StringIO()
    with clean_environment(home, case.env), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors
            code = int(exc.code or 0)
    return code, err.getvalue()


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_malformed_command_line_is_one_line_and_changes_nothing(
        case: Bad, backend: Backend, tmp_path: Path) -> None:
    if case.status == 1 and "127.0.0.1:2375" in case.says:
        pytest.skip("needs 127.0.0.1:2375 closed (test_input_errors checks it)")
    backend.proxy.reset()
    code, err = run_cli_case(case, backend.proxy.url, tmp_path)
    lines = err.splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("swarmtui: error: "), err
    assert case.says in lines[0], err
    assert code == case.status, err
    assert backend.proxy.mutating() == [], "a malformed value reached the engine"
    assert not (tmp_path / "x.txt").exists()


def test_the_sweep_reaches_the_engine(backend: Backend, tmp_path: Path) -> None:
    """The proxy can fail the sweep: a case that gets past validation talks through it."""
    backend.proxy.reset()
    code, err = run_cli_case(Bad([*H, "logs", "nosuch-service"], 2, ""), backend.proxy.url,
                             tmp_path)
    assert code == 2 and backend.proxy.seen(), err


# -- the app's prompts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Prompted:
    """A value typed into a view's prompt: ``says`` a piece of the one line it gives (a
    notice), None when it is taken as it is (a filter word); either way no traceback, no
    confirmation, nothing sent."""

    view: str
    key: str
    value: str
    says: str | None
    select_service: bool = False  # the backend's replicated service selected first
    compose: str | None = None  # a compose file written for the value's {file}

    def __str__(self) -> str:
        shown = self.value if len(self.value) < 30 else self.value[:12] + "…"
        return f"{self.view} {self.key} {shown!r}" + (f" [{self.compose}]" if self.compose else "")


LONG = "a" * 300
BAD_COMPOSE = {
    "yaml": "services: [\n",
    "unknown-key": "services:\n  web:\n    image: busybox\n    bogus: 1\n",
    "replicas-negative": "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: -1\n",
    "replicas-text": "services:\n  web:\n    image: busybox\n    deploy:\n      replicas: abc\n",
    "image-spaces": "services:\n  web:\n    image: 'Bad Image'\n",
    "image-colons": "services:\n  web:\n    image: 'busybox::1'\n",
}
PROMPTS = [
    # services: scale, image, update config
    Prompted("services", "s", "-1", "replicas must be a whole number of 0 or more, not '-1'",
             True),
    Prompted("services", "s", "1e9", "not '1e9'", True),
    Prompted("services", "s", "abc", "not 'abc'", True),
    Prompted("services", "s", "", "not ''", True),
    Prompted("services", "s", "99999999999999999999999", "replicas must be at most", True),
    Prompted("services", "i", "busy box", "it contains a space", True),
    Prompted("services", "i", "Busybox:1", "the repository name must be lowercase", True),
    Prompted("services", "i", "busybox::1", "invalid image reference 'busybox::1'", True),
    Prompted("services", "i", "::", "invalid image reference '::'", True),
    Prompted("services", "i", LONG, "longer than 255 characters", True),
    Prompted("services", "i", "", "invalid image reference: it is empty", True),
    Prompted("services", "u", "parallelism=abc", "parallelism", True),
    Prompted("services", "u", "bogus=1", "bogus", True),
    # nodes: labels
    Prompted("nodes", "l", "", "label"),
    Prompted("nodes", "l", "=x", "label"),
    Prompted("nodes", "L", "", "label"),
    # secrets and configs: names
    Prompted("secrets", "c", "", "a secret needs a name"),
    Prompted("secrets", "c", "bad name", "invalid secret name 'bad name'"),
    Prompted("secrets", "c", "-x", "invalid secret name '-x'"),
    Prompted("secrets", "c", "a/b", "invalid secret name 'a/b'"),
    Prompted("secrets", "c", LONG, "longer than"),
    Prompted("configs", "c", "bad name", "invalid config name 'bad name'"),
    # filters: a bad regex is one line (or a plain word where the filter has no regex)
    Prompted("grid", "slash", "[", None),
    Prompted("grid", "slash", "service:~[ label:", None),
    Prompted("events", "slash", "~[", "["),
    Prompted("events", "slash", "type:bogus", "bogus"),
    Prompted("logs", "ampersand", "[", "["),
    Prompted("logs", "ampersand", "!(a", "(a"),
    Prompted("logs", "slash", "[", "["),
    Prompted("logs", "f", "~[", "["),
    Prompted("logs", "s", "soon", "soon"),
    Prompted("logs", "e", "/nonexistent/out.log", "cannot write /nonexistent/out.log"),
    # stacks: the deploy prompt and malformed compose files
    Prompted("stacks", "u", "only-one-word", "give the compose file and the stack name"),
    Prompted("stacks", "u", "/nonexistent/stack.yml st", "/nonexistent/stack.yml"),
    Prompted("stacks", "u", "{file} -bad", "invalid stack name", compose="unknown-key"),
    *(Prompted("stacks", "u", "{file} swtbad", says, compose=kind) for kind, says in (
        ("yaml", "did not find expected node content"),
        ("unknown-key", "Additional property bogus is not allowed"),
        ("replicas-negative", "-1 overflows uint"),
        ("replicas-text", "replicas must be a integer"),
        ("image-spaces", "invalid image reference 'Bad Image'"),
        ("image-colons", "invalid image reference 'busybox::1'"),
    )),
]


def _open_prompt(screen: Any) -> Any:
    from swarmtui.widgets.prompt import Prompt

    return next((p for p in screen.query(Prompt) if p.is_open), None)


async def _select_service(app: Any, pilot: Any, name: str) -> None:
    from textual.widgets import DataTable

    for _ in range(100):
        svc = next((s for s in app.runtime.live.store.state.services.values()
                    if s.name == name), None)
        if svc is not None:
            break
        await pilot.pause(0.05)
    assert svc is not None, f"no service {name}"
    table = app.screen.query_one(DataTable)
    for _ in range(100):
        try:
            table.move_cursor(row=table.get_row_index(svc.id))
            break
        except Exception:  # the row is not drawn yet
            await pilot.pause(0.05)
    await pilot.pause()


async def _try_prompt(app: Any, pilot: Any, case: Prompted, backend: Backend,
                      folder: Path) -> str | None:
    """Type the case's value; None when all is well, else what went wrong."""
    from swarmtui.screens.operation import ConfirmOperationScreen

    app.switch_mode(case.view)
    await pilot.pause(0.2)
    screen = app.screen
    if case.select_service:
        await _select_service(app, pilot, backend.services[0])
    value = case.value
    if case.compose is not None:
        path = folder / f"{case.compose}.yml"
        path.write_text(BAD_COMPOSE[case.compose])
        value = value.replace("{file}", str(path))
    app.clear_notifications()
    backend.proxy.reset()
    await pilot.press(case.key)
    await pilot.pause(0.1)
    prompt = _open_prompt(screen)
    if prompt is None:
        return f"no prompt opened (notices: {[n.message for n in app._notifications]})"
    prompt.value = value
    await pilot.press("enter")
    said: list[str] = []
    for _ in range(100):  # a preview is a worker: its one line comes later
        await pilot.pause(0.05)
        said = [n.message for n in app._notifications]
        if said or case.says is None or isinstance(app.screen, ConfirmOperationScreen):
            break
    problems = []
    if app._exception is not None:
        problems.append(f"traceback: {app._exception!r}")
    if isinstance(app.screen, ConfirmOperationScreen):
        problems.append("a confirmation opened")
        await pilot.press("escape")
    if case.says is None:
        if said:
            problems.append(f"expected no notice, got {said}")
    elif len(said) != 1 or "\n" in said[0] or case.says not in said[0]:
        problems.append(f"expected one line with {case.says!r}, got {said}")
    if backend.proxy.mutating():
        problems.append(f"sent {backend.proxy.mutating()}")
    for _ in range(4):  # close what is still open, as a user would
        if app.screen is screen and _open_prompt(screen) is None:
            break
        await pilot.press("escape")
        await pilot.pause(0.05)
    if app.screen is not screen:
        app.switch_mode(case.view)
    return "; ".join(problems) or None


async def _typed_volume_confirmation_wrong(app: Any, pilot: Any, backend: Backend) -> str | None:
    """The volume prune's typed confirmation, typed wrong: the dialog's error line and one
    notice, and nothing sent."""
    from test_disk_ui import CHOICE_KEYS
    from textual.widgets import Input

    from swarmtui.screens.confirm_prune import PruneChooser
    from swarmtui.screens.operation import ConfirmOperationScreen

    app.switch_mode("disk")
    for _ in range(100):
        await pilot.pause(0.1)
        if all(e.df.usage for e in app.runtime.fleet.engines):
            break
    app.clear_notifications()
    backend.proxy.reset()
    await pilot.press("p")
    for _ in range(100):
        await pilot.pause(0.05)
        if isinstance(app.screen, PruneChooser):
            break
    await pilot.press(*CHOICE_KEYS["volumes"], "enter")
    for _ in range(200):
        await pilot.pause(0.05)
        if isinstance(app.screen, ConfirmOperationScreen):
            break
    dialog = app.screen
    if not isinstance(dialog, ConfirmOperationScreen):
        return f"no confirmation opened ({[n.message for n in app._notifications]})"
    if not dialog.typed:
        await pilot.press("escape")
        return "the volume prune did not ask for a typed name"
    dialog.query_one("#confirm-typed", Input).value = "not-the-engine"
    await pilot.press("enter")
    await pilot.pause(0.2)
    problems = []
    wrong = dialog.query_one("#confirm-typed-wrong")
    if not wrong.display:
        problems.append("no error line under the typed name")
    said = [n.message for n in app._notifications]
    if len(said) != 1 or "exactly to confirm" not in said[0]:
        problems.append(f"notices: {said}")
    await pilot.click("#confirm-yes")  # disabled: nothing may happen
    await pilot.pause(0.2)
    if app.screen is dialog:
        await pilot.press("escape")
    if backend.proxy.mutating():
        problems.append(f"sent {backend.proxy.mutating()}")
    return "; ".join(problems) or None


async def test_malformed_prompt_values_are_one_line_and_change_nothing(
        backend: Backend, tmp_path: Path) -> None:
    from uistate import make_app

    from swarmtui.engine.client import EngineClient
    from swarmtui.engine.disk import DiskFleet
    from swarmtui.engine.live import LiveSwarm
    from swarmtui.engine.target import resolve_target

    target = resolve_target(host=backend.proxy.url, env={})
    app = make_app(LiveSwarm(EngineClient(target)),
                   disk=DiskFleet.from_targets(target, ()), start_mode="grid")
    failures: dict[str, str] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        await app.runtime.live.wait_full_state(20)
        await pilot.pause(0.3)
        for case in PROMPTS:
            problem = await _try_prompt(app, pilot, case, backend, tmp_path)
            if problem:
                failures[str(case)] = problem
        problem = await _typed_volume_confirmation_wrong(app, pilot, backend)
        if problem:
            failures["disk: volume prune, typed name wrong"] = problem
        assert app._exception is None
    assert failures == {}
