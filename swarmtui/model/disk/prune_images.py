"""The image prune plan: which images ``POST /images/prune`` would delete, simulated for both
image stores, and which images a swarm service still needs (protection).

Pure, stdlib only. May import :mod:`.usage`, :mod:`.engine_state`, :mod:`.prune_plan`,
:mod:`swarmtui.model.dockerfmt` and :mod:`swarmtui.model.imageref`.

Sources: moby/moby ``daemon/images/image_prune.go`` + ``image_delete.go`` (graphdriver image
store), ``daemon/containerd/image_prune.go`` (containerd image store), ``reference/store.go``
(``lexicalRefs``: references sorted by their full string).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from swarmtui.model.disk.engine_state import EngineState, ServiceRef
from swarmtui.model.disk.prune_plan import (
    NO_FILTERS,
    PruneFilters,
    PruneItem,
    PrunePlan,
    container_name,
    labels_match,
    request_query,
    until_ns_of,
)
from swarmtui.model.disk.usage import (
    ACTIVE_STATES,
    SWARM_SERVICE_ID_LABEL,
    SWARM_SERVICE_NAME_LABEL,
    ContainerItem,
    ImageItem,
)
from swarmtui.model.dockerfmt import NS, truncate_id
from swarmtui.model.imageref import HEX_ID, ImageRef, parse_image_ref

# ---- images: service protection ---------------------------------------------------------------


def image_matches_ref(img: ImageItem, ref: str) -> bool:
    """Whether image reference ``ref`` (as in a service spec) designates ``img``.

    By normalised ``repo:tag`` (``busybox`` = ``docker.io/library/busybox:latest``), by
    digest (any ``RepoDigests`` entry with the same digest), or by image ID (``sha256:<hex>``
    or a hex prefix of at least 12 characters). A ``name:tag@digest`` reference matches by
    tag or by digest.
    """
    raw = ref.strip()
    if not raw:
        return False
    idm = HEX_ID.match(raw)
    img_hex = img.id.split(":", 1)[-1]
    if idm and img_hex.startswith(idm.group(1)):
        return True
    parsed = parse_image_ref(raw)
    if parsed is None:
        return False
    if parsed.digest is not None:
        for d in img.repo_digests:
            rd = parse_image_ref(d)
            if rd is not None and rd.digest == parsed.digest:
                return True
        if parsed.digest.split(":", 1)[-1] == img_hex:
            return True
        if parsed.tag is None:
            return False
    want = str(replace(parsed, digest=None).tag_name_only())
    return any(str(r) == want for r in img.references() if r.tag is not None)


def service_image_reasons(
    img: ImageItem, services: Sequence[ServiceRef], containers: Sequence[ContainerItem] = ()
) -> tuple[str, ...]:
    """Why services need ``img``: ``used by service X spec`` and/or ``needed for rollback of
    service X (PreviousSpec)``.

    Matched by reference (:func:`image_matches_ref`) and, where derivable, by image ID: a task
    container of the service (``containers``, e.g. an exited one from the task history) that
    was created from exactly the spec's (or previous spec's) image string records in its
    ``ImageID`` the image that string resolved to on this node -- this survives a re-tag.
    Task containers of older specs do not protect their image.
    """
    reasons: list[str] = []
    for s in services:
        if s.image and image_matches_ref(img, s.image):
            reasons.append(f"used by service {s.name} spec")
        if s.previous_image and image_matches_ref(img, s.previous_image):
            reasons.append(f"needed for rollback of service {s.name} (PreviousSpec)")
    by_id = {s.id: s for s in services}
    by_name = {s.name: s for s in services}
    for c in containers:
        if c.image_id != img.id or not c.image:
            continue
        svc = by_id.get(c.label(SWARM_SERVICE_ID_LABEL)) or by_name.get(
            c.label(SWARM_SERVICE_NAME_LABEL)
        )
        if svc is None:
            continue
        if c.image == svc.image:
            base = f"used by service {svc.name} spec"
        elif c.image == svc.previous_image:
            base = f"needed for rollback of service {svc.name} (PreviousSpec)"
        else:
            continue
        if not any(r.startswith(base) for r in reasons):
            reasons.append(f"{base}, by the image ID of its task container {container_name(c)}")
    return tuple(reasons)


# ---- images: graphdriver store simulation (moby daemon/images) -------------------------------


@dataclass(slots=True)
class _ImgSim:
    """Mutable simulation of the image store during one prune."""

    images: dict[str, ImageItem]
    refs: dict[str, list[ImageRef]]
    children: dict[str, set[str]]
    used_running: dict[str, list[ContainerItem]]
    used_stopped: dict[str, list[ContainerItem]]
    deleted: list[str] = field(default_factory=list)
    deleted_set: set[str] = field(default_factory=set)
    cascaded: dict[str, str] = field(default_factory=dict)
    untagged: dict[str, list[str]] = field(default_factory=dict)
    calls: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def used(self, iid: str) -> bool:
        return bool(self.used_running.get(iid) or self.used_stopped.get(iid))

    def note(self, iid: str, text: str) -> None:
        lst = self.notes.setdefault(iid, [])
        if text not in lst:
            lst.append(text)

    def call(self, iid: str, target: str) -> None:
        self.calls.setdefault(iid, []).append(target)

    def conflict(self, iid: str) -> tuple[str, bool] | None:
        """checkImageDeleteConflict with the hard|soft mask: (message, used) or None."""
        if self.children.get(iid):
            return ("has dependent child images", False)
        if self.used_running.get(iid):
            return (f"used by running container {container_name(self.used_running[iid][0])}", True)
        if self.refs.get(iid):
            return ("still referenced", False)
        if self.used_stopped.get(iid):
            return (f"used by stopped container {container_name(self.used_stopped[iid][0])}", True)
        return None

    def untag(self, iid: str, ref: ImageRef, shown: str | None = None) -> None:
        self.refs[iid] = [r for r in self.refs[iid] if str(r) != str(ref)]
        self.untagged.setdefault(iid, []).append(ref.familiar if shown is None else shown)

    def delete_helper(self, iid: str, *, via: str | None = None) -> bool:
        """imageDeleteHelper(force=false, prune=true): delete unless a conflict; then try the
        parent quietly. Returns True when deleted."""
        if iid in self.deleted_set or iid not in self.images:
            return False
        conflict = self.conflict(iid)
        if conflict is not None:
            self.note(iid, conflict[0])
            return False
        for r in list(self.refs.get(iid, [])):
            self.untag(iid, r)
        self.deleted.append(iid)
        self.deleted_set.add(iid)
        if via is not None:
            self.cascaded[iid] = via
        parent = self.images[iid].parent_id
        if parent:
            self.children.get(parent, set()).discard(iid)
            if parent in self.images:
                self.delete_helper(parent, via=iid)
        return True

    def delete_ref(self, iid: str, ref: ImageRef) -> None:
        """ImageDelete(ref, force=false, prune=true)."""
        if iid in self.deleted_set or all(str(r) != str(ref) for r in self.refs.get(iid, [])):
            return  # GetImage(ref) fails: the reference is gone already
        if _is_single_reference(self.refs[iid]) and self.used(iid):
            users = self.used_running.get(iid) or self.used_stopped.get(iid) or []
            who = container_name(users[0])
            self.note(iid, f"its last reference stays: container {who} uses it")
            return
        self.call(iid, ref.familiar)
        self.untag(iid, ref)
        if ref.digest is None and not any(
            r.digest is None and r.name == ref.name for r in self.refs[iid]
        ):
            # A removed tag takes the digest references of its repository along when no
            # other tag of that repository remains.
            for r in list(self.refs[iid]):
                if r.digest is not None and r.name == ref.name:
                    self.untag(iid, r)
        if not self.refs[iid]:
            self.delete_helper(iid)


def _is_single_reference(refs: Sequence[ImageRef]) -> bool:
    """moby isSingleReference: one repository, at most one tag."""
    if len(refs) <= 1:
        return len(refs) == 1
    single: ImageRef | None = None
    canonical: set[str] = set()
    for r in refs:
        if r.digest is not None:
            canonical.add(r.name)
        elif single is None:
            single = r
        else:
            return False
    if single is None:
        single = refs[0]
    return len(canonical) == 1 and single.name in canonical


def _new_sim(
    images: Sequence[ImageItem], containers: Sequence[ContainerItem], frozen: set[str]
) -> _ImgSim:
    by_id = {i.id: i for i in images}
    children: dict[str, set[str]] = {}
    for i in images:
        if i.parent_id and i.parent_id in by_id:
            children.setdefault(i.parent_id, set()).add(i.id)
    running: dict[str, list[ContainerItem]] = {}
    stopped: dict[str, list[ContainerItem]] = {}
    for c in containers:
        (running if c.state in ACTIVE_STATES else stopped).setdefault(c.image_id, []).append(c)
    for iid in sorted(frozen):
        # Protected images: the app never deletes them, which for the store is the same as
        # a running container holding them.
        running.setdefault(iid, []).append(ContainerItem(id=iid, names=("/(protected)",)))
    return _ImgSim(
        images=by_id,
        refs={i.id: list(i.references()) for i in images},
        children=children,
        used_running=running,
        used_stopped=stopped,
    )


def _simulate_graphdriver(
    images: Sequence[ImageItem],
    containers: Sequence[ContainerItem],
    *,
    dangling_only: bool,
    eligible: set[str],
    frozen: set[str],
) -> tuple[_ImgSim, list[str]]:
    """moby daemon/images/image_prune.go ImagePrune, made deterministic (IDs sorted where Go
    iterates a map). ``eligible``: images passing the until/label filters; ``frozen``: images
    treated as in use (protected)."""
    sim = _new_sim(images, containers, frozen)
    for iid in sorted(sim.images):
        if iid in sim.deleted_set or iid not in eligible or iid in frozen:
            continue
        if dangling_only and sim.children.get(iid):
            continue  # imageStore.Heads(): leaf images only
        refs = list(sim.refs[iid])
        if not refs and sim.children.get(iid):
            continue  # untagged intermediate image: goes with its child, if at all
        if refs:
            if dangling_only and any(r.digest is None for r in refs):
                continue  # tagged, so not dangling
            for ref in refs:
                sim.delete_ref(iid, ref)
        else:
            sim.call(iid, iid)
            sim.delete_helper(iid)
    return sim, []


def _simulate_containerd(
    images: Sequence[ImageItem],
    containers: Sequence[ContainerItem],
    *,
    dangling_only: bool,
    eligible: set[str],
    frozen: set[str],
) -> tuple[_ImgSim, list[str]]:
    """moby daemon/containerd/image_prune.go pruneUnused, at the granularity ``/images/json``
    shows (an approximation: the containerd store keeps one record per name).

    Every tag, and every digest-only name, is a record; dangling-only looks at untagged
    images only. A container protects the exact name it was created from (with ``:latest``
    added; a ``name:tag@digest`` name protects nothing, hence a warning). Unused images whose
    names all go are deleted. When all names of an image a container uses go, moby re-creates
    a dangling record only for containers created from an image ID; this model assumes the
    content stays in every case and shows such images as untag-only.
    """
    warnings: list[str] = []
    sim = _new_sim(images, containers, frozen)
    protected_names: set[str] = set()
    used_ids: set[str] = set(frozen)
    for c in containers:
        used_ids.add(c.image_id)
        if c.image and truncate_id(c.image_id) == truncate_id(c.image):
            continue
        ref = parse_image_ref(c.image)
        if ref is None:
            continue
        ref = ref.tag_name_only()
        protected_names.add(str(ref))
        if ref.digest is not None and ref.tag is not None:
            warnings.append(
                f"container {container_name(c)} was created from {c.image!r}: the containerd "
                "image store does not keep that tag for it"
            )
    for iid in sorted(sim.images):
        if iid not in eligible or iid in frozen:
            continue
        refs = list(sim.refs[iid])
        if dangling_only and refs:
            continue
        tagged_repos = {r.name for r in refs if r.digest is None}
        records = [r for r in refs if r.digest is None or r.name not in tagged_repos]
        pruned = [r for r in records if str(r) not in protected_names]
        for r in pruned:
            sim.call(iid, str(r))
            sim.untag(iid, r, shown=str(r))
            if r.digest is None and not any(
                x.digest is None and x.name == r.name for x in sim.refs[iid]
            ):
                sim.refs[iid] = [x for x in sim.refs[iid] if x.name != r.name]
        kept_names = [r for r in records if r not in pruned]
        if kept_names:
            sim.note(iid, "a container was created from " + kept_names[0].familiar)
        elif iid in used_ids:
            users = sim.used_running.get(iid) or sim.used_stopped.get(iid) or []
            who = container_name(users[0]) if users else "a container"
            sim.note(iid, f"content stays (dangling): container {who} uses it")
        elif pruned or not refs:
            if not refs:
                sim.call(iid, iid)
            sim.deleted.append(iid)
            sim.deleted_set.add(iid)
    return sim, warnings


def plan_images_prune(
    state: EngineState,
    *,
    all_unused: bool = False,
    filters: PruneFilters = NO_FILTERS,
    now: datetime | float | None = None,
    protect_services: bool = True,
) -> PrunePlan:
    """``POST /images/prune`` -- dangling (default) or every unused image (``-a``).

    Graphdriver store (moby ``daemon/images``): dangling-only looks at images without child
    images and removes the untagged ones (digest-only references count as untagged); ``-a``
    removes every reference of every image, except the last one of an image a container
    (running *or stopped*) uses -- such images only lose their extra tags. Untagged parents
    of removed images go too (``PruneChildren``). Containerd store: see
    :func:`_simulate_containerd`.

    Images that a service's ``Spec`` or ``PreviousSpec`` references are never in ``items``:
    they are listed in ``protected`` (with what the engine would do) when the engine would
    touch them, and the plan is then computed as if they were in use. The engine itself knows
    nothing of services, so :func:`blanket_prune_is_safe` is False whenever ``protected`` is
    not empty -- prune by per-image deletes then.
    """
    until = until_ns_of(filters, now)
    eligible: set[str] = set()
    filtered_out: dict[str, str] = {}
    for img in state.images:
        if until is not None and img.created * NS > until:
            filtered_out[img.id] = "newer than the until filter"
        elif not labels_match(filters, img.labels):
            filtered_out[img.id] = "excluded by label filter"
        else:
            eligible.add(img.id)

    history: dict[str, list[ContainerItem]] = {}
    for c in (*state.containers, *state.removed_containers):
        history.setdefault(c.image_id, []).append(c)
    reasons = {
        img.id: service_image_reasons(img, state.services, history.get(img.id, ()))
        for img in state.images
    }
    protected_ids = {i for i, r in reasons.items() if r} if protect_services else set()
    warnings: list[str] = []

    def simulate(frozen: set[str]) -> _ImgSim:
        run = _simulate_containerd if state.image_store == "containerd" else _simulate_graphdriver
        sim, notes = run(
            state.images,
            state.containers,
            dangling_only=not all_unused,
            eligible=eligible,
            frozen=frozen,
        )
        warnings.extend(n for n in notes if n not in warnings)
        return sim

    engine = simulate(set())
    safe = simulate(protected_ids) if protected_ids else engine
    by_id = {i.id: i for i in state.images}

    def item_for(sim: _ImgSim, iid: str) -> PruneItem | None:
        img = by_id[iid]
        untags = tuple(sim.untagged.get(iid, ()))
        deleted = iid in sim.deleted_set
        if not deleted and not untags:
            return None
        name = untags[0] if untags else truncate_id(iid)
        flags: list[str] = []
        if deleted:
            unique = img.unique_size
            size = max(unique, 0) if unique is not None else 0
            if iid in sim.cascaded:
                flags.append(f"untagged parent of pruned image {truncate_id(sim.cascaded[iid])}")
            if unique is None:
                flags.append("shared size unknown")
            action = "delete"
        else:
            size = 0
            flags.append("untag only: " + "; ".join(sim.notes.get(iid, ["image stays"])))
            action = "untag"
        targets = tuple(sim.calls.get(iid, ()))
        return PruneItem(iid, name, size, tuple(flags), "image", action, targets, untags)

    order = _sim_order(safe)
    items = [it for iid in order if (it := item_for(safe, iid)) is not None]
    protected: list[PruneItem] = []
    for iid in _sim_order(engine):
        if iid not in protected_ids:
            continue
        it = item_for(engine, iid)
        if it is not None:
            verb = "would delete" if it.action == "delete" else "would untag"
            protected.append(
                replace(it, flags=(*reasons[iid], f"the engine's prune {verb} it", *it.flags))
            )
    planned = {i.id for i in items} | {i.id for i in protected}
    kept = []
    for img in state.images:
        if img.id in planned:
            continue
        flags = list(reasons.get(img.id, ()))
        if img.id in filtered_out:
            flags.append(filtered_out[img.id])
        flags.extend(safe.notes.get(img.id, ()))
        if not flags:
            if not all_unused and any(r.digest is None for r in img.references()):
                flags.append("tagged (dangling prune keeps tagged images)")
            elif not all_unused and safe.children.get(img.id):
                flags.append("has child images")
            else:
                flags.append("kept")
        name = img.repo_tags[0] if img.repo_tags and not img.is_dangling else truncate_id(img.id)
        kept.append(PruneItem(img.id, name, 0, tuple(flags), "image", "keep"))

    deleted = [by_id[i] for i in safe.deleted]
    estimate = sum(it.size for it in items)
    max_bytes: int | None = sum(max(i.size, 0) for i in deleted)
    if state.layers_size is not None and deleted:
        kept_unique = sum(
            max(i.unique_size or 0, 0) for i in state.images if i.id not in safe.deleted_set
        )
        max_bytes = min(max_bytes or 0, max(state.layers_size - kept_unique, 0))
    if any(i.shared_size > 0 for i in deleted):
        warnings.append(
            "layers shared only among the pruned images are freed too but not counted in the "
            "estimate (see max_bytes)"
        )
    listed = set(by_id)
    hidden = sorted(
        {i.parent_id for i in state.images if i.parent_id and i.parent_id not in listed}
    )
    if hidden and state.image_store == "graphdriver":
        warnings.append(
            f"{len(hidden)} parent image(s) not listed (use /images/json?all=1): untagged "
            "parents of pruned images are removed too and are not in this plan"
        )
    if protected:
        warnings.append(
            "the engine's blanket prune would remove images that services need; "
            "prune image by image instead"
        )
    query = request_query(filters=filters.as_query({"dangling": "false" if all_unused else "true"}))
    return PrunePlan(
        kind="images",
        items=tuple(items),
        estimated_bytes=estimate,
        warnings=tuple(warnings),
        protected=tuple(protected),
        kept=tuple(kept),
        max_bytes=max_bytes,
        endpoint="/images/prune",
        query=query,
    )


def _sim_order(sim: _ImgSim) -> list[str]:
    """Images touched by a simulation: deleted ones in deletion order, then untagged ones."""
    out = list(sim.deleted)
    out += sorted(i for i in sim.untagged if i not in sim.deleted_set)
    return out
