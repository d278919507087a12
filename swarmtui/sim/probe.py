"""swarmtui's node probes, as the simulated swarm runs them.

A node probe is a global service labelled ``swarmtui.probe`` (swarmtui/engine/probe.py):
the orchestrator schedules one task per node like any global service; this module gives its
task the log a real probe task prints. The task's ``sh -c`` script sends raw HTTP requests
to its own node's engine (``printf 'GET /v1.41/system/df HTTP/1.1…'``) and prints each
answer base64-encoded, cut into numbered lines::

    swarmtui-probe <key> <seq>/<total> <base64 chunk>

Here the requests are read back out of the script, answered from *that node's* simulated
engine (its own containers, images and volumes, /info, /version), and framed the same way. A
loopback request (``wget -q -O- http://127.0.0.1:9323/metrics``, on the host network) is
answered by the node's simulated metrics endpoint (:mod:`swarmtui.sim.metrics`) and framed as
the script frames it: ``HTTP/1.0 200 OK`` and the body, or ``502 Bad Gateway`` and wget's
error line (a node without ``--metrics-addr`` refuses the connection).
The framing is written again here (a few lines) because the simulator never imports
:mod:`swarmtui.model` -- the code it checks. Stdlib only.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from swarmtui.sim import inventory, system
from swarmtui.sim import local as simlocal
from swarmtui.sim import metrics as simmetrics
from swarmtui.sim.objects import SimTask
from swarmtui.sim.util import go_json

if TYPE_CHECKING:
    from swarmtui.sim.core import SimCore

PROBE_LABEL = "swarmtui.probe"
FRAME_PREFIX = "swarmtui-probe"
CHUNK_CHARS = 8000  # as swarmtui/model/probe.py: well under the 16 KiB log-line split
# `printf 'GET /v1.41/version HTTP/1.1\r\n…' >&3` then `awk … "swarmtui-probe version " …`
_REQUEST_RE = re.compile(r"printf '([A-Z]+) (/\S*) HTTP/1\.1")
# `if wget -q -O- http://127.0.0.1:9323/metrics >…` (a loopback request, model/probe.py)
_WGET_RE = re.compile(r"wget -q -O- '?(http://[^' >]+)'? ")
_KEY_RE = re.compile(r'print \\?"' + FRAME_PREFIX + r' ([A-Za-z0-9_-]+) ')
_VERSIONED_RE = re.compile(r"^/v\d+\.\d+(/.*)$")


def is_probe_task(task: SimTask) -> bool:
    labels: Any = task.spec.get("ContainerSpec", {}).get("Labels") or {}
    return isinstance(labels, dict) and PROBE_LABEL in labels


def script_of(task: SimTask) -> str:
    cs: Any = task.spec.get("ContainerSpec", {})
    parts = [str(x) for x in (cs.get("Command") or []) + (cs.get("Args") or [])]
    return parts[-1] if parts else ""


def requests_of(script: str) -> list[tuple[str, str, str]]:
    """(key, method, path) of every request in the task's script, in order; a loopback
    request's path is its URL (``http://…``). Each request's lines come before the ``awk``
    line that frames its answer under its key."""
    out: list[tuple[str, str, str]] = []
    pending: tuple[str, str] | None = None
    for line in script.splitlines():
        if (m := _REQUEST_RE.search(line)) is not None:
            pending = (m.group(1), m.group(2))
        elif (w := _WGET_RE.search(line)) is not None:
            pending = ("GET", w.group(1))
        elif (k := _KEY_RE.search(line)) is not None and pending is not None:
            out.append((k.group(1), *pending))
            pending = None
    return out


def _http(status: int, reason: str, body: bytes, engine_version: str) -> bytes:
    """The answer as dockerd writes it to ``Connection: close``: Go's net/http sends the
    body until the close, with no Content-Length once it is over its buffer (4 KiB)."""
    head = [f"HTTP/1.1 {status} {reason}", "Api-Version: 1.41",
            "Content-Type: application/json", "Docker-Experimental: false", "Ostype: linux",
            f"Server: Docker/{engine_version} (linux)", "Connection: close"]
    if len(body) < 4096:
        head.insert(2, f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def answer(c: SimCore, node_id: str, method: str, path: str) -> bytes:
    """What ``node_id``'s own engine answers to ``method path`` (raw HTTP); a loopback URL
    as the probe's script frames wget's output."""
    node = c.nodes.get(node_id)
    version = node.engine_version if node else system.ENGINE_VERSION
    if path.startswith("http://"):
        fetched, text = simmetrics.loopback(c, node_id, path)
        head = b"HTTP/1.0 200 OK\r\n\r\n" if fetched else b"HTTP/1.0 502 Bad Gateway\r\n\r\n"
        return head + text
    m = _VERSIONED_RE.match(path)
    route = (m.group(1) if m else path).split("?", 1)[0].rstrip("/")
    data: Any
    if method == "GET" and route == "/version":
        data = system.version_json(version)
    elif method == "GET" and route == "/info":
        data = system.info_json(c, node_id)
    elif method == "GET" and route == "/system/df":
        data = inventory.df_json(c, node_id)
    # The lists a prune preview and the images view read (engine/probe.py
    # PRUNE_READ_REQUESTS): that node's own objects, as its df counts them.
    elif method == "GET" and route == "/containers/json":
        data = simlocal.containers_json(c, "all=1" in path, False, {}, node_id)
    elif method == "GET" and route == "/images/json":
        data = simlocal.images_json(c, "all=1" in path, {}, node_id)
    elif method == "GET" and route == "/volumes":
        data = simlocal.volumes_json(c, {}, node_id)
    elif method == "GET" and route == "/networks":
        data = system.networks_json(c, {})
    else:
        body = json.dumps({"message": "page not found"}).encode() + b"\n"
        return _http(404, "Not Found", body, version)
    return _http(200, "OK", go_json(data), version)


def frame_lines(key: str, payload: bytes, chunk: int = CHUNK_CHARS) -> list[str]:
    """The task's output for one answer (swarmtui/model/probe.py frame_lines, again)."""
    text = base64.b64encode(payload).decode("ascii")
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    return [f"{FRAME_PREFIX} {key} {n}/{len(pieces)} {p}" for n, p in enumerate(pieces, 1)]


def probe_log(c: SimCore, task: SimTask) -> list[str]:
    """Every line the probe task printed: the framed answers of its script's requests. The
    node's engine is asked on the first read and the text kept (a real task prints once);
    kept lines of tasks that are gone are dropped then."""
    lines = c.probe_logs.get(task.id)
    if lines is None:
        for gone in [tid for tid in c.probe_logs if tid not in c.tasks]:
            del c.probe_logs[gone]
        lines = []
        for key, method, path in requests_of(script_of(task)):
            lines += frame_lines(key, answer(c, task.node_id, method, path))
        c.probe_logs[task.id] = lines
    return lines
