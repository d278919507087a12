"""`swarmtui logs` without an engine: argument errors, and the line writer's output rules."""

from __future__ import annotations

import io

import pytest

from swarmtui.cli import main
from swarmtui.cli.logs import LineWriter, PipeClosed, parse_tail
from swarmtui.model.logs import LogLine


def line(text: str, stream: str = "stdout", slot: int | None = 2) -> LogLine:
    return LogLine(-1, 1, "2026-11-25T12:36:07.885178340Z", stream,  # type: ignore[arg-type]
                   "svc1", "web", "1n7j8lkaz3y8p7qtpfqmt81qt", slot, "n1", "lab-node1", text)


def writer(**kw: object) -> tuple[LineWriter, io.BytesIO, io.BytesIO]:
    out, err = io.BytesIO(), io.BytesIO()
    opts: dict[str, object] = dict(timestamps=False, task_ids=True, no_trunc=False, raw=False,
                                   replicas={"svc1": 12}, colour=False, out=out, err=err)
    opts.update(kw)
    return LineWriter(**opts), out, err  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["logs", "web", "--since", "yesterday"], 2, "failed to parse --since 'yesterday'"),
        (["logs", "web", "--since", "3d"], 2, "days/weeks are not Go duration units"),
        (["-H", "unix:///nonexistent/docker.sock", "logs", "web"], 1, "no Docker engine at"),
        (["logs"], 2, "the following arguments are required: TARGET"),
        (["logs", "~(web"], 2, "invalid regular expression '(web'"),
    ],
)
def test_errors_are_one_line(argv: list[str], status: int, message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == status
    assert message in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""


def test_docker_cli_format_and_streams() -> None:
    w, out, err = writer()
    w.write([line("hello"), line("oops", "stderr"), line("gone", "daemon")])
    assert out.getvalue().decode() == "web.2.1n7j8lkaz3y8@lab-node1     | hello\n"
    assert err.getvalue().decode() == (
        "web.2.1n7j8lkaz3y8@lab-node1     | oops\nerror from daemon in stream: gone\n")
    assert w.daemon_errors == 1


def test_flags_timestamps_no_task_ids_no_trunc_raw() -> None:
    assert writer(timestamps=True)[0].format(line("x")) == (
        "2026-11-25T12:36:07.885178340Z web.2.1n7j8lkaz3y8@lab-node1     | x")
    assert writer(task_ids=False)[0].format(line("x")) == "web.2@lab-node1     | x"
    assert writer(no_trunc=True)[0].format(line("x")).startswith(
        "web.2.1n7j8lkaz3y8p7qtpfqmt81qt@lab-node1")
    assert writer(raw=True)[0].format(line("x")) == "x"
    assert writer(raw=True, timestamps=True)[0].format(line("x")) == (
        "2026-11-25T12:36:07.885178340Z x")
    assert writer()[0].format(line("x", slot=None)) == "web.0.1n7j8lkaz3y8@lab-node1     | x"


def test_colour_only_on_the_prefix() -> None:
    w, out, _ = writer(colour=True)
    w.write([line("\u241b[31m is inert text")])
    text = out.getvalue().decode()
    assert text.startswith("\x1b[") and "\x1b[0m\u241b[31m is inert text\n" in text
    assert text.count("\x1b") == 2  # one colour, one reset: nothing from the container


def test_closed_pipe_raises_pipe_closed() -> None:
    class Closed(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            raise BrokenPipeError(32, "Broken pipe")

    w, _, _ = writer(out=Closed())
    with pytest.raises(PipeClosed):
        w.write([line("x")])


def test_parse_tail_like_docker_service_logs() -> None:
    # The daemon answers `docker service logs --tail ten` with 'tail value must be a positive
    # integer or "all"' and -1 with "negative tail values not supported": refused here too.
    assert parse_tail("all") is None
    assert parse_tail("10") == 10
    assert parse_tail("0") == 0
    for bad in ("-1", "ten", "1.5", "²"):
        with pytest.raises(ValueError, match="invalid --tail"):
            parse_tail(bad)
