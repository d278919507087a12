"""Node probes, the pure part: the task's script, the framing of its answers, HTTP parsing.

A probe is a global service whose task, on every node, talks to its own node's engine through
the mounted socket (``docker system dial-stdio``: raw HTTP, so the answer is the Engine API's
own JSON and the same parsers apply) and prints each answer into its log. Logging drivers
split lines longer than 16 KiB into partial messages, so an answer is base64-encoded and cut
into numbered lines well below that::

    swarmtui-probe <key> <seq>/<total> <base64 chunk>

``key`` names the request (``df``, ``version`` …), ``seq`` counts from 1. Any other line
(the CLI's own errors on stderr) is kept as text for the error message. The collector
(:func:`reassemble`) joins a node's lines per key; an answer is complete when every
``seq`` of ``total`` arrived.

Stdlib only, no IO.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FRAME_PREFIX = "swarmtui-probe"
CHUNK_CHARS = 8000  # base64 characters per line: well under the 16 KiB log-line split
PROBE_LABEL = "swarmtui.probe"
EXPIRES_LABEL = "swarmtui.probe.expires"
NAME_PREFIX = "swarmtui-probe-"
NODE_ID_ENV = "SWARMTUI_NODE_ID"  # set from the service template {{.Node.ID}}
MIN_ENGINE = (20, 10)  # API 1.41, Docker 20.10: what swarmtui parses
_FRAME_RE = re.compile(rf"^{FRAME_PREFIX} ([A-Za-z0-9_-]+) (\d+)/(\d+) ?([A-Za-z0-9+/=]*)\s*$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# http:// on the node's own loopback, a port, a plain path: nothing a shell would expand.
_LOOPBACK_URL_RE = re.compile(
    r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}(/[A-Za-z0-9._~/-]*)?$")


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """One request of the task: an HTTP request to its node's engine (a versioned path, and
    the query it carries: ``(name, value)`` pairs, URL-encoded into the request line; no body:
    reads, ``DELETE`` and ``POST /build/prune`` take none), or -- with ``url`` -- a GET of a
    loopback URL on the node (``dockerd --metrics-addr 127.0.0.1:9323``: only a task on the
    host network reaches it) with busybox ``wget``.

    A loopback answer is framed like an engine answer, as an HTTP response: ``200`` with the
    body wget fetched, or ``502`` with wget's error line, so :func:`parse_http` and
    :func:`answer_text` read both kinds alike."""

    key: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    url: str | None = None

    def __post_init__(self) -> None:
        if not _KEY_RE.match(self.key):
            raise ValueError(f"invalid probe key {self.key!r}")
        if not self.path.startswith("/") or any(c.isspace() or c in "?#" for c in self.path):
            raise ValueError(f"invalid probe path {self.path!r}")
        if not re.fullmatch(r"[A-Z]+", self.method):
            raise ValueError(f"invalid probe method {self.method!r}")
        if self.url is not None and not _LOOPBACK_URL_RE.match(self.url):
            raise ValueError(f"invalid probe URL {self.url!r}: only http:// on the node's "
                             "loopback (127.0.0.1, localhost, [::1])")

    @property
    def target(self) -> str:
        """The request line's target: the path, with the query URL-encoded."""
        if not self.query:
            return self.path
        return self.path + "?" + urllib.parse.urlencode(self.query, quote_via=urllib.parse.quote)

    @classmethod
    def loopback(cls, key: str, url: str) -> ProbeRequest:
        """A GET of ``url`` (``http://127.0.0.1:9323/metrics``) from inside the node."""
        path = "/" + url.split("://", 1)[-1].partition("/")[2]
        return cls(key, "GET", path.split("?", 1)[0] or "/", url=url)

    @property
    def needs_engine(self) -> bool:
        """It goes to the engine socket (the task needs the socket mounted)."""
        return self.url is None


def _request_lines(i: str, r: ProbeRequest) -> list[str]:
    fifo, out, enc = f'"$d/swtp-in{i}"', f'"$d/swtp-out{i}"', f'"$d/swtp-b64{i}"'
    if r.url is not None:
        return [*_loopback_lines(r.url, out, f'"$d/swtp-err{i}"'), *_frame_out_lines(r, out, enc)]
    length = "Content-Length: 0\\r\\n" if r.method in ("POST", "PUT") else ""
    req = (f"{r.method} {r.target} HTTP/1.1\\r\\nHost: docker\\r\\n{length}"
           "Connection: close\\r\\n\\r\\n")
    # printf's format is the request: a % in it (URL-encoded queries) must be doubled.
    return [
        f"rm -f {fifo}; mkfifo {fifo}; exec 3<>{fifo}",
        f"printf {shlex.quote(req.replace('%', '%%'))} >&3",
        f"docker system dial-stdio <&3 >{out} || echo 'dial-stdio failed for {r.key}' >&2",
        "exec 3>&-",
        *_frame_out_lines(r, out, enc),
    ]


def _frame_out_lines(r: ProbeRequest, out: str, enc: str) -> list[str]:
    """Print the answer in ``out`` as numbered base64 frames (see :func:`frame_lines`)."""
    return [
        f"n=$( (base64 {out} | tr -d '\\n' | fold -w {CHUNK_CHARS}; echo) | tee {enc} "
        "| wc -l)",
        f"awk -v n=\"$n\" '{{print \"{FRAME_PREFIX} {r.key} \" NR \"/\" n \" \" $0}}' {enc}",
    ]


_NODE_ID_RE = re.compile(r"^[A-Za-z0-9]+$")


def probe_script(requests: Sequence[ProbeRequest], *, stay: bool = True,
                 per_node: Mapping[str, Sequence[ProbeRequest]] | None = None) -> str:
    """The ``sh -c`` script of the task (busybox or alpine sh, docker CLI on PATH).

    ``requests`` run on every node, in order; then the node's own ``per_node[node ID]``
    (chosen by ``$SWARMTUI_NODE_ID``, which the service sets from ``{{.Node.ID}}``), in order.
    With ``stay`` the task then idles (a task that exits would be restarted or counted as
    failed by a global service) and stops at once on SIGTERM, when the service is removed.

    Each request goes through ``docker system dial-stdio``; its stdin is a FIFO the shell
    holds open read-write, so the engine does not see EOF and cancel a slow answer
    (``/system/df``: ``500 context canceled``), and dial-stdio returns when the engine closes
    the connection (``Connection: close``)."""
    lines = ["set -u", 'd="${TMPDIR:-/tmp}"']
    for i, r in enumerate(requests):
        lines += _request_lines(str(i), r)
    if per_node:
        lines.append(f'case "${{{NODE_ID_ENV}:-}}" in')
        for node_id, own in per_node.items():
            if not _NODE_ID_RE.match(node_id):
                raise ValueError(f"invalid node ID {node_id!r}")
            lines.append(f"{node_id})")
            for j, r in enumerate(own):
                lines += ["  " + line for line in _request_lines(f"n{j}", r)]
            lines.append("  ;;")
        lines.append("esac")
    if stay:
        lines.append("trap 'exit 0' TERM; while :; do sleep 1; done")
    return "\n".join(lines) + "\n"


def _loopback_lines(url: str, out: str, err: str) -> list[str]:
    """Fetch ``url`` with wget into ``out`` as an HTTP answer: 200 and the body, or 502 and
    wget's error (connection refused: no ``--metrics-addr`` on this node)."""
    ok = shlex.quote("HTTP/1.0 200 OK\\r\\n\\r\\n")
    bad = shlex.quote("HTTP/1.0 502 Bad Gateway\\r\\n\\r\\n")
    return [
        f"if wget -q -O- {shlex.quote(url)} >{out}.body 2>{err}; "
        f"then {{ printf {ok}; cat {out}.body; }} >{out}; "
        f"else {{ printf {bad}; cat {err}; }} >{out}; fi",
        f"rm -f {out}.body {err}",
    ]


# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------


def frame_lines(key: str, payload: bytes, chunk: int = CHUNK_CHARS) -> list[str]:
    """What the task prints for one answer (the script does the same in sh; for tests)."""
    text = base64.b64encode(payload).decode("ascii")
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    return [f"{FRAME_PREFIX} {key} {n}/{len(pieces)} {p}" for n, p in enumerate(pieces, 1)]


@dataclass(frozen=True, slots=True)
class Reassembled:
    """One node's log, sorted out: complete answers by key, what is missing, other text."""

    answers: Mapping[str, bytes] = field(default_factory=dict)
    incomplete: Mapping[str, str] = field(default_factory=dict)
    other: tuple[str, ...] = ()


def reassemble(lines: Iterable[str]) -> Reassembled:
    """Join the framed lines of one node per key (duplicates are harmless, order is free)."""
    parts: dict[str, dict[int, str]] = {}
    totals: dict[str, int] = {}
    bad: dict[str, str] = {}
    other: list[str] = []
    for line in lines:
        m = _FRAME_RE.match(line)
        if m is None:
            if line.strip():
                other.append(line.rstrip())
            continue
        key, seq, total, chunk = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        if totals.setdefault(key, total) != total or not 1 <= seq <= total:
            bad[key] = f"inconsistent frame {seq}/{total}"
            continue
        parts.setdefault(key, {})[seq] = chunk
    answers: dict[str, bytes] = {}
    incomplete: dict[str, str] = dict(bad)
    for key, got in parts.items():
        if key in bad:
            continue
        total = totals[key]
        if len(got) != total:
            incomplete[key] = f"{len(got)} of {total} lines arrived"
            continue
        try:
            answers[key] = base64.b64decode("".join(got[i] for i in range(1, total + 1)),
                                            validate=True)
        except (binascii.Error, ValueError):
            incomplete[key] = "the answer is not valid base64"
    return Reassembled(answers, incomplete, tuple(other))


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class ProbeAnswerError(ValueError):
    """An answer that is not a usable HTTP response (one line)."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise ProbeAnswerError("the chunked answer broke off")
        size_text = data[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProbeAnswerError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            return bytes(out)
        start = end + 2
        if start + size > len(data):
            raise ProbeAnswerError("the chunked answer broke off")
        out += data[start : start + size]
        pos = start + size + 2


def parse_http(raw: bytes) -> HttpAnswer:
    """An HTTP/1.1 response as the engine sent it (Content-Length, chunked, or till close)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ProbeAnswerError("no HTTP answer" if not raw else "the HTTP answer broke off")
    lines = head.decode("latin-1").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[0].startswith("HTTP/"):
        raise ProbeAnswerError(f"not an HTTP answer: {lines[0][:60]!r}")
    try:
        status = int(status_parts[1])
    except ValueError:
        raise ProbeAnswerError(f"bad HTTP status line {lines[0][:60]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(rest)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise ProbeAnswerError("bad Content-Length") from None
        if len(rest) < length:
            raise ProbeAnswerError("the HTTP answer broke off")
        body = rest[:length]
    else:
        body = rest
    return HttpAnswer(status, headers, body)


def answer_json(raw: bytes, what: str) -> Any:
    """The JSON of a 2xx answer; else ProbeAnswerError with the engine's message."""
    answer = parse_http(raw)
    try:
        data = json.loads(answer.body) if answer.body.strip() else None
    except ValueError:
        data = None
        if answer.status < 300:
            raise ProbeAnswerError(f"{what}: the answer is not JSON") from None
    if answer.status >= 300:
        message = data.get("message") if isinstance(data, dict) else None
        text = str(message or answer.body[:200].decode("utf-8", "replace")).strip()
        first = text.splitlines()[0] if text else ""
        raise ProbeAnswerError(f"{what}: HTTP {answer.status}" + (f": {first}" if first else ""))
    return data


def answer_text(raw: bytes, what: str) -> str:
    """The text of a 2xx answer; else ProbeAnswerError with the first line of the body (for
    a loopback request: wget's error)."""
    answer = parse_http(raw)
    text = answer.body.decode("utf-8", "replace")
    if answer.status >= 300:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        raise ProbeAnswerError(f"{what}: HTTP {answer.status}" + (f": {first[:200]}"
                                                                  if first else ""))
    return text


def without_probe_containers(df: Any) -> Any:
    """``/system/df`` as if the probe were not there: its own task container (labelled
    ``swarmtui.probe=1``) is running while it asks, and would count as a container, make its
    image active and add its writable layer; ``docker system df`` run afterwards shows
    neither. Returns a new object; anything unexpected is returned as it is."""
    if not isinstance(df, dict) or not isinstance(df.get("Containers"), list):
        return df
    ours = [c for c in df["Containers"]
            if isinstance(c, dict) and (c.get("Labels") or {}).get(PROBE_LABEL) == "1"]
    if not ours:
        return df
    uses: dict[str, int] = {}
    for c in ours:
        uses[str(c.get("ImageID") or "")] = uses.get(str(c.get("ImageID") or ""), 0) + 1
    images = df.get("Images")
    if isinstance(images, list):
        images = [
            {**i, "Containers": max(int(i.get("Containers") or 0) - uses[i["Id"]], 0)}
            if isinstance(i, dict) and i.get("Id") in uses and isinstance(
                i.get("Containers"), int) and i["Containers"] >= 0 else i
            for i in images
        ]
    return {**df, "Containers": [c for c in df["Containers"] if c not in ours],
            "Images": images}


# --------------------------------------------------------------------------------------------
# Which nodes a probe can reach
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeNode:
    """A swarm node as the probe sees it (from ``GET /nodes``)."""

    id: str
    hostname: str
    role: str
    state: str
    availability: str
    engine_version: str


def probe_node_from_json(n: Mapping[str, Any]) -> ProbeNode:
    desc = n.get("Description") or {}
    return ProbeNode(
        id=str(n.get("ID") or ""),
        hostname=str(desc.get("Hostname") or ""),
        role=str((n.get("Spec") or {}).get("Role") or "worker"),
        state=str((n.get("Status") or {}).get("State") or ""),
        availability=str((n.get("Spec") or {}).get("Availability") or "active"),
        engine_version=str((desc.get("Engine") or {}).get("EngineVersion") or ""),
    )


def _engine_tuple(version: str) -> tuple[int, int] | None:
    m = re.match(r"^v?(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def not_probeable(node: ProbeNode) -> str | None:
    """Why a probe (a global service) cannot run on ``node`` (None: it can)."""
    if node.availability == "drain":
        return "drained: it runs no tasks"
    if node.availability == "pause":
        return "paused: it starts no new tasks"
    if node.state != "ready":
        return f"{node.state or 'unknown state'}: a probe cannot start there"
    version = _engine_tuple(node.engine_version)
    if version is not None and version < MIN_ENGINE:
        return (f"Docker {node.engine_version} is older than API 1.41 (Docker 20.10), which "
                "swarmtui needs")
    return None
