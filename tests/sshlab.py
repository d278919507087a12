"""A real OpenSSH server inside a lab node's network namespace, for ssh:// engine tests.

:func:`start_sshd` runs Debian's ``/usr/sbin/sshd`` in the node's netns (``nsenter --net``,
the same way the lab starts dockerd), listening on the node's lab address only, with a host
key and a client key generated in a temp dir, ``MaxSessions 10`` (OpenSSH's default, written
out because the ssh tests measure against it) and ``SetEnv DOCKER_HOST=<the node's socket>``
so that the remote ``docker system dial-stdio`` reaches *that* node's dockerd, not the
machine's. It also prepares a client HOME (``home/.ssh/id_ed25519``; ``known_hosts`` only
when asked) so that asyncssh and the ssh CLI find the key without any option.

Used by the ``sshd`` fixture in tests/lab_plugin.py and by benchmarks/ssh_sessions.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
MAX_SESSIONS = 10


def unavailable_reason() -> str | None:
    for tool in (SSHD, shutil.which("ssh-keygen"), shutil.which("ssh")):
        if not tool or not os.access(tool, os.X_OK):
            return "openssh-server / openssh-client are not installed"
    return None


@dataclass
class SshServer:
    """A running sshd in front of one lab node's engine."""

    addr: str
    port: int
    user: str
    dir: Path
    pid: int
    home: Path  # a client HOME: .ssh/id_ed25519 (+ known_hosts after trust())

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@{self.addr}:{self.port}"

    @property
    def host_key_line(self) -> str:
        """The server's key as a known_hosts line (``[addr]:port`` since the port is not 22)."""
        key = (self.dir / "host_ed25519.pub").read_text().split()[:2]
        return f"[{self.addr}]:{self.port} {' '.join(key)}\n"

    @property
    def client_key(self) -> Path:
        return self.home / ".ssh" / "id_ed25519"

    def trust(self) -> Path:
        """Write the server's key into the client HOME's known_hosts; returns that file."""
        path = self.home / ".ssh" / "known_hosts"
        path.write_text(self.host_key_line)
        return path

    def distrust(self) -> None:
        (self.home / ".ssh" / "known_hosts").unlink(missing_ok=True)

    def sessions_log(self) -> str:
        return (self.dir / "sshd.log").read_text(errors="replace")

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "swarmtui-lab",
                    "-f", str(path)], check=True)


def start_sshd(netns_path: str, addr: str, docker_sock: Path, workdir: Path,
               port: int | None = None) -> SshServer:
    """Start sshd in ``netns_path`` on ``addr:port`` for the engine at ``docker_sock``."""
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o700)
    port = port or 20000 + os.getpid() % 20000  # one per pytest process: sessions may overlap
    host_key = workdir / "host_ed25519"
    _keygen(host_key)
    home = workdir / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    _keygen(home / ".ssh" / "id_ed25519")
    authorized = workdir / "authorized_keys"
    authorized.write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    os.chmod(authorized, 0o600)
    user = os.environ.get("USER") or "root"
    config = workdir / "sshd_config"
    config.write_text(
        f"ListenAddress {addr}:{port}\n"
        f"HostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\n"
        f"PidFile {workdir / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
        f"MaxSessions {MAX_SESSIONS}\n"
        # The remote docker CLI must dial this node's engine, whatever root's own config says.
        f"SetEnv DOCKER_HOST=unix://{docker_sock}\n"
        "LogLevel VERBOSE\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    log = open(workdir / "sshd.log", "ab")  # noqa: SIM115 - sshd keeps it open
    proc = subprocess.Popen(
        ["nsenter", f"--net={netns_path}", SSHD, "-D", "-e", "-f", str(config)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
    )
    log.close()
    server = SshServer(addr=addr, port=port, user=user, dir=workdir, pid=proc.pid, home=home)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited {proc.returncode}: {server.sessions_log()[-400:]}")
        try:
            with socket.create_connection((addr, port), timeout=0.5):
                return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"sshd did not listen on {addr}:{port} within 10 s") from None
            time.sleep(0.05)
