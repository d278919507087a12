"""Deterministic per-task log generators for the simulated swarm.

Pure functions, stdlib only.  A task that is running produces line ``i`` at

    t_i = running_since + i * period + jitter(i)        (0 <= jitter < period / 2)

so the times are strictly increasing and can be inverted cheaply: any window
``[since, until]`` or ``tail=n`` is answered without generating the lines before
it.  The text of line ``i`` depends only on (cluster seed, task id, i), never on
when it is asked for, so every call returns byte-identical output.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

NS = 1_000_000_000
_M64 = (1 << 64) - 1

STDOUT = 1
STDERR = 2


@dataclass(frozen=True, slots=True)
class Profile:
    """How the containers of an image behave (log flavour, rate, failures, sizes)."""

    kind: str
    period_ns: int
    fail_after_ns: int | None = None
    command: str = ""
    image_size: int = 12_000_000
    size_rw: int = 0
    exit_code: int = 1
    err: str = "task: non-zero exit (1)"


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def task_seed(cluster_seed: int, task_id: str) -> int:
    digest = hashlib.blake2b(f"{cluster_seed}:{task_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def line_time(start_ns: int, period_ns: int, seed: int, i: int) -> int:
    jitter_span = period_ns // 2
    jitter = mix64(seed ^ i) % jitter_span if jitter_span > 0 else 0
    return start_ns + i * period_ns + jitter


def index_range(
    start_ns: int, period_ns: int, seed: int, lo_ns: int, hi_ns: int
) -> tuple[int, int]:
    """Indices ``[first, last]`` of the lines with ``lo_ns <= t_i <= hi_ns``.

    Empty when ``first > last``.
    """
    if hi_ns < start_ns or hi_ns < lo_ns:
        return 0, -1
    last = (hi_ns - start_ns) // period_ns
    while last >= 0 and line_time(start_ns, period_ns, seed, last) > hi_ns:
        last -= 1
    first = max(0, (lo_ns - start_ns) // period_ns - 1)
    while first <= last and line_time(start_ns, period_ns, seed, first) < lo_ns:
        first += 1
    return first, last


# --------------------------------------------------------------------------- profiles

_MB = 1_000_000

PROFILES: dict[str, Profile] = {
    "nginx": Profile(
        "nginx",
        1_500_000_000,
        command="/docker-entrypoint.sh nginx -g 'daemon off;'",
        image_size=41_400_000,
        size_rw=1_093,
    ),
    "api": Profile(
        "api", 2_000_000_000, command="/app/api --config /etc/api/config.yml",
        image_size=87_300_000, size_rw=48_213,
    ),
    "postgres": Profile(
        "postgres", 20_000_000_000, command="docker-entrypoint.sh postgres",
        image_size=238_000_000, size_rw=63,
    ),
    "redis": Profile(
        "redis", 15_000_000_000, command="docker-entrypoint.sh redis-server",
        image_size=40_100_000,
    ),
    "exporter": Profile(
        "exporter", 30_000_000_000, command="/bin/node_exporter --path.rootfs=/host",
        image_size=22_700_000,
    ),
    "grafana": Profile(
        "grafana", 5_000_000_000, command="/run.sh", image_size=398_000_000,
        size_rw=12_402_118,
    ),
    "backup": Profile(
        "backup", 1_000_000_000, fail_after_ns=4_200_000_000,
        command="/usr/local/bin/backup.sh --target s3://backups/shop",
        image_size=31_800_000,
    ),
    "trainer": Profile(
        "trainer", 10_000_000_000, command="python -m trainer.main", image_size=2_310_000_000
    ),
    "whoami": Profile("whoami", 3_000_000_000, command="/whoami", image_size=6_640_000),
    "chatty": Profile(
        "chatty", NS // 200, command="/chatty --rate 200", image_size=4_860_000
    ),
    "hostname": Profile(
        "hostname", 2_000_000_000,
        command="/bin/sh -c 'while true; do hostname; sleep 2; done'",
        image_size=1_982_347,
    ),
    # A crashing release (a tag with "broken"/"crash", or an image a scenario marks): starts,
    # then exits 3 like the lab's `sh -c 'sleep 1; exit 3'` (update_pause/, update_rollback/).
    "broken": Profile(
        "broken", 500_000_000, fail_after_ns=1_700_000_000, command="",
        image_size=41_500_000, exit_code=3, err="task: non-zero exit (3)",
    ),
}

_REPO_KINDS: tuple[tuple[str, str], ...] = (
    ("nginx", "nginx"),
    ("postgres", "postgres"),
    ("redis", "redis"),
    ("node-exporter", "exporter"),
    ("grafana", "grafana"),
    ("backup", "backup"),
    ("trainer", "trainer"),
    ("whoami", "whoami"),
    ("chatty", "chatty"),
    ("/api", "api"),
    ("api:", "api"),
)


def split_image(image: str) -> tuple[str, str]:
    """``repo[:tag][@digest]`` → (repo, tag)."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def profile_for(image: str, args: list[str] | None = None) -> Profile:
    """Guess a profile from the image reference (and the args for busybox-style images)."""
    repo, tag = split_image(image)
    if "broken" in tag or "crash" in tag:
        return PROFILES["broken"]
    probe = image.lower()
    for needle, kind in _REPO_KINDS:
        if needle in probe:
            if kind == "chatty" and args and "--rate" in args[:-1]:
                rate = args[args.index("--rate") + 1]
                if rate.isdigit():
                    return chatty_profile(int(rate))
            return PROFILES[kind]
    joined = " ".join(args or [])
    exit_match = _EXIT_RE.search(joined)
    if exit_match and int(exit_match.group(2)) != 0:
        return failing_profile(int(exit_match.group(2)), exit_match.group(1), joined or repo)
    if joined.strip() == "false":
        return failing_profile(1, None, joined)
    return Profile("hostname", 2_000_000_000, command=joined or "/bin/sh", image_size=1_982_347)


# `sleep 1; exit 3` (the lab's failing command), `exit 1`: how long it runs and its code.
_EXIT_RE = re.compile(r"(?:sleep\s+(\d+(?:\.\d+)?)\s*;\s*)?exit\s+(\d+)")


def failing_profile(exit_code: int, sleep_s: str | None = None, command: str = "") -> Profile:
    """A container that runs ``sleep_s`` seconds (3 s when not said) and exits ``exit_code``."""
    after = int(float(sleep_s) * NS) if sleep_s else 3 * NS
    return Profile("backup", 1_000_000_000, fail_after_ns=max(after, 100_000_000),
                   command=command, exit_code=exit_code,
                   err=f"task: non-zero exit ({exit_code})")


def chatty_profile(lines_per_second: int) -> Profile:
    period = max(1_000, NS // max(1, lines_per_second))
    return Profile("chatty", period, command=f"/chatty --rate {lines_per_second}",
                   image_size=4_860_000)


# --------------------------------------------------------------------------- rendering

_PATHS = (
    "/", "/products", "/products/42", "/cart", "/checkout", "/api/v1/products?page=2",
    "/static/app.3f9a1c.js", "/static/app.3f9a1c.css", "/favicon.ico", "/healthz",
    "/api/v1/cart/items", "/login", "/search?q=boots",
)
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Safari/605.1.15",
    "curl/8.5.0",
    "kube-probe/1.28",
    "Go-http-client/1.1",
)
_STATUS = (200, 200, 200, 200, 200, 200, 304, 200, 301, 404, 200, 499, 502)
_API_ROUTES = (
    ("GET", "/v1/products"), ("GET", "/v1/products/{id}"), ("POST", "/v1/cart/items"),
    ("GET", "/v1/cart"), ("POST", "/v1/orders"), ("GET", "/v1/orders/{id}"),
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class LineContext:
    container_id: str
    service_name: str
    slot: int
    node_hostname: str
    ip: str


def _clf_time(ts_ns: int) -> str:
    t = time.gmtime(ts_ns // NS)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _iso_ms(ts_ns: int) -> str:
    t = time.gmtime(ts_ns // NS)
    ms = (ts_ns // 1_000_000) % 1000
    return (
        f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
        f"{t.tm_sec:02d}.{ms:03d}Z"
    )


def _pg_time(ts_ns: int) -> str:
    t = time.gmtime(ts_ns // NS)
    ms = (ts_ns // 1_000_000) % 1000
    return (
        f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:"
        f"{t.tm_sec:02d}.{ms:03d} UTC"
    )


def render(kind: str, seed: int, i: int, ts_ns: int, ctx: LineContext) -> tuple[int, str]:
    """Text (without newline) and stream of line ``i`` of a task."""
    h = mix64(seed + 0x51ED * i)
    fn = _RENDERERS.get(kind, _render_hostname)
    return fn(h, i, ts_ns, ctx)


def _client_ip(h: int) -> str:
    return f"10.0.0.{2 + (h >> 8) % 200}"


def _render_nginx(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    if i == 0:
        return STDERR, "/docker-entrypoint.sh: Configuration complete; ready for start up"
    if i == 1:
        t = time.gmtime(ts // NS)
        return STDERR, (
            f"{t.tm_year}/{t.tm_mon:02d}/{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d} [notice] 1#1: start worker processes"
        )
    path = _PATHS[h % len(_PATHS)]
    status = _STATUS[(h >> 12) % len(_STATUS)]
    size = 0 if status == 304 else 200 + (h >> 20) % 48_000
    agent = _AGENTS[(h >> 40) % len(_AGENTS)]
    method = "POST" if path.startswith("/api/v1/cart") and (h >> 5) & 1 else "GET"
    return STDOUT, (
        f'{_client_ip(h)} - - [{_clf_time(ts)}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"-" "{agent}"'
    )


def _render_api(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    stamp = _iso_ms(ts)
    if i == 0:
        return STDOUT, f"{stamp} INFO  api.main      starting shop-api on :8000 (slot {ctx.slot})"
    if i == 1:
        return STDOUT, f"{stamp} INFO  api.db        connected to postgres://shop_db:5432/shop"
    roll = h % 100
    method, route = _API_ROUTES[(h >> 8) % len(_API_ROUTES)]
    route = route.replace("{id}", str(1000 + (h >> 16) % 9000))
    ms = 3 + (h >> 32) % 180
    if roll < 4:
        return STDERR, (
            f"{stamp} ERROR api.handler   {method} {route} failed: upstream timeout after "
            f"{ms * 10}ms (request_id={h & 0xFFFFFFFF:08x})"
        )
    if roll < 12:
        return STDERR, f"{stamp} WARN  api.pool      connection pool at {70 + roll}% capacity"
    return STDOUT, (
        f"{stamp} INFO  api.http      {method} {route} 200 {ms}ms "
        f"request_id={h & 0xFFFFFFFF:08x}"
    )


def _render_postgres(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    stamp = _pg_time(ts)
    if i == 0:
        return STDOUT, f"{stamp} [1] LOG:  starting PostgreSQL 15.5 on x86_64-pc-linux-musl"
    if i == 1:
        return STDOUT, f"{stamp} [1] LOG:  database system is ready to accept connections"
    if h % 3 == 0:
        return STDOUT, f"{stamp} [27] LOG:  checkpoint starting: time"
    if h % 3 == 1:
        bufs = 10 + (h >> 8) % 400
        return STDOUT, (
            f"{stamp} [27] LOG:  checkpoint complete: wrote {bufs} buffers "
            f"({bufs / 163.84:.1f}%); 0 WAL file(s) added, 0 removed, 1 recycled"
        )
    return STDOUT, f'{stamp} [{100 + h % 900}] LOG:  automatic vacuum of table "shop.public.orders"'


def _render_redis(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    t = time.gmtime(ts // NS)
    ms = (ts // 1_000_000) % 1000
    stamp = (
        f"{t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms:03d}"
    )
    if i == 0:
        return STDOUT, f"1:M {stamp} * Ready to accept connections tcp"
    return STDOUT, f"1:M {stamp} * {1 + h % 100} changes in 60 seconds. Saving..."


def _render_exporter(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    stamp = _iso_ms(ts)
    if i == 0:
        return STDERR, (
            f'ts={stamp} caller=node_exporter.go:192 level=info msg="Starting node_exporter" '
            f'version="(version=1.7.0, branch=HEAD)"'
        )
    if i == 1:
        return STDERR, (
            f"ts={stamp} caller=tls_config.go:274 level=info msg=\"Listening on\" "
            f"address=[::]:9100"
        )
    return STDERR, (
        f'ts={stamp} caller=collector.go:{150 + h % 40} level=debug msg="collect" '
        f"node={ctx.node_hostname} duration_seconds=0.0{h % 90 + 10}"
    )


def _render_grafana(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    stamp = _iso_ms(ts)
    if i == 0:
        return STDOUT, f'logger=server t={stamp} level=info msg="Starting Grafana" version=10.2.3'
    paths = ("/api/dashboards/uid/node-overview", "/api/live/ws", "/api/search", "/login")
    path = paths[h % len(paths)]
    dur = 1 + (h >> 10) % 250
    return STDOUT, (
        f'logger=context userId=1 orgId=1 uname=admin t={stamp} level=info msg="Request Completed" '
        f"method=GET path={path} status=200 remote_addr={_client_ip(h)} time_ms={dur}"
    )


def _render_backup(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    stamp = _iso_ms(ts)
    if i == 0:
        return STDOUT, f"{stamp} backup: starting run (target=s3://backups/shop, retention=14d)"
    if i == 1:
        return STDOUT, f"{stamp} backup: dumping database shop from shop_db:5432"
    return STDERR, (
        f'{stamp} pg_dump: error: connection to server at "shop_db" (10.0.1.6), port 5432 '
        f"failed: FATAL:  password authentication failed for user \"backup\""
    )


def _render_trainer(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    return STDOUT, f"{_iso_ms(ts)} epoch {i // 50} step {i % 50} loss={(h % 1000) / 997:.4f}"


def _render_whoami(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    if i == 0:
        return STDOUT, "Starting up on port 80"
    return STDOUT, f"{_iso_ms(ts)} GET / from {_client_ip(h)} -> {ctx.container_id[:12]}"


def _render_chatty(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    return (STDERR if h % 10 == 0 else STDOUT), (
        f"{_iso_ms(ts)} chatty[{ctx.slot}] seq={i} payload={h:016x}"
    )


def _render_hostname(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    return STDOUT, ctx.container_id[:12]


def _render_broken(h: int, i: int, ts: int, ctx: LineContext) -> tuple[int, str]:
    if i == 0:
        return STDOUT, "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst.sh"
    return STDERR, (
        'nginx: [emerg] unknown directive "upstream_keepalive" in /etc/nginx/conf.d/default.conf:14'
    )


_RENDERERS = {
    "nginx": _render_nginx,
    "api": _render_api,
    "postgres": _render_postgres,
    "redis": _render_redis,
    "exporter": _render_exporter,
    "grafana": _render_grafana,
    "backup": _render_backup,
    "trainer": _render_trainer,
    "whoami": _render_whoami,
    "chatty": _render_chatty,
    "hostname": _render_hostname,
    "broken": _render_broken,
}
