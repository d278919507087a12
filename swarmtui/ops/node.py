"""Node actions as operations: availability, promote, demote, labels, remove a down node.

``plan()`` reads the node (``GET /nodes/{id}``: Version.Index, the whole Spec) and, for a
change that moves tasks or managers, the swarm around it (``GET /nodes``, ``/services``,
``/tasks``), and previews the spec change old → new plus the impact from
:mod:`swarmtui.model.impact`: the tasks a drain moves and those with nowhere to go, the manager
count and raft quorum of a demote. Refusals (the last manager, a label without a key, removing
a node that is up …) are one-line EngineErrors raised before anything but GET was sent.
``execute()`` sends ``POST /nodes/{id}/update?version=N`` with the full spec (the engine
replaces the whole NodeSpec), so a node changed since the preview is refused ("update out of
sequence") and the outcome is ``stale``: read again, show again.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.model import impact
from swarmtui.model.jsonval import as_list, as_map
from swarmtui.model.parse import parse_node, parse_nodes, parse_tasks
from swarmtui.model.servicespec import Spec
from swarmtui.model.specdiff import render_changes, spec_changes
from swarmtui.model.types import Node, Task
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.service import OUT_OF_SEQUENCE, ServiceClient

NodeClient = ServiceClient  # the same request() shape

STALE_REFUSAL = "the node changed since the preview"
AVAILABILITIES = ("active", "pause", "drain")
QUORUM_WARNING = "This costs the raft quorum: the swarm cannot be managed until it is back."


@dataclass(frozen=True, slots=True)
class NodeRead:
    """The node as ``GET /nodes/{id}`` returned it."""

    node: Node
    spec: Spec

    @property
    def id(self) -> str:
        return self.node.id

    @property
    def version(self) -> int:
        return self.node.version

    @property
    def name(self) -> str:
        return self.node.hostname or self.node.name


@dataclass(frozen=True, slots=True)
class NodeRequest:
    node_id: str
    method: str
    path: str
    body: Spec | None = None
    done: str = ""


async def read_node(client: NodeClient, ref: str) -> NodeRead:
    """The node by ID or name; EngineError (one line) when it is not there."""
    try:
        raw = await client.request("GET", f"nodes/{ref}")
    except EngineError as exc:
        if exc.status == 404:
            raise EngineError(f"no such node: {ref}", 404) from exc
        raise
    data = as_map(raw)
    return NodeRead(parse_node(data), dict(as_map(data.get("Spec"))))


async def read_swarm(client: NodeClient) -> tuple[list[Node], list[impact.Placement],
                                                  list[Task]]:
    """Every node, every service's placement, the tasks meant to be running."""
    nodes = parse_nodes(as_map(n) for n in as_list(await client.request("GET", "nodes")))
    services = [impact.placement_of(as_map(s))
                for s in as_list(await client.request("GET", "services"))]
    tasks = parse_tasks(as_map(t) for t in as_list(await client.request(
        "GET", "tasks", {"filters": json.dumps({"desired-state": ["running"]})})))
    return nodes, services, tasks


def error_outcome(title: str, exc: EngineError) -> Outcome:
    if OUT_OF_SEQUENCE in str(exc).lower():
        return Outcome(title, refused=STALE_REFUSAL, stale=True)
    if exc.status == 404:
        return Outcome(title, errors=("the node is gone (removed since the preview)",))
    return Outcome(title, errors=(str(exc),))


@dataclass(frozen=True, slots=True)
class Impact:
    """What a subclass adds to the preview beyond the spec change."""

    blocks: tuple[str, ...] = ()
    summary: str = ""
    typed_confirmation: str | None = None
    warning: str = ""


class NodeOperation(Operation[NodeRequest]):
    """Read one node, change its spec, preview with the impact, send with its version."""

    verb = "Update"

    def __init__(self, client: NodeClient, node: str) -> None:
        self.client = client
        self.node = node
        self.title = f"{self.verb} node {node}"

    def new_spec(self, read: NodeRead) -> Spec:
        raise NotImplementedError

    def heading(self, read: NodeRead) -> str:
        return f"{self.verb} node {read.name}"

    async def impact(self, read: NodeRead) -> Impact:
        return Impact()

    def done(self, read: NodeRead) -> str:
        return f"{read.name}: updated."

    async def plan(self) -> Plan[NodeRequest]:
        read = await read_node(self.client, self.node)
        try:
            new = self.new_spec(read)
        except ValueError as exc:
            raise EngineError(str(exc)) from exc
        changes = spec_changes(read.spec, new)
        self.title = self.heading(read)
        head = f"{read.name} ({read.id[:12]}), spec version {read.version}\n"
        blocks = [head + (render_changes(changes) if changes else "  (no change)\n")]
        extra = await self.impact(read) if changes else Impact()
        blocks.extend(extra.blocks)
        preview = Preview(
            title=self.title,
            blocks=tuple(blocks),
            summary=extra.summary if changes else "Nothing to change.",
            changes=len(changes),
            typed_confirmation=extra.typed_confirmation,
            warning=extra.warning,
        )
        request = NodeRequest(read.id, "POST", f"nodes/{read.id}/update", body=new,
                              done=self.done(read))
        return Plan(self, preview, request, based_on=((read.id, read.version),))

    async def execute(self, plan: Plan[NodeRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        params = {"version": str(dict(plan.based_on)[req.node_id])}
        try:
            await self.client.request(req.method, req.path, params, body=req.body,
                                      permit=permit)
        except EngineError as exc:
            return error_outcome(plan.preview.title, exc)
        return Outcome(plan.preview.title, blocks=(req.done,))


def _with(spec: Spec, **fields: Any) -> Spec:
    new = copy.deepcopy(dict(spec))
    new.update(fields)
    return new


class SetAvailability(NodeOperation):
    """``docker node update --availability``: active, pause (keep tasks, take no new ones)
    or drain (its tasks move to other nodes)."""

    def __init__(self, client: NodeClient, node: str, availability: str) -> None:
        if availability not in AVAILABILITIES:
            raise ValueError(f"availability is one of {', '.join(AVAILABILITIES)}, "
                             f"not {availability!r}")
        self.availability = availability
        self.verb = {"active": "Activate", "pause": "Pause", "drain": "Drain"}[availability]
        super().__init__(client, node)

    def new_spec(self, read: NodeRead) -> Spec:
        return _with(read.spec, Availability=self.availability)

    def heading(self, read: NodeRead) -> str:
        return f"{self.verb} node {read.name}"

    async def impact(self, read: NodeRead) -> Impact:
        name = read.name
        if self.availability == "active":
            return Impact(summary=f"The scheduler may place new tasks on {name} again; tasks "
                                  "running elsewhere do not move back (swarm does not "
                                  "rebalance).")
        if self.availability == "pause":
            return Impact(summary=f"Tasks running on {name} keep running; the scheduler "
                                  "places no new tasks there.")
        nodes, services, tasks = await read_swarm(self.client)
        drain = impact.drain_impact(read.node, nodes, services, tasks)
        blocks = [impact.render_drain(drain)]
        if read.node.is_manager:
            blocks.append(f"{name} stays a manager: raft and its quorum are not affected.\n")
        parts = [f"{len(drain.moving)} task(s) move to other nodes"]
        if drain.stopping:
            parts.append(f"{len(drain.stopping)} stop (global services)")
        warning = ""
        if drain.stranded:
            parts.append(f"{len(drain.stranded)} have NOWHERE TO GO")
            warning = (f"{len(drain.stranded)} task(s) have nowhere to go: they stay pending "
                       "until a node can take them.")
        return Impact(blocks=tuple(blocks), summary=", ".join(parts) + ".",
                      warning=warning)

    def done(self, read: NodeRead) -> str:
        if self.availability == "drain":
            return f"{read.name}: drained; its tasks are rescheduled (see the grid)."
        return f"{read.name}: availability {self.availability}."


class Promote(NodeOperation):
    verb = "Promote"

    def new_spec(self, read: NodeRead) -> Spec:
        return _with(read.spec, Role="manager")

    async def impact(self, read: NodeRead) -> Impact:
        nodes = parse_nodes(as_map(n) for n in as_list(await self.client.request("GET", "nodes")))
        before = sum(1 for n in nodes if n.is_manager)
        return Impact(
            blocks=(f"Managers: {before} → {before + 1} (raft quorum: "
                    f"{impact.quorum(before)} → {impact.quorum(before + 1)})\n",),
            summary=f"{read.name} joins raft as a manager; it keeps its tasks.")

    def done(self, read: NodeRead) -> str:
        return f"{read.name}: promoted to manager."


class Demote(NodeOperation):
    verb = "Demote"

    def new_spec(self, read: NodeRead) -> Spec:
        return _with(read.spec, Role="worker")

    async def impact(self, read: NodeRead) -> Impact:
        nodes = parse_nodes(as_map(n) for n in as_list(await self.client.request("GET", "nodes")))
        demote = impact.demote_impact(read.node, nodes)
        if demote.last_manager:
            raise EngineError(f"{read.name} is the only manager: a swarm needs one "
                              "(promote another node first)")
        block = impact.render_demote(read.node, demote)
        if demote.costs_quorum:
            return Impact(blocks=(block,), summary="Raft would lose its quorum.",
                          typed_confirmation=read.name, warning=QUORUM_WARNING)
        return Impact(blocks=(block,),
                      summary=f"{read.name} becomes a worker; raft keeps its quorum.")

    def done(self, read: NodeRead) -> str:
        return f"{read.name}: demoted to worker."


class AddLabel(NodeOperation):
    """``docker node update --label-add key=value`` (an existing key gets the new value)."""

    verb = "Label"

    def __init__(self, client: NodeClient, node: str, label: str) -> None:
        self.key, self.value = impact.parse_label(label)
        super().__init__(client, node)

    def new_spec(self, read: NodeRead) -> Spec:
        labels = dict(as_map(read.spec.get("Labels")))
        labels[self.key] = self.value
        return _with(read.spec, Labels=labels)

    def heading(self, read: NodeRead) -> str:
        return f"Label node {read.name} {self.key}={self.value}"

    async def impact(self, read: NodeRead) -> Impact:
        return Impact(summary="Services constrained on node.labels may now place tasks here; "
                              "running tasks do not move.")

    def done(self, read: NodeRead) -> str:
        return f"{read.name}: label {self.key}={self.value}."


class RemoveLabel(NodeOperation):
    """``docker node update --label-rm key``; a key the node does not have is refused."""

    verb = "Remove label from"

    def __init__(self, client: NodeClient, node: str, key: str) -> None:
        self.key = impact.parse_label_key(key)
        super().__init__(client, node)

    def new_spec(self, read: NodeRead) -> Spec:
        labels = dict(as_map(read.spec.get("Labels")))
        if self.key not in labels:
            raise ValueError(f"{read.name} has no label {self.key!r}")
        del labels[self.key]
        return _with(read.spec, Labels=labels)

    def heading(self, read: NodeRead) -> str:
        return f"Remove label {self.key} from node {read.name}"

    async def impact(self, read: NodeRead) -> Impact:
        return Impact(summary="Running tasks do not move, even those constrained on this "
                              "label (the scheduler checks constraints only when placing).")

    def done(self, read: NodeRead) -> str:
        return f"{read.name}: label {self.key} removed."


class RemoveNode(NodeOperation):
    """``docker node rm`` of a node that is down (a node that is up, or a manager, is
    refused: it would come back or cost raft a member). Typed confirmation."""

    verb = "Remove"

    async def plan(self) -> Plan[NodeRequest]:
        read = await read_node(self.client, self.node)
        node = read.node
        if node.state != "down":
            raise EngineError(f"{read.name} is {node.state}: only a down node can be removed "
                              "(stop it or run docker swarm leave on it first)")
        if node.is_manager:
            raise EngineError(f"{read.name} is a manager: demote it before removing it")
        tasks = as_list(await self.client.request(
            "GET", "tasks", {"filters": json.dumps({"node": [node.id]})}))
        self.title = f"Remove node {read.name}"
        lines = [f"{read.name} ({read.id[:12]}), {node.state}, {node.availability}",
                 f"  the node leaves the swarm's list; its {len(tasks)} task record(s) go"]
        preview = Preview(
            title=self.title, blocks=("\n".join(lines) + "\n",),
            summary="Its tasks were already rescheduled when it went down.",
            changes=1, typed_confirmation=read.name,
            warning="A removed node comes back only by joining again with a token.")
        request = NodeRequest(read.id, "DELETE", f"nodes/{read.id}",
                              done=f"{read.name}: removed from the swarm.")
        return Plan(self, preview, request, based_on=((read.id, read.version),))

    async def execute(self, plan: Plan[NodeRequest], permit: WritePermit) -> Outcome:
        req = plan.payload
        try:
            # DELETE takes no version: read it again so a node that came back is not removed.
            now = await read_node(self.client, req.node_id)
            if (now.id, now.version) not in plan.based_on or now.node.state != "down":
                return Outcome(plan.preview.title, refused=STALE_REFUSAL, stale=True)
            await self.client.request("DELETE", req.path, permit=permit)
        except EngineError as exc:
            return error_outcome(plan.preview.title, exc)
        return Outcome(plan.preview.title, blocks=(req.done,))
