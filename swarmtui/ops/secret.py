"""Secrets and configs as operations: create, remove, rotate.

A secret's value is the one thing swarmtui must never show or keep. It lives in a
:class:`SecretData` (whose ``repr``/``str`` say only its size and source) inside the
operation and its plan's payload, and leaves it only as the ``Data`` of the one
``POST /secrets/create`` body: never in a Preview, an Outcome, an error or a log line.

Rotation is the flow docker's docs describe in six manual steps, done one service at a time:
create the new secret, then per chosen service one ``POST /services/{id}/update?version=N``
that swaps the old secret for the new at the same target (old removed, new added), wait for
that service's rollout to end (:func:`~swarmtui.model.timeline.timeline_for` judges it), and
on failure roll that service back (``rollback=previous``) and stop. Removing the old secret is
offered afterwards as its own operation (:class:`RemoveSecret`). A config rotates the same way.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.model.jsonval import as_int, as_list, as_map, as_str
from swarmtui.model.parse import parse_secret, parse_service, parse_tasks
from swarmtui.model.secrets import CONFIG, SECRET, Kind, mount_text, name_problem
from swarmtui.model.timeline import rollout_exit_status, timeline_for
from swarmtui.model.types import FileRef, Secret, Service
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.service import STALE_REFUSAL, ServiceClient, error_outcome

Progress = Callable[[str], None]


class SecretData:
    """Data that must not leak. Only :meth:`base64` gives it out (for the create body);
    ``repr``, ``str`` and equality never involve the value."""

    __slots__ = ("_value", "source")

    def __init__(self, value: bytes, source: str) -> None:
        self._value = value
        self.source = source
        """Where it came from: ``typed input`` or the file's path (never the value)."""

    @classmethod
    def typed(cls, text: str) -> SecretData:
        return cls(text.encode(), "typed input")

    @classmethod
    def from_file(cls, path: str) -> SecretData:
        """The file's bytes; ValueError of one line when it cannot be read (nothing else
        happens: no request is made)."""
        where = path.strip()
        if not where:
            raise ValueError("no file given")
        try:
            value = Path(where).expanduser().read_bytes()
        except IsADirectoryError:
            raise ValueError(f"cannot read {where}: it is a directory") from None
        except OSError as exc:
            raise ValueError(f"cannot read {where}: {exc.strerror or type(exc).__name__}"
                             ) from None
        return cls(value, where)

    @property
    def size(self) -> int:
        return len(self._value)

    def base64(self) -> str:
        return base64.b64encode(self._value).decode("ascii")

    def problem(self, kind: Kind) -> str | None:
        """Why the engine would refuse this data (swarmkit: more than 0, less than max)."""
        if not self._value:
            return f"{kind.noun} data must not be empty"
        if len(self._value) >= kind.max_bytes:
            return f"{kind.noun} data must be less than {kind.max_bytes // 1024} KiB"
        return None

    def describe(self) -> str:
        return f"{self.size} bytes from {self.source}"

    def __repr__(self) -> str:
        return f"<SecretData: {self.describe()}, hidden>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("secret data is not to be pickled")


def _refused(message: str) -> EngineError:
    return EngineError(message)


async def read_item(client: ServiceClient, kind: Kind, ref: str) -> Secret:
    """One secret/config by ID or name (metadata; a config's Data is not kept here)."""
    try:
        raw = await client.request("GET", f"{kind.path}/{ref}")
    except EngineError as exc:
        if exc.status == 404:
            raise EngineError(f"no such {kind.noun}: {ref}", 404) from exc
        raise
    return parse_secret(as_map(raw))


async def name_taken(client: ServiceClient, kind: Kind, name: str) -> bool:
    listed = await client.request("GET", kind.path, {"filters": json.dumps({"name": [name]})})
    # The engine's name filter matches prefixes: compare exactly.
    return any(parse_secret(as_map(raw)).name == name for raw in as_list(listed))


async def list_services(client: ServiceClient) -> list[tuple[Service, dict[str, Any]]]:
    raw = await client.request("GET", "services")
    out = [(parse_service(as_map(s)), dict(as_map(s))) for s in as_list(raw)]
    return sorted(out, key=lambda pair: pair[0].name)


def using(services: list[tuple[Service, dict[str, Any]]], kind: Kind,
          item_id: str) -> list[tuple[Service, FileRef]]:
    return [(svc, ref) for svc, _ in services for ref in kind.refs(svc) if ref.id == item_id]


# -- create ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CreateRequest:
    name: str
    data: SecretData  # its repr hides the value, so this dataclass's repr does too


class CreateSecret(Operation[CreateRequest]):
    """``docker secret create NAME FILE|-``; ``kind=CONFIG`` for ``docker config create``."""

    def __init__(self, client: ServiceClient, name: str, data: SecretData,
                 kind: Kind = SECRET) -> None:
        name = name.strip()
        problem = name_problem(name, kind) or data.problem(kind)
        if problem is not None:
            raise ValueError(problem)
        self.client = client
        self.kind = kind
        self.name = name
        self.data = data
        self.title = f"Create {kind.noun} {name}"

    async def plan(self) -> Plan[CreateRequest]:
        if await name_taken(self.client, self.kind, self.name):
            raise _refused(f"a {self.kind.noun} named {self.name} already exists")
        preview = Preview(
            title=self.title,
            blocks=(f"{self.kind.noun} {self.name}\n  data: {self.data.describe()}\n",),
            summary=(f"The engine stores the {self.kind.noun}; services get it only once they "
                     "are updated to use it."),
            changes=1,
        )
        return Plan(self, preview, CreateRequest(self.name, self.data))

    async def execute(self, plan: Plan[CreateRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        try:
            new_id = await create_item(self.client, self.kind, req.name, req.data, permit)
        except EngineError as exc:
            return Outcome(plan.preview.title, errors=(str(exc),))
        return Outcome(plan.preview.title,
                       blocks=(f"{self.kind.noun} {req.name} created ({new_id[:12]}).",))


async def create_item(client: ServiceClient, kind: Kind, name: str, data: SecretData,
                      permit: WritePermit) -> str:
    """The one request that carries the data; returns the new ID."""
    body = {"Name": name, "Labels": {}, "Data": data.base64()}
    answer = await client.request("POST", f"{kind.path}/create", body=body, permit=permit)
    return as_str(as_map(answer).get("ID"))


class CreateConfig(CreateSecret):
    """``docker config create``."""

    def __init__(self, client: ServiceClient, name: str, data: SecretData) -> None:
        super().__init__(client, name, data, CONFIG)


# -- remove ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RemoveRequest:
    id: str
    name: str


class RemoveSecret(Operation[RemoveRequest]):
    """``docker secret rm``: refused while a service uses it (naming them)."""

    def __init__(self, client: ServiceClient, ref: str, kind: Kind = SECRET) -> None:
        self.client = client
        self.kind = kind
        self.ref = ref
        self.title = f"Remove {kind.noun} {ref}"

    async def plan(self) -> Plan[RemoveRequest]:
        item = await read_item(self.client, self.kind, self.ref)
        users = sorted({svc.name for svc, _ in
                        using(await list_services(self.client), self.kind, item.id)})
        if users:
            raise _refused(f"{self.kind.noun} {item.name} is in use by {', '.join(users)}: "
                           "rotate it or remove it from them first")
        self.title = f"Remove {self.kind.noun} {item.name}"
        preview = Preview(
            title=self.title,
            blocks=(f"{self.kind.noun} {item.name} ({item.id[:12]})\n  used by no service\n",),
            summary=f"The {self.kind.noun} is deleted from the swarm.",
            changes=1,
            warning=f"A removed {self.kind.noun} cannot be brought back.",
        )
        return Plan(self, preview, RemoveRequest(item.id, item.name),
                    based_on=((item.id, item.version),))

    async def execute(self, plan: Plan[RemoveRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        try:
            await self.client.request("DELETE", f"{self.kind.path}/{req.id}", permit=permit)
        except EngineError as exc:
            if exc.status == 404:
                return Outcome(plan.preview.title, errors=(f"{req.name} is already gone",))
            return Outcome(plan.preview.title, errors=(str(exc),))
        return Outcome(plan.preview.title, blocks=(f"{self.kind.noun} {req.name} removed.",))


class RemoveConfig(RemoveSecret):
    """``docker config rm``."""

    def __init__(self, client: ServiceClient, ref: str) -> None:
        super().__init__(client, ref, CONFIG)


# -- rotate ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RotateStep:
    service_id: str
    name: str
    mounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RotateRequest:
    old_id: str
    old_name: str
    new_name: str
    data: SecretData
    steps: tuple[RotateStep, ...]
    others: tuple[str, ...]  # users not chosen: they stay on the old one


@dataclass(frozen=True, slots=True)
class RotationResult:
    """For the screen: what to offer next (removing the old one when nothing uses it)."""

    kind: str
    old_id: str
    old_name: str
    moved: tuple[str, ...]
    failed: str | None
    old_unused: bool


def swapped_spec(spec: Mapping[str, Any], kind: Kind, old_id: str, new_id: str,
                 new_name: str) -> dict[str, Any]:
    """The service spec with every mount of ``old_id`` pointing at the new one (same
    target, owner and mode): the old removed and the new added in one update."""
    new = copy.deepcopy(dict(spec))
    container = new.setdefault("TaskTemplate", {}).setdefault("ContainerSpec", {})
    refs = []
    for ref in container.get(kind.spec_key) or []:
        ref = dict(ref)
        if ref.get(f"{kind.ref_prefix}ID") == old_id:
            ref[f"{kind.ref_prefix}ID"] = new_id
            ref[f"{kind.ref_prefix}Name"] = new_name
        refs.append(ref)
    container[kind.spec_key] = refs
    return new


class RotateSecret(Operation[RotateRequest]):
    """Move services from one secret (or config) to a new one, one service at a time."""

    def __init__(self, client: ServiceClient, old: str, new_name: str, data: SecretData,
                 services: tuple[str, ...] | None = None, kind: Kind = SECRET, *,
                 poll_s: float = 0.5, timeout_s: float = 300.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        new_name = new_name.strip()
        problem = name_problem(new_name, kind) or data.problem(kind)
        if problem is not None:
            raise ValueError(problem)
        self.client = client
        self.kind = kind
        self.old = old
        self.new_name = new_name
        self.data = data
        self.services = services
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.clock_ns = clock_ns
        self.progress: Progress | None = None
        """Told each step while executing (the screen shows it; the CLI prints it)."""
        self.title = f"Rotate {kind.noun} {old} to {new_name}"

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    async def plan(self) -> Plan[RotateRequest]:
        kind = self.kind
        old = await read_item(self.client, kind, self.old)
        if self.new_name == old.name:
            raise _refused(f"the new {kind.noun} needs another name than {old.name}")
        if await name_taken(self.client, kind, self.new_name):
            raise _refused(f"a {kind.noun} named {self.new_name} already exists")
        listed = await list_services(self.client)
        users = using(listed, kind, old.id)
        if not users:
            raise _refused(f"{kind.noun} {old.name} is used by no service: nothing to rotate")
        by_service: dict[str, tuple[Service, list[FileRef]]] = {}
        for svc, ref in users:
            by_service.setdefault(svc.id, (svc, []))[1].append(ref)
        chosen: list[str] = []
        for wanted in self.services or [svc.name for svc, _ in by_service.values()]:
            match = [sid for sid, (svc, _) in by_service.items()
                     if wanted in (svc.id, svc.name)]
            if not match:
                raise _refused(f"{wanted} does not use {kind.noun} {old.name}")
            if match[0] not in chosen:
                chosen.append(match[0])
        steps = []
        blocks = [f"1. create {kind.noun} {self.new_name}: {self.data.describe()}\n"]
        for n, sid in enumerate(chosen, start=2):
            svc, refs = by_service[sid]
            mounts = tuple(mount_text(kind, r) for r in refs)
            steps.append(RotateStep(sid, svc.name, mounts))
            lines = [f"{n}. {svc.name} ({sid[:12]}), spec version {svc.version}"]
            lines += [f"     {kind.noun} {old.name} -> {self.new_name} at {m}" for m in mounts]
            lines.append("     then wait for its rollout to complete")
            blocks.append("\n".join(lines) + "\n")
        others = tuple(by_service[sid][0].name for sid in by_service if sid not in chosen)
        problems = tuple(f"{name} also uses {old.name} and stays on it" for name in others)
        self.title = f"Rotate {kind.noun} {old.name} to {self.new_name}"
        preview = Preview(
            title=self.title,
            blocks=tuple(blocks),
            problems=problems,
            summary=("One service at a time: the next is updated only once the last one's "
                     "rollout completed. A failed rollout is rolled back and the rotation "
                     f"stops. Removing {old.name} is offered at the end."),
            changes=1 + len(steps),
        )
        request = RotateRequest(old.id, old.name, self.new_name, self.data, tuple(steps), others)
        versions = tuple((sid, by_service[sid][0].version) for sid in chosen)
        return Plan(self, preview, request, based_on=versions)

    async def execute(self, plan: Plan[RotateRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        kind = self.kind
        title = plan.preview.title
        # Nothing is written unless every chosen service is still as previewed.
        try:
            for sid, version in plan.based_on:
                raw = as_map(await self.client.request("GET", f"services/{sid}"))
                if as_int(as_map(raw.get("Version")).get("Index")) != version:
                    return Outcome(title, refused=STALE_REFUSAL, stale=True)
            if await name_taken(self.client, kind, req.new_name):
                return Outcome(title, refused=f"a {kind.noun} named {req.new_name} exists now")
        except EngineError as exc:
            return error_outcome(title, exc)
        self._say(f"creating {kind.noun} {req.new_name}…")
        try:
            new_id = await create_item(self.client, kind, req.new_name, req.data, permit)
        except EngineError as exc:
            return Outcome(title, errors=(f"{kind.noun} {req.new_name} not created: {exc}",))
        lines = [f"{kind.noun} {req.new_name} created ({new_id[:12]})."]
        moved: list[str] = []
        failed: str | None = None
        errors: list[str] = []
        for n, step in enumerate(req.steps, start=1):
            self._say(f"{step.name} ({n} of {len(req.steps)}): updating to {req.new_name}…")
            verdict = await self._move(step, req, new_id, permit)
            if verdict is None:
                moved.append(step.name)
                lines.append(f"{step.name}: now on {req.new_name}")
                continue
            failed = step.name
            errors.append(f"{step.name}: {verdict}; stopped")
            break
        if failed is not None:
            rest = [s.name for s in req.steps if s.name not in moved and s.name != failed]
            if rest:
                lines.append(f"not updated (still on {req.old_name}): {', '.join(rest)}")
        still = [*req.others, *(s.name for s in req.steps if s.name not in moved)]
        notes: list[str] = []
        if still:
            notes.append(f"{req.old_name} is still used by {', '.join(still)}")
        else:
            notes.append(f"{req.old_name} is used by no service now: removing it is offered next")
        result = RotationResult(kind.noun, req.old_id, req.old_name, tuple(moved), failed,
                                old_unused=not still)
        summary = "; ".join([*(f"{m}: now on {req.new_name}" for m in moved), *errors])
        lines.append(f"Summary: {summary}")
        return Outcome(title, blocks=("\n".join(lines),), errors=tuple(errors),
                       notes=tuple(notes), detail=result)

    async def _move(self, step: RotateStep, req: RotateRequest, new_id: str,
                    permit: WritePermit) -> str | None:
        """Update one service to the new secret and wait; None when its rollout completed,
        else what happened (after rolling it back)."""
        try:
            raw = as_map(await self.client.request("GET", f"services/{step.service_id}"))
            before = parse_service(raw).update_status
            version = as_int(as_map(raw.get("Version")).get("Index"))
            spec = swapped_spec(as_map(raw.get("Spec")), self.kind, req.old_id, new_id,
                                req.new_name)
            await self.client.request("POST", f"services/{step.service_id}/update",
                                      {"version": str(version)}, body=spec, permit=permit)
        except EngineError as exc:
            return f"update refused ({exc}), still on {req.old_name}"
        before_start = before.started_ns if before else None
        self._say(f"{step.name}: waiting for its rollout…")
        verdict, svc = await self._wait(step, lambda s: s.update_status is not None and (
            s.update_status.started_ns != before_start))
        if verdict == "completed":
            return None
        if verdict == "timeout":
            return (f"no verdict within {self.timeout_s:g} s; left as it is "
                    f"(docker service ps {step.name})")
        what = f"update failed ({verdict})"
        status = svc.update_status if svc else None
        if status is not None and status.state.startswith("rollback"):
            self._say(f"{step.name}: the engine rolls it back…")
        else:
            self._say(f"{step.name}: rolling back…")
            try:
                raw = as_map(await self.client.request("GET", f"services/{step.service_id}"))
                version = as_int(as_map(raw.get("Version")).get("Index"))
                await self.client.request(
                    "POST", f"services/{step.service_id}/update",
                    {"version": str(version), "rollback": "previous"},
                    body=dict(as_map(raw.get("Spec"))), permit=permit)
            except EngineError as exc:
                return f"{what}; rollback refused ({exc})"
        done, svc = await self._wait(step, lambda s: s.update_status is not None and (
            s.update_status.state in ("rollback_completed", "rollback_paused")))
        if svc is not None and svc.update_status is not None and (
                svc.update_status.state == "rollback_completed"):
            return f"{what}, rolled back to {req.old_name}"
        if done == "timeout":
            return f"{what}; rolling back to {req.old_name} did not finish in time"
        return f"{what}; rollback to {req.old_name} paused ({done})"

    async def _wait(self, step: RotateStep, started: Callable[[Service], bool]
                    ) -> tuple[str, Service | None]:
        """Poll the service and its tasks until ``started`` holds and its rollout ended:
        ``completed``, the failure's reason, or ``timeout``."""
        deadline = time.monotonic() + self.timeout_s
        svc: Service | None = None
        while time.monotonic() < deadline:
            await self.sleep(self.poll_s)
            try:
                svc = parse_service(as_map(await self.client.request(
                    "GET", f"services/{step.service_id}")))
                if not started(svc):
                    continue
                tasks = parse_tasks(as_list(await self.client.request(
                    "GET", "tasks", {"filters": json.dumps({"service": [step.service_id]})})))
            except EngineError:
                continue  # a manager busy for a moment: ask again
            line = timeline_for(svc, tasks, self.clock_ns())
            if line is None or line.in_progress:
                continue
            if rollout_exit_status(line) == 0:
                return "completed", svc
            cause = line.stopped_because
            if cause is not None:
                return cause.reason, svc
            return (line.engine_message or line.state), svc
        return "timeout", svc


class RotateConfig(RotateSecret):
    """A config rotates the same way."""

    def __init__(self, client: ServiceClient, old: str, new_name: str, data: SecretData,
                 services: tuple[str, ...] | None = None, **kw: Any) -> None:
        super().__init__(client, old, new_name, data, services, CONFIG, **kw)
