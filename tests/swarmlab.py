"""A real multi-node Docker Swarm on one machine, for swarmtui's tests.

Stdlib only. Used as a module (``swarmlab.up()`` returns a :class:`Lab`) and as a CLI::

    python tests/swarmlab.py up [--nodes N]   # idempotent: reuses a healthy lab
    python tests/swarmlab.py status
    python tests/swarmlab.py restart-node I   # I = 0-based index (0 = manager) or hostname
    python tests/swarmlab.py up-newer         # extra single-node swarm on Docker 26.1
    python tests/swarmlab.py down             # removes everything, also after a kill -9

How it works (see shared notes "swarm-lab.md"): one dockerd per network namespace
(``swtlab-n1``..), each started as ``nsenter --net=... unshare --uts`` so it has its own
hostname (``lab-node1``..), all namespaces joined by the bridge ``swtlab0`` (10.231.7.1/24,
node i+1 is 10.231.7.(11+i)). Node 1 is the only manager. Every daemon has its own
data-root, exec-root, pid file, log and unix socket under the lab dir
(``/tmp/swarmtui-lab``, or ``$SWARMTUI_LAB_DIR``), ``--metrics-addr 127.0.0.1:9323``
inside its namespace, and ``DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1`` so tasks never try
to pull. ``busybox:lab`` (a busybox-static rootfs; default command is a loop that exits
quickly on SIGTERM) and its second tag ``busybox:lab2`` exist on every node. Nothing can
be pulled: create services with ``--no-resolve-image`` and deploy stacks with
``--resolve-image never``.

The docker CLI used is ``/usr/bin/docker`` (Debian's 20.10, same version as the daemons),
else ``docker`` on PATH; ``$SWARMTUI_LAB_DOCKER_CLI`` overrides it.

Needs root, ``dockerd``, ``ip``, ``iptables``, ``nsenter``, ``unshare`` and a static
busybox. Only one lab per machine: the bridge, namespace and cgroup names are fixed.
Known limit: the kernel on the dev/CI machines has no IPVS, so the ingress routing mesh
(published ports) does not balance; tasks on overlay networks do run.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_LAB_DIR = "/tmp/swarmtui-lab"
BRIDGE = "swtlab0"
NET_PREFIX = "10.231.7."
BRIDGE_ADDR = NET_PREFIX + "1"
NETNS_PREFIX = "swtlab-"  # every namespace the lab makes starts with this
VETH_PREFIX = "swtv"  # host ends of the veth pairs
HOSTNAME_PREFIX = "lab-node"
IMAGE = "busybox:lab"
IMAGE2 = "busybox:lab2"
# The node-probe image (busybox + the host's docker CLI; see ensure_probe_image).
PROBE_IMAGE = "swarmtui-probe:lab"
PROBE_SOCKETS = "probe-sockets"  # LAB_DIR/probe-sockets/HOSTNAME/docker.sock -> the node's
MAX_NODES = 20
METRICS_ADDR = "127.0.0.1:9323"
# sh as PID 1 ignores SIGTERM unless it traps it: this default stops within a second.
DEFAULT_CMD = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
# Both rules are removed on teardown. The DROP rule keeps lab traffic off every other
# network even if something turns on forwarding in the host namespace.
IPTABLES_RULES = [
    ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"],
    ["FORWARD", "-i", BRIDGE, "!", "-o", BRIDGE, "-j", "DROP"],
]
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian 13 packages for the optional newer engine (up_newer); cached across labs.
NEWER_CACHE = Path("/var/cache/swarmtui-lab")
NEWER_SUITE = "trixie"
NEWER_NAME = "lab-newer"
NEWER_NETNS = NETNS_PREFIX + "newer"
NEWER_ADDR = NET_PREFIX + "50"


class LabError(RuntimeError):
    """The lab could not be started, reached or stopped."""


class LabFetchError(LabError):
    """The newer engine's Debian packages could not be downloaded."""


class LabAPIError(LabError):
    """The engine answered an API call with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class LabCommandError(subprocess.CalledProcessError):
    """A command failed; unlike CalledProcessError its message includes stderr."""

    def __str__(self) -> str:
        err = (self.stderr or "").strip()
        return f"{super().__str__()}: {err[-2000:]}" if err else super().__str__()


def lab_dir() -> Path:
    return Path(os.environ.get("SWARMTUI_LAB_DIR", DEFAULT_LAB_DIR))


def docker_cli() -> str:
    env = os.environ.get("SWARMTUI_LAB_DOCKER_CLI")
    if env:
        return env
    if os.path.exists("/usr/bin/docker"):
        return "/usr/bin/docker"
    return shutil.which("docker") or "docker"


def _log(msg: str) -> None:
    if os.environ.get("SWARMTUI_LAB_QUIET") != "1":
        print(f"[swarmlab] {msg}", file=sys.stderr, flush=True)


def _run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        input=input,
        cwd=cwd,
        stdin=None if input is not None else subprocess.DEVNULL,
        check=False,
    )
    if check and proc.returncode != 0:
        raise LabCommandError(proc.returncode, list(argv), proc.stdout, proc.stderr)
    return proc


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    # -H is the only way the lab picks a daemon: these would override or conflict.
    for key in (
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "DOCKER_API_VERSION",
    ):
        env.pop(key, None)
    env["DOCKER_CLI_HINTS"] = "false"
    return env


# --------------------------------------------------------------------------- engine API


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def api_request(
    sock_path: str | Path,
    method: str,
    path: str,
    body: Any = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One Engine API call over a unix socket: (status, decoded JSON or text)."""
    conn = _UnixHTTPConnection(str(sock_path), timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, raw.decode(errors="replace")


def _ping(sock_path: Path, timeout: float = 2.0) -> bool:
    try:
        status, _ = api_request(sock_path, "GET", "/_ping", timeout=timeout)
    except OSError:
        return False
    return status == 200


# --------------------------------------------------------------------------- processes


def _proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _pid_alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (a zombie still answers kill 0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _proc_state(pid: int) -> str:
    """The one-letter state in /proc/PID/stat ("T": stopped by a signal), "" if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _netns_inode(name: str) -> int | None:
    try:
        return os.stat(f"/var/run/netns/{name}").st_ino
    except OSError:
        return None


def _pids_in_netns(inodes: set[int]) -> list[int]:
    found = []
    for pid in _all_pids():
        try:
            link = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        m = re.fullmatch(r"net:\[(\d+)\]", link)
        if m and int(m.group(1)) in inodes:
            found.append(pid)
    return found


def _lab_cgroup_dirs(names: Sequence[str]) -> list[Path]:
    """Cgroup dirs of these nodes' containers in every hierarchy (v1 and v2), deepest first.

    Each daemon runs with --cgroup-parent /NETNS-NAME, so the names are the netns names.
    """
    root = Path("/sys/fs/cgroup")
    tops = [p for n in names for p in (root / n, *root.glob(f"*/{n}"))]
    dirs: list[Path] = []
    for top in tops:
        if top.is_dir():
            dirs.extend(p for p in top.rglob("*") if p.is_dir())
            dirs.append(top)
    return sorted(dirs, key=lambda p: len(p.parts), reverse=True)


def _pids_in_lab_cgroups(names: Sequence[str]) -> list[int]:
    pids: set[int] = set()
    for d in _lab_cgroup_dirs(names):
        with contextlib.suppress(OSError, ValueError):
            pids.update(int(x) for x in (d / "cgroup.procs").read_text().split())
    return sorted(pids)


def _kill_lab_leftovers(netns_names: Sequence[str], extra_pids: Sequence[int] = ()) -> None:
    """SIGKILL every process of the lab: daemons, containerd, shims, containers.

    Found by their network namespace (daemon side) and by the lab's cgroup parent
    (containers, which have namespaces of their own) -- never by name.
    """
    inodes = {i for n in netns_names if (i := _netns_inode(n)) is not None}
    deadline = time.monotonic() + 15
    while True:
        pids = set(extra_pids) | set(_pids_in_netns(inodes))
        pids |= set(_pids_in_lab_cgroups(netns_names))
        pids = {p for p in pids if p != os.getpid() and _pid_alive(p)}
        if not pids:
            break
        if time.monotonic() > deadline:
            raise LabError(f"processes of the lab survive SIGKILL: {sorted(pids)}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    for d in _lab_cgroup_dirs(netns_names):
        with contextlib.suppress(OSError):
            d.rmdir()


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _remove_shim_sockets(node_root: Path) -> None:
    """Delete the sockets of this node's (dead) shims from /run/containerd/s.

    containerd names them sha256(<containerd address>/<namespace>/<task id>) under a fixed
    folder; a shim that was SIGKILLed leaves its socket behind.
    """
    address = node_root / "exec" / "containerd" / "containerd.sock"
    tasks = node_root / "exec" / "containerd" / "daemon" / "io.containerd.runtime.v2.task"
    for task in tasks.glob("*/*"):
        key = f"{address}/{task.parent.name}/{task.name}".encode()
        sock = Path("/run/containerd/s") / hashlib.sha256(key).hexdigest()
        with contextlib.suppress(OSError):
            sock.unlink()


# --------------------------------------------------------------------------- mounts


def _unescape_mount(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def _mounts_under(base: Path) -> list[str]:
    prefix = str(base).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = _unescape_mount(line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                out.append(point)
    return out


def _unmount_under(base: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    for _ in range(5):
        points = _mounts_under(base)
        if not points:
            return
        # Deepest first; a lazy unmount also copes with anything still busy.
        for point in sorted(points, key=len, reverse=True):
            libc.umount2(point.encode(), mnt_detach)
    left = _mounts_under(base)
    if left:
        raise LabError(f"cannot unmount {left[:5]}")


# --------------------------------------------------------------------------- data model


@dataclass
class LabNode:
    """One dockerd of the lab. ``index`` is 0-based (node 0 = lab-node1 = manager)."""

    name: str  # hostname as in `docker node ls`
    index: int
    host: str  # unix:///.../docker.sock, for -H / DOCKER_HOST
    netns: str  # name under /var/run/netns
    addr: str  # address on the lab bridge (advertise address)
    pidfile: Path
    sock: Path
    root: Path  # this node's folder: data/, exec/, dockerd.log
    dockerd: str = "dockerd"
    path_prefix: str = ""  # put first on PATH (newer engine's own containerd, shims)

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def netns_path(self) -> str:
        return f"/var/run/netns/{self.netns}"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("pidfile", "sock", "root"):
            d[k] = str(d[k])
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LabNode:
        d = dict(d)
        for k in ("pidfile", "sock", "root"):
            d[k] = Path(d[k])
        return cls(**d)


@dataclass
class Lab:
    """A running lab. ``docker(..., node=i)`` runs the CLI against ``nodes[i]``."""

    base_dir: Path
    nodes: list[LabNode]
    kind: str = "main"  # "main" (the multi-node lab) or "newer" (up_newer)
    cli: str = field(default_factory=docker_cli)
    reused: bool = False  # True when up() found it already running
    startup_seconds: float = 0.0

    # -- basics

    @property
    def manager(self) -> LabNode:
        return self.nodes[0]

    @property
    def manager_host(self) -> str:
        return self.nodes[0].host

    @property
    def hostnames(self) -> list[str]:
        return [n.name for n in self.nodes]

    @property
    def state_file(self) -> Path:
        return self.base_dir / ("state.json" if self.kind == "main" else f"state-{self.kind}.json")

    def docker_env(self, node: int = 0) -> dict[str, str]:
        """os.environ with DOCKER_HOST pointing at a node (for swarmtui / docker SDK)."""
        env = _cli_env()
        env["DOCKER_HOST"] = self.nodes[node].host
        return env

    def docker(
        self, *args: str, node: int = 0, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI with -H for ``nodes[node]``; raises LabCommandError if check."""
        return _run(
            [self.cli, "-H", self.nodes[node].host, *args],
            check=check,
            timeout=timeout,
            env=_cli_env(),
        )

    def api(
        self,
        path: str,
        node: int = 0,
        method: str = "GET",
        body: Any = None,
        timeout: float = 10.0,
    ) -> Any:
        """Engine API call on a node (unversioned path, e.g. "/nodes"); raises on >= 400."""
        status, data = api_request(self.nodes[node].sock, method, path, body, timeout)
        if status >= 400:
            raise LabAPIError(
                f"{method} {path} on {self.nodes[node].name}: {status} {data}", status
            )
        return data

    def in_netns(
        self, node: int, *argv: str, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run a host command inside a node's network namespace (e.g. to reach metrics)."""
        return _run(
            ["nsenter", f"--net={self.nodes[node].netns_path}", *argv], check=check, timeout=timeout
        )

    def metrics(self, node: int = 0) -> str:
        """The node's Prometheus text from --metrics-addr (only reachable in its netns)."""
        code = (
            "import sys, urllib.request;"
            f"sys.stdout.write(urllib.request.urlopen('http://{METRICS_ADDR}/metrics',"
            " timeout=5).read().decode())"
        )
        return self.in_netns(node, sys.executable, "-c", code).stdout

    # -- daemons

    def daemon_pid(self, i: int) -> int | None:
        """Pid of node i's dockerd if it is running (checked against its cmdline)."""
        n = self.nodes[i]
        for f in (n.pidfile, n.root / "launch.pid"):  # dockerd writes its pidfile late
            pid = _read_pid(f)
            if pid is not None and _pid_alive(pid) and str(n.sock) in " ".join(_proc_cmdline(pid)):
                return pid
        return None

    def daemon_running(self, i: int) -> bool:
        return self.daemon_pid(i) is not None and _ping(self.nodes[i].sock)

    def stop_daemon(self, i: int, timeout: float = 30) -> None:
        """SIGTERM node i's dockerd and wait; SIGKILL (and clean its processes) if it hangs."""
        n = self.nodes[i]
        pid = self.daemon_pid(i)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _wait_exit(pid, timeout):
                _log(f"{n.name}: dockerd {pid} ignored SIGTERM for {timeout}s, killing")
                os.kill(pid, signal.SIGKILL)
                _wait_exit(pid, 10)
        # A graceful stop ends containerd and the shims; after a kill they linger.
        _kill_lab_leftovers([n.netns])
        for f in (n.pidfile, n.root / "launch.pid"):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()

    def start_daemon(self, i: int, timeout: float = 60) -> None:
        """Start node i's dockerd again; its swarm state is on disk, so it rejoins."""
        if self.daemon_running(i):
            return
        _start_dockerd(self.nodes[i])
        _wait_ping(self.nodes[i], timeout)
        self.wait_ready(timeout)

    def kill_daemon(self, i: int, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        """Send node i's dockerd ``sig``; for SIGKILL wait until it is gone. Unlike
        :meth:`stop_daemon` nothing is cleaned up: containerd, the shims and the containers
        live on, as after a real crash (``start_daemon`` picks them up again)."""
        pid = self.daemon_pid(i)
        if pid is None:
            raise LabError(f"{self.nodes[i].name}: dockerd not running")
        os.kill(pid, sig)
        if sig == signal.SIGKILL and not _wait_exit(pid, timeout):
            raise LabError(f"{self.nodes[i].name}: dockerd {pid} survived SIGKILL")

    def freeze_daemon(self, i: int) -> None:
        """SIGSTOP node i's dockerd: its sockets stay open and answer nothing (a real hang)."""
        self.kill_daemon(i, signal.SIGSTOP)

    def thaw_daemon(self, i: int) -> None:
        """SIGCONT node i's dockerd (harmless when it was not frozen)."""
        pid = self.daemon_pid(i)
        if pid is not None:
            os.kill(pid, signal.SIGCONT)

    def daemon_frozen(self, i: int) -> bool:
        pid = self.daemon_pid(i)
        return pid is not None and _proc_state(pid) in ("T", "t")

    def link_down(self, i: int) -> None:
        """Cut node i off the lab network (the host end of its veth down); its unix socket
        still answers, but the other nodes cannot reach it."""
        _ip("link", "set", _veth(self.nodes[i]), "down")

    def link_up(self, i: int) -> None:
        _ip("link", "set", _veth(self.nodes[i]), "up")

    def link_is_up(self, i: int) -> bool | None:
        """Whether node i's veth (host end) is up; None when it does not exist."""
        out = _ip("-o", "link", "show", _veth(self.nodes[i]), check=False).stdout
        if "<" not in out:
            return None
        return "UP" in out.split("<", 1)[1].split(">", 1)[0].split(",")

    def heal(self) -> bool:
        """Undo what fault tests do (frozen daemons, links down); True if anything was."""
        healed = False
        for n in self.nodes:
            if self.daemon_frozen(n.index):
                self.thaw_daemon(n.index)
                healed = True
            if self.link_is_up(n.index) is False:
                self.link_up(n.index)
                healed = True
        if healed:
            _log("healed a fault a test left behind (frozen dockerd or link down)")
        return healed

    def ensure_running(self, timeout: float = 60) -> bool:
        """Undo faults (:meth:`heal`), start every daemon that is not running (e.g. a test
        stopped it) and wait until the swarm is Ready; returns True if anything was done."""
        healed = self.heal()
        down = [n for n in self.nodes if not self.daemon_running(n.index)]
        for n in down:
            self.stop_daemon(n.index)  # clears a half-dead daemon's leftovers
            _start_dockerd(n)
        _parallel(lambda n: _wait_ping(n, timeout), down)
        if down or healed:
            self.wait_ready(timeout)
        return bool(down) or healed

    def restart_daemon(self, i: int, timeout: float = 60) -> float:
        """Stop and start node i's dockerd, wait until the swarm is Ready; returns seconds."""
        t0 = time.monotonic()
        self.stop_daemon(i)
        self.start_daemon(i, timeout)
        return time.monotonic() - t0

    # -- readiness

    def node_states(self) -> dict[str, tuple[str, str]]:
        """hostname -> (status state, availability) as the manager sees it."""
        out: dict[str, tuple[str, str]] = {}
        for n in self.api("/nodes", timeout=5):
            out[n["Description"]["Hostname"]] = (
                n["Status"]["State"],
                n["Spec"].get("Availability", ""),
            )
        return out

    def _ready_problem(self, deep: bool = True) -> str | None:
        """What keeps the lab from being ready, or None. ``deep`` also asks each worker."""
        for i, n in enumerate(self.nodes):
            if self.daemon_pid(i) is None:
                return f"{n.name}: dockerd not running"
            if not _ping(n.sock):
                return f"{n.name}: no answer on {n.sock}"
        try:
            states = self.node_states()
        except (OSError, LabError, http.client.HTTPException) as e:
            return f"manager: {e}"
        for name in self.hostnames:
            if states.get(name, ("missing",))[0] != "ready":
                return f"{name}: {states.get(name, ('missing',))[0]}"
        if len(states) != len(self.nodes):
            return f"manager lists {sorted(states)}"
        for i, n in enumerate(self.nodes[1:] if deep else [], 1):
            # Ready in the manager's store can outlive a worker's restart: ask the worker.
            try:
                state = self.api("/info", node=i, timeout=5)["Swarm"]["LocalNodeState"]
            except (OSError, LabError, http.client.HTTPException) as e:
                return f"{n.name}: {e}"
            if state != "active":
                return f"{n.name}: swarm state {state}"
        return None

    def is_ready(self, deep: bool = True) -> bool:
        return self._ready_problem(deep) is None

    def _reusable(self) -> bool:
        """For up(): all daemons alive and the swarm Ready, allowing a busy or restarting
        manager some time before deciding the lab is broken (a rebuild kills it for
        every other user)."""
        if any(self.daemon_pid(i) is None for i in range(len(self.nodes))):
            return False
        self.heal()  # a fault test that was killed mid-fault: thaw, links up
        if self.is_ready(deep=False):
            return True
        try:
            self.wait_ready(30)
        except LabError:
            return False
        return True

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until every daemon answers and the manager lists every node Ready."""
        deadline = time.monotonic() + timeout
        while (problem := self._ready_problem()) is not None:
            if time.monotonic() > deadline:
                raise LabError(f"lab not ready after {timeout}s: {problem}")
            time.sleep(0.2)

    # -- lifecycle

    def save(self) -> None:
        data = {"version": 1, "kind": self.kind, "nodes": [n.to_json() for n in self.nodes]}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.state_file)

    def probe_socket_template(self) -> str:
        """The bind source of a probe's socket mount: one symlink per hostname."""
        return str(self.base_dir / PROBE_SOCKETS / "{{.Node.Hostname}}" / "docker.sock")

    def ensure_probe_image(self) -> tuple[str, str]:
        """``swarmtui-probe:lab`` on every node and the per-hostname socket symlinks;
        returns (image, socket template). Idempotent and cheap when all is there (an image
        prune in another test may have removed it from a node: imported again). The rootfs
        tar is cached in the lab dir."""
        for n in self.nodes:
            link = self.base_dir / PROBE_SOCKETS / n.name / "docker.sock"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink() or os.readlink(link) != str(n.sock):
                link.unlink(missing_ok=True)
                link.symlink_to(n.sock)
        missing = [n for n in self.nodes
                   if self.docker("image", "inspect", PROBE_IMAGE, node=n.index,
                                  check=False).returncode != 0]
        if missing:
            tar = self.base_dir / "probe-rootfs.tar"
            if not tar.exists():
                _probe_rootfs_tar(tar, self.cli)
            _parallel(lambda n: self.docker("import", "--change", "ENV PATH=/usr/bin:/bin",
                                            "--change", "ENV HOME=/tmp", str(tar),
                                            PROBE_IMAGE, node=n.index, timeout=120), missing)
        return PROBE_IMAGE, self.probe_socket_template()

    def down(self) -> None:
        """Tear down: the whole lab for kind "main", only this engine for "newer"."""
        if self.kind == "main":
            down(self.base_dir)
        else:
            down_newer(self.base_dir)


# --------------------------------------------------------------------------- building


def _lock(base: Path) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def cm() -> Iterator[None]:
        # Beside the lab dir, since down() deletes the dir itself.
        base.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{base}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    return cm()


def unavailable_reason() -> str | None:
    """Why the lab cannot run on this machine, or None."""
    if sys.platform != "linux":
        return "the swarm lab needs Linux"
    if os.geteuid() != 0:
        return "the swarm lab needs root (network namespaces, dockerd)"
    for tool in ("dockerd", "containerd", "runc", "ip", "iptables", "nsenter", "unshare"):
        if shutil.which(tool, path=SYS_PATH) is None:
            return f"{tool} not found (apt-get install docker.io iptables util-linux)"
    if _busybox() is None:
        return "static busybox not found (apt-get install busybox-static)"
    if not os.path.exists(docker_cli()) and shutil.which(docker_cli()) is None:
        return f"docker CLI {docker_cli()} not found"
    return None


def _busybox() -> str | None:
    for cand in ("/bin/busybox", "/usr/bin/busybox"):
        try:
            with open(cand, "rb") as f:
                head = f.read(4096)
        except OSError:
            continue
        if b"ld-linux" not in head:  # a dynamic binary names its loader in .interp
            return cand
    return None


def _rootfs_tar(dest: Path) -> Path:
    """A busybox rootfs as a tar (busybox plus one symlink per applet)."""
    bb = _busybox()
    if bb is None:
        raise LabError("static busybox not found")
    applets = _run([bb, "--list"]).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", target: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 0
            info.linkname = target
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        for d in ("bin", "dev", "etc", "proc", "sys", "root", "var", "var/www", "usr", "usr/bin"):
            add(d, tarfile.DIRTYPE, 0o755)
        add("tmp", tarfile.DIRTYPE, 0o1777)
        add("bin/busybox", tarfile.REGTYPE, 0o755, Path(bb).read_bytes())
        for a in applets:
            if a != "busybox":
                add(f"bin/{a}", tarfile.SYMTYPE, 0o777, target="busybox")
        add("usr/bin/env", tarfile.SYMTYPE, 0o777, target="../../bin/busybox")
        add(
            "etc/passwd",
            tarfile.REGTYPE,
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        add("var/www/index.html", tarfile.REGTYPE, 0o644, b"swarmtui lab\n")
    dest.write_bytes(buf.getvalue())
    return dest


def _probe_rootfs_tar(dest: Path, cli: str) -> Path:
    """busybox (every applet) + the host's docker CLI + libc and the loader it needs (Debian's
    CLI is a Go binary linked against libc only), about 48 MB."""
    bb = _busybox()
    if bb is None:
        raise LabError("static busybox not found")
    docker = shutil.which(cli) or cli
    libs = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
    applets = _run([bb, "--list"]).stdout.split()
    tmp = dest.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
            tar.addfile(info)

        for d in ("bin", "dev", "etc", "proc", "sys", "usr", "usr/bin", "lib",
                  "lib/x86_64-linux-gnu", "lib64", "var", "var/run"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        tar.add(bb, "bin/busybox")
        for a in applets:
            if a != "busybox":
                info = tarfile.TarInfo(f"bin/{a}")
                info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, "busybox"
                tar.addfile(info)
        tar.add(os.path.realpath(docker), "usr/bin/docker")
        for lib in libs:
            tar.add(os.path.realpath(lib), lib.lstrip("/"))
    tmp.replace(dest)
    return dest


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["ip", *args], check=check)


def _ensure_bridge() -> None:
    if _ip("link", "show", BRIDGE, check=False).returncode != 0:
        _ip("link", "add", BRIDGE, "type", "bridge")
    addrs = _ip("-o", "-4", "addr", "show", "dev", BRIDGE).stdout
    if f"{BRIDGE_ADDR}/24" not in addrs:
        _ip("addr", "add", f"{BRIDGE_ADDR}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for rule in IPTABLES_RULES:
        if _run(["iptables", "-C", *rule], check=False).returncode != 0:
            _run(["iptables", "-I", *rule])


def _remove_bridge() -> None:
    for rule in IPTABLES_RULES:
        while _run(["iptables", "-D", *rule], check=False).returncode == 0:
            pass
    _ip("link", "del", BRIDGE, check=False)


def _veth(node: LabNode) -> str:
    return f"{VETH_PREFIX}{node.netns.removeprefix(NETNS_PREFIX)}"[:15]


def _make_netns(node: LabNode) -> None:
    ns, veth = node.netns, _veth(node)
    _ip("netns", "add", ns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _ip("link", "set", veth, "master", BRIDGE, "up")
    _ip("-n", ns, "addr", "add", f"{node.addr}/24", "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    _ip("-n", ns, "route", "add", "default", "via", BRIDGE_ADDR)


def _remove_netns(names: Sequence[str]) -> None:
    for ns in names:
        _ip("netns", "del", ns, check=False)
    # A veth dies with its namespace; delete any host end that outlived it anyway.
    for line in _ip("-o", "link", "show").stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(VETH_PREFIX):
            _ip("link", "del", name, check=False)


def _lab_netns_names() -> list[str]:
    out = _ip("netns", "list", check=False).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.startswith(NETNS_PREFIX)]


def _dockerd_major(dockerd: str) -> int:
    out = _run([dockerd, "--version"], check=False).stdout
    m = re.search(r"version (\d+)\.", out)
    return int(m.group(1)) if m else 0


def _write_daemon_json(node: LabNode) -> Path:
    """The node's own daemon.json, so the host's /etc/docker/daemon.json is never read."""
    conf: dict[str, Any] = {}
    if _dockerd_major(node.dockerd) < 23:
        # Engines before 23 keep their ID in /etc/docker/key.json, so every node would
        # report the same engine ID in /info: give each node a key of its own.
        conf["deprecated-key-path"] = str(node.root / "key.json")
    path = node.root / "daemon.json"
    path.write_text(json.dumps(conf) + "\n")
    return path


def _dockerd_argv(node: LabNode) -> list[str]:
    return [
        "--host",
        node.host,
        "--data-root",
        str(node.root / "data"),
        "--exec-root",
        str(node.root / "exec"),
        "--pidfile",
        str(node.pidfile),
        "--config-file",
        str(_write_daemon_json(node)),
        "--metrics-addr",
        METRICS_ADDR,
        "--cgroup-parent",
        f"/{node.netns}",  # lets teardown find every container
        "--shutdown-timeout",
        "3",  # stop/restart fast; lab containers hold no state
    ]


def _start_dockerd(node: LabNode) -> int:
    """Launch dockerd detached (re-parented to init, so no zombie here); returns its pid."""
    node.root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "NOTIFY_SOCKET"):
        env.pop(key, None)
    env["PATH"] = ":".join(p for p in (node.path_prefix, SYS_PATH) if p)
    env["DOCKER_SERVICE_PREFER_OFFLINE_IMAGE"] = "1"
    argv = [
        "nsenter",
        f"--net={node.netns_path}",
        "unshare",
        "--uts",
        "sh",
        "-c",
        'hostname "$0" && exec "$@"',
        node.name,
        node.dockerd,
        *_dockerd_argv(node),
    ]
    # nsenter and unshare exec without forking, so $! is dockerd's own pid.
    launcher = 'log=$1; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    out = subprocess.run(
        ["sh", "-c", launcher, "sh", str(node.log), *argv],
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,
        check=True,
    )
    pid = int(out.stdout.strip())
    # Not in --pidfile: dockerd refuses to start when that names a live process (itself).
    (node.root / "launch.pid").write_text(f"{pid}\n")
    return pid


def _log_tail(node: LabNode, lines: int = 15) -> str:
    try:
        return "\n".join(node.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ping(node: LabNode, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pid = _read_pid(node.root / "launch.pid")
    while not _ping(node.sock, timeout=1):
        if pid is not None and not _pid_alive(pid):
            raise LabError(f"{node.name}: dockerd exited; log tail:\n{_log_tail(node)}")
        if time.monotonic() > deadline:
            raise LabError(
                f"{node.name}: dockerd not answering after {timeout}s; log tail:\n{_log_tail(node)}"
            )
        time.sleep(0.05)


def _parallel(fn: Callable[[LabNode], None], nodes: Sequence[LabNode]) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as ex:
        for fut in [ex.submit(fn, n) for n in nodes]:
            fut.result()


def _import_image(lab: Lab, node: LabNode, tar: Path) -> None:
    i = node.index
    lab.docker(
        "import", "--change", f"CMD {json.dumps(DEFAULT_CMD)}", str(tar), IMAGE, node=i, timeout=120
    )
    lab.docker("tag", IMAGE, IMAGE2, node=i)


def _node_specs(base: Path, nodes: int) -> list[LabNode]:
    out = []
    for i in range(nodes):
        root = base / f"n{i + 1}"
        out.append(
            LabNode(
                name=f"{HOSTNAME_PREFIX}{i + 1}",
                index=i,
                host=f"unix://{root}/docker.sock",
                netns=f"{NETNS_PREFIX}n{i + 1}",
                addr=f"{NET_PREFIX}{11 + i}",
                pidfile=root / "docker.pid",
                sock=root / "docker.sock",
                root=root,
            )
        )
    return out


def load(base: Path | None = None, kind: str = "main") -> Lab | None:
    """The lab described by the state file, running or not (None without a state file)."""
    base = base or lab_dir()
    probe = Lab(base, [], kind=kind)
    try:
        data = json.loads(probe.state_file.read_text())
    except (OSError, ValueError):
        return None
    return Lab(base, [LabNode.from_json(d) for d in data["nodes"]], kind=kind)


def up(nodes: int = 3, base: Path | None = None) -> Lab:
    """Start the lab, or return the running one if it is healthy with ``nodes`` nodes."""
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError(f"nodes must be 1..{MAX_NODES}")
    base = base or lab_dir()
    reason = unavailable_reason()
    if reason:
        raise LabError(reason)
    t0 = time.monotonic()
    with _lock(base):
        old = load(base)
        if old is not None and len(old.nodes) == nodes and old._reusable():
            old.reused, old.startup_seconds = True, time.monotonic() - t0
            return old
        _teardown_main(base, graceful=old is not None and len(old.nodes) != nodes)
        lab = _build(base, nodes)
    lab.startup_seconds = time.monotonic() - t0
    _log(f"lab up: {nodes} nodes in {lab.startup_seconds:.1f}s")
    return lab


def _build(base: Path, nodes: int) -> Lab:
    base.mkdir(parents=True, exist_ok=True)
    specs = _node_specs(base, nodes)
    lab = Lab(base, specs)
    tar = _rootfs_tar(base / "busybox-rootfs.tar")
    _ensure_bridge()
    for n in specs:
        _make_netns(n)
    for n in specs:
        _start_dockerd(n)
    _parallel(lambda n: _wait_ping(n, 60), specs)
    _parallel(lambda n: _import_image(lab, n, tar), specs)
    m = specs[0]
    lab.docker("swarm", "init", "--advertise-addr", m.addr, "--listen-addr", f"{m.addr}:2377")
    if nodes > 1:
        token = lab.docker("swarm", "join-token", "-q", "worker").stdout.strip()
        _parallel(lambda n: _join(lab, n, token), specs[1:])
    lab.wait_ready(60)
    lab.save()
    return lab


def _join(lab: Lab, node: LabNode, token: str) -> None:
    lab.docker(
        "swarm",
        "join",
        "--token",
        token,
        "--advertise-addr",
        node.addr,
        "--listen-addr",
        f"{node.addr}:2377",
        f"{lab.manager.addr}:2377",
        node=node.index,
        timeout=90,
    )


def _stop_all(lab: Lab, graceful: bool) -> None:
    if graceful:
        _parallel(lambda n: lab.stop_daemon(n.index), lab.nodes)
        return
    for i in range(len(lab.nodes)):
        pid = lab.daemon_pid(i)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)


def _teardown_main(base: Path, graceful: bool) -> None:
    """Remove the main lab's daemons, namespaces and files; also a killed run's leftovers.

    A healthy newer engine (up_newer) is left running; a broken one goes too.
    """
    old = load(base)
    if old is not None:
        _stop_all(old, graceful)
    newer = load(base, "newer")
    keep_newer = newer is not None and newer.is_ready(deep=False)
    if not keep_newer:
        _teardown_newer(base, newer)
    ns_names = [n for n in _lab_netns_names() if n != NEWER_NETNS]
    _kill_lab_leftovers(ns_names, _stale_pids(base, keep=newer if keep_newer else None))
    for d in base.glob("n[0-9]*"):
        _unmount_under(d)
        _remove_shim_sockets(d)
    _remove_netns(ns_names)
    for d in base.glob("n[0-9]*"):
        shutil.rmtree(d)
    for f in ("state.json", "busybox-rootfs.tar"):
        with contextlib.suppress(FileNotFoundError):
            (base / f).unlink()


def _stale_pids(base: Path, keep: Lab | None) -> list[int]:
    """Processes naming the lab dir on their command line (e.g. a daemon whose netns is gone)."""
    keep_pids = set()
    if keep is not None:
        keep_inodes = {i for n in keep.nodes if (i := _netns_inode(n.netns)) is not None}
        keep_pids = set(_pids_in_netns(keep_inodes))
    prefix = str(base).rstrip("/") + "/"
    me = os.getpid()
    return [
        p
        for p in _all_pids()
        if p != me
        and p not in keep_pids
        and prefix in " ".join(_proc_cmdline(p))
        and Path(_proc_cmdline(p)[0]).name
        in ("dockerd", "containerd", "containerd-shim-runc-v2", "containerd-shim", "docker-proxy")
    ]


def _remove_host_leftovers() -> None:
    """Files lab engines write outside the lab dir: libnetwork puts the hosts/resolv.conf
    of swarm load-balancer sandboxes under a fixed /var/lib/docker/network/files/lb_*,
    shims their sockets under /run/containerd/s. Removed only when no host dockerd (which
    would own those folders) is running, and folders only when empty."""
    host_pid = _read_pid(Path("/var/run/docker.pid"))
    if host_pid is not None and _pid_alive(host_pid):
        return
    files = Path("/var/lib/docker/network/files")
    for d in files.glob("lb_*"):
        shutil.rmtree(d, ignore_errors=True)
    run = Path("/run/containerd")
    for d in (files, files.parent, files.parent.parent, run / "s", run):
        with contextlib.suppress(OSError):
            d.rmdir()  # only if empty, i.e. nothing but the lab ever used it


def down(base: Path | None = None) -> None:
    """Stop every lab daemon cleanly and delete namespaces, bridge, rules, mounts and dir."""
    base = base or lab_dir()
    with _lock(base):
        newer = load(base, "newer")
        if newer is not None:
            _stop_all(newer, graceful=True)
        old = load(base)
        if old is not None:
            _stop_all(old, graceful=True)
        ns_names = _lab_netns_names()
        _kill_lab_leftovers(ns_names, _stale_pids(base, keep=None))
        _unmount_under(base)
        for d in [*base.glob("n[0-9]*"), base / "newer"]:
            _remove_shim_sockets(d)
        _remove_netns(ns_names)
        _remove_bridge()
        _remove_host_leftovers()
        if base.exists():
            if _mounts_under(base):
                raise LabError(f"mounts left under {base}; not deleting it")
            shutil.rmtree(base)
    _log("lab down")


# --------------------------------------------------------------------------- newer engine


def _newer_bin(cache: Path = NEWER_CACHE) -> Path:
    """Unpack Debian 13's docker.io + containerd (cached); returns the unpacked root."""
    root = cache / f"docker-{NEWER_SUITE}"
    marker = root / ".complete"
    if marker.exists():
        return root
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not list(debs.glob("docker.io_*.deb")) or not list(debs.glob("containerd_*.deb")):
        _apt_download(cache, debs)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(root)], timeout=300)
    # trixie's runc needs a newer glibc than Debian 12 has: fall back to the host's runc.
    for p in (root / "usr" / "bin" / "runc", root / "usr" / "sbin" / "runc"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    if _newer_dockerd(root) is None:
        raise LabError(f"no dockerd in the unpacked {NEWER_SUITE} packages")
    marker.write_text("ok\n")
    return root


def _newer_dockerd(root: Path) -> Path | None:
    for d in ("usr/sbin", "usr/bin"):
        if (root / d / "dockerd").exists():
            return root / d / "dockerd"
    return None


def _apt_download(cache: Path, debs: Path) -> None:
    """apt-get download with a private state dir whose only source is the trixie suite."""
    apt = cache / "apt"
    for d in (
        "lists/partial",
        "cache/archives/partial",
        "etc/sources.list.d",
        "etc/preferences.d",
        "etc/apt.conf.d",
    ):
        (apt / d).mkdir(parents=True, exist_ok=True)
    mirror = _debian_mirror()
    (apt / "etc" / "sources.list").write_text(
        f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {mirror} "
        f"{NEWER_SUITE} main\n"
    )
    opts = [
        "-o",
        f"Dir::State={apt}",
        "-o",
        f"Dir::State::Lists={apt}/lists",
        "-o",
        f"Dir::Cache={apt}/cache",
        "-o",
        f"Dir::Etc::SourceList={apt}/etc/sources.list",
        "-o",
        f"Dir::Etc::SourceParts={apt}/etc/sources.list.d",
        "-o",
        f"Dir::Etc::Preferences={apt}/etc/preferences",
        "-o",
        f"Dir::Etc::PreferencesParts={apt}/etc/preferences.d",
        "-o",
        "Dir::State::status=/dev/null",
        "-o",
        "APT::Architecture=amd64",
        "-o",
        "Debug::NoLocking=1",
    ]
    try:
        _run(["apt-get", *opts, "update", "-qq"], timeout=600)
        _run(
            ["apt-get", *opts, "download", "-qq", "docker.io", "containerd"], timeout=600, cwd=debs
        )
    except (LabCommandError, subprocess.TimeoutExpired) as e:
        raise LabFetchError(f"cannot fetch {NEWER_SUITE} docker packages: {e}") from e


def _debian_mirror() -> str:
    """The Debian mirror the host's apt already uses for bookworm (no new host contacted)."""
    files = [
        Path("/etc/apt/sources.list"),
        *Path("/etc/apt/sources.list.d").glob("*.list"),
        *Path("/etc/apt/sources.list.d").glob("*.sources"),
    ]
    for p in files:
        try:
            text = p.read_text()
        except OSError:
            continue
        for m in re.finditer(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M):
            return m.group(1)
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:(.*)$", stanza, re.M)
            if uris and suites and "bookworm" in suites.group(1).split():
                return uris.group(1)
    return "http://deb.debian.org/debian"


def up_newer(base: Path | None = None) -> Lab:
    """A single-node swarm on Docker 26.1 (Debian 13 packages) beside the main lab."""
    base = base or lab_dir()
    reason = unavailable_reason()
    if reason:
        raise LabError(reason)
    t0 = time.monotonic()
    with _lock(base):
        old = load(base, "newer")
        if old is not None and old._reusable():
            old.reused, old.startup_seconds = True, time.monotonic() - t0
            return old
        _teardown_newer(base, old)
        newroot = _newer_bin()
        dockerd = _newer_dockerd(newroot)
        root = base / "newer"
        node = LabNode(
            name=NEWER_NAME,
            index=0,
            host=f"unix://{root}/docker.sock",
            netns=NEWER_NETNS,
            addr=NEWER_ADDR,
            pidfile=root / "docker.pid",
            sock=root / "docker.sock",
            root=root,
            dockerd=str(dockerd),
            # its containerd, shims and docker-proxy first; runc and docker-init from the host
            path_prefix=f"{newroot}/usr/sbin:{newroot}/usr/bin",
        )
        lab = Lab(base, [node], kind="newer")
        _ensure_bridge()
        _make_netns(node)
        _start_dockerd(node)
        _wait_ping(node, 60)
        _import_image(lab, node, _rootfs_tar(root / "busybox-rootfs.tar"))
        lab.docker(
            "swarm", "init", "--advertise-addr", node.addr, "--listen-addr", f"{node.addr}:2377"
        )
        lab.wait_ready(60)
        lab.save()
    lab.startup_seconds = time.monotonic() - t0
    _log(f"newer engine up in {lab.startup_seconds:.1f}s")
    return lab


def _teardown_newer(base: Path, old: Lab | None) -> None:
    if old is not None:
        _stop_all(old, graceful=True)
    root = base / "newer"
    _kill_lab_leftovers(
        [NEWER_NETNS],
        [p for p in _stale_pids(base, keep=None) if str(root) in " ".join(_proc_cmdline(p))],
    )
    _unmount_under(root)
    _remove_shim_sockets(root)
    _ip("netns", "del", NEWER_NETNS, check=False)
    _ip("link", "del", _veth(LabNode("", 0, "", NEWER_NETNS, "", root, root, root)), check=False)
    if root.exists():
        shutil.rmtree(root)
    with contextlib.suppress(FileNotFoundError):
        (base / "state-newer.json").unlink()


def down_newer(base: Path | None = None) -> None:
    base = base or lab_dir()
    with _lock(base):
        _teardown_newer(base, load(base, "newer"))


# --------------------------------------------------------------------------- CLI


def _status(base: Path) -> int:
    rc = 0
    for kind in ("main", "newer"):
        lab = load(base, kind)
        if lab is None:
            if kind == "main":
                print(f"no lab state in {base}")
                rc = 1
            continue
        print(f"{kind} lab in {base} (CLI {lab.cli}):")
        for i, n in enumerate(lab.nodes):
            pid = lab.daemon_pid(i)
            ok = "up" if pid and _ping(n.sock) else "DOWN"
            print(f"  [{i}] {n.name:12} {n.addr:13} pid={pid} {ok:4}  {n.host}")
        problem = lab._ready_problem()
        print(f"  ready: {'yes' if problem is None else 'no: ' + problem}")
        if problem is not None:
            rc = 1
        if lab.daemon_running(0):
            print(lab.docker("node", "ls", check=False).stdout.rstrip())
    return rc


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="swarmlab", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="start the lab (reuses a healthy one)")
    p_up.add_argument("--nodes", type=int, default=3)
    sub.add_parser("down", help="tear everything down")
    sub.add_parser("status", help="show daemons and node ls")
    p_rs = sub.add_parser("restart-node", help="restart one dockerd (0-based index or hostname)")
    p_rs.add_argument("node")
    sub.add_parser("up-newer", help="start the single-node Docker 26.1 swarm")
    sub.add_parser("down-newer", help="stop the Docker 26.1 swarm")
    args = p.parse_args(argv)
    base = lab_dir()
    try:
        if args.cmd == "up":
            lab = up(args.nodes, base)
            how = "already up" if lab.reused else "started"
            print(f"lab {how} in {lab.startup_seconds:.2f}s; manager: {lab.manager_host}")
            for n in lab.nodes:
                print(f"  {n.name}  {n.addr}  {n.host}")
        elif args.cmd == "down":
            down(base)
        elif args.cmd == "status":
            return _status(base)
        elif args.cmd == "restart-node":
            loaded = load(base)
            if loaded is None:
                print("no lab", file=sys.stderr)
                return 1
            names = loaded.hostnames
            i = names.index(args.node) if args.node in names else int(args.node)
            secs = loaded.restart_daemon(i)
            print(f"{names[i]} restarted, swarm ready again in {secs:.2f}s")
        elif args.cmd == "up-newer":
            lab = up_newer(base)
            how = "already up" if lab.reused else "started"
            ver = lab.docker(
                "version", "--format", "{{.Server.Version}} API {{.Server.APIVersion}}"
            ).stdout.strip()
            print(
                f"newer engine {how} in {lab.startup_seconds:.2f}s: {ver}; host: {lab.manager_host}"
            )
        elif args.cmd == "down-newer":
            down_newer(base)
    except (LabError, subprocess.CalledProcessError, ValueError) as e:
        print(f"swarmlab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
