"""Named simulated swarms: ``demo`` (the showcase), ``scale`` (benchmarks), ``chatty`` (logs).

``build(name, seed=1, start_ns=DEFAULT_START_NS, **options)`` returns a :class:`SimCluster`
whose initial tasks are already running; same name + seed + start + options → byte-identical
JSON. Stacks are deployed as ``docker stack deploy`` would send them (labels, networks,
secrets, configs), standalone services as ``docker service create`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.local import add_demo_leftovers
from swarmtui.sim.objects import SimNetwork, SimSecret
from swarmtui.sim.util import NS, Json

DEFAULT_START_NS = 1_767_225_600 * NS  # 2026-01-01T00:00:00Z
GIB = 1024**3
SECOND = NS

STACK_LABEL = "com.docker.stack.namespace"


# --------------------------------------------------------------------------- spec builders


def stack_service(
    stack: str,
    name: str,
    image: str,
    *,
    network: SimNetwork | None = None,
    replicas: int | None = 1,
    args: Sequence[str] = (),
    env: Sequence[str] = (),
    constraints: Sequence[str] = (),
    ports: Sequence[tuple[int, int]] = (),
    update: Mapping[str, Any] | None = None,
    rollback: Mapping[str, Any] | None = None,
    restart: Mapping[str, Any] | None = None,
    mounts: Sequence[Json] = (),
    secrets: Sequence[tuple[SimSecret, str]] = (),
    configs: Sequence[tuple[SimSecret, str]] = (),
    reservations: Mapping[str, int] | None = None,
) -> Json:
    """A ServiceSpec shaped like docker/cli's compose conversion (``convert.Service``)."""
    container: Json = {"Image": image, "Labels": {STACK_LABEL: stack}}
    if args:
        container["Args"] = list(args)
    if env:
        container["Env"] = list(env)
    container["Privileges"] = {"CredentialSpec": None, "SELinuxContext": None}
    if mounts:
        container["Mounts"] = list(mounts)
    if secrets:
        container["Secrets"] = [
            {"File": {"Name": target, "UID": "0", "GID": "0", "Mode": 292},
             "SecretID": s.meta.id, "SecretName": s.name}
            for s, target in secrets
        ]
    if configs:
        container["Configs"] = [
            {"File": {"Name": target, "UID": "0", "GID": "0", "Mode": 292},
             "ConfigID": c.meta.id, "ConfigName": c.name}
            for c, target in configs
        ]
    container["Isolation"] = "default"
    template: Json = {"ContainerSpec": container}
    template["Resources"] = {"Reservations": dict(reservations)} if reservations else {}
    if restart:
        template["RestartPolicy"] = dict(restart)
    template["Placement"] = {"Constraints": list(constraints)} if constraints else {}
    if network is not None:
        template["Networks"] = [{"Target": network.meta.id, "Aliases": [name]}]
    template["ForceUpdate"] = 0
    template["Runtime"] = "container"
    spec: Json = {
        "Name": f"{stack}_{name}",
        "Labels": {"com.docker.stack.image": image, STACK_LABEL: stack},
        "TaskTemplate": template,
        "Mode": {"Global": {}} if replicas is None else {"Replicated": {"Replicas": replicas}},
    }
    if update:
        spec["UpdateConfig"] = dict(update)
    if rollback:
        spec["RollbackConfig"] = dict(rollback)
    endpoint: Json = {"Mode": "vip"}
    if ports:
        endpoint["Ports"] = [
            {"Protocol": "tcp", "TargetPort": target, "PublishedPort": published,
             "PublishMode": "ingress"}
            for published, target in ports
        ]
    spec["EndpointSpec"] = endpoint
    return spec


def cli_service(name: str, image: str, replicas: int = 1, *, args: Sequence[str] = (),
                ports: Sequence[tuple[int, int]] = ()) -> Json:
    """A ServiceSpec shaped like ``docker service create`` (20.10) sends it."""
    container: Json = {"Image": image}
    if args:
        container["Args"] = list(args)
    container.update({"Init": False, "DNSConfig": {}, "Isolation": "default"})
    endpoint: Json = {"Mode": "vip"}
    if ports:
        endpoint["Ports"] = [
            {"Protocol": "tcp", "TargetPort": target, "PublishedPort": published,
             "PublishMode": "ingress"}
            for published, target in ports
        ]
    return {
        "Name": name,
        "Labels": {},
        "TaskTemplate": {
            "ContainerSpec": container,
            "Resources": {"Limits": {}, "Reservations": {}},
            "Placement": {},
            "ForceUpdate": 0,
            "Runtime": "container",
        },
        "Mode": {"Replicated": {"Replicas": replicas}},
        "EndpointSpec": endpoint,
    }


def _volume(source: str, target: str, stack: str) -> Json:
    return {"Type": "volume", "Source": source, "Target": target,
            "VolumeOptions": {"Labels": {STACK_LABEL: stack}}}


def _bind(source: str, target: str) -> Json:
    return {"Type": "bind", "Source": source, "Target": target, "ReadOnly": True}


# --------------------------------------------------------------------------- demo

# A release of shop_api whose containers exit 3 a second after starting (swarmtui/demo.py's
# script updates to it; FailureAction rollback brings 2.4.1 back).
DEMO_BAD_RELEASE = "registry.example.com/shop/api:2.5.0"


def demo(seed: int = 1, start_ns: int = DEFAULT_START_NS) -> SimCluster:
    """5 nodes (leader, reachable manager, 3 workers: one drained, one down, one -- worker-1 --
    whose daemon runs without ``--metrics-addr``), 3 stacks
    (``shop``, ``monitoring``, ``ops``), a standalone service, secrets and configs."""
    c = SimCluster(seed, start_ns)
    c.mark_crashing(DEMO_BAD_RELEASE)  # the demo script's failing update rolls back from it
    c.add_node("manager-1", "manager", "10.10.0.11", nano_cpus=4 * NS, memory_bytes=8 * GIB,
               labels={"db": "true", "zone": "a"})
    c.advance(3.2)
    c.add_node("manager-2", "manager", "10.10.0.12", nano_cpus=4 * NS, memory_bytes=8 * GIB,
               labels={"zone": "b"})
    c.advance(2.1)
    c.add_node("worker-1", "worker", "10.10.0.21", nano_cpus=8 * NS, memory_bytes=32 * GIB,
               labels={"zone": "a"}).metrics_addr = ""  # the metrics view's "how to enable"
    c.advance(1.4)
    c.add_node("worker-2", "worker", "10.10.0.22", nano_cpus=8 * NS, memory_bytes=32 * GIB,
               labels={"zone": "b"})
    c.advance(1.7)
    c.add_node("worker-3", "worker", "10.10.0.23", nano_cpus=8 * NS, memory_bytes=32 * GIB,
               labels={"zone": "c"})
    c.advance(1.6)

    # --- stack shop -------------------------------------------------------------
    shop = {STACK_LABEL: "shop"}
    net = c.create_network("shop_default", shop)
    db_pw = c.create_secret("shop_db_password", shop, b"s3cr3t-demo")
    api_cfg = c.create_config("shop_api_config", shop, b"listen: :8000\ndb: shop_db:5432\n")
    nginx_cfg = c.create_config("shop_nginx_conf", shop,
                                b"server { listen 80; location / { proxy_pass http://api:8000; } }")
    c.create_service(stack_service(
        "shop", "api", "registry.example.com/shop/api:2.4.1", network=net, replicas=4,
        env=["DB_HOST=shop_db", "LOG_LEVEL=info"],
        update={"Parallelism": 2, "Delay": 5 * SECOND, "FailureAction": "rollback",
                "Monitor": 10 * SECOND, "MaxFailureRatio": 0, "Order": "stop-first"},
        rollback={"Parallelism": 2, "Delay": 0, "FailureAction": "pause",
                  "Monitor": 5 * SECOND, "MaxFailureRatio": 0, "Order": "stop-first"},
        secrets=[(db_pw, "db_password")], configs=[(api_cfg, "/etc/api/config.yml")],
        reservations={"NanoCPUs": 250_000_000, "MemoryBytes": 256 * 1024**2},
    ))
    c.create_service(stack_service(
        "shop", "db", "postgres:15.5-alpine", network=net, replicas=1,
        env=["POSTGRES_DB=shop", "POSTGRES_PASSWORD_FILE=/run/secrets/db_password"],
        constraints=["node.labels.db == true"],
        mounts=[_volume("shop_db-data", "/var/lib/postgresql/data", "shop")],
        secrets=[(db_pw, "db_password")],
    ))
    c.create_service(stack_service(
        "shop", "web", "nginx:1.25.3-alpine", network=net, replicas=3, ports=[(8080, 80)],
        update={"Parallelism": 1, "Delay": 10 * SECOND, "FailureAction": "pause",
                "Monitor": 5 * SECOND, "MaxFailureRatio": 0, "Order": "start-first"},
        configs=[(nginx_cfg, "/etc/nginx/conf.d/default.conf")],
    ))
    c.advance(2.3)

    # --- stack monitoring -------------------------------------------------------
    mon = {STACK_LABEL: "monitoring"}
    mnet = c.create_network("monitoring_default", mon)
    ds = c.create_config("monitoring_grafana_datasources", mon,
                         b"apiVersion: 1\ndatasources:\n  - name: prometheus\n")
    c.create_service(stack_service(
        "monitoring", "grafana", "grafana/grafana:10.2.3", network=mnet, replicas=1,
        ports=[(3000, 3000)], constraints=["node.role == manager"],
        configs=[(ds, "/etc/grafana/provisioning/datasources/ds.yml")],
        mounts=[_volume("monitoring_grafana-data", "/var/lib/grafana", "monitoring")],
    ))
    c.create_service(stack_service(
        "monitoring", "node-exporter", "prom/node-exporter:v1.7.0", network=mnet,
        replicas=None, args=["--path.rootfs=/host"], mounts=[_bind("/", "/host")],
    ))
    c.advance(1.9)

    # --- stack ops ----------------------------------------------------------------
    ops = {STACK_LABEL: "ops"}
    onet = c.create_network("ops_default", ops)
    s3 = c.create_secret("ops_s3_credentials", ops, b"AKIA-demo:secret")
    c.create_service(stack_service(
        "ops", "cron-backup", "registry.example.com/ops/backup:1.4.2", network=onet,
        replicas=1, secrets=[(s3, "s3_credentials")],
        restart={"Condition": "any", "Delay": 5 * SECOND, "MaxAttempts": 0},
    ))
    c.create_service(stack_service(
        "ops", "gpu-job", "registry.example.com/ml/trainer:3.1", network=onet, replicas=1,
        constraints=["node.labels.gpu == true"],
    ))
    c.advance(2.2)

    # --- standalone -------------------------------------------------------------------
    c.create_service(cli_service("whoami", "traefik/whoami:v1.10.1", 3, args=["--port", "80"],
                                 ports=[(8000, 80)]))
    c.advance_to(start_ns + 60 * NS)

    # --- history: a finished rolling update, a scale-down, a drain, a lost node ---------
    c.set_image("shop_web", "nginx:1.25.4-alpine")
    c.advance_to(start_ns + 100 * NS)
    c.scale_service("whoami", 2)
    c.advance_to(start_ns + 120 * NS)
    worker2 = c.resolve_node("worker-2")
    spec = dict(worker2.spec)
    spec["Availability"] = "drain"
    c.update_node(worker2.id, worker2.meta.version, spec)
    c.advance_to(start_ns + 150 * NS)
    c.set_node_state("worker-3", "down")
    c.advance_to(start_ns + 180 * NS)
    add_demo_leftovers(c)  # stopped containers, a dangling image, an anonymous volume
    return c


# --------------------------------------------------------------------------- scale

_SCALE_KINDS: tuple[tuple[str, str], ...] = (
    ("web", "nginx:1.25.4-alpine"),
    ("api", "registry.example.com/shop/api:2.4.1"),
    ("cache", "redis:7.2-alpine"),
    ("echo", "traefik/whoami:v1.10.1"),
    ("worker", "busybox:1.36"),
)


def scale(seed: int = 1, start_ns: int = DEFAULT_START_NS, *, nodes: int = 100,
          tasks: int = 5000, services: int | None = None) -> SimCluster:
    """``nodes`` nodes (3 managers) and ``tasks`` running tasks: a global node-exporter plus
    replicated services (default: one per ~100 tasks) spread over stacks of five."""
    c = SimCluster(seed, start_ns)
    managers = min(3, nodes)
    for i in range(nodes):
        role = "manager" if i < managers else "worker"
        name = f"manager-{i + 1}" if i < managers else f"worker-{i - managers + 1:03d}"
        c.add_node(name, role, f"10.20.{i // 250}.{i % 250 + 1}",
                   nano_cpus=16 * NS, memory_bytes=64 * GIB,
                   labels={"zone": "abc"[i % 3], "rack": f"r{i // 10:02d}"})
    c.advance(2)
    remaining = max(0, tasks - nodes)
    count = services if services is not None else max(1, remaining // 100)
    stacks: dict[int, SimNetwork] = {}
    base, extra = divmod(remaining, count)
    for i in range(count):
        stack_no = i // len(_SCALE_KINDS)
        kind, image = _SCALE_KINDS[i % len(_SCALE_KINDS)]
        stack = f"app{stack_no + 1:02d}"
        if stack_no not in stacks:
            stacks[stack_no] = c.create_network(f"{stack}_default", {STACK_LABEL: stack},
                                                subnet=f"10.{100 + stack_no // 250}."
                                                f"{stack_no % 250}.0/24")
        args = ["sh", "-c", "while true; do hostname; sleep 2; done"] if kind == "worker" else []
        c.create_service(stack_service(
            stack, kind, image, network=stacks[stack_no], replicas=base + (1 if i < extra else 0),
            args=args,
            update={"Parallelism": 5, "Delay": 2 * SECOND, "FailureAction": "pause",
                    "Monitor": 5 * SECOND, "MaxFailureRatio": 0, "Order": "stop-first"},
        ))
    mnet = c.create_network("monitoring_default", {STACK_LABEL: "monitoring"},
                            subnet="10.99.0.0/24")
    c.create_service(stack_service("monitoring", "node-exporter", "prom/node-exporter:v1.7.0",
                                   network=mnet, replicas=None, args=["--path.rootfs=/host"]))
    c.advance(30)
    # Thousands of tasks take longer to start than 30 virtual seconds: a benchmark measures a
    # swarm at rest (nothing converging), so wait until every task runs.
    for _ in range(60):
        if all(t.state == "running" for t in c.tasks.values()):
            break
        c.advance(5)
    return c


# --------------------------------------------------------------------------- chatty


def chatty(seed: int = 1, start_ns: int = DEFAULT_START_NS, *, replicas: int = 4,
           rate: int = 200) -> SimCluster:
    """Three nodes and one service whose tasks log ``rate`` lines/s each (log benchmarks)."""
    c = SimCluster(seed, start_ns)
    c.add_node("manager-1", "manager", "10.10.0.11")
    c.add_node("worker-1", "worker", "10.10.0.21")
    c.add_node("worker-2", "worker", "10.10.0.22")
    c.advance(1)
    c.create_service(cli_service("chatty", "registry.example.com/tools/chatty:1.0", replicas,
                                 args=["--rate", str(rate)]))
    c.advance(15)
    return c


BUILDERS: dict[str, Callable[..., SimCluster]] = {"demo": demo, "scale": scale, "chatty": chatty}


def build(name: str, seed: int = 1, start_ns: int = DEFAULT_START_NS,
          **options: Any) -> SimCluster:
    """Build the named scenario (``demo``, ``scale``, ``chatty``)."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(BUILDERS)})") from None
    return builder(seed, start_ns, **options)


def build_ending_at(name: str, end_ns: int, seed: int = 1, **options: Any) -> SimCluster:
    """Build so the scenario's history ends at ``end_ns`` (e.g. ``time.time_ns()`` for a live
    demo, where the app computes ages from the wall clock). Same inputs → same cluster."""
    probe = build(name, seed, DEFAULT_START_NS, **options)
    return build(name, seed, end_ns - (probe.now_ns - DEFAULT_START_NS), **options)
