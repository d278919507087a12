"""The images view's node probe as one operation: list every node's images, then read each
listed image's inspect and history, through two probe services (each removed when its
answers are in). Previewed like :class:`~swarmtui.ops.probe.ProbeOperation` (whose plan it
reuses), refused in read-only (the executor gives no permit); ``Outcome.detail`` is an
:class:`ImagesProbeResult` with one :class:`~swarmtui.engine.images.ProbedImages` per node
that answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from swarmtui.engine.client import EngineClient, EngineError, WritePermit
from swarmtui.engine.images import LIST_REQUESTS, ProbedImages, layer_requests, listed_ids
from swarmtui.engine.probe import NodeProbe, ProbeConfig, new_probe_name
from swarmtui.ops.base import Operation, Outcome, Plan
from swarmtui.ops.probe import ProbeOperation, ProbePlan, ProbeResult


@dataclass(frozen=True, slots=True)
class ImagesProbeResult:
    sources: tuple[ProbedImages, ...]
    errors: tuple[str, ...]  # "hostname: why" for the nodes that gave no list


class ImagesProbeOperation(Operation[ProbePlan]):
    """Every node the probe reaches but ``skip_node_ids`` (engines configured directly)."""

    def __init__(self, client: EngineClient, config: ProbeConfig,
                 skip_node_ids: Sequence[str] = ()) -> None:
        self.client = client
        self.config = config
        self.listing = ProbeOperation(client, config, LIST_REQUESTS, purpose="images",
                                      skip_node_ids=skip_node_ids)
        self.title = "Probe nodes for images"

    async def plan(self) -> Plan[ProbePlan]:
        plan = await self.listing.plan()
        preview = replace(
            plan.preview,
            summary="Total: 2 services created and removed again, one after the other "
                    f"({plan.payload.name}, then one for the layers of the images listed).",
        )
        return Plan(self, preview, plan.payload)

    async def execute(self, plan: Plan[ProbePlan], permit: WritePermit) -> Outcome:
        first = await self.listing.execute(Plan(self.listing, plan.preview, plan.payload),
                                           permit)
        result = first.detail
        if not isinstance(result, ProbeResult):
            return first
        listed = [a for a in result.run.nodes if a.error is None]
        errors = [f"{a.node.hostname}: {a.error}" for a in result.run.nodes if a.error]
        ids = listed_ids(listed)
        details = {}
        notes = list(first.notes)
        if ids and listed:
            probe = NodeProbe(self.client, self.config, layer_requests(ids),
                              name=new_probe_name())
            others = [n.id for n in plan.payload.nodes if n.id not in {a.node.id for a in listed}]
            try:
                run = await probe.run([a.node for a in listed], permit, skip_node_ids=others)
            except EngineError as exc:
                notes.append(f"layers: probe {probe.name}: {exc}")
            else:
                details = {a.node.id: a for a in run.nodes}
                if run.remove_error:
                    errors.append(run.remove_error)
        sources = tuple(ProbedImages(a, details.get(a.node.id), ids) for a in listed)
        return Outcome(first.title, errors=(*first.errors, *errors), notes=tuple(notes),
                       detail=ImagesProbeResult(sources, tuple(errors)))
