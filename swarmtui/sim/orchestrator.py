"""Tasks on a virtual clock: the orchestrators, the scheduler and the agents, simplified.

Replicated services keep one live task per slot, global services one per eligible node.
Tasks walk new → pending → assigned → accepted → preparing → (ready) → starting → running
over a few virtual seconds; failed tasks are restarted in their slot after the restart
delay; tasks on drained/down nodes are replaced; tasks on a down node keep the state they
last reported. The task reaper keeps ``TaskHistoryRetentionLimit`` tasks per slot.
"""

from __future__ import annotations

from collections.abc import Callable

from swarmtui.sim import scheduler as sched
from swarmtui.sim.core import SimCore
from swarmtui.sim.loggen import Profile, failing_profile, profile_for, task_seed
from swarmtui.sim.objects import (
    SimNetwork,
    SimNode,
    SimService,
    SimTask,
    canonical,
    constraints_of,
    replicas_of,
    restart_policy,
)
from swarmtui.sim.util import MS, NS

LIVE_DESIRED = frozenset({"running", "ready"})
TERMINAL = frozenset({"complete", "shutdown", "failed", "rejected", "remove", "orphaned"})
_STARTED = frozenset({"ready", "starting", "running"})  # a container exists

Watcher = Callable[[SimTask], None]


def _args(template: dict[str, object]) -> list[str]:
    cs = template.get("ContainerSpec")
    if not isinstance(cs, dict):
        return []
    out: list[str] = []
    for key in ("Command", "Args"):
        value = cs.get(key)
        if isinstance(value, list):
            out.extend(str(v) for v in value)
    return out


class Orchestrator(SimCore):
    def __init__(self, seed: int, now_ns: int) -> None:
        super().__init__(seed, now_ns)
        self.unassigned: dict[str, SimTask] = {}
        self._watchers: dict[str, list[Watcher]] = {}
        self._sched_queued = False
        self.crashing: dict[str, Profile] = {}  # image -> how its containers fail

    def mark_crashing(self, image: str, exit_code: int = 3, after_s: float = 1.0) -> None:
        """Containers of ``image`` start, run ``after_s`` and exit ``exit_code`` (a bad
        release for the demo's failing update), whatever its name says."""
        self.crashing[image] = failing_profile(exit_code, str(after_s), image)

    # ------------------------------------------------------------------ helpers
    def node_up(self, node_id: str) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node.state == "ready"

    def node_invalid(self, node_id: str) -> bool:
        """swarmkit ``orchestrator.InvalidNode``: gone, down or drained."""
        node = self.nodes.get(node_id)
        return node is None or node.state == "down" or node.availability == "drain"

    def watch(self, task: SimTask, fn: Watcher) -> None:
        self._watchers.setdefault(task.id, []).append(fn)

    def unwatch(self, task: SimTask, fn: Watcher) -> None:
        fns = self._watchers.get(task.id)
        if fns and fn in fns:
            fns.remove(fn)

    def set_spec(self, svc: SimService, spec: dict[str, object]) -> None:
        svc.spec = spec
        svc.template_key = canonical(svc.template)
        svc.task_spec = {k: v for k, v in svc.template.items() if k != "Runtime"}

    def _touch_task(self, task: SimTask) -> int:
        task.invalidate()
        return self.touch(task.meta)

    def set_state(self, task: SimTask, state: str, message: str, err: str = "") -> None:
        task.state = state
        task.message = message
        task.err = err
        task.status_ns = self._touch_task(task)
        for fn in tuple(self._watchers.get(task.id, ())):
            fn(task)

    def set_desired(self, task: SimTask, desired: str) -> None:
        if task.desired == desired:
            return
        task.desired = desired
        self._touch_task(task)
        if desired in LIVE_DESIRED:
            if desired == "running" and task.state == "ready":
                self.after(self.rng.between(5 * MS, 40 * MS), self._t_starting, task)
            return
        self.unassigned.pop(task.id, None)
        if task.state in TERMINAL:
            if desired == "remove":
                self.after(self.rng.between(100 * MS, 600 * MS), self._t_delete, task)
            return
        if task.state == "running" and task.container_id:
            self.after(self.rng.between(30 * MS, 180 * MS), self._t_stopping, task)
        self.after(self.rng.between(200 * MS, 1200 * MS), self._t_stop, task)

    def _t_stopping(self, task: SimTask) -> None:
        """The agent reports the container it is stopping: still running, ExitCode -1 (what
        dockerd shows between the shutdown order and the container's exit)."""
        if (self._alive(task, "running") and task.desired not in LIVE_DESIRED
                and self.node_up(task.node_id)):
            task.exit_code = -1
            self.set_state(task, "running", task.message)

    # ------------------------------------------------------------------ creation
    def create_task(self, svc: SimService, slot: int, node_id: str = "",
                    desired: str = "running") -> SimTask:
        meta = self.new_meta()
        image = str(svc.task_spec.get("ContainerSpec", {}).get("Image", ""))
        task = SimTask(
            meta=meta,
            service_id=svc.id,
            service_name=svc.name,
            slot=slot,
            spec=svc.task_spec,
            template_key=svc.template_key,
            profile=self.crashing.get(image) or profile_for(image, _args(svc.template)),
            log_seed=task_seed(self.seed, meta.id),
            node_id=node_id,
            desired=desired,
            status_ns=meta.created_ns,
        )
        self.tasks[task.id] = task
        svc.tasks[task.id] = task
        self.after(self.rng.between(1 * MS, 6 * MS), self._t_allocate, task)
        return task

    def start_now(self, task: SimTask) -> None:
        """The restart supervisor's / updater's "go": desired ready → running."""
        if task.desired == "ready":
            self.set_desired(task, "running")

    # ------------------------------------------------------------------ lifecycle
    def _alive(self, task: SimTask, state: str) -> bool:
        return task.id in self.tasks and task.state == state

    def _t_allocate(self, task: SimTask) -> None:
        if not self._alive(task, "new"):
            return
        svc = self.services.get(task.service_id)
        if svc is not None:
            task.networks = [(net, net.allocate()) for net in self.task_networks(svc)]
        self.set_state(task, "pending", "pending task scheduling")
        if task.desired not in LIVE_DESIRED:
            return
        self.unassigned[task.id] = task
        self.request_scheduling()

    def request_scheduling(self) -> None:
        if not self._sched_queued:
            self._sched_queued = True
            self.after(self.rng.between(20 * MS, 90 * MS), self._t_schedule)

    def _t_schedule(self) -> None:
        self._sched_queued = False
        pending = [t for t in self.unassigned.values() if t.desired in LIVE_DESIRED]
        if not pending:
            return
        nodes = list(self.nodes.values())
        order = {n.id: i for i, n in enumerate(nodes)}
        total: dict[str, int] = {}
        used: dict[str, sched.Resources] = {}
        for t in self.tasks.values():
            if t.node_id and t.desired in LIVE_DESIRED and t.state not in TERMINAL:
                total[t.node_id] = total.get(t.node_id, 0) + 1
                need = _reservations(t.spec)
                if need.nano_cpus or need.memory_bytes:
                    u = used.setdefault(t.node_id, sched.Resources())
                    u.nano_cpus += need.nano_cpus
                    u.memory_bytes += need.memory_bytes
        groups: dict[tuple[str, str], list[SimTask]] = {}
        for t in pending:
            groups.setdefault((t.service_id, t.template_key), []).append(t)
        for (service_id, _), tasks in groups.items():
            svc = self.services.get(service_id)
            if svc is None:
                continue
            spec = tasks[0].spec
            cons = sched.parse_constraints(constraints_of(spec))
            need = _reservations(spec)
            fixed = [t for t in tasks if t.node_id]  # global tasks come with their node
            free = [t for t in tasks if not t.node_id]
            for t in fixed:
                node = self.nodes.get(t.node_id)
                ok, why = sched.filter_nodes([node] if node else [], cons, need, used)
                self._assign(t, t.node_id) if ok else self._unschedulable(t, why)
            if not free:
                continue
            candidates, why = sched.filter_nodes(nodes, cons, need, used)
            if not candidates:
                for t in free:
                    self._unschedulable(t, why)
                continue
            svc_load: dict[str, int] = {}
            for t in svc.tasks.values():
                if t.node_id and t.desired in LIVE_DESIRED and t.state not in TERMINAL:
                    svc_load[t.node_id] = svc_load.get(t.node_id, 0) + 1
            if need.nano_cpus or need.memory_bytes:
                for t in free:  # resources change per placement: one at a time
                    candidates, why = sched.filter_nodes(nodes, cons, need, used)
                    if not candidates:
                        self._unschedulable(t, why)
                        continue
                    node = sched.spread(candidates, 1, svc_load, total, order)[0]
                    u = used.setdefault(node.id, sched.Resources())
                    u.nano_cpus += need.nano_cpus
                    u.memory_bytes += need.memory_bytes
                    self._assign(t, node.id)
            else:
                for t, node in zip(
                    free, sched.spread(candidates, len(free), svc_load, total, order), strict=True
                ):
                    self._assign(t, node.id)

    def _unschedulable(self, task: SimTask, why: str) -> None:
        if task.err != why:
            self.set_state(task, "pending", "pending task scheduling", why)

    def _assign(self, task: SimTask, node_id: str) -> None:
        self.unassigned.pop(task.id, None)
        task.node_id = node_id
        self.set_state(task, "assigned", "scheduler assigned task to node")
        self.after(self.rng.between(150 * MS, 600 * MS), self._t_accept, task)

    def _t_accept(self, task: SimTask) -> None:
        if self._alive(task, "assigned") and self.node_up(task.node_id):
            self.set_state(task, "accepted", "accepted")
            self.after(self.rng.between(5 * MS, 60 * MS), self._t_prepare, task)

    def _t_prepare(self, task: SimTask) -> None:
        if self._alive(task, "accepted") and self.node_up(task.node_id):
            self.set_state(task, "preparing", "preparing")
            node = self.nodes[task.node_id]
            image = str(task.spec.get("ContainerSpec", {}).get("Image", ""))
            pull = (
                self.rng.between(150 * MS, 500 * MS)
                if image in node.images
                else self.rng.between(1200 * MS, 3500 * MS)
            )
            self.after(pull, self._t_prepared, task)

    def _t_prepared(self, task: SimTask) -> None:
        if not (self._alive(task, "preparing") and self.node_up(task.node_id)):
            return
        node = self.nodes[task.node_id]
        node.images.add(str(task.spec.get("ContainerSpec", {}).get("Image", "")))
        task.container_id = self.rng.hex64()
        self.container_event(task, "create")
        if task.desired == "ready":
            self.set_state(task, "ready", "prepared")
        else:
            self._starting(task)

    def _t_starting(self, task: SimTask) -> None:
        if self._alive(task, "ready") and self.node_up(task.node_id) and task.desired == "running":
            self._starting(task)

    def _starting(self, task: SimTask) -> None:
        self.set_state(task, "starting", "starting")
        self.after(self.rng.between(150 * MS, 700 * MS), self._t_running, task)

    def _t_running(self, task: SimTask) -> None:
        if not (self._alive(task, "starting") and self.node_up(task.node_id)):
            return
        task.pid = self.rng.between(1000, 60000)
        task.running_ns = self.now_ns
        self.set_state(task, "running", "started")
        self.container_event(task, "start")
        if task.profile.fail_after_ns:
            self.after(task.profile.fail_after_ns, self._t_exit, task)

    def _t_exit(self, task: SimTask) -> None:
        """The container's process ended on its own (the failing profiles)."""
        if not (self._alive(task, "running") and self.node_up(task.node_id)):
            return
        task.pid = 0
        task.exit_code = task.profile.exit_code
        task.ended_ns = self.now_ns
        self.container_event(task, "die", {"exitCode": str(task.exit_code)})
        failed = task.exit_code != 0
        if failed:
            self.set_state(task, "failed", "started", task.profile.err)
        else:
            self.set_state(task, "complete", "finished")
        self.on_task_ended(task)

    def _t_stop(self, task: SimTask) -> None:
        """The agent stops a task whose desired state became shutdown/remove."""
        if task.id not in self.tasks or task.state in TERMINAL or task.desired in LIVE_DESIRED:
            return
        if task.node_id and not self.node_up(task.node_id):
            return  # nobody to report: the last state stays (resumed when the node is back)
        self.unassigned.pop(task.id, None)
        if task.state in _STARTED and task.container_id:
            was_running = task.state == "running"
            task.pid = 0
            task.exit_code = 137 if task.profile.kind == "hostname" else 0
            if was_running:
                task.ended_ns = self.now_ns
                self.container_event(task, "kill", {"signal": "15"})
            self.container_event(task, "die", {"exitCode": str(task.exit_code)})
            self.container_event(task, "stop")
        self.set_state(task, "shutdown", "shutdown")
        if task.desired == "remove":
            self.after(self.rng.between(100 * MS, 600 * MS), self._t_delete, task)
        else:
            self.reap(task)

    def _t_delete(self, task: SimTask) -> None:
        if task.id in self.tasks:
            self.delete_task(task)

    def delete_task(self, task: SimTask) -> None:
        self.tasks.pop(task.id, None)
        self.unassigned.pop(task.id, None)
        self._watchers.pop(task.id, None)
        svc = self.services.get(task.service_id)
        if svc is not None:
            svc.tasks.pop(task.id, None)
        if task.container_id and self.node_up(task.node_id):
            self.container_event(task, "destroy")
        self.changes += 1

    def resume_node_tasks(self, node: SimNode) -> None:
        """A node came back: its agent reports again and carries on where it stopped."""
        for task in list(self.tasks.values()):
            if task.node_id != node.id or task.state in TERMINAL:
                continue
            if task.desired not in LIVE_DESIRED:
                self.after(self.rng.between(200 * MS, 900 * MS), self._t_stop, task)
                continue
            step = {
                "assigned": self._t_accept,
                "accepted": self._t_prepare,
                "preparing": self._t_prepared,
                "starting": self._t_running,
                "ready": self._t_starting,
            }.get(task.state)
            if step is not None:
                self.after(self.rng.between(100 * MS, 600 * MS), step, task)
            elif task.state == "running" and task.profile.fail_after_ns:
                assert task.running_ns is not None
                due = task.running_ns + task.profile.fail_after_ns
                self.schedule(max(due, self.now_ns + 50 * MS), self._t_exit, task)

    # ------------------------------------------------------------------ restarts & reaper
    def on_task_ended(self, task: SimTask) -> None:
        """Restart supervisor: a task that should run has stopped by itself."""
        svc = self.services.get(task.service_id)
        if svc is None or task.desired not in LIVE_DESIRED:
            self.reap(task)
            return
        self.set_desired(task, "shutdown")
        condition, delay, max_attempts = restart_policy(task.spec)
        key: int | str = task.slot or task.node_id
        restart = condition == "any" or (condition == "on-failure" and task.state != "complete")
        if restart and max_attempts and svc.restarts.get(key, 0) >= max_attempts:
            restart = False
        if not restart:
            if task.slot:
                svc.dead_slots.add(task.slot)
            self.reap(task)
            return
        svc.restarts[key] = svc.restarts.get(key, 0) + 1
        still_wanted = (
            task.slot <= (replicas_of(svc.spec) or 0)
            if task.slot
            else not self.node_invalid(task.node_id)
        )
        if still_wanted:
            new = self.create_task(svc, task.slot, "" if task.slot else task.node_id,
                                   desired="ready" if delay > 0 else "running")
            if delay > 0:
                self.after(delay, self.start_now, new)
        self.reap(task)

    def reap(self, task: SimTask) -> None:
        """Keep at most ``history_limit`` tasks per slot (global: per node), oldest go first."""
        svc = self.services.get(task.service_id)
        if svc is None:
            return
        if task.slot:
            group = [t for t in svc.tasks.values() if t.slot == task.slot]
        else:
            group = [t for t in svc.tasks.values() if not t.slot and t.node_id == task.node_id]
        excess = len(group) - self.history_limit
        if excess <= 0:
            return
        group.sort(key=lambda t: (t.status_ns, t.meta.created_ns))
        for t in group:
            if excess <= 0:
                break
            if t.desired in LIVE_DESIRED or t.state not in TERMINAL:
                continue
            self.delete_task(t)
            excess -= 1

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, svc: SimService) -> None:
        if svc.mode == "global":
            self._reconcile_global(svc)
        else:
            self._reconcile_replicated(svc)

    def reconcile_all(self) -> None:
        for svc in list(self.services.values()):
            self.reconcile(svc)
        self.request_scheduling()

    def _reconcile_replicated(self, svc: SimService) -> None:
        replicas = replicas_of(svc.spec) or 0
        live: dict[int, list[SimTask]] = {}
        for t in list(svc.tasks.values()):
            if t.desired in LIVE_DESIRED:
                live.setdefault(t.slot, []).append(t)
        for slot, tasks in sorted(live.items()):
            moved = [t for t in tasks if t.node_id and self.node_invalid(t.node_id)]
            for t in moved:
                self.set_desired(t, "shutdown")
            if moved and len(moved) == len(tasks):
                if slot <= replicas:
                    live[slot] = [self.create_task(svc, slot)]
                else:
                    del live[slot]
        slots = sorted(set(live) | (svc.dead_slots & set(range(1, replicas + 1))))
        if len(slots) > replicas:
            for slot in slots[replicas:]:
                for t in live.get(slot, ()):
                    self.set_desired(t, "remove")
                svc.dead_slots.discard(slot)
        elif len(slots) < replicas:
            taken = set(slots)
            missing = [s for s in range(1, replicas + len(slots) + 1) if s not in taken]
            for slot in missing[: replicas - len(slots)]:
                self.create_task(svc, slot)

    def _reconcile_global(self, svc: SimService) -> None:
        cons = sched.parse_constraints(constraints_of(svc.template))
        by_node: dict[str, list[SimTask]] = {}
        for t in svc.tasks.values():
            if t.desired in LIVE_DESIRED:
                by_node.setdefault(t.node_id, []).append(t)
        for node in self.nodes.values():
            tasks = by_node.get(node.id, [])
            if node.state == "down":
                continue  # left alone: they come back with the node
            fits = all(c.matches(node) for c in cons)
            if node.availability == "drain" or not fits:
                for t in tasks:
                    self.set_desired(t, "shutdown")
                continue
            if not tasks and node.availability == "active" and node.state == "ready":
                self.create_task(svc, 0, node.id)
        for node_id, tasks in by_node.items():
            if node_id not in self.nodes:
                for t in tasks:
                    self.set_desired(t, "shutdown")

    # ------------------------------------------------------------------ hooks
    def task_networks(self, svc: SimService) -> list[SimNetwork]:  # overridden by the cluster
        return []

    def container_event(self, task: SimTask, action: str,
                        extra: dict[str, str] | None = None) -> None:
        """A local (scope=local) container event, only for tasks on the node we are."""
        if task.node_id != self.local_node_id or not task.container_id:
            return
        image = str(task.spec.get("ContainerSpec", {}).get("Image", ""))
        labels = task.spec.get("ContainerSpec", {}).get("Labels")
        attrs: dict[str, str] = dict(labels) if isinstance(labels, dict) else {}
        attrs.update({
            "com.docker.swarm.node.id": task.node_id,
            "com.docker.swarm.service.id": task.service_id,
            "com.docker.swarm.service.name": task.service_name,
            "com.docker.swarm.task": "",
            "com.docker.swarm.task.id": task.id,
            "com.docker.swarm.task.name": task.name,
            "image": image,
            "name": task.name,
        })
        if extra:
            attrs.update(extra)
        self.emit("container", action, task.container_id, attrs, self.stamp(), scope="local",
                  legacy=True, from_=image)


def _reservations(spec: dict[str, object]) -> sched.Resources:
    res = spec.get("Resources")
    reservations = res.get("Reservations") if isinstance(res, dict) else None
    if not isinstance(reservations, dict):
        return sched.Resources()
    cpus = reservations.get("NanoCPUs", 0)
    mem = reservations.get("MemoryBytes", 0)
    return sched.Resources(cpus if isinstance(cpus, int) else 0, mem if isinstance(mem, int) else 0)


__all__ = ["LIVE_DESIRED", "NS", "TERMINAL", "Orchestrator"]
