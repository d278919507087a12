"""A snapshot's tasks grouped by service and by node, with per-service facts, kept by the
reducer so one task change costs in proportion to the change, not to the swarm.

Buckets are immutable mappings (task id -> task) in the snapshot's task order. A bucket whose
tasks did not change is the very same object in the next index, so a consumer (the grid's
columns) may reuse what it derived from it by identity. Each service's facts (the newest
task of a slot failed, the grid's last failures, when its newest failure was) are computed
from its bucket alone, only when that bucket changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from swarmtui.model.types import Task

FAILED_TASK_STATES = frozenset({"failed", "rejected"})
UNASSIGNED_NODE = ""  # the by_node key of tasks no node took (node_id None)

Bucket = Mapping[str, Task]
_EMPTY_BUCKET: Bucket = MappingProxyType({})


def _slot_key(task: Task) -> int | str:
    """A slot within one service: replicated tasks by slot, global ones by node."""
    return task.slot if task.slot is not None else f"@{task.node_id}"


@dataclass(frozen=True, slots=True, eq=False)
class ServiceTasks:
    """One service's tasks and what the header, the failing watch and the grid need of them."""

    tasks: Bucket
    # The newest task of some slot failed or was rejected (the current generation).
    failed_now: bool
    # The newest failed attempt of every slot with nothing running (the grid shows them even
    # in "running" mode, so a crash loop shows why it fails).
    last_failures: frozenset[str]
    # The newest status time of a failed task (None: no failed task); undated: some failed
    # task has no status time (the failing watch takes "now" for it).
    failed_at_ns: int | None
    failed_undated: bool

    @staticmethod
    def of(tasks: Bucket) -> ServiceTasks:
        newest: dict[int | str, Task] = {}
        newest_failed: dict[int | str, Task] = {}
        running: set[int | str] = set()
        failed_at: int | None = None
        undated = False
        for t in tasks.values():
            key = _slot_key(t)
            prev = newest.get(key)
            created = t.created_ns or 0
            if prev is None or created > (prev.created_ns or 0):
                newest[key] = t
            st = t.state
            if st in FAILED_TASK_STATES:
                prev = newest_failed.get(key)
                if prev is None or created > (prev.created_ns or 0):
                    newest_failed[key] = t
                if t.status_ns:
                    failed_at = t.status_ns if failed_at is None else max(failed_at, t.status_ns)
                else:
                    undated = True
            elif st == "running":
                running.add(key)
        return ServiceTasks(
            tasks,
            any(t.state in FAILED_TASK_STATES for t in newest.values()),
            frozenset(t.id for key, t in newest_failed.items() if key not in running),
            failed_at,
            undated,
        )


_NO_SERVICE_TASKS = ServiceTasks(_EMPTY_BUCKET, False, frozenset(), None, False)


@dataclass(frozen=True, slots=True, eq=False)
class TaskIndex:
    """The index of one task mapping (``tasks``, by identity)."""

    tasks: Mapping[str, Task]
    by_service: Mapping[str, ServiceTasks]
    by_node: Mapping[str, Bucket]  # node id, or UNASSIGNED_NODE
    # Unions over the services (kept incrementally): ids of the grid's last failures, and
    # the services whose newest task of a slot failed.
    last_failures: frozenset[str]
    failed_now: frozenset[str]

    def service(self, service_id: str) -> ServiceTasks:
        return self.by_service.get(service_id, _NO_SERVICE_TASKS)

    def node(self, node_key: str) -> Bucket:
        return self.by_node.get(node_key, _EMPTY_BUCKET)

    @staticmethod
    def build(tasks: Mapping[str, Task], reuse: TaskIndex | None = None) -> TaskIndex:
        """Index ``tasks`` in one pass; buckets equal (same tasks, same order) to those of
        ``reuse`` keep their identity, and so do their services' facts."""
        services: dict[str, dict[str, Task]] = {}
        nodes: dict[str, dict[str, Task]] = {}
        for tid, t in tasks.items():
            group = services.get(t.service_id)
            if group is None:
                services[t.service_id] = {tid: t}
            else:
                group[tid] = t
            nkey = t.node_id or UNASSIGNED_NODE
            group = nodes.get(nkey)
            if group is None:
                nodes[nkey] = {tid: t}
            else:
                group[tid] = t
        by_service: dict[str, ServiceTasks] = {}
        for sid, group in services.items():
            old = reuse.by_service.get(sid) if reuse is not None else None
            if old is not None and _same_bucket(old.tasks, group):
                by_service[sid] = old
            else:
                by_service[sid] = ServiceTasks.of(MappingProxyType(group))
        by_node: dict[str, Bucket] = {}
        for nkey, group in nodes.items():
            old_bucket = reuse.by_node.get(nkey) if reuse is not None else None
            if old_bucket is not None and _same_bucket(old_bucket, group):
                by_node[nkey] = old_bucket
            else:
                by_node[nkey] = MappingProxyType(group)
        return TaskIndex(
            tasks,
            by_service,
            by_node,
            frozenset(tid for facts in by_service.values() for tid in facts.last_failures),
            frozenset(sid for sid, facts in by_service.items() if facts.failed_now),
        )

    def updated(self, tasks: Mapping[str, Task], changed: Iterable[str]) -> TaskIndex:
        """The index of ``tasks``, which differs from ``self.tasks`` only at the ids in
        ``changed`` (added, replaced or removed), with any new ids added at its end in the
        order ``changed`` names them. Only the buckets those ids touch are rebuilt."""
        old_tasks = self.tasks
        svc_changes: dict[str, list[tuple[str, Task | None]]] = {}
        node_changes: dict[str, list[tuple[str, Task | None]]] = {}
        for tid in changed:
            before = old_tasks.get(tid)
            after = tasks.get(tid)
            if before is after:
                continue
            if before is not None:
                svc_changes.setdefault(before.service_id, [])
                node_changes.setdefault(before.node_id or UNASSIGNED_NODE, [])
                if after is None or after.service_id != before.service_id:
                    svc_changes[before.service_id].append((tid, None))
                if after is None or after.node_id != before.node_id:
                    node_changes[before.node_id or UNASSIGNED_NODE].append((tid, None))
            if after is not None:
                svc_changes.setdefault(after.service_id, []).append((tid, after))
                node_changes.setdefault(after.node_id or UNASSIGNED_NODE, []).append((tid, after))
        if not svc_changes and not node_changes:
            return TaskIndex(tasks, self.by_service, self.by_node, self.last_failures,
                             self.failed_now)
        by_service = dict(self.by_service)
        last_failures = set(self.last_failures)
        failed_now = set(self.failed_now)
        for sid, edits in svc_changes.items():
            old = self.by_service.get(sid, _NO_SERVICE_TASKS)
            bucket = _edited(old.tasks, edits)
            last_failures.difference_update(old.last_failures)
            failed_now.discard(sid)
            if not bucket:
                by_service.pop(sid, None)
                continue
            facts = ServiceTasks.of(bucket)
            by_service[sid] = facts
            last_failures.update(facts.last_failures)
            if facts.failed_now:
                failed_now.add(sid)
        by_node = dict(self.by_node)
        for nkey, edits in node_changes.items():
            bucket = _edited(self.by_node.get(nkey, _EMPTY_BUCKET), edits)
            if bucket:
                by_node[nkey] = bucket
            else:
                by_node.pop(nkey, None)
        return TaskIndex(tasks, by_service, by_node, frozenset(last_failures),
                         frozenset(failed_now))


def _same_bucket(old: Bucket, new: dict[str, Task]) -> bool:
    if len(old) != len(new):
        return False
    return all(a is b and ka == kb for (ka, a), (kb, b) in
               zip(old.items(), new.items(), strict=True))


def _edited(bucket: Bucket, edits: list[tuple[str, Task | None]]) -> Bucket:
    """A new bucket: ``bucket`` with ``edits`` applied in order (None removes); replaced tasks
    keep their place, new ones go last, as in the snapshot's own mapping."""
    out = dict(bucket)
    for tid, task in edits:
        if task is None:
            out.pop(tid, None)
        else:
            out[tid] = task
    return MappingProxyType(out)


EMPTY_INDEX = TaskIndex(MappingProxyType({}), {}, {}, frozenset(), frozenset())
