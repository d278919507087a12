"""A simulated node's ``dockerd --metrics-addr`` endpoint: Prometheus text like a real
Docker 20.10 daemon's, per node, moving with the virtual clock.

The families, their help texts, label sets and histogram buckets are those of the lab
captures (tests/fixtures/metrics/manager.txt, worker.txt; a contract test compares them); the
go_*, grpc_*, process_* and etcd_* series a real daemon adds are left out (nothing reads
them). The figures come from the simulated swarm where it has them (container states from
the node's own containers, the swarm's nodes and tasks by state on managers, CPUs and memory
of the node) and are drawn otherwise: counters grow with the daemon's uptime at a per-node
rate with a slow wobble, so every reading differs from the last and never goes down.

A node whose :attr:`~swarmtui.sim.objects.SimNode.metrics_addr` is empty runs without
``--metrics-addr``: nothing listens, so a probe's ``wget`` is refused (:func:`loopback`).
:class:`MetricsEndpoints` serves the others on this machine's loopback for ``--demo``, which
configures them as ``--metrics`` endpoints would be. Never imports :mod:`swarmtui.model`
(the code it checks).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from swarmtui.sim import inventory, system
from swarmtui.sim.core import SimCore
from swarmtui.sim.objects import SimNode
from swarmtui.sim.util import NS

METRICS_PATH = "/metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # prometheus default
NODE_STATES = ("disconnected", "down", "ready", "unknown")
TASK_STATES = ("accepted", "assigned", "complete", "failed", "new", "orphaned", "pending",
               "preparing", "ready", "rejected", "remove", "running", "shutdown", "starting")
CONTAINER_ACTIONS = ("changes", "commit", "create", "delete", "start")
HOST_INFO_FUNCTIONS = ("operating_system", "os_version", "system_info", "system_version")
STORE = ("batch_latency", "lookup_latency", "memory_store_lock_duration", "read_tx_latency",
         "write_tx_latency")
HELP = {
    "engine_daemon_container_actions_seconds":
        "The number of seconds it takes to process each container action",
    "engine_daemon_container_states_containers": "The count of containers in various states",
    "engine_daemon_engine_cpus_cpus": "The number of cpus that the host system of the engine has",
    "engine_daemon_engine_info":
        "The information related to the engine and the OS it is running on",
    "engine_daemon_engine_memory_bytes":
        "The number of bytes of memory that the host system of the engine has",
    "engine_daemon_events_subscribers_total": "The number of current subscribers to events",
    "engine_daemon_events_total": "The number of events logged",
    "engine_daemon_health_checks_failed_total": "The total number of failed health checks",
    "engine_daemon_health_checks_total": "The total number of health checks",
    "engine_daemon_host_info_functions_seconds":
        "The number of seconds it takes to call functions gathering info about the host",
    "engine_daemon_image_actions_seconds":
        "The number of seconds it takes to process each image action",
    "engine_daemon_network_actions_seconds":
        "The number of seconds it takes to process each network action",
    "swarm_dispatcher_scheduling_delay_seconds":
        "Scheduling delay is the time a task takes to go from NEW to RUNNING state.",
    "swarm_manager_configs_total": "The number of configs in the cluster object store",
    "swarm_manager_leader": "Indicates if this manager node is a leader",
    "swarm_manager_networks_total": "The number of networks in the cluster object store",
    "swarm_manager_nodes": "The number of nodes",
    "swarm_manager_secrets_total": "The number of secrets in the cluster object store",
    "swarm_manager_services_total": "The number of services in the cluster object store",
    "swarm_manager_tasks_total": "The number of tasks in the cluster object store",
    "swarm_node_info": "Information related to the swarm",
    "swarm_node_manager": "Whether this node is a manager or not",
    "swarm_raft_snapshot_latency_seconds": "Raft snapshot create latency.",
    "swarm_raft_transaction_latency_seconds": "Raft transaction latency.",
    "swarm_store_batch_latency_seconds": "Raft store batch latency.",
    "swarm_store_lookup_latency_seconds": "Raft store read latency.",
    "swarm_store_memory_store_lock_duration_seconds":
        "Duration for which the raft memory store lock was held.",
    "swarm_store_read_tx_latency_seconds": "Raft store read tx latency.",
    "swarm_store_write_tx_latency_seconds": "Raft store write tx latency.",
}


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) for ``parts`` (the same every run, unlike ``hash``)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:6], "big") / float(1 << 48)


class _Counter:
    """A counter growing ``per_s`` on average since the daemon started, wobbling by up to
    half its rate (so never backwards): ``floor(r·t + A·sin(ω·t))`` with ``A·ω < r``."""

    def __init__(self, seed: str, per_s: float) -> None:
        self.per_s = per_s
        self.omega = 2 * math.pi / (60 + 120 * _unit(seed, "period"))
        self.phase = 2 * math.pi * _unit(seed, "phase")

    def at(self, t: float) -> float:
        wobble = 0.5 * self.per_s / self.omega * (math.sin(self.omega * t + self.phase)
                                                  - math.sin(self.phase))
        return float(math.floor(max(self.per_s * t + wobble, 0.0)))


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "+Inf"
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    text = ",".join(f'{k}="{v}"' for k, v in pairs)
    return "{" + text + "}" if text else ""


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str) -> None:
        self.lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, labels: Iterable[tuple[str, str]] = ()) -> None:
        self.lines.append(f"{name}{_labels(labels)} {_fmt(value)}")

    def histogram(self, name: str, seed: str, per_s: float, t: float, mean_s: float,
                  labels: tuple[tuple[str, str], ...] = (), base: int = 0) -> None:
        """``base`` observations, then more at ``per_s``, about ``mean_s`` long: each bucket
        holds a fixed share of them (a log-normal around the mean), so the cumulative counts
        only grow."""
        count = base + _Counter(seed, per_s).at(t)
        spread = 0.6 + 0.6 * _unit(seed, "spread")
        for le in BUCKETS:
            z = (math.log(le) - math.log(mean_s)) / spread
            share = 0.5 * (1 + math.erf(z / math.sqrt(2)))
            self.sample(f"{name}_bucket", math.floor(count * share),
                        (*labels, ("le", _fmt(le))))
        self.sample(f"{name}_bucket", count, (*labels, ("le", "+Inf")))
        # The sum grows with the count and a second, out-of-step counter: the mean of each
        # interval drifts, the sum never goes back.
        extra = _Counter(seed + "/slow", per_s * 0.4).at(t)
        self.sample(f"{name}_sum", round((count + extra) * mean_s * 0.8, 9), labels)
        self.sample(f"{name}_count", count, labels)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def container_states(c: SimCore, node_id: str) -> dict[str, int]:
    """The node's containers as dockerd counts them: running, paused, stopped (created and
    exited ones are stopped)."""
    _, containers, _ = inventory.inventory(c, node_id)
    out = {"paused": 0, "running": 0, "stopped": 0}
    for ctr in containers:
        state = str(ctr.get("State") or "")
        out[state if state in ("running", "paused") else "stopped"] += 1
    return out


def metrics_text(c: SimCore, node_id: str) -> str:
    """What ``GET /metrics`` on ``node_id``'s daemon answers now."""
    node = c.nodes[node_id]
    t = max((c.now_ns - c.start_ns) / NS, 0.0) + 600 * _unit(node_id, "uptime")
    seed = node_id
    out = _Text()
    out.family("engine_daemon_container_actions_seconds", "histogram")
    for action, per_s, mean in (("changes", 0.0005, 0.0004), ("commit", 0.0002, 0.8),
                                ("create", 0.01, 0.09), ("delete", 0.006, 0.04),
                                ("start", 0.01, 0.25)):
        out.histogram("engine_daemon_container_actions_seconds", f"{seed}/{action}", per_s, t,
                      mean, (("action", action),), base=1)
    out.family("engine_daemon_container_states_containers", "gauge")
    for state, n in sorted(container_states(c, node_id).items()):
        out.sample("engine_daemon_container_states_containers", n, (("state", state),))
    out.family("engine_daemon_engine_cpus_cpus", "gauge")
    out.sample("engine_daemon_engine_cpus_cpus", node.nano_cpus // NS)
    out.family("engine_daemon_engine_info", "gauge")
    out.sample("engine_daemon_engine_info", 1, (
        ("architecture", node.arch), ("commit", "5d6db84"), ("daemon_id", _daemon_id(c, node)),
        ("graphdriver", "overlay2"), ("kernel", system.KERNEL),
        ("os", "Debian GNU/Linux 12 (bookworm)"), ("os_type", node.os), ("os_version", "12"),
        ("version", node.engine_version)))
    out.family("engine_daemon_engine_memory_bytes", "gauge")
    out.sample("engine_daemon_engine_memory_bytes", node.memory_bytes)
    out.family("engine_daemon_events_subscribers_total", "gauge")
    out.sample("engine_daemon_events_subscribers_total", 2 + int(4 * _unit(seed, "subs")))
    out.family("engine_daemon_events_total", "counter")
    out.sample("engine_daemon_events_total", _Counter(f"{seed}/events", 0.05).at(t))
    # Health checks: a few containers checked every 30 s or so, a few percent failing (a
    # rate per node, not per container: a counter must not slow down backwards).
    per_s = 0.05 + 0.2 * _unit(seed, "checks")
    checks = _Counter(f"{seed}/checks", per_s).at(t)
    out.family("engine_daemon_health_checks_failed_total", "counter")
    out.sample("engine_daemon_health_checks_failed_total",
               _Counter(f"{seed}/failed", per_s * 0.04).at(t))
    out.family("engine_daemon_health_checks_total", "counter")
    out.sample("engine_daemon_health_checks_total", checks)
    out.family("engine_daemon_host_info_functions_seconds", "histogram")
    for fn in HOST_INFO_FUNCTIONS:
        out.histogram("engine_daemon_host_info_functions_seconds", f"{seed}/{fn}", 0.02, t,
                      0.0008, (("function", fn),))
    out.family("engine_daemon_image_actions_seconds", "histogram")
    out.histogram("engine_daemon_image_actions_seconds", f"{seed}/pull", 0.002, t, 3.5,
                  (("action", "pull"),))
    out.family("engine_daemon_network_actions_seconds", "histogram")
    for action in ("allocate", "connect"):
        out.histogram("engine_daemon_network_actions_seconds", f"{seed}/{action}", 0.004, t,
                      0.03, (("action", action),))
    _swarm(out, c, node, t if node.role == "manager" else None)
    return out.text()


def _daemon_id(c: SimCore, node: SimNode) -> str:
    if node.id == c.local_node_id:
        return c.daemon_id
    digest = hashlib.sha256(("daemon:" + node.id).encode()).hexdigest().upper()
    return ":".join(digest[i : i + 4] for i in range(0, 48, 4))


def _swarm(out: _Text, c: SimCore, node: SimNode, t: float | None) -> None:
    """The swarm families: a manager's figures, or zeros on a worker (as Docker 20.10
    exports them)."""
    manager = t is not None
    rate = 1.0 if manager else 0.0
    t = t or 0.0
    out.family("swarm_dispatcher_scheduling_delay_seconds", "histogram")
    # Docker 20.10 observes this one in nanoseconds (every observation above +10 s).
    count = _Counter(f"{node.id}/sched", 0.01 * rate).at(t)
    for le in BUCKETS:
        out.sample("swarm_dispatcher_scheduling_delay_seconds_bucket", 0, (("le", _fmt(le)),))
    out.sample("swarm_dispatcher_scheduling_delay_seconds_bucket", count, (("le", "+Inf"),))
    out.sample("swarm_dispatcher_scheduling_delay_seconds_sum", count * 1.6e9)
    out.sample("swarm_dispatcher_scheduling_delay_seconds_count", count)
    gauges = {
        "swarm_manager_configs_total": len(c.configs),
        "swarm_manager_leader": int(node.leader),
        "swarm_manager_networks_total": len(c.networks),
    }
    for name in ("swarm_manager_configs_total", "swarm_manager_leader",
                 "swarm_manager_networks_total"):
        out.family(name, "gauge")
        out.sample(name, gauges[name] if manager else 0)
    out.family("swarm_manager_nodes", "gauge")
    for state in NODE_STATES:
        n = sum(1 for x in c.nodes.values() if x.state == state) if manager else 0
        out.sample("swarm_manager_nodes", n, (("state", state),))
    out.family("swarm_manager_secrets_total", "gauge")
    out.sample("swarm_manager_secrets_total", len(c.secrets) if manager else 0)
    out.family("swarm_manager_services_total", "gauge")
    out.sample("swarm_manager_services_total", len(c.services) if manager else 0)
    out.family("swarm_manager_tasks_total", "gauge")
    for state in TASK_STATES:
        n = sum(1 for x in c.tasks.values() if x.state == state) if manager else 0
        out.sample("swarm_manager_tasks_total", n, (("state", state),))
    out.family("swarm_node_info", "gauge")
    out.sample("swarm_node_info", 1, (("node_id", node.id), ("swarm_id", c.cluster_id)))
    out.family("swarm_node_manager", "gauge")
    out.sample("swarm_node_manager", int(manager))
    # Raft: the leader proposes, followers apply; snapshots are rare.
    leader = 1.0 if node.leader else 0.6
    for name, per_s, mean in (("swarm_raft_snapshot_latency_seconds", 0.0005, 0.012),
                              ("swarm_raft_transaction_latency_seconds", 0.4, 0.0006)):
        out.family(name, "histogram")
        out.histogram(name, f"{node.id}/{name}", per_s * rate * leader, t, mean)
    for store, per_s, mean in (("batch_latency", 0.5, 0.0006), ("lookup_latency", 4.0, 4e-6),
                               ("memory_store_lock_duration", 0.7, 0.0004),
                               ("read_tx_latency", 6.0, 5e-5), ("write_tx_latency", 0.3, 0.0004)):
        name = f"swarm_store_{store}_seconds"
        out.family(name, "histogram")
        out.histogram(name, f"{node.id}/{store}", per_s * rate, t, mean)


def loopback(c: SimCore, node_id: str, url: str) -> tuple[bool, bytes]:
    """What busybox ``wget -q -O- URL`` prints inside ``node_id``'s network namespace:
    ``(True, body)``, or ``(False, its error line)``. Only the node's metrics address
    listens there (none without ``--metrics-addr``)."""
    node = c.nodes.get(node_id)
    rest = url.split("://", 1)[-1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    addr = node.metrics_addr if node else ""
    listen_host, _, listen_port = addr.rpartition(":")
    local = host in ("127.0.0.1", "localhost") and listen_host in ("127.0.0.1", "0.0.0.0")
    if not addr or not local or port != listen_port:
        return False, f"wget: can't connect to remote host ({_ip(host)}): Connection refused\n" \
            .encode()
    if "/" + path.split("?", 1)[0] != METRICS_PATH:
        return False, b"wget: server returned error: HTTP/1.1 404 Not Found\n"
    return True, metrics_text(c, node_id).encode()


def _ip(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host.strip("[]")


# --------------------------------------------------------------------------- endpoints

MAX_ENDPOINTS = 16  # the demo's few nodes; a scale scenario's hundreds get none (probe them)


class MetricsEndpoints:
    """Every simulated node's ``--metrics-addr``, served on this machine's loopback (one port
    a node, as the nodes' daemons would each listen on their own address): ``urls`` maps a
    hostname to its ``http://127.0.0.1:PORT/metrics``. A node without ``metrics_addr`` gets
    none; a node that is down drops the connection (its daemon is unreachable)."""

    def __init__(self, cluster: SimCore) -> None:
        self.cluster = cluster
        self.urls: dict[str, str] = {}
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        if len(self.cluster.nodes) > MAX_ENDPOINTS:
            return
        for node in [n for n in self.cluster.nodes.values() if n.metrics_addr]:
            app = web.Application()
            app.router.add_get(METRICS_PATH, self._handler(node.id))
            runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            port = runner.addresses[0][1]
            self.urls[node.hostname] = f"http://127.0.0.1:{port}{METRICS_PATH}"

    def _handler(self, node_id: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def metrics(request: web.Request) -> web.StreamResponse:
            node = self.cluster.nodes.get(node_id)
            if node is None or node.state == "down":
                if request.transport is not None:
                    request.transport.abort()
                raise web.HTTPServiceUnavailable  # not sent: the connection is gone
            return web.Response(text=metrics_text(self.cluster, node_id),
                                content_type="text/plain", charset="utf-8",
                                headers={"X-Content-Type-Options": "nosniff"})

        return metrics

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
