"""Prune as an operation: the preview of every chosen engine, then the prune.

The safety is the engine layer's (:class:`~swarmtui.engine.disk.DiskFleet`): previews list
exactly what goes, images a service's spec or previous spec needs are protected, the engine
is read again right before pruning and a prune that would now remove more is refused, and
images are deleted one by one where the engine's own prune would touch a protected one.
This module turns that into a plan, a preview and an outcome that the app and the CLI show
the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from swarmtui.engine.client import EngineError, WritePermit
from swarmtui.engine.disk import DiskEngine, DiskFleet, PlannedPrune
from swarmtui.model.disk.view import (
    PruneOptions,
    PruneOutcome,
    estimate_text,
    model_kind,
    needs_typed_confirmation,
    outcome_notes,
    prune_heading,
    render_diff,
    render_outcome,
    render_plan_text,
    typed_confirmation_text,
)
from swarmtui.model.dockerfmt import human_size
from swarmtui.ops.base import Operation, Outcome, Plan, Preview

VOLUME_WARNING = "Volume data cannot be recovered."

PrunePlans = tuple[PlannedPrune, ...]


def plan_block(p: PlannedPrune) -> str:
    """One engine's preview: what goes, sizes, protected images, notes."""
    title = f"{p.engine} ({p.url}, API {p.api_version})"
    text = render_plan_text(p.plan, title=title, per_item_steps=p.per_item_steps)
    return text + "".join(f"  ! {n}\n" for n in p.notes)


def prune_preview(planned: Sequence[PlannedPrune], errors: Sequence[tuple[str, str]]) -> Preview:
    first = planned[0]
    where = ", ".join(p.engine for p in planned)
    total = sum(p.item_count for p in planned)
    if total:
        freed = (estimate_text(first.plan) if len(planned) == 1
                 else human_size(sum(p.plan.estimated_bytes for p in planned)))
        summary = f"Total: {total} object(s), freeing about {freed}."
    else:
        summary = "Nothing to remove."
    typed = needs_typed_confirmation(first.kind, first.options)
    return Preview(
        title=f"{prune_heading(first.kind, first.options)} on {where}",
        blocks=tuple(plan_block(p) for p in planned),
        problems=tuple(f"{name}: cannot preview, skipped: {error}" for name, error in errors),
        summary=summary,
        changes=total,
        typed_confirmation=typed_confirmation_text([p.engine for p in planned]) if typed else None,
        warning=VOLUME_WARNING if typed else "",
    )


def outcome_block(o: PruneOutcome, *, heading: bool) -> str:
    text = f"==> {o.engine} <==\n" if heading else ""
    return text + render_outcome(o)


class PruneOperation(Operation[PrunePlans]):
    """Prune ``kind`` with ``options`` on ``engines`` of ``fleet``."""

    def __init__(self, fleet: DiskFleet, engines: Sequence[DiskEngine], kind: str,
                 options: PruneOptions) -> None:
        self.fleet = fleet
        self.engines = list(engines)
        self.kind = model_kind(kind)
        self.options = options
        self.title = prune_heading(self.kind, options)

    async def plan(self) -> Plan[PrunePlans]:
        planned: list[PlannedPrune] = []
        errors: list[tuple[str, str]] = []
        for engine in self.engines:
            try:
                planned.append(await self.fleet.plan(engine, self.kind, self.options))
            except EngineError as exc:
                errors.append((engine.name, str(exc)))
        if not planned:
            raise EngineError("no preview: " + "; ".join(f"{n}: {e}" for n, e in errors))
        return Plan(self, prune_preview(planned, errors), tuple(planned))

    async def execute(self, plan: Plan[PrunePlans], permit: WritePermit) -> Outcome:
        outcomes = [await self.fleet.execute(p, permit) for p in plan.payload]
        several = len(outcomes) > 1
        notes: list[str] = []
        errors: list[str] = []
        for o in outcomes:
            for note in outcome_notes(o):
                (notes if o.ok else errors).append(f"{o.engine}: {note}")
            if o.diff is not None:  # the preview compared with what the engine removed
                notes.append(f"{o.engine}: {render_diff(o.diff)}")
        return Outcome(
            plan.preview.title,
            blocks=tuple(outcome_block(o, heading=several) for o in outcomes),
            errors=tuple(errors),
            notes=tuple(notes),
            detail=tuple(outcomes),
        )
