"""The system prune plan: the per-kind plans in docker/cli's order (``system/prune.go``,
``system/pruner/pruner.go``), each computed on the state the previous step leaves.

Pure, stdlib only. May import the other prune plan modules and :mod:`.engine_state`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from swarmtui.model.disk.engine_state import EngineState
from swarmtui.model.disk.prune_images import plan_images_prune
from swarmtui.model.disk.prune_plan import (
    NO_FILTERS,
    PruneFilters,
    PrunePlan,
    plan_build_cache_prune,
    plan_containers_prune,
    plan_networks_prune,
    plan_volumes_prune,
)

# ---- system ----------------------------------------------------------------------------------


def _without_containers(state: EngineState, removed: set[str]) -> EngineState:
    """The state after the containers step: removed containers no longer reference images,
    volumes (df reference counts drop by the removed users) or networks."""
    if not removed:
        return state
    gone = [c for c in state.containers if c.id in removed]
    drop: dict[str, int] = {}
    for c in gone:
        for m in c.mounts:
            if m.name:
                drop[m.name] = drop.get(m.name, 0) + 1
    vols = tuple(
        replace(v, ref_count=max((v.ref_count or 0) - drop[v.name], 0))
        if v.name in drop and v.ref_count is not None
        else v
        for v in state.volumes
    )
    return replace(
        state,
        containers=tuple(c for c in state.containers if c.id not in removed),
        volumes=vols,
        removed_containers=(*state.removed_containers, *gone),
    )


def plan_system_prune(
    state: EngineState,
    *,
    all_unused: bool = False,
    volumes: bool = False,
    filters: PruneFilters = NO_FILTERS,
    now: datetime | float | None = None,
    protect_services: bool = True,
) -> PrunePlan:
    """``docker system prune [-a] [--volumes]``: containers -> networks -> volumes (only with
    ``volumes``) -> images (dangling, or all unused with ``all_unused``) -> build cache (``all``
    follows ``all_unused``), as docker/cli ``system/prune.go`` runs them.

    Each step sees the engine as the previous steps leave it: images and volumes used only by
    the containers the first step removes are pruned too. ``steps`` holds the sub-plans;
    ``items`` their concatenation (``PruneItem.kind`` tells them apart).
    """
    if volumes and filters.until is not None:
        raise ValueError('the "until" filter is not supported with "--volumes"')
    steps: list[PrunePlan] = []
    c_plan = plan_containers_prune(state, filters, now=now)
    steps.append(c_plan)
    after = _without_containers(state, set(c_plan.item_ids))
    steps.append(plan_networks_prune(after, filters, now=now))
    if volumes:
        steps.append(plan_volumes_prune(after, all_volumes=False, filters=filters))
    steps.append(
        plan_images_prune(
            after,
            all_unused=all_unused,
            filters=filters,
            now=now,
            protect_services=protect_services,
        )
    )
    steps.append(plan_build_cache_prune(after, all_cache=all_unused, filters=filters, now=now))
    warnings = tuple(dict.fromkeys(w for s in steps for w in s.warnings))
    return PrunePlan(
        kind="system",
        items=tuple(i for s in steps for i in s.items),
        estimated_bytes=sum(s.estimated_bytes for s in steps),
        warnings=warnings,
        protected=tuple(i for s in steps for i in s.protected),
        kept=tuple(i for s in steps for i in s.kept),
        steps=tuple(steps),
    )
