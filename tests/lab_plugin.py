"""pytest plugin: the real multi-node swarm lab (tests/swarmlab.py) as fixtures.

Enable with ``pytest_plugins = ["lab_plugin"]`` in tests/conftest.py.

Fixtures:
    lab           (session) the running :class:`swarmlab.Lab`, 3 nodes by default
                  (``SWARMTUI_LAB_NODES``). Started idempotently: a lab that is already
                  up (``python tests/swarmlab.py up``) is reused in about 20 ms.
    swarm         (function) the same Lab; after the test every service, stack, secret,
                  config, user network, container and unused volume is removed, stopped
                  daemons are started again, nodes are set back to active (labels cleared),
                  and no task container is left on any node.
    newer_engine  (session) a single-node swarm on Docker 26.1 / API 1.45
                  (``swarmlab.up_newer()``, hostname lab-newer), Debian 13 packages
                  cached in /var/cache/swarmtui-lab.
    newer_swarm   (function) newer_engine, cleaned after the test like ``swarm``.
    sshd          (function) a real OpenSSH sshd in the manager's netns in front of its
                  engine (tests/sshlab.py), HOME set to a temp client home holding the
                  client key (no known_hosts: call ``sshd.trust()``); stopped after.

Tests that use these fixtures get the ``lab`` marker automatically (``-m "not lab"``
deselects them); mark them ``@pytest.mark.lab`` anyway for readers.

When the lab cannot start (not root, dockerd missing, start failure) the tests are
skipped with the reason, but with ``CI=true`` they fail instead. ``newer_engine`` skips
even in CI when the Debian 13 packages cannot be fetched (no network to the mirror).

Teardown at session end:
    SWARMTUI_LAB_KEEP=1  keep the lab running (fast re-runs while developing);
    SWARMTUI_LAB_KEEP=0  always tear it down;
    unset                tear it down if this session started it, keep it if it was
                         already up when the session began (someone else owns it).
A lab is never torn down while another pytest session that uses it is still running
(sessions register under LAB_DIR/sessions/).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

# swarmlab sits beside this file; make it importable however pytest was started.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import sshlab  # noqa: E402
import swarmlab  # noqa: E402
from swarmlab import Lab, LabAPIError, LabError, LabFetchError  # noqa: E402

LAB_FIXTURES = {"lab", "swarm", "newer_engine", "newer_swarm", "sshd"}
# Networks every swarm node has; anything else was made by a test.
DEFAULT_NETWORKS = {"bridge", "host", "none", "docker_gwbridge", "ingress"}


def wait_until(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.3) -> Any:
    """Poll ``pred`` until it returns something truthy (returned); fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = pred()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str, *, ci_may_skip: bool = False) -> NoReturn:
    if _in_ci() and not ci_may_skip:
        pytest.fail(f"swarm lab unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"swarm lab unavailable: {reason}")


def _keep(reused: bool) -> bool:
    keep = os.environ.get("SWARMTUI_LAB_KEEP", "")
    if keep == "1":
        return True
    if keep == "0":
        return False
    return reused


def _register(the_lab: Lab) -> Path:
    """Note this pytest process as a user of the lab (several sessions may share it)."""
    path = the_lab.base_dir / "sessions" / f"{the_lab.kind}-{os.getpid()}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def _finish(the_lab: Lab, mark: Path) -> None:
    """Tear down per SWARMTUI_LAB_KEEP, but never under another live pytest session."""
    mark.unlink(missing_ok=True)
    if _keep(the_lab.reused):
        return
    others = []
    for p in mark.parent.glob(f"{the_lab.kind}-*"):
        pid = int(p.name.rsplit("-", 1)[1])
        if swarmlab._pid_alive(pid):
            others.append(pid)
        else:
            p.unlink(missing_ok=True)  # a session that died without cleaning up
    if others:
        print(f"\n[lab_plugin] {the_lab.kind} lab left up: still used by pids {others}")
        return
    the_lab.down()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lab: needs the real multi-node swarm lab (root, dockerd)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    reason = swarmlab.unavailable_reason()
    if reason:
        _unavailable(reason)
    nodes = int(os.environ.get("SWARMTUI_LAB_NODES", "3"))
    try:
        the_lab = swarmlab.up(nodes=nodes)
    except Exception as e:  # any start failure is reported the same way
        _unavailable(f"start failed: {type(e).__name__}: {e}")
    mark = _register(the_lab)
    yield the_lab
    _finish(the_lab, mark)


@contextlib.contextmanager
def _exclusive(the_lab: Lab) -> Iterator[None]:
    """One test at a time on a lab: concurrent pytest sessions (developers, helpers) would
    otherwise remove each other's services in clean_swarm."""
    with open(the_lab.base_dir.parent / f"swarmtui-lab-{the_lab.kind}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture
def swarm(lab: Lab) -> Iterator[Lab]:
    with _exclusive(lab):
        clean_swarm(lab)  # whatever an interrupted run or another session left behind
        yield lab
        clean_swarm(lab)


@pytest.fixture(scope="session")
def newer_engine() -> Iterator[Lab]:
    reason = swarmlab.unavailable_reason()
    if reason:
        _unavailable(reason)
    try:
        the_lab = swarmlab.up_newer()
    except LabFetchError as e:
        # Fetching Debian 13 packages needs the Debian mirror: a CI without it may skip.
        _unavailable(f"newer engine: {e}", ci_may_skip=True)
    except Exception as e:
        _unavailable(f"newer engine start failed: {type(e).__name__}: {e}")
    mark = _register(the_lab)
    yield the_lab
    _finish(the_lab, mark)


@pytest.fixture
def newer_swarm(newer_engine: Lab) -> Iterator[Lab]:
    """The newer engine, cleaned after the test like ``swarm``."""
    with _exclusive(newer_engine):
        yield newer_engine
        clean_swarm(newer_engine)


@pytest.fixture
def sshd(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sshlab.SshServer]:
    reason = sshlab.unavailable_reason()
    if reason:
        _unavailable(reason)
    node = lab.manager
    server = sshlab.start_sshd(node.netns_path, node.addr, node.sock, tmp_path / "sshd")
    # asyncssh finds ~/.ssh (key, known_hosts, config) through $HOME; no agent of the caller.
    monkeypatch.setenv("HOME", str(server.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- cleanup


def clean_swarm(lab: Lab, timeout: float = 60) -> None:
    """Put the lab back to its fresh state (see the ``swarm`` fixture)."""
    restarted = lab.ensure_running(timeout)

    for svc in lab.api("/services"):
        _delete(lab, f"/services/{svc['ID']}")
    # Force-remove task containers rather than wait for each stop grace period.
    deadline = time.monotonic() + timeout
    while True:
        left = 0
        for i in range(len(lab.nodes)):
            for c in lab.api("/containers/json?all=1", node=i):
                left += 1
                _delete(lab, f"/containers/{c['Id']}?force=1&v=1", node=i)
        if not left and not _tasks_left(lab):
            break
        if time.monotonic() > deadline:
            raise LabError(f"containers still on the lab after {timeout}s")
        time.sleep(0.2)

    for path in ("/secrets", "/configs"):
        for obj in lab.api(path):
            _delete(lab, f"{path}/{obj['ID']}")
    for i in range(len(lab.nodes)):
        for net in lab.api("/networks", node=i):
            if net["Name"] in DEFAULT_NETWORKS or net.get("Ingress"):
                continue
            if net.get("Scope") == "swarm" and i != 0:
                continue  # swarm-scoped networks are removed through the manager
            _delete(lab, f"/networks/{net['Id']}", node=i)
        # v1.41 semantics on every engine: newer APIs prune only anonymous volumes.
        lab.api("/v1.41/volumes/prune", node=i, method="POST")

    for node in lab.api("/nodes"):
        spec = node["Spec"]
        want_role = "manager" if node["Description"]["Hostname"] == lab.nodes[0].name else "worker"
        if (
            spec.get("Availability") != "active"
            or spec.get("Labels")
            or spec.get("Role") != want_role
        ):
            new = {**spec, "Availability": "active", "Labels": {}, "Role": want_role}
            lab.api(
                f"/nodes/{node['ID']}/update?version={node['Version']['Index']}",
                method="POST",
                body=new,
            )
    if restarted or any(n["Status"]["State"] != "ready" for n in lab.api("/nodes")):
        lab.wait_ready(timeout)


# Task states after which a task's container is gone or going (swarmkit's terminal states).
_TERMINAL = {"complete", "shutdown", "failed", "rejected", "orphaned", "remove"}


def _tasks_left(lab: Lab) -> bool:
    """Tasks that still matter: any task of a service that exists, and any task of a removed
    service that is still being removed or has not reached a terminal state (they linger
    until their node confirms). Docker 20.10 never deletes the finished tasks of a removed
    *job* service (moby#42789; desired state "complete", not "remove"), so those are not
    waited for: their containers are gone already."""
    tasks: list[dict[str, Any]] = lab.api("/tasks")
    services = {s["ID"] for s in lab.api("/services")}
    return any(
        t.get("ServiceID") in services
        or t.get("DesiredState") == "remove"  # the dispatcher deletes these soon: wait
        or (t.get("Status") or {}).get("State") not in _TERMINAL
        for t in tasks
    )


def _delete(lab: Lab, path: str, node: int = 0) -> None:
    try:
        lab.api(path, node=node, method="DELETE")
    except LabAPIError as e:
        # 404: already gone; 409: the swarm is removing it right now ("removal of container
        # … is already in progress"). The cleanup loop looks again either way.
        if e.status not in (404, 409):
            raise
