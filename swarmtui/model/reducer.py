"""``reduce(state, action) -> state``: the only way a snapshot changes.

Entities that did not change keep their identity (and so do whole maps when nothing in them
changed), which lets the widgets repaint only what moved.

swarmtui's own node probes (services labelled ``swarmtui.probe``, and their tasks) never
enter a snapshot: they are the app's plumbing, not the user's services, so grid, services,
updates, stacks and the header's counts never see them. This is the one place they are
dropped (:func:`user_services`, :func:`user_tasks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Protocol, TypeVar

from swarmtui.model.actions import (
    Action,
    Connected,
    Connecting,
    Disconnected,
    EventReceived,
    NodesListed,
    SecretsListed,
    ServicesListed,
    TasksListed,
)
from swarmtui.model.events import EVENT_HISTORY
from swarmtui.model.probe import PROBE_LABEL
from swarmtui.model.state import ClusterState, Connection
from swarmtui.model.taskindex import TaskIndex
from swarmtui.model.types import Service, Task


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_HasId)


def _task_unchanged(prev: Task, item: Task) -> bool:
    # swarmkit bumps a task's Version.Index on every write, so an equal, non-zero version
    # means the same task content: skip the field-by-field compare (5,000 tasks per listing).
    if prev.version and prev.version == item.version:
        return True
    return prev == item


def merge_listing(
    old: Mapping[str, E], new: Iterable[E], same: Callable[[E, E], bool] | None = None
) -> Mapping[str, E]:
    """Replace ``old`` by ``new``, reusing old objects that are equal (and ``old`` if all are)."""
    merged: dict[str, E] = {}
    same_all = True
    for item in new:
        prev = old.get(item.id)
        if prev is not None and (same(prev, item) if same else prev == item):
            merged[item.id] = prev
        else:
            merged[item.id] = item
            same_all = False
    if same_all and len(merged) == len(old):
        return old
    return merged


def _merge_tasks(
    state: ClusterState,
    new: tuple[Task, ...],
    service_ids: frozenset[str] | None,
    node_ids: frozenset[str] | None = None,
) -> tuple[Mapping[str, Task], TaskIndex]:
    """The merged tasks and their index. A partial listing touches only its scope: the index
    finds the scope's tasks and rebuilds only the buckets the changed tasks are in."""
    old = state.tasks
    index = state.task_index
    if service_ids is None and node_ids is None:
        merged = merge_listing(old, new, _task_unchanged)
        if merged is old:
            return old, index
        return merged, TaskIndex.build(merged, index)
    # Partial listing: keep the tasks outside its scope untouched, replace those inside.
    scoped: dict[str, Task] = {}
    if service_ids is not None:
        for sid in service_ids:
            scoped.update(index.service(sid).tasks)
    else:
        assert node_ids is not None
        for nid in node_ids:
            scoped.update(index.node(nid))
    fresh = merge_listing(scoped, new, _task_unchanged)
    if fresh is scoped:
        return old, index
    merged = dict(old)
    changed = [tid for tid in scoped if tid not in fresh]
    for tid in changed:
        del merged[tid]
    merged.update(fresh)
    changed.extend(tid for tid, t in fresh.items() if scoped.get(tid) is not t)
    return merged, index.updated(merged, changed)


def is_probe_service(service: Service) -> bool:
    """A node probe of swarmtui's (model/probe.py), whatever the label's value."""
    return any(key == PROBE_LABEL for key, _ in service.labels)


def user_services(services: Iterable[Service]) -> tuple[Service, ...]:
    """The services a user sees: all but swarmtui's node probes."""
    return tuple(s for s in services if not is_probe_service(s))


def user_tasks(tasks: Iterable[Task]) -> tuple[Task, ...]:
    """The tasks a user sees: all but those of swarmtui's node probes."""
    return tuple(t for t in tasks if not t.probe)


def reduce(state: ClusterState, action: Action) -> ClusterState:
    """Apply one action; returns ``state`` itself when nothing changed."""
    match action:
        case Connecting(at_ns=at, attempt=attempt):
            conn = Connection(
                status="connecting", error=state.connection.error, since_ns=at, attempts=attempt
            )
            return replace(state, connection=conn, revision=state.revision + 1)
        case Connected(engine=engine, at_ns=at):
            return replace(
                state,
                engine=engine,
                connection=Connection(status="connected", since_ns=at),
                revision=state.revision + 1,
            )
        case Disconnected(error=error, at_ns=at):
            # Keep the last known picture on screen; the header says it is stale.
            conn = Connection(
                status="disconnected",
                error=error,
                since_ns=at,
                attempts=state.connection.attempts + 1,
            )
            return replace(state, connection=conn, revision=state.revision + 1)
        case NodesListed(nodes=nodes, at_ns=at):
            return replace(
                state,
                nodes=merge_listing(state.nodes, nodes),
                nodes_listed_ns=at,
                revision=state.revision + 1,
            )
        case ServicesListed(services=services, at_ns=at):
            merged = merge_listing(state.services, user_services(services))
            # Tasks of services that no longer exist are ghosts: drop them with the service.
            tasks = state.tasks
            index = state.task_index
            if merged is not state.services and len(merged) < len(state.services):
                gone = set(state.services) - set(merged)
                ghosts = [tid for sid in gone for tid in index.service(sid).tasks]
                if ghosts:
                    tasks = {tid: t for tid, t in tasks.items() if t.service_id not in gone}
                    index = index.updated(tasks, ghosts)
            return replace(
                state,
                services=merged,
                tasks=tasks,
                index=index,
                services_listed_ns=at,
                revision=state.revision + 1,
            )
        case TasksListed(tasks=tasks, at_ns=at, service_ids=sids, node_ids=nids):
            merged_tasks, index = _merge_tasks(state, user_tasks(tasks), sids, nids)
            listed = at if sids is None and nids is None else state.tasks_listed_ns
            if merged_tasks is state.tasks and listed == state.tasks_listed_ns:
                return state
            return replace(state, tasks=merged_tasks, index=index, tasks_listed_ns=listed,
                           revision=state.revision + 1)
        case SecretsListed(kind="secret", items=items, at_ns=at):
            return replace(state, secrets=merge_listing(state.secrets, items),
                           secrets_listed_ns=at, revision=state.revision + 1)
        case SecretsListed(kind="config", items=items, at_ns=at):
            return replace(state, configs=merge_listing(state.configs, items),
                           configs_listed_ns=at, revision=state.revision + 1)
        case EventReceived(event=event):
            feed = (*state.events[-(EVENT_HISTORY - 1) :], event)
            return replace(state, events=feed, event_count=state.event_count + 1,
                           revision=state.revision + 1)
    return state
