"""Node probes: one global service that asks every node's own engine, through the swarm
itself.

A manager sees only its own disk. :class:`NodeProbe` creates a *global* service (name
``swarmtui-probe-<hex>``, label ``swarmtui.probe=1``) whose task, on every node it may run
on, mounts that node's engine socket and sends raw HTTP requests to it through ``docker
system dial-stdio`` (:func:`swarmtui.model.probe.probe_script`); the answers come back in
the task logs, framed to survive the 16 KiB log-line split, and are reassembled per node
(the logs of each running task are read until its answer is complete). The service is
removed afterwards, in a ``finally``: after success, failure, timeout and cancellation
(Ctrl-C) alike.

Why not a global *job* (``--mode global-job``), which would fit a one-shot task better:
on Docker 20.10 removing a job service leaves its tasks in the swarm's store for good
(moby/moby#42789, #44312: "the only way to remove it is to leave the swarm"), so every probe
would add one dead task per node to ``docker node ps`` and ``/tasks`` forever (seen on the
lab). A global service's tasks are removed with it; the task idles once it has answered and
stops at once on SIGTERM. A run that was killed outright leaves its service behind: every
probe service carries the time it may be removed (``swarmtui.probe.expires``), and
:meth:`NodeProbe.cleanup_leftovers` removes the expired ones before each run (a probe of
another swarmtui running right now is not expired, so it is left alone).

Creating and removing the service are writes: both take the executor's
:class:`~swarmtui.engine.client.WritePermit` (see :mod:`swarmtui.ops.probe`), so
``--read-only`` creates nothing.

:class:`AnsweredTransport` makes a node's answers look like an engine to
:class:`~swarmtui.engine.disk.DiskEngine` (``GET version``, ``info``, ``system/df``), so the
same parsers, panels, ``-v`` and ``df --json`` apply to probed nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.model.logs import FrameDecoder, sanitize
from swarmtui.model.probe import (
    EXPIRES_LABEL,
    NAME_PREFIX,
    NODE_ID_ENV,
    PROBE_LABEL,
    ProbeAnswerError,
    ProbeNode,
    ProbeRequest,
    answer_json,
    probe_script,
    reassemble,
    without_probe_containers,
)

DEFAULT_PROBE_IMAGE = "docker:cli"
DEFAULT_PROBE_SOCKET = "/var/run/docker.sock"
DEFAULT_PROBE_TIMEOUT_S = 60.0
SOCKET_IN_TASK = "/var/run/docker.sock"
POLL_S = 0.25
REMOVE_TIMEOUT_S = 15.0
# A leftover probe may be removed this long after its own timeout (a slow engine may still
# be answering a probe of another swarmtui until then).
EXPIRY_MARGIN_S = 120.0
# Task states after which nothing more comes from the task.
TERMINAL_STATES = frozenset({"complete", "failed", "rejected", "shutdown", "orphaned", "remove"})

DF_REQUESTS = (
    ProbeRequest("version", "GET", "/v1.41/version"),
    ProbeRequest("info", "GET", "/v1.41/info"),
    ProbeRequest("df", "GET", "/v1.41/system/df"),
)
PROBE_API = "1.41"  # the requests above speak it (swarmtui needs it on every engine)
# What a prune preview reads (DiskEngine.engine_state asks exactly these).
PRUNE_READ_REQUESTS = (
    *DF_REQUESTS,
    ProbeRequest("containers", "GET", "/v1.41/containers/json", (("all", "1"),)),
    ProbeRequest("images", "GET", "/v1.41/images/json", (("all", "1"),)),
    ProbeRequest("volumes", "GET", "/v1.41/volumes"),
    ProbeRequest("networks", "GET", "/v1.41/networks"),
)


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    """What the probe runs: the image (a docker CLI on PATH and a POSIX sh), the bind source
    of the node's socket (service templates such as ``{{.Node.Hostname}}`` allowed), host
    network (for the node's loopback), and how long to wait for every answer."""

    image: str = DEFAULT_PROBE_IMAGE
    socket: str = DEFAULT_PROBE_SOCKET
    host_network: bool = False
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class NodeAnswer:
    """One node's raw HTTP answers by request key, or why there are none."""

    node: ProbeNode
    answers: Mapping[str, bytes] = field(default_factory=dict)
    error: str | None = None
    task_id: str = ""


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """What a run gave: an answer (or error) per node asked, and whether the service is gone."""

    service: str
    nodes: tuple[NodeAnswer, ...]
    removed: bool
    remove_error: str | None = None
    took_s: float = 0.0
    leftovers_removed: tuple[str, ...] = ()


async def expired_probe_services(client: EngineClient, now: float) -> list[tuple[str, str]]:
    """(ID, name) of the probe services whose time is up at ``now`` (unix seconds): runs
    killed before their ``finally``. A read; raises EngineError."""
    params = {"filters": json.dumps({"label": [f"{PROBE_LABEL}=1"]})}
    out = []
    for svc in await client.request("GET", "services", params) or []:
        spec = svc.get("Spec") or {}
        labels = spec.get("Labels") or {}
        try:
            expires = float(labels.get(EXPIRES_LABEL, ""))
        except ValueError:
            expires = 0.0  # not one of ours as we write them: its time is up
        if expires <= now:
            out.append((str(svc["ID"]), str(spec.get("Name") or svc["ID"])))
    return out


async def remove_probe_services(client: EngineClient, services: Sequence[tuple[str, str]],
                                permit: WritePermit) -> list[str]:
    """Remove ``(ID, name)`` probe services; returns the names removed (one already gone,
    or being removed, is skipped)."""
    removed = []
    for service_id, name in services:
        with contextlib.suppress(EngineError):
            await client.request("DELETE", f"services/{service_id}", permit=permit)
            removed.append(name)
    return removed


def new_probe_name() -> str:
    return NAME_PREFIX + secrets.token_hex(4)


class NodeProbe:
    """One probe run on the swarm of ``client`` (a manager)."""

    def __init__(
        self,
        client: EngineClient,
        config: ProbeConfig,
        requests: Sequence[ProbeRequest],
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
        poll_s: float = POLL_S,
        per_node: Mapping[str, Sequence[ProbeRequest]] | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.requests = tuple(requests)
        # Requests of one node only (after ``requests``): the task picks its own by the node
        # ID the service template puts in its environment.
        self.per_node = {k: tuple(v) for k, v in (per_node or {}).items()}
        self.name = name or new_probe_name()
        self.clock = clock
        self.poll_s = poll_s

    @property
    def needs_socket(self) -> bool:
        """Some request, common or of one node only (a prune's deletes), goes to the engine."""
        own = (r for reqs in self.per_node.values() for r in reqs)
        return any(r.needs_engine for r in (*self.requests, *own))

    # -- the service --------------------------------------------------------------------
    def service_spec(self, skip_node_ids: Sequence[str] = ()) -> dict[str, Any]:
        """The service's ``ServiceSpec``; ``skip_node_ids`` are kept out by constraints (nodes
        an engine configured directly already covers)."""
        expires = int(self.clock() + self.config.timeout_s + EXPIRY_MARGIN_S)
        labels = {PROBE_LABEL: "1", EXPIRES_LABEL: str(expires)}
        template: dict[str, Any] = {
            "ContainerSpec": {
                "Image": self.config.image,
                "Command": ["sh", "-c", probe_script(self.requests, per_node=self.per_node)],
                "Env": ["HOME=/tmp", f"{NODE_ID_ENV}={{{{.Node.ID}}}}"],
                "Labels": {PROBE_LABEL: "1"},
                "StopGracePeriod": 1_000_000_000,
                # Only requests to the engine need its socket (root on the node): a probe
                # that only reads loopback URLs runs without it.
                "Mounts": [{"Type": "bind", "Source": self.config.socket,
                            "Target": SOCKET_IN_TASK}] if self.needs_socket else [],
            },
            # One try per node: a failure is an answer ("failed: …"), not a restart loop.
            "RestartPolicy": {"Condition": "none"},
            "Placement": {"Constraints": [f"node.id!={n}" for n in skip_node_ids]},
        }
        if self.config.host_network:
            # The node's own network namespace (``--network host``): its 127.0.0.1 is the
            # node's, where ``dockerd --metrics-addr 127.0.0.1:9323`` listens.
            template["Networks"] = [{"Target": "host"}]
        return {"Name": self.name, "Labels": labels, "TaskTemplate": template,
                "Mode": {"Global": {}}}

    async def cleanup_leftovers(self, permit: WritePermit) -> list[str]:
        """Remove probe services whose time is up (runs killed before their ``finally``);
        returns their names. Raises EngineError."""
        return await remove_probe_services(
            self.client, await expired_probe_services(self.client, self.clock()), permit)

    # -- a run --------------------------------------------------------------------------
    async def run(self, nodes: Sequence[ProbeNode], permit: WritePermit,
                  skip_node_ids: Sequence[str] = ()) -> ProbeRun:
        """Create the service, wait (``config.timeout_s``) for one answer per node in
        ``nodes``, remove the service. Engine errors while creating raise EngineError (nothing
        is left behind); a node that did not answer in time gets an error."""
        start = time.monotonic()
        done: dict[str, NodeAnswer] = {}
        service_id: str | None = None
        removed, remove_error = False, None
        try:
            created = await self.client.request(
                "POST", "services/create", body=self.service_spec(skip_node_ids), permit=permit,
                timeout=30.0)
            service_id = str((created or {}).get("ID") or "") or None
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    await self._collect(service_id or self.name, nodes, done)
            except TimeoutError:
                pass
        finally:
            removed, remove_error = await self._remove(service_id, permit)
        out = []
        for n in nodes:
            out.append(done.get(n.id) or NodeAnswer(
                n, error=f"no answer from the probe within {self.config.timeout_s:g}s"))
        return ProbeRun(self.name, tuple(out), removed, remove_error, time.monotonic() - start)

    async def _remove(self, service_id: str | None, permit: WritePermit) -> tuple[bool, str | None]:
        """Remove the service, also when its creation was cut off before the ID came back (it may
        exist anyway: look it up by name). Shielded: a Ctrl-C must not cut the removal."""

        async def remove() -> tuple[bool, str | None]:
            sid = service_id
            try:
                if sid is None:
                    params = {"filters": json.dumps({"name": [self.name]})}
                    found = [s for s in await self.client.request("GET", "services", params)
                             or [] if (s.get("Spec") or {}).get("Name") == self.name]
                    if not found:
                        return True, None
                    sid = str(found[0]["ID"])
                await self.client.request("DELETE", f"services/{sid}", permit=permit,
                                          timeout=REMOVE_TIMEOUT_S)
            except EngineError as exc:
                if exc.status == 404:
                    return True, None
                return False, f"could not remove probe service {self.name}: {exc}"
            return True, None

        task = asyncio.ensure_future(remove())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Cancelled again while removing: let the removal finish first.
            await asyncio.wait({task}, timeout=REMOVE_TIMEOUT_S)
            raise

    async def _collect(self, service: str, nodes: Sequence[ProbeNode],
                       done: dict[str, NodeAnswer]) -> None:
        wanted = {n.id: n for n in nodes}
        while len(done) < len(wanted):
            tasks = await self.client.tasks({"service": [service]})
            for task in tasks:
                node_id = str(task.get("NodeID") or "")
                node = wanted.get(node_id)
                status = task.get("Status") or {}
                state = str(status.get("State") or "")
                if node is None or node_id in done:
                    continue
                if state == "running":
                    answer = await self._answer(node, task, state, status)
                    if answer.error is None:  # else: not all of it is in the log yet
                        done[node_id] = answer
                elif state in TERMINAL_STATES:
                    done[node_id] = await self._answer(node, task, state, status)
            if len(done) < len(wanted):
                await asyncio.sleep(self.poll_s)

    async def _answer(self, node: ProbeNode, task: Mapping[str, Any], state: str,
                      status: Mapping[str, Any]) -> NodeAnswer:
        task_id = str(task.get("ID") or "")
        try:
            lines = (await self._task_lines(task_id)
                     if state in ("running", "complete", "failed") else [])
        except EngineError as exc:
            return NodeAnswer(node, error=f"cannot read the probe's log: {exc}", task_id=task_id)
        got = reassemble(lines)
        wanted = (*self.requests, *self.per_node.get(node.id, ()))
        missing = [r.key for r in wanted if r.key not in got.answers]
        if state in ("running", "complete") and not missing:
            return NodeAnswer(node, got.answers, None, task_id)
        said = "; ".join(sanitize(t, max_chars=200) for t in got.other[-3:])
        if state not in ("running", "complete"):
            why = str(status.get("Err") or status.get("Message") or "")
            error = f"probe task {state}" + (f": {sanitize(why, max_chars=300)}" if why else "")
        else:
            parts = [f"{k}: {got.incomplete[k]}" if k in got.incomplete else f"{k}: no answer"
                     for k in missing]
            error = "incomplete probe answer (" + ", ".join(parts) + ")"
        return NodeAnswer(node, got.answers, error + (f" ({said})" if said else ""), task_id)

    async def _task_lines(self, task_id: str) -> list[str]:
        params = {"stdout": "1", "stderr": "1", "follow": "0", "timestamps": "0",
                  "details": "0"}
        async with self.client.stream("GET", f"tasks/{task_id}/logs", params) as resp:
            data = await resp.read()
        decoder = FrameDecoder()
        frames = decoder.feed(data) + decoder.flush()
        text = b"".join(f.payload for f in frames).decode("utf-8", "replace")
        return text.splitlines()


# --------------------------------------------------------------------------------------------
# A probed node as a DiskEngine transport
# --------------------------------------------------------------------------------------------

class AnsweredTransport:
    """A :class:`~swarmtui.engine.disk.DiskTransport` over one node's probe answers: the
    requests the probe made (``requests``, default :data:`DF_REQUESTS`), answered as the
    engine answered them; anything else is an EngineError (one line)."""

    def __init__(self, answer: NodeAnswer,
                 requests: Sequence[ProbeRequest] = DF_REQUESTS) -> None:
        self.answer = answer
        # (method, unversioned path, query) -> the key of the answer
        self._keys = {(r.method, r.path.split("/", 2)[-1], tuple(sorted(r.query))): r.key
                      for r in requests}

    @property
    def url(self) -> str:
        return f"probe://{self.answer.node.hostname}"

    @property
    def api_version(self) -> str:
        return PROBE_API

    async def connect(self) -> str:
        if self.answer.error is not None:
            raise EngineError(self.answer.error)
        return PROBE_API

    async def call(self, method: str, path: str, params: Mapping[str, str] | None = None,
                   timeout: float = 0.0, permit: WritePermit | None = None) -> Any:
        wanted = (method.upper(), path.strip("/"), tuple(sorted((params or {}).items())))
        key = self._keys.get(wanted)
        raw = self.answer.answers.get(key) if key else None
        if raw is None:
            raise EngineError(f"{method} /{path.strip('/')} is not available through a probe")
        try:
            data = answer_json(raw, f"GET /{path.strip('/')} on {self.answer.node.hostname}")
        except ProbeAnswerError as exc:
            raise EngineError(str(exc)) from None
        return without_probe_containers(data) if key == "df" else data

    async def close(self) -> None:
        return None
