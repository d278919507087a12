"""Prune on every swarm node (``prune KIND --all-nodes``) as one operation.

The preview comes from a read probe that ran before (:class:`~swarmtui.ops.probe.ProbeResult`
of :data:`~swarmtui.engine.probe.PRUNE_READ_REQUESTS`, confirmed on its own: it creates a
service): each probed node's lists go through the same :class:`DiskEngine` planning as a
direct engine (same arithmetic, images services need are protected); nodes with an engine
configured directly use that engine (and its own re-check and fallback), drained, paused and
old nodes are "not covered" with the reason.

execute() does, for the probed nodes, two probe runs one after the other (each a global
service removed in NodeProbe's ``finally``, also on timeout and Ctrl-C):

1. the re-check: every node's lists again, planned again with the manager's services as
   they are now; only what the fresh plan still removes *and* the preview listed goes
   (:func:`swarmtui.model.probe_prune.recheck`);
2. the deletes: one script for every node that picks its own list by ``$SWARMTUI_NODE_ID``
   (``{{.Node.ID}}`` in the service's environment), one request per object, never force.

Why two runs rather than one script that re-checks and deletes: the comparison is the
planners' (image store simulation, service protection), which busybox ``sh`` cannot run, and
a task cannot be told anything after it started. The seconds between the two runs are
covered by the engine itself: without force it refuses to delete a container that runs, an
image or volume a container uses, a network with endpoints (kept, with its message). And one
service for all nodes rather than one per node: one create, one wait and one removal
whatever the swarm's size.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.disk import DiskEngine, DiskFleet, PlannedPrune, make_plan
from swarmtui.engine.probe import (
    PRUNE_READ_REQUESTS,
    AnsweredTransport,
    NodeAnswer,
    NodeProbe,
    ProbeConfig,
    new_probe_name,
)
from swarmtui.model.disk.view import (
    PruneOptions,
    PruneOutcome,
    model_kind,
    needs_typed_confirmation,
    outcome_notes,
    prune_heading,
    render_diff,
    typed_confirmation_text,
)
from swarmtui.model.dockerfmt import human_size
from swarmtui.model.probe import ProbeNode
from swarmtui.model.probe_prune import (
    DeleteStep,
    NodePruneOutcome,
    Recheck,
    delete_requests,
    delete_steps,
    needs_measure,
    node_outcome,
    recheck,
    render_kept,
)
from swarmtui.ops.base import Operation, Outcome, Plan, Preview
from swarmtui.ops.probe import ProbeResult, wrap_sentence
from swarmtui.ops.prune import VOLUME_WARNING, outcome_block, plan_block


@dataclass(frozen=True, slots=True)
class ProbedPrune:
    """A probed node's preview."""

    node: ProbeNode
    planned: PlannedPrune


@dataclass(frozen=True, slots=True)
class NodesPrunePlan:
    """Direct engines' previews, probed nodes' previews, nodes not covered (hostname, why),
    the names of the two services execute() creates, and every swarm node ID (the delete
    service is kept off the nodes that have nothing to delete)."""

    direct: tuple[PlannedPrune, ...]
    probed: tuple[ProbedPrune, ...]
    not_covered: tuple[tuple[str, str], ...]
    recheck_name: str
    delete_name: str
    node_ids: tuple[str, ...]


def nodes_preview(kind: str, options: PruneOptions, config: ProbeConfig,
                  p: NodesPrunePlan, problems: Sequence[str]) -> Preview:
    planned = [*p.direct, *(x.planned for x in p.probed)]
    total = sum(x.item_count for x in planned)
    probed_items = sum(x.planned.item_count for x in p.probed)
    blocks = [plan_block(x) for x in p.direct] + [probed_block(x.planned) for x in p.probed]
    lines = []
    if probed_items:
        hosts = [x.node.hostname for x in p.probed if x.planned.item_count]
        lines.append(wrap_sentence(
            f"Creates a global service {p.recheck_name} running {config.image} with "
            f"{config.socket} mounted (root on each node) on {', '.join(hosts)} to read them "
            f"again (the re-check), then {p.delete_name} to delete, object by object and "
            "without force, what is still unused and listed above; each is removed when its "
            f"answers are in (at most {config.timeout_s:g} s)."))
    lines += [f"  not covered  {host}: {why}" for host, why in p.not_covered]
    if lines:
        blocks.append("\n".join(lines) + "\n")
    typed = needs_typed_confirmation(kind, options)
    names = [x.engine for x in planned]
    freed = human_size(sum(x.plan.estimated_bytes for x in planned))
    return Preview(
        title=f"{prune_heading(kind, options)} on {len(planned)} node(s)",
        blocks=tuple(blocks),
        problems=tuple(problems),
        summary=(f"Total: {total} object(s), freeing about {freed}." if total
                 else "Nothing to remove."),
        changes=total,
        typed_confirmation=typed_confirmation_text(names) if typed else None,
        warning=VOLUME_WARNING if typed else "",
    )


# What the delete probe sends per object (model/probe_prune.py delete_steps), by the prune
# endpoint a direct engine would get.
_PROBE_DELETES = {
    "containers": "DELETE /containers/{id}",
    "images": "DELETE /images/{reference}",
    "volumes": "DELETE /volumes/{name}",
    "networks": "DELETE /networks/{id}",
    "build": "POST /build/prune with an id filter",
}
_VIA = re.compile(r"^  via (?:POST /(\w+)/prune|DELETE /(images)/)")


def probed_block(planned: PlannedPrune) -> str:
    """A probed node's preview: its "via" lines say what the delete probe sends, not the
    prune endpoint a direct engine would get."""
    out = []
    for line in plan_block(planned).splitlines():
        m = _VIA.match(line)
        if m is not None and (how := _PROBE_DELETES.get(m.group(1) or m.group(2))):
            line = f"  via the delete probe: {how} for each listed object"
        out.append(line)
    return "\n".join(out) + "\n"


class PruneNodesOperation(Operation[NodesPrunePlan]):
    """Prune ``kind`` on the direct ``engines`` of ``fleet`` and on the nodes ``read`` (the
    read probe's result) answered for, through probes on the swarm of ``client``."""

    def __init__(self, fleet: DiskFleet, client: EngineClient, config: ProbeConfig,
                 read: ProbeResult | None, engines: Sequence[DiskEngine], kind: str,
                 options: PruneOptions) -> None:
        self.fleet = fleet
        self.client = client
        self.config = config
        self.read = read
        self.engines = list(engines)
        self.kind = model_kind(kind)
        self.options = options
        self.title = prune_heading(self.kind, options) + " on every node"

    async def plan(self) -> Plan[NodesPrunePlan]:
        problems: list[str] = []
        direct: list[PlannedPrune] = []
        for engine in self.engines:
            try:
                direct.append(await self.fleet.plan(engine, self.kind, self.options))
            except EngineError as exc:
                problems.append(f"{engine.name}: cannot preview, skipped: {exc}")
        probed: list[ProbedPrune] = []
        not_covered: list[tuple[str, str]] = []
        node_ids: tuple[str, ...] = ()
        if self.read is not None:
            not_covered += [(n.hostname, why) for n, why in self.read.plan.not_covered]
            node_ids = tuple(n.id for n in self.read.plan.nodes)
            services, notes = await self.fleet.services(self.kind)
            for answer in self.read.run.nodes:
                try:
                    planned = await self._plan_node(answer, services, notes)
                except EngineError as exc:
                    problems.append(f"{answer.node.hostname}: cannot preview, skipped: {exc}")
                    continue
                probed.append(ProbedPrune(answer.node, planned))
        if not direct and not probed:
            raise EngineError("no preview: " + ("; ".join(problems) or "no node to prune"))
        p = NodesPrunePlan(tuple(direct), tuple(probed), tuple(not_covered), new_probe_name(),
                           new_probe_name(), node_ids)
        return Plan(self, nodes_preview(self.kind, self.options, self.config, p, problems), p)

    async def _plan_node(self, answer: NodeAnswer, services: Sequence[Any],
                         notes: Sequence[str]) -> PlannedPrune:
        engine = DiskEngine(AnsweredTransport(answer, PRUNE_READ_REQUESTS), source="probe")
        try:
            return await engine.plan(self.kind, self.options, services, notes)
        except ValueError as exc:  # planner refusal
            raise EngineError(str(exc)) from exc

    async def execute(self, plan: Plan[NodesPrunePlan], permit: WritePermit) -> Outcome:
        p = plan.payload
        direct = [await self.fleet.execute(x, permit) for x in p.direct]
        notes: list[str] = []
        try:
            probed = await self._execute_probed(p, permit, notes)
        except EngineError as exc:
            probed = [NodePruneOutcome(PruneOutcome(x.planned.engine, self.kind,
                                                    x.planned.title, refused=str(exc)))
                      for x in p.probed if x.planned.item_count]
        outcomes: list[NodePruneOutcome] = [NodePruneOutcome(o) for o in direct] + probed
        errors: list[str] = []
        blocks: list[str] = []
        for o in outcomes:
            name = o.prune.engine
            blocks.append(outcome_block(o.prune, heading=True) + render_kept(o.kept))
            for note in outcome_notes(o.prune):
                (notes if o.ok else errors).append(f"{name}: {note}")
            if o.prune.diff is not None:
                notes.append(f"{name}: {render_diff(o.prune.diff)}")
        return Outcome(plan.preview.title, blocks=tuple(blocks), errors=tuple(errors),
                       notes=tuple(notes), detail=tuple(outcomes))

    async def _execute_probed(self, p: NodesPrunePlan, permit: WritePermit,
                              notes: list[str]) -> list[NodePruneOutcome]:
        todo = {x.node.id: x for x in p.probed if x.planned.item_count}
        if not todo:
            return []
        others = [n for n in p.node_ids if n not in todo]
        first = NodeProbe(self.client, self.config, PRUNE_READ_REQUESTS, name=p.recheck_name)
        leftovers = await first.cleanup_leftovers(permit)
        if leftovers:
            notes.append(f"removed leftover probe service(s) of an earlier run: "
                         f"{', '.join(leftovers)}")
        run = await first.run([x.node for x in todo.values()], permit, skip_node_ids=others)
        if run.remove_error:
            notes.append(run.remove_error)
        # The services as they are now: an image a service needs since the preview stays.
        services, _ = await self.fleet.services(self.kind)
        out: dict[str, NodePruneOutcome] = {}
        work: dict[str, tuple[Recheck, tuple[DeleteStep, ...], int | None]] = {}
        for answer in run.nodes:
            x = todo[answer.node.id]
            if answer.error is not None:
                out[answer.node.id] = self._refused(x, f"re-check failed: {answer.error}")
                continue
            engine = DiskEngine(AnsweredTransport(answer, PRUNE_READ_REQUESTS), source="probe")
            try:
                state, usage = await engine.engine_state(services)
                fresh = make_plan(state, self.kind, self.options)
            except (EngineError, ValueError) as exc:
                out[answer.node.id] = self._refused(x, f"re-check failed: {exc}")
                continue
            rc = recheck(x.planned.plan, fresh)
            steps = delete_steps(rc.go, {n.name: n.id for n in state.networks})
            work[answer.node.id] = (rc, steps, usage.layers_size)
        per_node = {nid: delete_requests(steps, measure=needs_measure(steps))
                    for nid, (_, steps, _) in work.items() if steps}
        answers: Mapping[str, NodeAnswer] = {}
        if per_node:
            second = NodeProbe(self.client, self.config, (), name=p.delete_name,
                               per_node=per_node)
            targets = [todo[nid].node for nid in per_node]
            run2 = await second.run(targets, permit,
                                    skip_node_ids=[n for n in p.node_ids if n not in per_node])
            if run2.remove_error:
                notes.append(run2.remove_error)
            answers = {a.node.id: a for a in run2.nodes}
        for nid, (rc, steps, before) in work.items():
            x = todo[nid]
            got = answers.get(nid)
            out[nid] = node_outcome(
                x.planned.engine, x.planned.plan, x.planned.title, rc, steps,
                got.answers if got is not None else {}, layers_before=before,
                error=got.error if got is not None else None)
        return [out[nid] for nid in todo if nid in out]

    def _refused(self, x: ProbedPrune, why: str) -> NodePruneOutcome:
        return NodePruneOutcome(PruneOutcome(x.planned.engine, self.kind, x.planned.title,
                                             refused=why))
