"""Reading a configured endpoint directly (a loopback HTTP server serving a lab capture), and
a probe's answers into the board: figures, a node without --metrics-addr, one-line errors."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmtui.engine.metrics import LOOPBACK_METRICS_URL, MetricsFleet, fetch_direct
from swarmtui.engine.probe import NodeAnswer, ProbeConfig, ProbeRun
from swarmtui.model.probe import ProbeNode

WORKER = (Path(__file__).parent / "fixtures" / "metrics" / "worker.txt").read_bytes()


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/metrics" else 404)
            self.end_headers()
            self.wfile.write(WORKER)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


async def test_configured_endpoints_are_read_directly(server: str) -> None:
    down = f"http://127.0.0.1:{closed_port()}/metrics"
    fleet = MetricsFleet({"w1": f"{server}/metrics", "w2": f"{server}/nope", "w3": down},
                         ProbeConfig(), clock=lambda: 100.0)
    board = await fleet.read_direct()
    w1, w2, w3 = (board.node(h) for h in ("w1", "w2", "w3"))
    assert w1 is not None and w1.last is not None and w1.last.containers["running"] == 4
    assert w2 is not None and w2.error == f"{server}/nope: HTTP 404"
    assert w3 is not None and (w3.error or "").startswith(f"cannot reach {down}")
    assert "\n" not in (w3.error or "") and fleet.reads == 3
    assert await fetch_direct(f"{server}/metrics") == WORKER.decode()


def test_probe_answers_fill_the_board_and_a_refused_port_says_how_to_enable() -> None:
    def node(name: str) -> ProbeNode:
        return ProbeNode(name, name, "worker", "ready", "active", "20.10.24")

    ok = b"HTTP/1.0 200 OK\r\n\r\n" + WORKER
    refused = (b"HTTP/1.0 502 Bad Gateway\r\n\r\n"
               b"wget: can't connect to remote host (127.0.0.1): Connection refused\n")
    run = ProbeRun("swarmtui-probe-1", (
        NodeAnswer(node("w1"), {"metrics": ok}),
        NodeAnswer(node("w2"), {"metrics": refused}),
        NodeAnswer(node("w3"), error="probe task rejected: no such image"),
    ), removed=True)
    fleet = MetricsFleet({}, ProbeConfig(), clock=lambda: 5.0)
    board = fleet.apply_probe(run, [("w4", "drained: it runs no tasks")])
    w1, w2, w3, w4 = (board.node(h) for h in ("w1", "w2", "w3", "w4"))
    assert w1 is not None and w1.last is not None and w1.source == "probe"
    assert w2 is not None and w2.error is not None
    assert w2.error.startswith(f"no metrics endpoint at {LOOPBACK_METRICS_URL}: start dockerd "
                               "with --metrics-addr 127.0.0.1:9323")
    assert w3 is not None and w3.error == "probe task rejected: no such image"
    assert w4 is not None and w4.error == "not covered by the probe: drained: it runs no tasks"
