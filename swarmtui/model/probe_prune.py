"""Prune on a node through a probe, the pure part: the re-check (a fresh plan cut down to what
the preview listed), the node's item-by-item requests, and what its answers mean.

A probed node cannot run the prune endpoint safely: the endpoint removes whatever is unused
*now*, which may be more than the user confirmed, and the engine knows nothing of the images
swarm services need. So a node gets exactly the confirmed items that a fresh listing still
plans (:func:`recheck`), one request each (:func:`delete_steps`): ``DELETE
/containers/ID``, ``/images/REF``, ``/volumes/NAME``, ``/networks/ID``, and ``POST
/build/prune`` with an ``id`` filter -- never ``force``, so the engine itself refuses an
object that came into use since (409 / 403: kept, with its message). :func:`node_outcome`
turns the answers into the same :class:`~swarmtui.model.disk.view.PruneOutcome` a direct
engine gives, plus what was kept and why.

Stdlib only, no IO. May import :mod:`swarmtui.model.disk`, :mod:`swarmtui.model.probe` and
:mod:`swarmtui.model.dockerfmt`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from swarmtui.model.disk.prune_plan import PruneItem, PrunePlan
from swarmtui.model.disk.prune_result import (
    ImageDeleteRecord,
    PruneResult,
    compare_plan_result,
)
from swarmtui.model.disk.view import PruneOutcome, StepOutcome, item_label
from swarmtui.model.probe import ProbeAnswerError, ProbeRequest, parse_http

API_PREFIX = "/v1.41"
AFTER_KEY = "after"  # the node's /system/df after the deletes (image space is measured)
REFUSED_STATUSES = frozenset({403, 409})  # the engine refuses an object in use
GONE_STATUS = 404


def _key(item: PruneItem) -> str:
    return f"{item.kind}:{item.id}"


def _signature(item: PruneItem) -> tuple[str, tuple[str, ...]]:
    return item.action, tuple(sorted(item.untags))


@dataclass(frozen=True, slots=True)
class Recheck:
    """``go``: the fresh plan with only the items the preview listed unchanged (steps too);
    ``kept``: the preview's items it leaves, with the reason."""

    go: PrunePlan
    kept: tuple[tuple[PruneItem, str], ...] = ()


def _why_not(item: PruneItem, fresh: PrunePlan) -> str:
    steps = fresh.steps or (fresh,)
    for step in steps:
        for it in step.items:
            if _key(it) == _key(item):
                return f"changed since the preview (now: {it.action} {', '.join(it.untags)})"
        for it in step.protected:
            if _key(it) == _key(item):
                return "a service needs it now: " + "; ".join(it.flags[:1])
        for it in step.kept:
            if _key(it) == _key(item):
                return "; ".join(it.flags) or "kept"
    return "no longer on the node"


def recheck(preview: PrunePlan, fresh: PrunePlan) -> Recheck:
    """Only what is still unused (in ``fresh``, planned from a listing read right before the
    deletes) and was in ``preview`` goes; the fresh items carry the fresh sizes and targets."""
    wanted = {_key(i): _signature(i) for i in preview.items}

    def cut(step: PrunePlan) -> PrunePlan:
        items = tuple(i for i in step.items if wanted.get(_key(i)) == _signature(i))
        return replace(step, items=items, estimated_bytes=sum(i.size for i in items))

    if fresh.steps:
        steps = tuple(cut(s) for s in fresh.steps)
        items = tuple(i for s in steps for i in s.items)
        go = replace(fresh, steps=steps, items=items,
                     estimated_bytes=sum(s.estimated_bytes for s in steps))
    else:
        go = cut(fresh)
    going = {_key(i) for i in go.items}
    kept = tuple((i, _why_not(i, fresh)) for i in preview.items if _key(i) not in going)
    return Recheck(go, kept)


@dataclass(frozen=True, slots=True)
class DeleteStep:
    """One request of a node's prune: what it removes (``item`` of step ``kind``)."""

    request: ProbeRequest
    kind: str
    item: PruneItem
    target: str


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="/:@")


def delete_steps(go: PrunePlan, network_ids: Mapping[str, str] | None = None
                 ) -> tuple[DeleteStep, ...]:
    """The node's requests, in the plan's order (for ``system``: containers first, so images
    and volumes they held are free when their turn comes). ``network_ids``: name -> ID."""
    ids = network_ids or {}
    out: list[DeleteStep] = []

    def add(kind: str, item: PruneItem, method: str, path: str, target: str,
            query: tuple[tuple[str, str], ...] = ()) -> None:
        key = f"x{len(out)}"
        out.append(DeleteStep(ProbeRequest(key, method, API_PREFIX + path, query), kind, item,
                              target))

    for step in go.steps or (go,):
        for item in step.items:
            if step.kind == "containers":
                add(step.kind, item, "DELETE", f"/containers/{_quoted(item.id)}", item.id)
            elif step.kind == "images":
                for target in item.targets or (item.id,):
                    add(step.kind, item, "DELETE", f"/images/{_quoted(target)}", target)
            elif step.kind == "volumes":
                add(step.kind, item, "DELETE", f"/volumes/{_quoted(item.id)}", item.id)
            elif step.kind == "networks":
                nid = ids.get(item.id, item.id)
                add(step.kind, item, "DELETE", f"/networks/{_quoted(nid)}", nid)
            elif step.kind == "build_cache":
                # One record per request: the builder takes a single id filter value.
                query = tuple((k, v) for k, v in step.query if k == "all")
                flt = json.dumps({"id": {item.id: True}}, separators=(",", ":"))
                add(step.kind, item, "POST", "/build/prune", item.id,
                    (*query, ("filters", flt)))
            else:
                raise ValueError(f"unknown prune step {step.kind!r}")
    return tuple(out)


def delete_requests(steps: Sequence[DeleteStep], *, measure: bool) -> tuple[ProbeRequest, ...]:
    """The requests of a node's script; ``measure``: end with ``/system/df`` (images)."""
    reqs = tuple(s.request for s in steps)
    if measure:
        reqs += (ProbeRequest(AFTER_KEY, "GET", API_PREFIX + "/system/df"),)
    return reqs


def needs_measure(steps: Sequence[DeleteStep]) -> bool:
    return any(s.kind == "images" for s in steps)


@dataclass(frozen=True, slots=True)
class NodePruneOutcome:
    """What one node did: ``prune`` as a direct engine reports it (``Deleted …``, space,
    errors, the diff with the preview); ``kept``: (object, why) left by the re-check, refused
    by the engine or already gone."""

    prune: PruneOutcome
    kept: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.prune.ok


def _message(body: bytes) -> str:
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        data = None
    text = str(data.get("message")) if isinstance(data, dict) and data.get("message") else (
        body[:200].decode("utf-8", "replace"))
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _layers_size(raw: bytes | None) -> int | None:
    if raw is None:
        return None
    try:
        ans = parse_http(raw)
        data = json.loads(ans.body)
    except (ProbeAnswerError, ValueError):
        return None
    size = data.get("LayersSize") if isinstance(data, dict) else None
    return size if isinstance(size, int) else None


def node_outcome(
    engine: str,
    preview: PrunePlan,
    title: str,
    rc: Recheck,
    steps: Sequence[DeleteStep],
    answers: Mapping[str, bytes],
    *,
    layers_before: int | None = None,
    error: str | None = None,
) -> NodePruneOutcome:
    """The node's outcome from its answers (``answers``: key -> raw HTTP; ``error``: why the
    probe gave no complete answer -- missing answers are then errors, as nothing says whether
    the engine did them)."""
    kept: list[tuple[str, str]] = [(item_label(i), f"re-check: {why}") for i, why in rc.kept]
    by_kind: dict[str, list[DeleteStep]] = {}
    for s in steps:
        by_kind.setdefault(s.kind, []).append(s)
    outcomes: list[StepOutcome] = []
    missing = 0
    for step in rc.go.steps or (rc.go,):
        mine = by_kind.get(step.kind, [])
        removed: list[PruneItem] = []
        refused: set[str] = set()
        records: list[ImageDeleteRecord] = []
        errors: list[str] = []
        space = 0
        for s in mine:
            raw = answers.get(s.request.key)
            if raw is None:
                missing += 1
                refused.add(_key(s.item))
                continue
            try:
                ans = parse_http(raw)
            except ProbeAnswerError as exc:
                errors.append(f"{s.target}: {exc}")
                refused.add(_key(s.item))
                continue
            if ans.status < 300:
                if s.kind == "images":
                    try:
                        data = json.loads(ans.body) if ans.body.strip() else []
                    except ValueError:
                        data = []
                    for rec in data if isinstance(data, list) else []:
                        if isinstance(rec, dict):
                            records.append(ImageDeleteRecord(str(rec.get("Untagged") or ""),
                                                             str(rec.get("Deleted") or "")))
                elif s.kind == "build_cache":
                    try:
                        data = json.loads(ans.body)
                    except ValueError:
                        data = {}
                    if isinstance(data, dict):
                        space += int(data.get("SpaceReclaimed") or 0)
                        if s.item.id not in (data.get("CachesDeleted") or []):
                            refused.add(_key(s.item))
                            kept.append((item_label(s.item), "the builder did not remove it"))
                continue
            refused.add(_key(s.item))
            why = _message(ans.body)
            if ans.status == GONE_STATUS:
                kept.append((item_label(s.item), "already gone"))
            elif ans.status in REFUSED_STATUSES:
                kept.append((item_label(s.item), f"the engine refused: {why}"))
            else:
                errors.append(f"{s.target}: HTTP {ans.status}" + (f": {why}" if why else ""))
        seen: set[str] = set()
        for s in mine:
            k = _key(s.item)
            if k not in refused and k not in seen:
                seen.add(k)
                removed.append(s.item)
        note = ""
        if step.kind in ("containers", "volumes"):
            space = sum(i.size for i in removed)
        elif step.kind == "images":
            after = _layers_size(answers.get(AFTER_KEY))
            if layers_before is not None and after is not None:
                space = max(layers_before - after, 0)
                note = ("the engine reports no space for single deletes: measured as the drop "
                        "of /system/df LayersSize")
            else:
                note = "space unknown: /system/df did not answer after the deletes"
        result = PruneResult(
            step.kind,
            deleted=() if step.kind == "images" else tuple(i.id for i in removed),
            images=tuple(records),
            space_reclaimed=None if step.kind == "networks" else space,
        )
        outcomes.append(StepOutcome(step.kind, "per-item", result,
                                    "; ".join(errors) or None, note,
                                    f"one request per object ({len(mine)})"))
    if missing or error:
        text = f"{missing} request(s) unanswered" if missing else "no complete answer"
        text += f" ({error})" if error else ""
        outcomes.append(StepOutcome(preview.kind, "per-item", None,
                                    text + ": whether they ran is unknown"))
    results = [o.result for o in outcomes if o.result is not None]
    diff = None
    if results:
        diff = compare_plan_result(preview, results if preview.kind == "system" else results[0])
    return NodePruneOutcome(PruneOutcome(engine, preview.kind, title, tuple(outcomes),
                                         diff=diff), tuple(kept))


def render_kept(kept: Sequence[tuple[str, str]]) -> str:
    """The lines under a node's outcome: what stayed and why."""
    return "".join(f"Kept {name}: {why}\n" for name, why in kept)
