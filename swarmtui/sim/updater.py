"""Rolling updates and rollbacks (swarmkit ``manager/orchestrator/update/updater.go``, simplified).

A run replaces every *dirty* slot (its live task was created from another TaskTemplate), taken
in the engine's map order (seeded here), with ``Parallelism`` workers (0 = all at once). A
worker updates one slot — ``stop-first``: the old task is shut down, then the new one (created
with DesiredState ``ready``) is started; ``start-first``: the new task starts, and the old one
is shut down once the new one runs — and when the new task reached running (or ended before),
waits ``Delay`` before taking the next slot. After the last worker, the updater watches for one
more ``Monitor`` period, then says completed. A task the updater created that fails before
running or within ``Monitor`` of it counts as a failure; once failures exceed
``MaxFailureRatio`` of the dirty slots, ``FailureAction`` applies (pause | continue |
rollback). Like the engine, failures are noticed while slots are still being handed out or
during the last monitor period (not while waiting for the last workers). UpdateStatus goes
updating → completed, paused, or rollback_started → rollback_completed / rollback_paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from swarmtui.sim.objects import SimService, SimTask, image_of, replicas_of, update_config
from swarmtui.sim.orchestrator import LIVE_DESIRED, TERMINAL, Orchestrator
from swarmtui.sim.util import Json, rfc3339

ServiceSnapshot = tuple[str, int | None, str | None]


@dataclass(eq=False)
class UpdateRun:
    service_id: str
    rollback: bool
    parallelism: int
    delay_ns: int
    order: str
    failure_action: str
    monitor_ns: int
    max_failure_ratio: float
    queue: list[int | str]
    total: int
    active: int = 0
    failures: int = 0
    stopped: bool = False
    monitoring: bool = False  # every slot done: the last monitoring period runs
    failed_ids: set[str] = field(default_factory=set)
    # Failures seen while only waiting for the last workers: (task, when it reached running).
    deferred: list[tuple[SimTask, int | None]] = field(default_factory=list)


@dataclass(eq=False)
class SlotUpdate:
    """One worker's job: replace ``old`` by ``new`` in a slot."""

    run: UpdateRun
    new: SimTask
    old: list[SimTask]
    running_ns: int | None = None  # when the new task reached running (or ended before)
    waiting_old: set[str] = field(default_factory=set)


class Updater(Orchestrator):
    def __init__(self, seed: int, now_ns: int) -> None:
        super().__init__(seed, now_ns)
        self.runs: dict[str, UpdateRun] = {}

    # ------------------------------------------------------------------ events
    @staticmethod
    def service_snapshot(svc: SimService) -> ServiceSnapshot:
        state = svc.update_status.get("State") if svc.update_status else None
        return image_of(svc.spec), replicas_of(svc.spec), state

    def emit_service_update(self, svc: SimService, before: ServiceSnapshot, ts: int) -> None:
        """``service update`` with the attributes moby's generateClusterEvent adds."""
        image, replicas, state = self.service_snapshot(svc)
        attrs = {"name": svc.name}
        if image != before[0]:
            attrs["image.old"] = before[0]
            attrs["image.new"] = image
        if replicas is not None and before[1] is not None and replicas != before[1]:
            attrs["replicas.old"] = str(before[1])
            attrs["replicas.new"] = str(replicas)
        if state is not None and state != before[2]:
            if before[2] is not None:
                attrs["updatestate.old"] = before[2]
            attrs["updatestate.new"] = state
        self.emit("service", "update", svc.id, attrs, ts)

    def set_update_status(self, svc: SimService, state: str, message: str,
                          started: bool = False, completed: bool = False) -> None:
        before = self.service_snapshot(svc)
        now = self.stamp()
        old = svc.update_status or {}
        status: Json = {"State": state}
        if started or "StartedAt" not in old:
            status["StartedAt"] = rfc3339(now)
        else:
            status["StartedAt"] = old["StartedAt"]
        if completed:
            status["CompletedAt"] = rfc3339(now)
        status["Message"] = message
        svc.update_status = status
        ts = self.touch(svc.meta)
        self.emit_service_update(svc, before, ts)

    # ------------------------------------------------------------------ runs
    def dirty_keys(self, svc: SimService) -> list[int | str]:
        keys: set[int | str] = set()
        replicas = replicas_of(svc.spec)
        for t in svc.tasks.values():
            if t.desired in LIVE_DESIRED and t.template_key != svc.template_key:
                if t.slot:
                    if replicas is None or t.slot <= replicas:
                        keys.add(t.slot)
                elif t.node_id:
                    keys.add(t.node_id)
        order = {nid: i for i, nid in enumerate(self.nodes)}
        return sorted(
            keys, key=lambda k: (0, k, 0) if isinstance(k, int) else (1, 0, order.get(k, 0))
        )

    def start_update(self, svc: SimService, rollback: bool = False) -> None:
        """(Re)start the updater for ``svc``; a run already going is abandoned."""
        old = self.runs.pop(svc.id, None)
        if old is not None:
            old.stopped = True
        state = svc.update_status.get("State") if svc.update_status else None
        if state in ("paused", "rollback_paused"):
            return  # the engine's updater does nothing until the next spec update
        keys = self.dirty_keys(svc)
        if not keys:
            if state == "updating":
                self.set_update_status(svc, "completed", "update completed", completed=True)
            elif state == "rollback_started":
                self.set_update_status(svc, "rollback_completed", "rollback completed",
                                       completed=True)
            return
        # swarmkit builds the dirty slots from a Go map: the order differs per run.
        keys = [keys.pop(self.rng.choice_index(len(keys))) for _ in range(len(keys))]
        if svc.update_status is None:
            self.set_update_status(svc, "updating", "update in progress", started=True)
        rollback = rollback or state == "rollback_started"
        cfg = update_config(svc.spec, rollback)
        parallelism = int(cfg["Parallelism"])
        run = UpdateRun(
            service_id=svc.id,
            rollback=rollback,
            parallelism=parallelism,
            delay_ns=int(cfg["Delay"]),
            order=str(cfg["Order"]),
            failure_action=str(cfg["FailureAction"]),
            monitor_ns=int(cfg["Monitor"]),
            max_failure_ratio=float(cfg["MaxFailureRatio"]),
            queue=keys,
            total=len(keys),
        )
        self.runs[svc.id] = run
        workers = len(keys) if parallelism <= 0 else min(parallelism, len(keys))
        for _ in range(workers):
            self._update_next(run)

    def _update_next(self, run: UpdateRun) -> None:
        if run.stopped:
            return
        if not run.queue:
            if run.active == 0 and not run.monitoring:
                # Every worker is done: failures that came meanwhile are read now, then one
                # more monitoring period before the update counts as completed.
                run.monitoring = True
                for task, reached in run.deferred:
                    if reached is None or self.now_ns - reached <= run.monitor_ns:
                        self._update_failed(run, task)
                        if run.stopped:
                            return
                run.deferred.clear()
                self.after(run.monitor_ns, self._t_complete, run)
            return
        key = run.queue.pop(0)
        run.active += 1
        svc = self.services.get(run.service_id)
        if svc is None:
            run.stopped = True
            return
        slot, node_id = (key, "") if isinstance(key, int) else (0, key)
        live = [
            t for t in svc.tasks.values()
            if t.desired in LIVE_DESIRED
            and (t.slot == slot if slot else (not t.slot and t.node_id == node_id))
        ]
        old = [t for t in live if t.template_key != svc.template_key]
        clean = [t for t in live if t.template_key == svc.template_key]
        if not old:
            self._worker_free(run)
            return
        if clean:
            self._use_existing(run, clean[0], old)
            return
        start_first = run.order == "start-first"
        new = self.create_task(svc, slot, node_id, desired="running" if start_first else "ready")
        job = SlotUpdate(run, new, old)
        self.watch(new, partial(self._on_new, job))
        if not start_first:
            self._stop_then_start(job)

    def _stop_then_start(self, job: SlotUpdate) -> None:
        """Shut the old tasks down; start the new one once they stopped (restart.DelayStart)."""
        for t in job.old:
            self.set_desired(t, "shutdown")
            if t.state in ("ready", "starting", "running") and self.node_up(t.node_id):
                job.waiting_old.add(t.id)
                self.watch(t, partial(self._on_old, job))
        if not job.waiting_old:
            self.start_now(job.new)

    def _use_existing(self, run: UpdateRun, existing: SimTask, old: list[SimTask]) -> None:
        """The slot already has a task of the new spec (a restart made it): keep that one,
        shut the others; its failures are not the updater's (swarmkit useExistingTask)."""
        job = SlotUpdate(run, existing, old)
        if existing.desired == "ready":
            self._stop_then_start(job)
        else:
            for t in old:
                self.set_desired(t, "shutdown")
        self.after(run.delay_ns, self._worker_free, run)

    def _on_old(self, job: SlotUpdate, task: SimTask) -> None:
        if task.state in TERMINAL:
            job.waiting_old.discard(task.id)
            if not job.waiting_old and not job.run.stopped:
                self.start_now(job.new)

    def _on_new(self, job: SlotUpdate, task: SimTask) -> None:
        run = job.run
        ended = task.state in ("failed", "rejected") or (
            task.state in ("complete", "shutdown") and task.desired in LIVE_DESIRED
        )
        if job.running_ns is None and (task.state == "running" or task.state in TERMINAL):
            # The worker's wait for the new task is over (running, or ended before that).
            job.running_ns = self.now_ns
            if run.order == "start-first" and task.state == "running":
                for t in job.old:
                    if t.desired in LIVE_DESIRED:
                        self.set_desired(t, "shutdown")
            if not run.stopped:
                self.after(run.delay_ns, self._worker_free, run)
        if not ended or run.stopped or task.id in run.failed_ids or job.running_ns is None:
            return
        if self.now_ns > job.running_ns + run.monitor_ns:
            return  # failed after the monitoring window: the restart policy's business
        run.failed_ids.add(task.id)
        if run.failure_action == "continue":
            return
        if run.queue or run.monitoring:
            # Let the restart supervisor deal with the task first (same instant, next timer).
            self.after(0, self._update_failed, run, task)
        else:
            run.deferred.append((task, job.running_ns))

    def _worker_free(self, run: UpdateRun) -> None:
        run.active -= 1
        self._update_next(run)

    def _t_complete(self, run: UpdateRun) -> None:
        if run.stopped or self.runs.get(run.service_id) is not run:
            return
        del self.runs[run.service_id]
        svc = self.services.get(run.service_id)
        if svc is None:
            return
        if run.rollback:
            self.set_update_status(svc, "rollback_completed", "rollback completed", completed=True)
        else:
            self.set_update_status(svc, "completed", "update completed", completed=True)

    def _update_failed(self, run: UpdateRun, task: SimTask) -> None:
        if run.stopped:
            return
        run.failures += 1
        if run.failures <= run.max_failure_ratio * run.total:
            return  # tolerated (MaxFailureRatio)
        svc = self.services.get(run.service_id)
        run.stopped = True
        if self.runs.get(run.service_id) is run:
            del self.runs[run.service_id]
        if svc is None:
            return
        if run.failure_action == "rollback" and not run.rollback:
            if svc.previous_spec is None:
                return  # swarmkit logs "no previous spec" and leaves the status as it was
            before = self.service_snapshot(svc)
            self.set_spec(svc, svc.previous_spec)
            svc.previous_spec = None
            old = svc.update_status or {}
            svc.update_status = {
                "State": "rollback_started",
                "StartedAt": old.get("StartedAt", rfc3339(self.now_ns)),
                "Message": "update rolled back due to failure or early termination of task "
                + task.id,
            }
            ts = self.touch(svc.meta)
            self.emit_service_update(svc, before, ts)
            self.reconcile(svc)
            self.start_update(svc, rollback=True)
            self.request_scheduling()
            return
        # "Never roll back a rollback": a rollback whose config says rollback pauses instead.
        what = "rollback" if run.rollback and run.failure_action == "rollback" else "update"
        self.set_update_status(
            svc,
            "rollback_paused" if run.rollback else "paused",
            f"{what} paused due to failure or early termination of task {task.id}",
        )
