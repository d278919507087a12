"""The pure part of node probes: framing that survives the 16 KiB log-line split, HTTP
answers as dial-stdio returns them, which nodes a global job reaches, and the task's script
run for real by the host's busybox sh against a fake docker CLI."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from swarmtui.model.probe import (
    CHUNK_CHARS,
    ProbeAnswerError,
    ProbeNode,
    ProbeRequest,
    answer_json,
    answer_text,
    frame_lines,
    not_probeable,
    parse_http,
    probe_script,
    reassemble,
    without_probe_containers,
)

DF = json.dumps({"LayersSize": 123, "Images": [{"Id": "x" * 64}] * 500}).encode()


def chunked(body: bytes, size: int = 1000) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_frames_are_short_and_reassemble_in_any_order_with_noise() -> None:
    payload = os.urandom(100_000)
    lines = frame_lines("df", payload)
    assert len(lines) > 1
    assert all(len(line) < 16 * 1024 for line in lines)
    assert len(lines[0].split(" ", 3)[3]) == CHUNK_CHARS
    mixed = lines + frame_lines("version", b'{"ApiVersion":"1.41"}') + lines[:2]  # duplicates
    random.Random(4).shuffle(mixed)
    got = reassemble(["warning: something on stderr", *mixed, ""])
    assert got.answers == {"df": payload, "version": b'{"ApiVersion":"1.41"}'}
    assert got.incomplete == {}
    assert got.other == ("warning: something on stderr",)


def test_a_missing_line_is_reported_not_guessed() -> None:
    lines = frame_lines("df", os.urandom(30_000))
    got = reassemble(lines[:1] + lines[2:])
    assert got.answers == {}
    assert got.incomplete == {"df": f"{len(lines) - 1} of {len(lines)} lines arrived"}


def test_an_empty_answer_is_one_empty_frame() -> None:
    assert frame_lines("df", b"") == ["swarmtui-probe df 1/1 "]
    assert reassemble(["swarmtui-probe df 1/1 "]).answers == {"df": b""}


def test_http_chunked_and_content_length_and_errors() -> None:
    assert parse_http(chunked(DF)).body == DF
    assert answer_json(chunked(DF), "df")["LayersSize"] == 123
    plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    assert answer_json(plain, "x") == {}
    err = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 30\r\n\r\n"
           b'{"message":"context canceled"}')
    with pytest.raises(ProbeAnswerError, match=r"^df: HTTP 500: context canceled$"):
        answer_json(err, "df")
    with pytest.raises(ProbeAnswerError, match="broke off"):
        parse_http(chunked(DF)[:-200])
    with pytest.raises(ProbeAnswerError, match="no HTTP answer"):
        parse_http(b"")


def node(**kw: str) -> ProbeNode:
    base = {"id": "n1", "hostname": "h1", "role": "worker", "state": "ready",
            "availability": "active", "engine_version": "20.10.24+dfsg1"}
    return ProbeNode(**{**base, **kw})


def test_which_nodes_a_global_job_reaches() -> None:
    assert not_probeable(node()) is None
    assert not_probeable(node(engine_version="26.1.5")) is None
    assert not_probeable(node(availability="drain")) == "drained: it runs no tasks"
    assert not_probeable(node(availability="pause")) == "paused: it starts no new tasks"
    assert not_probeable(node(state="down")) == "down: a probe cannot start there"
    assert "older than API 1.41" in (not_probeable(node(engine_version="19.03.15")) or "")


def test_the_task_script_frames_the_raw_answer(tmp_path: Path) -> None:
    """The real script, under the host's busybox sh, with a fake ``docker system dial-stdio``
    that checks the request arrived and answers chunked HTTP."""
    busybox = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)), None)
    if busybox is None:
        pytest.skip("no busybox")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for applet in ("sh", "mkfifo", "rm", "base64", "tr", "fold", "tee", "wc", "awk", "cat",
                   "head", "grep", "printf"):
        (bindir / applet).symlink_to(busybox)
    answer = tmp_path / "answer.http"
    answer.write_bytes(chunked(DF))
    fake = bindir / "docker"
    # Reads the request line (the FIFO stays open: no EOF), then answers and exits.
    fake.write_text(f"#!{busybox} sh\nhead -n 1 | grep -q '^GET /v1.41/system/df HTTP/1.1' "
                    f"|| exit 3\ncat {answer}\n")
    fake.chmod(0o755)
    script = probe_script([ProbeRequest("df", "GET", "/v1.41/system/df")], stay=False)
    res = subprocess.run([str(bindir / "sh"), "-c", script], capture_output=True, text=True,
                         timeout=20, env={"PATH": str(bindir), "TMPDIR": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    got = reassemble(res.stdout.splitlines())
    assert got.incomplete == {}
    assert answer_json(got.answers["df"], "df")["LayersSize"] == 123
    assert all(len(line) < 16 * 1024 for line in res.stdout.splitlines())


def test_df_without_the_probe_s_own_container() -> None:
    df = {
        "LayersSize": 10,
        "Images": [{"Id": "sha256:p", "Containers": 1}, {"Id": "sha256:b", "Containers": 1}],
        "Containers": [
            {"Id": "c1", "ImageID": "sha256:p", "Labels": {"swarmtui.probe": "1"}, "SizeRw": 9},
            {"Id": "c2", "ImageID": "sha256:b", "Labels": {}, "SizeRw": 1},
        ],
        "Volumes": [],
    }
    out = without_probe_containers(df)
    assert [c["Id"] for c in out["Containers"]] == ["c2"]
    assert [i["Containers"] for i in out["Images"]] == [0, 1]
    assert df["Containers"][0]["Id"] == "c1"  # the answer itself is left alone
    assert without_probe_containers({"Containers": None}) == {"Containers": None}


def _busybox_bin(tmp_path: Path, applets: tuple[str, ...]) -> Path:
    busybox = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)), None)
    if busybox is None:
        pytest.skip("no busybox")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for applet in applets:
        (bindir / applet).symlink_to(busybox)
    return bindir


LOOPBACK_APPLETS = ("sh", "rm", "base64", "tr", "fold", "tee", "wc", "awk", "cat", "printf",
                    "wget")


def test_a_loopback_request_is_fetched_with_wget_and_framed_as_http(tmp_path: Path) -> None:
    """busybox wget against a loopback server: the body arrives as a 200 answer; a port with
    nothing listening is a 502 whose text is wget's error."""
    import http.server
    import threading

    body = b"# TYPE engine_daemon_engine_cpus_cpus gauge\nengine_daemon_engine_cpus_cpus 2\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/metrics" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with socket_closed_port() as closed:
            requests = [ProbeRequest.loopback("metrics", f"http://127.0.0.1:{port}/metrics"),
                        ProbeRequest.loopback("none", f"http://127.0.0.1:{closed}/metrics")]
            assert not any(r.needs_engine for r in requests)
            bindir = _busybox_bin(tmp_path, LOOPBACK_APPLETS)
            res = subprocess.run([str(bindir / "sh"), "-c", probe_script(requests, stay=False)],
                                 capture_output=True, text=True, timeout=20,
                                 env={"PATH": str(bindir), "TMPDIR": str(tmp_path)})
    finally:
        server.shutdown()
    assert res.returncode == 0, res.stderr
    got = reassemble(res.stdout.splitlines())
    assert answer_text(got.answers["metrics"], "metrics") == body.decode()
    with pytest.raises(ProbeAnswerError, match=r"^none: HTTP 502: wget: can't connect"):
        answer_text(got.answers["none"], "none")
    assert sorted(os.listdir(tmp_path)) == ["bin", "swtp-b640", "swtp-b641", "swtp-out0",
                                            "swtp-out1"]


def socket_closed_port() -> Any:
    """A context giving a loopback port nothing listens on."""
    import contextlib
    import socket

    @contextlib.contextmanager
    def closed() -> Any:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        yield port

    return closed()


@pytest.mark.parametrize("url", ["http://10.0.0.1:9323/metrics", "https://127.0.0.1:9323/",
                                 "http://127.0.0.1:9323/$(reboot)", "http://127.0.0.1/x",
                                 "http://127.0.0.1:9323/a b"])
def test_a_loopback_request_takes_only_plain_loopback_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"invalid probe (URL|path)"):
        ProbeRequest.loopback("m", url)
