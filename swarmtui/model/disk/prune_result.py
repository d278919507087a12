"""Prune results: what a prune endpoint answered (:func:`parse_prune_result`), the CLI's
output for it (:func:`render_prune_result`, :func:`render_system_prune_result`) and how it
compares with the plan (:func:`compare_plan_result`).

Pure, stdlib only. May import :mod:`.prune_plan`, :mod:`swarmtui.model.jsonval` and
:mod:`swarmtui.model.dockerfmt`.

Sources: docker/cli ``{container,image,network,volume,builder}/prune.go`` (output text),
``system/prune.go`` (order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from swarmtui.model.disk.prune_plan import PrunePlan
from swarmtui.model.dockerfmt import human_size
from swarmtui.model.jsonval import as_list as _list
from swarmtui.model.jsonval import as_map as _map
from swarmtui.model.jsonval import as_opt_int as _opt_int
from swarmtui.model.jsonval import as_str as _str
from swarmtui.model.jsonval import as_strs as _strs

# --------------------------------------------------------------------------------------------
# Prune results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageDeleteRecord:
    """One ``ImagesDeleted`` entry: exactly one of ``untagged`` / ``deleted`` is set."""

    untagged: str = ""
    deleted: str = ""


@dataclass(frozen=True, slots=True)
class PruneResult:
    """A prune endpoint's response.

    ``deleted``: ``ContainersDeleted`` / ``VolumesDeleted`` / ``NetworksDeleted`` /
    ``CachesDeleted`` (IDs or names); ``images``: ``ImagesDeleted``; ``space_reclaimed``: None
    when the response has none (networks always; others on odd engines).
    """

    kind: str
    deleted: tuple[str, ...] = ()
    images: tuple[ImageDeleteRecord, ...] = ()
    space_reclaimed: int | None = None

    @property
    def reclaimed(self) -> int:
        return self.space_reclaimed or 0


_RESULT_LIST_KEY: Final = {
    "containers": "ContainersDeleted",
    "volumes": "VolumesDeleted",
    "networks": "NetworksDeleted",
    "build_cache": "CachesDeleted",
}


def parse_prune_result(kind: str, data: object) -> PruneResult:
    """Parse the JSON of ``POST /{containers,images,volumes,networks,build}/prune``."""
    d = _map(data)
    space = _opt_int(d.get("SpaceReclaimed"))
    if kind == "images":
        recs = tuple(
            ImageDeleteRecord(_str(_map(r).get("Untagged")), _str(_map(r).get("Deleted")))
            for r in _list(d.get("ImagesDeleted"))
        )
        return PruneResult(kind, images=recs, space_reclaimed=space)
    if kind not in _RESULT_LIST_KEY:
        raise ValueError(f"unknown prune kind {kind!r}")
    return PruneResult(kind, deleted=_strs(d.get(_RESULT_LIST_KEY[kind])), space_reclaimed=space)


_RESULT_HEADERS: Final = {
    "containers": "Deleted Containers:",
    "volumes": "Deleted Volumes:",
    "networks": "Deleted Networks:",
    "build_cache": "Deleted build cache objects:",
    "images": "Deleted Images:",
}


def _result_output(result: PruneResult) -> tuple[str, int]:
    """(output, space counted) of docker/cli's runPrune for one kind."""
    if result.kind == "images":
        if not result.images:
            return "", 0
        lines = [_RESULT_HEADERS["images"]]
        for r in result.images:
            lines.append(f"untagged: {r.untagged}" if r.untagged else f"deleted: {r.deleted}")
        return "\n".join(lines) + "\n", result.reclaimed
    text = ""
    if result.deleted:
        text = _RESULT_HEADERS[result.kind] + "\n" + "".join(x + "\n" for x in result.deleted)
    if result.kind == "build_cache":
        return text, result.reclaimed  # counted even when nothing is listed
    if result.kind == "networks":
        return text, 0
    return text, result.reclaimed if result.deleted else 0


def render_prune_result(result: PruneResult) -> str:
    """What ``docker <kind> prune -f`` prints for this response (``Deleted Containers:`` …,
    blank line, ``Total reclaimed space: 1.982MB``; network prune prints no total)."""
    text, space = _result_output(result)
    out = text + "\n" if text else ""
    if result.kind != "networks":
        out += f"Total reclaimed space: {human_size(space)}\n"
    return out


def render_system_prune_result(results: Sequence[PruneResult]) -> str:
    """What ``docker system prune -f`` prints for the responses of its steps (in order)."""
    out, total = "", 0
    for r in results:
        text, space = _result_output(r)
        total += space
        if text:
            out += text + "\n"
    return out + f"Total reclaimed space: {human_size(total)}\n"


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """Plan vs result. ``planned_not_removed``: IDs/names in the plan the engine did not
    remove; ``removed_not_planned``: ones it removed without the plan saying so (for images:
    deleted image IDs and untagged references); ``unmatched``: result entries that are
    neither (image layer / blob digests in ``Deleted``)."""

    planned_not_removed: tuple[str, ...] = ()
    removed_not_planned: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    node_copies: tuple[str, ...] = ()
    """Swarm networks the preview kept (a service uses them) that the engine reports deleted
    anyway: its local prune dropped only this node's copy, at an instant no task of the
    service had an endpoint here; the network stays in the swarm (lab-observed)."""

    @property
    def matches(self) -> bool:
        return not self.planned_not_removed and not self.removed_not_planned


def compare_plan_result(
    plan: PrunePlan,
    result: PruneResult | Sequence[PruneResult],
    *,
    known_image_ids: Iterable[str] = (),
) -> PlanDiff:
    """Compare a plan with what the engine reported.

    For ``system`` plans pass the step results (matched by kind). For images,
    ``known_image_ids`` (all image IDs before the prune) tells image IDs from layer IDs in
    ``Deleted``; without it, only planned IDs are recognised.
    """
    if plan.kind == "system":
        results = [result] if isinstance(result, PruneResult) else list(result)
        by_kind = {r.kind: r for r in results}
        pn: list[str] = []
        rn: list[str] = []
        un: list[str] = []
        nc: list[str] = []
        for step in plan.steps:
            r = by_kind.get(step.kind)
            if r is None:
                pn.extend(step.item_ids)
                continue
            diff = compare_plan_result(step, r, known_image_ids=known_image_ids)
            pn += diff.planned_not_removed
            rn += diff.removed_not_planned
            un += diff.unmatched
            nc += diff.node_copies
        return PlanDiff(tuple(pn), tuple(rn), tuple(un), tuple(nc))
    if not isinstance(result, PruneResult):
        raise TypeError("a single PruneResult is expected for a non-system plan")
    if plan.kind != "images":
        planned = list(plan.item_ids)
        got = list(result.deleted)
        unplanned = [x for x in got if x not in set(planned)]
        in_swarm_use = {ref for k in plan.kept if k.flags and k.flags[0].startswith(
            "in use by service ") for ref in (k.id, k.name)} if plan.kind == "networks" else set()
        return PlanDiff(
            tuple(x for x in planned if x not in set(got)),
            tuple(x for x in unplanned if x not in in_swarm_use),
            node_copies=tuple(x for x in unplanned if x in in_swarm_use),
        )
    known = set(known_image_ids) | {i.id for i in plan.items} | {i.id for i in plan.kept}
    known |= {i.id for i in plan.protected}
    deleted = [r.deleted for r in result.images if r.deleted]
    untagged = {r.untagged for r in result.images if r.untagged}
    missing_ids: list[str] = []
    extra: list[str] = []
    unknown: list[str] = []
    planned_deletes = {i.id for i in plan.items if i.action == "delete"}
    planned_untags = {u for i in plan.items for u in i.untags}
    for it in plan.items:
        missing = it.id not in deleted if it.action == "delete" else not set(it.untags) <= untagged
        if missing:
            missing_ids.append(it.id)
    for d in deleted:
        if d in planned_deletes:
            continue
        (extra if d in known else unknown).append(d)
    extra += sorted(untagged - planned_untags)
    return PlanDiff(tuple(missing_ids), tuple(extra), tuple(unknown))
