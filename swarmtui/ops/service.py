"""Service actions as operations: scale, image, force update, rollback, re-apply a stopped
update, remove, update config.

Each ``plan()`` reads the service (``GET /services/{id}``: Version.Index, Spec, PreviousSpec),
lets :mod:`swarmtui.model.servicespec` validate the change and build the new spec, and
previews the spec changes old → new (:mod:`swarmtui.model.specdiff`). A refusal (bad input,
scaling a global service, no previous spec …) is an EngineError of one line raised before
anything but GET was sent. ``execute()`` sends the update with ``version=N`` of the plan,
so a service that changed since the preview is refused by the engine ("update out of
sequence"): that outcome is ``stale``, and the app reads again and asks again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from swarmtui.engine.client import REQUEST_TIMEOUT_S, EngineError, WritePermit
from swarmtui.model import servicespec
from swarmtui.model.jsonval import as_int, as_map, as_str, as_strs
from swarmtui.model.parse import parse_service
from swarmtui.model.servicespec import Spec, UpdateConfigChange
from swarmtui.model.specdiff import SpecChange, go_duration, render_changes, spec_changes
from swarmtui.ops.base import Operation, Outcome, Plan, Preview

STALE_REFUSAL = "the service changed since the preview"
OUT_OF_SEQUENCE = "update out of sequence"


class ServiceClient(Protocol):
    """What the service operations need from a connection (EngineClient; tests: a fake)."""

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = REQUEST_TIMEOUT_S, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class ServiceRead:
    """The service as ``GET /services/{id}`` returned it."""

    id: str
    name: str
    version: int
    spec: Spec
    previous: Spec | None
    update_state: str = ""  # UpdateStatus.State ("" while the engine reports none)


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """What ``execute`` sends: an update (with the plan's version) or a DELETE."""

    service_id: str
    name: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: Spec | None = None
    changes: tuple[SpecChange, ...] = ()
    done: str = ""


async def read_service(client: ServiceClient, service: str) -> ServiceRead:
    """The service by ID or name; EngineError (one line) when it is not there."""
    try:
        raw = await client.request("GET", f"services/{service}")
    except EngineError as exc:
        if exc.status == 404:
            raise EngineError(f"no such service: {service}", 404) from exc
        raise
    data = as_map(raw)
    spec = as_map(data.get("Spec"))
    previous = data.get("PreviousSpec")
    return ServiceRead(
        id=as_str(data.get("ID")) or service,
        name=as_str(spec.get("Name")) or service,
        version=as_int(as_map(data.get("Version")).get("Index")),
        spec=dict(spec),
        previous=dict(previous) if isinstance(previous, Mapping) and previous else None,
        update_state=as_str(as_map(data.get("UpdateStatus")).get("State")),
    )


def spec_block(svc: ServiceRead, changes: tuple[SpecChange, ...]) -> str:
    head = f"{svc.name} ({svc.id[:12]}), spec version {svc.version}\n"
    return head + (render_changes(changes) if changes else "  (no change)\n")


def error_outcome(title: str, exc: EngineError) -> Outcome:
    """What an engine error on execute means for the user."""
    if OUT_OF_SEQUENCE in str(exc).lower():
        return Outcome(title, refused=STALE_REFUSAL, stale=True)
    if exc.status == 404:
        return Outcome(title, errors=("the service is gone (removed since the preview)",))
    return Outcome(title, errors=(str(exc),))


class ServiceOperation(Operation[ServiceRequest]):
    """Read one service, build the request from it, preview, send with its version."""

    verb = "Update"

    def __init__(self, client: ServiceClient, service: str) -> None:
        self.client = client
        self.service = service
        self.title = f"{self.verb} {service}"

    # Subclasses: the new spec (or ValueError), the preview's title and summary.
    def new_spec(self, svc: ServiceRead) -> Spec:
        raise NotImplementedError

    def heading(self, svc: ServiceRead) -> str:
        return f"{self.verb} {svc.name}"

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        cfg = parse_service({"Spec": svc.spec}).update_config
        return (f"The engine replaces tasks {cfg.parallelism or 'all'} at a time, "
                f"{go_duration(cfg.delay_ns)} apart (failure action: {cfg.failure_action}).")

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: update accepted; the engine rolls it out (see the grid)."

    def params(self) -> tuple[tuple[str, str], ...]:
        return ()

    def shown_changes(self, svc: ServiceRead, new: Spec) -> tuple[SpecChange, ...]:
        """What the preview lists old → new: by default the spec sent against the one held."""
        return spec_changes(svc.spec, new)

    async def plan(self) -> Plan[ServiceRequest]:
        svc = await read_service(self.client, self.service)
        try:
            new = self.new_spec(svc)
        except ValueError as exc:
            raise EngineError(str(exc)) from exc
        changes = self.shown_changes(svc, new)
        title = self.heading(svc)
        self.title = title
        preview = Preview(
            title=title,
            blocks=(spec_block(svc, changes),),
            summary=self.summary(svc, new) if changes else "Nothing to change.",
            changes=len(changes),
        )
        request = ServiceRequest(
            svc.id, svc.name, "POST", f"services/{svc.id}/update", self.params(),
            body=self.body(svc, new), changes=changes, done=self.done(svc, new),
        )
        return Plan(self, preview, request, based_on=((svc.id, svc.version),))

    def body(self, svc: ServiceRead, new: Spec) -> Spec:
        return new

    async def execute(self, plan: Plan[ServiceRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        params = dict(req.params)
        for object_id, version in plan.based_on:
            if object_id == req.service_id:
                params["version"] = str(version)
        try:
            answer = await self.client.request(req.method, req.path, params, body=req.body,
                                               permit=permit)
        except EngineError as exc:
            return error_outcome(plan.preview.title, exc)
        warnings = as_strs(as_map(answer).get("Warnings"))
        return Outcome(plan.preview.title, blocks=(req.done,), notes=warnings)


class ScaleService(ServiceOperation):
    verb = "Scale"

    def __init__(self, client: ServiceClient, service: str, replicas: int) -> None:
        super().__init__(client, service)
        self.replicas = replicas

    def new_spec(self, svc: ServiceRead) -> Spec:
        return servicespec.scaled_spec(svc.spec, self.replicas, svc.name)

    def heading(self, svc: ServiceRead) -> str:
        return f"Scale {svc.name} to {self.replicas}"

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        return "Tasks are started or stopped to match; the others keep running."

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: scaled to {self.replicas} replica(s)."


class UpdateImage(ServiceOperation):
    verb = "Update the image of"

    def __init__(self, client: ServiceClient, service: str, image: str) -> None:
        super().__init__(client, service)
        self.image = image.strip()

    def new_spec(self, svc: ServiceRead) -> Spec:
        return servicespec.image_spec(svc.spec, self.image)

    def heading(self, svc: ServiceRead) -> str:
        return f"Update {svc.name} to {self.image}"

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: updating to {self.image}; the engine rolls it out (see the grid)."


class ForceUpdate(ServiceOperation):
    verb = "Force an update of"

    def new_spec(self, svc: ServiceRead) -> Spec:
        return servicespec.forced_spec(svc.spec)

    def heading(self, svc: ServiceRead) -> str:
        return f"Force an update (redeploy) of {svc.name}"

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        return "Every task is replaced, even with nothing else changed. " + super().summary(
            svc, new)

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: redeploying; every task is replaced (see the grid)."


class RollbackService(ServiceOperation):
    """``docker service rollback``: the current spec with ``rollback=previous``; the engine
    swaps Spec and PreviousSpec (so a second rollback rolls forward)."""

    verb = "Roll back"

    def new_spec(self, svc: ServiceRead) -> Spec:
        return servicespec.rollback_target(svc.previous, svc.name)

    def heading(self, svc: ServiceRead) -> str:
        return f"Roll back {svc.name} to its previous spec"

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        return ("The engine swaps the spec and the previous spec (rolling back again rolls "
                "forward) and replaces the tasks per the rollback config.")

    def params(self) -> tuple[tuple[str, str], ...]:
        return (("rollback", "previous"),)

    def body(self, svc: ServiceRead, new: Spec) -> Spec:
        return svc.spec  # what the CLI sends: the current spec, and rollback=previous

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: rolling back to the previous spec (see the grid)."


PAUSED_STATES = frozenset({"paused"})
ROLLED_BACK_STATES = frozenset({"rollback_started", "rollback_paused", "rollback_completed"})


class ReapplyUpdate(ServiceOperation):
    """Carry on with the update that stopped, to the spec it was moving to (the updates
    view's ``U``). What the engine allows decides what is sent (docker-api brief §5.1, §5.4):

    * paused: the engine still holds that spec as ``Spec``; sending it unchanged resumes
      (what ``docker service update <svc>`` does): the tasks still on ``PreviousSpec`` are
      replaced. The preview lists PreviousSpec → Spec, the update's own changes. Any update
      sets PreviousSpec to the spec it replaces, so afterwards a rollback no longer returns
      to the old spec; the preview says so.
    * rolled back by hand (``docker service rollback``): the engine swapped the specs, so
      ``PreviousSpec`` is the update's spec; it is sent as a plain update (Spec → it).
    * rolled back by the engine (failure action rollback): swarmkit drops PreviousSpec, so
      the update's spec is gone. ``image`` (the one the update moved to, from the
      timeline) is set again, and the preview says that nothing else of it is known.

    Anything else did not stop: refused, naming what does help (a forced redeploy)."""

    verb = "Update again"

    def __init__(self, client: ServiceClient, service: str, image: str | None = None) -> None:
        super().__init__(client, service)
        self.image = image
        self._mode = ""

    def new_spec(self, svc: ServiceRead) -> Spec:
        if svc.update_state in PAUSED_STATES:
            self._mode = "resume"
            return dict(svc.spec)
        if svc.update_state in ROLLED_BACK_STATES and svc.previous is not None:
            self._mode = "previous"
            return servicespec.rollback_target(svc.previous, svc.name)
        if svc.update_state in ROLLED_BACK_STATES:
            current = servicespec.current_image(svc.spec)
            if not self.image or self.image == current:
                raise ValueError(
                    f"{svc.name}: the engine dropped the spec the rolled-back update moved to "
                    "(an automatic rollback keeps no previous spec) and its image is not known "
                    "here; update it again from the services view (i) or docker service update")
            self._mode = "image"
            return servicespec.image_spec(svc.spec, self.image)
        state = svc.update_state or "no update status"
        raise ValueError(
            f"{svc.name}: no stopped update to re-apply (the engine says {state}); the tasks "
            "already have its spec: F redeploys them (a forced update)")

    def shown_changes(self, svc: ServiceRead, new: Spec) -> tuple[SpecChange, ...]:
        if self._mode == "resume":
            return spec_changes(svc.previous or svc.spec, svc.spec)
        return super().shown_changes(svc, new)

    def heading(self, svc: ServiceRead) -> str:
        if self._mode == "resume":
            return f"Resume the paused update of {svc.name}"
        return f"Update {svc.name} again to the spec it rolled back from"

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        if self._mode == "resume":
            return ("The spec is sent unchanged: the engine resumes the update and replaces "
                    "the tasks still on the previous spec. Afterwards the previous spec is "
                    "this one, so a rollback no longer returns to the old spec. "
                    + super().summary(svc, new))
        if self._mode == "image":
            return ("Only the image is set again: the engine keeps no copy of the rest of "
                    "the update's spec after rolling back on its own. " + super().summary(
                        svc, new))
        return super().summary(svc, new)

    def done(self, svc: ServiceRead, new: Spec) -> str:
        if self._mode == "resume":
            return f"{svc.name}: update resumed; the engine rolls it out (see the timeline)."
        return f"{svc.name}: updating again; the engine rolls it out (see the timeline)."


class UpdateConfig(ServiceOperation):
    verb = "Change the update config of"

    def __init__(self, client: ServiceClient, service: str, change: UpdateConfigChange) -> None:
        super().__init__(client, service)
        self.change = change

    def new_spec(self, svc: ServiceRead) -> Spec:
        return servicespec.update_config_spec(svc.spec, self.change)

    def summary(self, svc: ServiceRead, new: Spec) -> str:
        return "Only how later updates roll out changes; running tasks are not replaced."

    def done(self, svc: ServiceRead, new: Spec) -> str:
        return f"{svc.name}: update config changed."


class RemoveService(ServiceOperation):
    """``docker service rm``: the service and its tasks go. Cannot be undone, so the user
    types the service's name to confirm."""

    verb = "Remove"

    async def plan(self) -> Plan[ServiceRequest]:
        svc = await read_service(self.client, self.service)
        tasks = await self.client.request(
            "GET", "tasks", {"filters": json.dumps({"service": [svc.id]})})
        running = [t for t in tasks or [] if as_str(as_map(t).get("DesiredState")) == "running"]
        others = len(tasks or []) - len(running)
        lines = [f"{svc.name} ({svc.id[:12]}), spec version {svc.version}",
                 f"  the service: {svc.name}",
                 f"  its {len(running)} running task(s): stopped and removed"]
        if others:
            lines.append(f"  {others} older task record(s) of it")
        title = f"Remove service {svc.name}"
        self.title = title
        preview = Preview(
            title=title,
            blocks=("\n".join(lines) + "\n",),
            summary=f"Total: the service and {len(running)} running task(s).",
            changes=1 + len(running),
            typed_confirmation=svc.name,
            warning="A removed service cannot be brought back.",
        )
        request = ServiceRequest(svc.id, svc.name, "DELETE", f"services/{svc.id}",
                                 done=f"{svc.name}: removed.")
        return Plan(self, preview, request, based_on=((svc.id, svc.version),))

    async def execute(self, plan: Plan[ServiceRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        try:
            # DELETE takes no version: read it again so a service changed since the preview
            # is shown again rather than removed unseen.
            now = await read_service(self.client, req.service_id)
            if (now.id, now.version) not in plan.based_on:
                return Outcome(plan.preview.title, refused=STALE_REFUSAL, stale=True)
            await self.client.request("DELETE", req.path, permit=permit)
        except EngineError as exc:
            return error_outcome(plan.preview.title, exc)
        return Outcome(plan.preview.title, blocks=(req.done,))
