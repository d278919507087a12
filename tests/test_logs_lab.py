"""Merged logs against the real multi-node swarm lab.

* ``swarmtui logs STACK`` prints the same lines as ``docker service logs`` of each service.
* A hostile container (escape sequences, C1 controls, invalid UTF-8, NUL, bidi overrides, a
  1 MB line) cannot reach the terminal: not through ``swarmtui logs``, not into the pane's ring.
* Follow streams survive a manager restart, a worker restart and a rolling update: every
  task's counter arrives complete, each value exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from lab_plugin import wait_until
from swarmlab import Lab

from swarmtui.engine.client import EngineClient
from swarmtui.engine.live import LiveSwarm
from swarmtui.engine.logs import FollowOptions, LogSession
from swarmtui.engine.target import EngineTarget
from swarmtui.model.log_targets import LogTargets
from swarmtui.model.logs import LogLine, sanitize

pytestmark = pytest.mark.lab

# What must never reach a terminal: C0 controls except the newline that ends a line, DEL,
# C1 controls (also as UTF-8 code points), bidi embeddings/overrides/isolates.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
COUNTER = "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.05; done"


def swarmtui_cmd(lab: Lab, *args: str) -> list[str]:
    return [sys.executable, "-m", "swarmtui", "-H", lab.manager_host, "logs", *args]


def swarmtui_logs(lab: Lab, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(swarmtui_cmd(lab, *args), capture_output=True, timeout=timeout,
                          env=lab.docker_env())


def docker_logs(lab: Lab, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([lab.cli, "-H", lab.manager_host, "service", "logs", *args],
                          capture_output=True, timeout=60, env=lab.docker_env())


def lines_of(data: bytes) -> list[str]:
    return data.decode("utf-8").splitlines()


def neutralised(lines: list[str], flags: list[str]) -> list[str]:
    """docker CLI lines with the message passed through ``sanitize`` (swarmtui always does;
    for these plain lines that only expands tabs)."""
    out = []
    for line in lines:
        if "--raw" in flags:
            head, msg = (line.split(" ", 1) if "-t" in flags else ("", line))
            out.append((head + " " if head else "") + sanitize(msg))
        else:
            head, sep, msg = line.partition("    | ")
            out.append(head + sep + sanitize(msg))
    return out




async def async_wait(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = pred()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)


def create_service(lab: Lab, name: str, script: str, *args: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", "--name", name, *args,
               "busybox:lab", "sh", "-c", script)


@pytest.fixture
async def live(swarm: Lab) -> AsyncIterator[LiveSwarm]:
    live = LiveSwarm(EngineClient(EngineTarget(swarm.manager_host, "test")))
    live.start()
    await live.wait_full_state(30)
    yield live
    await live.stop()


# ------------------------------------------------------------------------------------- (a)

STACK_FILE = """\
version: "3.8"
services:
  web:
    image: busybox:lab
    command: ["sh", "-c", "for i in $$(seq 1 25); do echo \\"web out $$i\\"; \
echo \\"web err $$i\\" >&2; done; echo 'tab\\there'; {loop}"]
    deploy:
      replicas: 2
  worker:
    image: busybox:lab
    command: ["sh", "-c", "for i in $$(seq 1 12); do echo \\"worker $$i ü 日志\\"; done; {loop}"]
  agent:
    image: busybox:lab
    command: ["sh", "-c", "echo \\"agent on $$(hostname)\\"; {loop}"]
    deploy:
      mode: global
"""


def test_stack_logs_match_docker_service_logs(swarm: Lab, tmp_path: Path) -> None:
    compose = tmp_path / "stack.yml"
    compose.write_text(STACK_FILE.format(loop=LOOP.replace("$", "$$")))
    swarm.docker("stack", "deploy", "-c", str(compose), "--resolve-image", "never", "lgs")
    services = ["lgs_agent", "lgs_web", "lgs_worker"]
    expected_counts = {"lgs_web": 2 * 25 + 2, "lgs_worker": 12, "lgs_agent": 3}

    def all_logged() -> bool:
        for svc, n in expected_counts.items():
            if len(lines_of(docker_logs(swarm, svc).stdout)) < n:
                return False
        return True

    wait_until(all_logged, 60, "every task of the stack to print its lines")
    time.sleep(1.0)

    for flags in ([], ["-t"], ["--no-task-ids"], ["--raw"], ["--tail", "3"]):
        ours = swarmtui_logs(swarm, *flags, "lgs")
        assert ours.returncode == 0, ours.stderr
        theirs_out: Counter[str] = Counter()
        theirs_err: Counter[str] = Counter()
        for svc in services:
            proc = docker_logs(swarm, *flags, svc)
            theirs_out.update(neutralised(lines_of(proc.stdout), flags))
            theirs_err.update(neutralised(lines_of(proc.stderr), flags))
        # Same lines, same number of times (multisets: --raw repeats lines across tasks).
        assert Counter(lines_of(ours.stdout)) == theirs_out, flags
        assert Counter(lines_of(ours.stderr)) == theirs_err, flags
        if flags == ["-t"]:
            stamps = [line.split(" ", 1)[0] for line in lines_of(ours.stdout)]
            assert stamps == sorted(stamps), "merged output is in timestamp order"

    # A stack and a service together; a service by unique ID prefix.
    web_id = swarm.docker("service", "inspect", "--format", "{{.ID}}", "lgs_web").stdout.strip()
    both = swarmtui_logs(swarm, "lgs", web_id[:6])
    assert both.returncode == 0
    assert Counter(lines_of(both.stdout)) == Counter(lines_of(swarmtui_logs(swarm, "lgs").stdout))

    unknown = swarmtui_logs(swarm, "lgs", "nosuchthing")
    assert unknown.returncode == 2  # a target that matches nothing, as for rollout status
    assert unknown.stdout == b""
    assert unknown.stderr.decode().count("\n") == 1
    assert "no such service or stack: nosuchthing" in unknown.stderr.decode()


def test_closed_pipe_and_ctrl_c_exit_cleanly(swarm: Lab) -> None:
    create_service(swarm, "lgpipe", COUNTER, "--replicas", "2")
    wait_until(lambda: len(lines_of(docker_logs(swarm, "lgpipe").stdout)) > 50, 30, "ticks")
    # `| head -1`: exit 0, no traceback.
    proc = subprocess.run(" ".join(swarmtui_cmd(swarm, "-f", "lgpipe")) + " | head -1",
                          shell=True, capture_output=True, timeout=30, env=swarm.docker_env(),
                          executable="/bin/bash")
    assert proc.returncode == 0
    assert len(lines_of(proc.stdout)) == 1
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr
    status = subprocess.run(
        ["bash", "-c", " ".join(swarmtui_cmd(swarm, "-f", "lgpipe")) + " | head -1 >/dev/null;"
         " echo ${PIPESTATUS[0]}"], capture_output=True, timeout=30, env=swarm.docker_env())
    assert status.stdout.strip() == b"0", status.stderr
    # Ctrl-C while following: exit 130, no traceback.
    follower = subprocess.Popen(swarmtui_cmd(swarm, "-f", "--tail", "1", "lgpipe"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=swarm.docker_env())
    time.sleep(3)
    follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=20)
    assert follower.returncode == 130
    assert b"Traceback" not in err
    assert re.match(rb"lgpipe\.\d\.\w{12}@lab-node\d +\| tick \d+", out)


# ------------------------------------------------------------------------------------- (b)

HOSTILE = r"""
printf 'csi \033[2J\033[H\033[?1049h home\n'
printf 'sgr \033[31mred\033[0m plain\n'
printf 'osc52 \033]52;c;ZXZpbA==\007 end\n'
printf 'title \033]0;pwned\007 end\n'
printf 'hyperlink \033]8;;http://x\033\\link\033]8;;\033\\ end\n'
printf 'c1 \302\233 2J \302\235 0;t \302\234 end\n'
printf 'raw8 \233 2J \377\376 bad utf8 \300\200 end\n'
printf 'nul \000 x\n'
printf 'bidi \342\200\256 evil \342\201\246 iso\n'
printf 'ctl \b\b\b cr \r del \177 bel \007 end\n'
printf 'dcs \033P+q\033\\ apc \033_x\033\\ end\n'
s=A; i=0; while [ $i -lt 20 ]; do s=$s$s; i=$((i+1)); done; echo "long $s"
printf 'stderr \033[5m blink \033]52;c;eA==\007\n' >&2
echo done
""" + LOOP

LONG_LINE_CHARS = 5 + (1 << 20)  # "long " + 1 MiB of A


def assert_harmless(text: str, where: str) -> None:
    bad = FORBIDDEN.search(text)
    context = text[max(0, bad.start() - 40) : bad.start() + 40] if bad else ""
    assert bad is None, f"{where}: {bad.group()!r} at {bad.start()}: {context!r}"
    assert "\x1b" not in text


async def test_hostile_output_is_neutralised(swarm: Lab, live: LiveSwarm) -> None:
    create_service(swarm, "hostile", HOSTILE)
    create_service(swarm, "hostiletty", HOSTILE, "--tty")

    def logged(name: str) -> bool:
        return b"done" in docker_logs(swarm, "--raw", name).stdout

    wait_until(lambda: logged("hostile") and logged("hostiletty"), 60, "hostile output")
    # The container really sends what the docker CLI would pass to the terminal.
    raw = docker_logs(swarm, "hostile")
    assert b"\x1b]52;c;" in raw.stdout and b"\x1b]0;pwned" in raw.stdout

    for flags in ([], ["-t"], ["--raw"], ["--no-task-ids"]):
        for name in ("hostile", "hostiletty"):
            proc = swarmtui_logs(swarm, *flags, name)
            assert proc.returncode == 0, proc.stderr
            for stream in (proc.stdout, proc.stderr):
                text = stream.decode("utf-8")  # strict: output is always valid UTF-8
                assert_harmless(text, f"swarmtui logs {' '.join(flags)} {name}")
            out = proc.stdout.decode()
            assert "done" in out and "red plain" in out
            long_lines = [ln for ln in out.splitlines() if "long AAAA" in ln]
            assert len(long_lines) == 1, f"the 1 MB line is one line ({name})"
            m = re.search(r"… \[\+(\d+) chars\]$", long_lines[0])
            assert m is not None, "the cut is visible"
            assert len(long_lines[0]) < 4200
            assert int(m.group(1)) + 4000 >= LONG_LINE_CHARS - 16  # nothing silently lost
            if name == "hostile":
                assert "stderr" in proc.stderr.decode()

    # The pane's ring (what the log view renders) is just as clean.
    session = LogSession(live.client, live.store, capacity=1000, options=FollowOptions(tail=None))
    session.start(LogTargets(services=("hostile", "hostiletty")))
    try:
        def ring_done() -> bool:
            texts = [line.text for line in session.ring]
            return sum(1 for t in texts if t == "done") == 2

        await async_wait(ring_done, 30, "the hostile lines in the ring")
        lines: list[LogLine] = list(session.ring)
        for line in lines:
            assert_harmless(line.text, f"ring {line.service_name}")
            assert_harmless(line.node_name + line.service_name, "names")
        longs = [ln for ln in lines if ln.text.startswith("long AAAA")]
        assert len(longs) == 2 and all("… [+" in ln.text and len(ln.text) < 4100 for ln in longs)
        assert any(ln.stream == "stderr" for ln in lines)
    finally:
        await session.stop()


# ------------------------------------------------------------------------------------- (c)


def counters(pairs: Iterable[tuple[str, str]]) -> dict[str, list[int]]:
    """task id -> tick values in arrival order."""
    out: dict[str, list[int]] = {}
    for task, text in pairs:
        m = re.fullmatch(r"tick (\d+)", text)
        if m:
            out.setdefault(task, []).append(int(m.group(1)))
    return out


def assert_complete_once(per_task: dict[str, list[int]], what: str) -> None:
    """Every task's ticks 1..n each exactly once, in order: no duplicate, no gap."""
    assert per_task, what
    for task, ticks in per_task.items():
        dups = [v for v, n in Counter(ticks).items() if n > 1]
        assert not dups, f"{what}: task {task[:12]} duplicated ticks {dups[:10]}"
        assert ticks == list(range(1, len(ticks) + 1)), (
            f"{what}: task {task[:12]} has gaps: first {ticks[:3]}, "
            f"{[(a, b) for a, b in itertools.pairwise(ticks) if b != a + 1][:5]}"
        )


def cli_counters(out: bytes) -> dict[str, list[int]]:
    pairs = []
    for line in out.decode().splitlines():
        m = re.match(r"\S+\.\d+\.(\w{12})@\S+ +\| (.*)$", line)
        if m:
            pairs.append((m.group(1), m.group(2)))
    return counters(pairs)


async def follow_through(swarm: Lab, live: LiveSwarm, service: str,
                         action: Callable[[], Any], settle: float = 4.0
                         ) -> tuple[LogSession, dict[str, list[int]], dict[str, list[int]]]:
    """Follow ``service`` in-process and with ``swarmtui logs -f`` while ``action`` runs."""
    session = LogSession(live.client, live.store, capacity=200_000,
                         options=FollowOptions(tail=None, stall_s=3.0))
    session.start(LogTargets(services=(service,)))
    # A child we only signal and collect at the end (ASYNC220: no blocking wait here).
    cli = subprocess.Popen(swarmtui_cmd(swarm, "-f", service), stdout=subprocess.PIPE,  # noqa: ASYNC220
                           stderr=subprocess.PIPE, env=swarm.docker_env())
    try:
        await async_wait(lambda: len(session.ring) > 40, 30, "ticks before the action")
        await asyncio.to_thread(action)
        after = len(session.ring)
        await async_wait(lambda: len(session.ring) > after + 40, 60, "ticks after the action")
        await asyncio.sleep(settle)
    finally:
        cli.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(cli.communicate, timeout=30)
        await session.stop()
    assert cli.returncode == 130, err
    ring = counters((line.task_id, line.text) for line in session.ring)
    return session, ring, cli_counters(out)


async def test_follow_resumes_across_manager_restart(swarm: Lab, live: LiveSwarm) -> None:
    """The manager (which serves the stream) restarts; the tasks on the workers keep
    printing meanwhile. The resumed stream (``since=`` + dedupe) loses and repeats nothing."""
    create_service(swarm, "ticker", COUNTER, "--replicas", "2",
                   "--constraint", "node.role==worker")
    wait_until(lambda: b"tick 5" in docker_logs(swarm, "ticker").stdout, 30, "ticks")
    session, ring, cli = await follow_through(swarm, live, "ticker",
                                              lambda: swarm.restart_daemon(0))
    assert sum(h.reconnects for h in session.health()) >= 1, "the stream really broke"
    assert len(ring) == 2
    assert_complete_once(ring, "ring")
    assert_complete_once(cli, "swarmtui logs -f")
    assert ring.keys() == {t for t in ring} and {t[:12] for t in ring} == set(cli)


async def test_follow_keeps_flowing_across_worker_restart(swarm: Lab, live: LiveSwarm) -> None:
    """The node running the task restarts: the task is replaced and its successor flows."""
    node = swarm.nodes[1].name
    create_service(swarm, "ticker", COUNTER, "--constraint", f"node.hostname=={node}")
    wait_until(lambda: b"tick 5" in docker_logs(swarm, "ticker").stdout, 30, "ticks")
    _, ring, cli = await follow_through(swarm, live, "ticker", lambda: swarm.restart_daemon(1))
    assert len(ring) >= 2, "the replacement task's lines arrive on the same follow"
    assert_complete_once(ring, "ring")
    assert_complete_once(cli, "swarmtui logs -f")


async def test_follow_keeps_flowing_through_rolling_update(swarm: Lab, live: LiveSwarm) -> None:
    create_service(swarm, "ticker", COUNTER, "--replicas", "2", "--update-delay", "1s")

    def update() -> None:
        swarm.docker("service", "update", "--detach", "--image", "busybox:lab2",
                      "--no-resolve-image", "ticker")
        wait_until(lambda: swarm.docker("service", "inspect", "--format",
                                        "{{.UpdateStatus.State}}", "ticker").stdout.strip()
                   == "completed", 60, "the update to complete")

    wait_until(lambda: b"tick 5" in docker_logs(swarm, "ticker").stdout, 30, "ticks")
    session, ring, cli = await follow_through(swarm, live, "ticker", update)
    assert len(ring) == 4, "two old tasks and their two replacements"
    assert_complete_once(ring, "ring")
    assert_complete_once(cli, "swarmtui logs -f")
    assert sum(h.reconnects for h in session.health()) == 0, "no resume was needed"
