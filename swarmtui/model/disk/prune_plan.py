"""Prune plans: what each prune endpoint would remove (:class:`PrunePlan`), the ``filters``
it takes, and the plans for containers, volumes, networks and build cache. Images have their
own module (:mod:`.prune_images`), the system prune too (:mod:`.prune_system`).

Pure, stdlib only. May import :mod:`.usage`, :mod:`.engine_state`,
:mod:`swarmtui.model.dockerfmt` and :mod:`swarmtui.model.imageref`.

Sources: moby/moby ``daemon/prune.go`` (containers, local and cluster networks),
``volume/service/service.go`` (``Prune``: local driver, no mount options, unreferenced,
anonymous-only from API 1.42), libnetwork ``IsPruneable`` / ``network.IsPredefined``,
``timestamp.GetTimestamp`` (``until``); moby/buildkit ``cache/manager.go`` (``prune``: in-use
records never, ``internal`` / ``frontend`` / shared records only with ``all``; ``until`` =
keep-duration on LastUsedAt).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from swarmtui.model.disk.engine_state import EngineState, NetworkItem
from swarmtui.model.disk.usage import ACTIVE_STATES, SWARM_SERVICE_NAME_LABEL, ContainerItem, Labels
from swarmtui.model.dockerfmt import (
    NS,
    api_at_least,
    parse_go_duration_ns,
    parse_rfc3339_ns,
    to_unix_ns,
    truncate_id,
)
from swarmtui.model.imageref import HEX64

# --------------------------------------------------------------------------------------------
# Prune plans
# --------------------------------------------------------------------------------------------

PREDEFINED_NETWORKS: Final = frozenset({"bridge", "host", "none", "default"})

PruneKind = Literal["containers", "images", "volumes", "networks", "build_cache", "system"]


@dataclass(frozen=True, slots=True)
class PruneFilters:
    """The ``filters`` of a prune request.

    ``until``: as the engine accepts it -- a Go duration relative to the daemon's clock
    (``"24h"``, ``"90m"``), a unix timestamp (``"1700000000"``) or an RFC 3339 date/time.
    Durations need the daemon's ``now`` when planning. ``labels`` / ``labels_not``: ``key`` or
    ``key=value`` (``label`` / ``label!``); all ``labels`` must match; an object is excluded
    only when *all* ``labels_not`` match (moby ``matchLabels`` + ``MatchKVList``).
    """

    until: str | None = None
    labels: tuple[str, ...] = ()
    labels_not: tuple[str, ...] = ()

    def as_query(self, extra: Mapping[str, str] | None = None) -> str:
        """The ``filters`` query value in the CLI's map form (``{"label":{"a=b":true}}``);
        ``""`` when empty."""
        out: dict[str, dict[str, bool]] = {}
        for key, value in (extra or {}).items():
            out.setdefault(key, {})[value] = True
        if self.until is not None:
            out.setdefault("until", {})[self.until] = True
        for v in self.labels:
            out.setdefault("label", {})[v] = True
        for v in self.labels_not:
            out.setdefault("label!", {})[v] = True
        return json.dumps(out, separators=(",", ":"), sort_keys=True) if out else ""


NO_FILTERS: Final = PruneFilters()


@dataclass(frozen=True, slots=True)
class PruneItem:
    """One object a prune would touch (or, in ``kept``/``protected``, would not).

    ``id``: full ID (containers, images, build cache) or name (volumes, networks, as the engine
    reports them); ``name``: what to show; ``size``: bytes it is expected to free;
    ``flags``: human notes / reasons. ``kind``: ``container``, ``image``, ``volume``,
    ``network`` or ``build_cache``. ``action``: ``delete``, or ``untag`` for images that only
    lose references. ``targets``: for images, the references (or ID) the engine passes to
    ``ImageDelete`` in order -- ``DELETE /images/{target}`` each to reproduce the prune
    one image at a time; ``untags``: the references it removes (familiar form, as the engine
    reports them in ``Untagged``).
    """

    id: str
    name: str
    size: int = 0
    flags: tuple[str, ...] = ()
    kind: str = ""
    action: str = "delete"
    targets: tuple[str, ...] = ()
    untags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What a prune endpoint would do, computed from list JSON (nothing is called).

    ``items``: what will be removed / untagged, in the engine's order where it has one.
    ``estimated_bytes``: expected ``SpaceReclaimed`` (for images a lower bound: layers shared
    only among pruned images are not counted; ``max_bytes`` is an upper bound).
    ``protected``: images a swarm service needs (spec, or ``PreviousSpec`` for rollback) that
    the engine's blanket prune *would* remove -- they are not in ``items``; when this is not
    empty, prune by per-image deletes (``PruneItem.targets``) instead of the endpoint, see
    :func:`blanket_prune_is_safe`. ``kept``: objects the engine keeps, with the reason.
    ``endpoint`` / ``query``: the request that performs the prune. ``steps``: for ``system``,
    the sub-plans in the CLI's order.
    """

    kind: str
    items: tuple[PruneItem, ...] = ()
    estimated_bytes: int = 0
    warnings: tuple[str, ...] = ()
    protected: tuple[PruneItem, ...] = ()
    kept: tuple[PruneItem, ...] = ()
    max_bytes: int | None = None
    endpoint: str = ""
    query: tuple[tuple[str, str], ...] = ()
    steps: tuple[PrunePlan, ...] = field(default=())

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)


def blanket_prune_is_safe(plan: PrunePlan) -> bool:
    """Whether calling the prune endpoint itself is safe for this plan.

    False when the engine would remove a protected image (one a service's ``Spec`` or
    ``PreviousSpec`` needs): the engine does not know about swarm services, so the app must then
    remove ``plan.items`` one by one (``DELETE /images/{target}`` for each of ``targets``)
    instead of calling ``POST /images/prune``. For ``system`` plans every step counts.
    """
    return not plan.protected and all(blanket_prune_is_safe(s) for s in plan.steps)


def resolve_until_ns(until: str, now: datetime | float | None) -> int:
    """The absolute instant (unix ns) an ``until`` filter means (moby ``timestamp.GetTimestamp``:
    a duration is subtracted from the daemon's ``now``; otherwise a unix or RFC 3339 time)."""
    dur = parse_go_duration_ns(until)
    if dur is not None:
        if now is None:
            raise ValueError(f"until={until!r} is relative: pass the daemon's 'now'")
        return to_unix_ns(now) - dur
    s = until.strip()
    if re.fullmatch(r"\d+(\.\d{1,9})?", s):
        whole, _, frac = s.partition(".")
        return int(whole) * NS + int(frac.ljust(9, "0") or 0)
    ts = parse_rfc3339_ns(s)
    # Without a zone the daemon reads its own local time; we take UTC, as always here.
    if ts is None and re.fullmatch(r"\d{4}-\d\d-\d\d", s):
        ts = parse_rfc3339_ns(s + "T00:00:00Z")
    elif ts is None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", s):
        ts = parse_rfc3339_ns(s + "Z")
    if ts is None:
        raise ValueError(f"invalid until filter {until!r}")
    return ts


def labels_match(filters: PruneFilters, labels: Labels) -> bool:
    """moby ``matchLabels``: every ``label`` matches, and not every ``label!`` matches."""
    have = dict(labels)

    def kv_all(wanted: Sequence[str]) -> bool:
        if not have:
            return False
        for w in wanted:
            k, sep, v = w.partition("=")
            if k not in have or (sep and have[k] != v):
                return False
        return True

    if filters.labels and not kv_all(filters.labels):
        return False
    return not (filters.labels_not and kv_all(filters.labels_not))


def container_name(c: ContainerItem) -> str:
    """How plans name a container: its name, else its short ID."""
    return c.name or truncate_id(c.id)


def until_ns_of(filters: PruneFilters, now: datetime | float | None) -> int | None:
    return None if filters.until is None else resolve_until_ns(filters.until, now)


def request_query(**kw: str) -> tuple[tuple[str, str], ...]:
    return tuple((k.replace("_", "-"), v) for k, v in kw.items() if v != "")


# ---- containers ------------------------------------------------------------------------------


def plan_containers_prune(
    state: EngineState, filters: PruneFilters = NO_FILTERS, *, now: datetime | float | None = None
) -> PrunePlan:
    """``POST /containers/prune`` (moby ``daemon/prune.go ContainersPrune``).

    Removes every container that is not running (``created``, ``exited``, ``dead``; paused and
    restarting containers count as running), older than ``until`` and matching the labels.
    Space = their writable layers (SizeRw). Swarm task containers of finished tasks are
    included (they are the service's task history).
    """
    until = until_ns_of(filters, now)
    items, kept, warnings = [], [], []
    for c in state.containers:
        name = c.name or truncate_id(c.id)
        service = c.label(SWARM_SERVICE_NAME_LABEL)
        if c.state in ACTIVE_STATES:
            kept.append(PruneItem(c.id, name, 0, (c.state,), "container"))
            continue
        if c.state == "removing":
            kept.append(PruneItem(c.id, name, 0, ("removal already in progress",), "container"))
            continue
        if until is not None and c.created * NS > until:
            kept.append(PruneItem(c.id, name, 0, ("newer than the until filter",), "container"))
            continue
        if not labels_match(filters, c.labels):
            kept.append(PruneItem(c.id, name, 0, ("excluded by label filter",), "container"))
            continue
        flags = [c.state]
        if service:
            flags.append(f"task container of service {service} (task history)")
        if c.size_rw is None:
            flags.append("size unknown")
        items.append(PruneItem(c.id, name, max(c.size_rw or 0, 0), tuple(flags), "container"))
    if items and not state.sizes_known:
        warnings.append("writable-layer sizes unknown (no /system/df data): estimate is 0")
    return PrunePlan(
        kind="containers",
        items=tuple(items),
        estimated_bytes=sum(i.size for i in items),
        warnings=tuple(warnings),
        kept=tuple(kept),
        endpoint="/containers/prune",
        query=request_query(filters=filters.as_query()),
    )


# ---- volumes ---------------------------------------------------------------------------------


def plan_volumes_prune(
    state: EngineState, *, all_volumes: bool = False, filters: PruneFilters = NO_FILTERS
) -> PrunePlan:
    """``POST /volumes/prune`` (moby ``volume/service/service.go Prune``).

    Only volumes of the ``local`` driver without mount options that no container (running or
    stopped) references. From API 1.42 only *anonymous* volumes (label
    ``com.docker.volume.anonymous``) unless ``all`` -- below 1.42 every such volume (the
    daemon adds ``all=true`` itself for old clients). Volumes a service mounts are pruned when
    no container on this node uses them: they are flagged. ``until`` is not accepted here.
    """
    if filters.until is not None:
        raise ValueError("volume prune does not accept the until filter")
    anonymous_only = api_at_least(state.api_version, "1.42") and not all_volumes
    mounts: dict[str, list[ContainerItem]] = {}
    for c in state.containers:
        for m in c.mounts:
            if m.type in ("volume", "") and m.name:
                mounts.setdefault(m.name, []).append(c)
    svc_mounts: dict[str, list[str]] = {}
    for svc in state.services:
        for vname in svc.volumes:
            svc_mounts.setdefault(vname, []).append(f"mounted by service {svc.name}")
        for vname in svc.previous_volumes:
            if vname not in svc.volumes:
                svc_mounts.setdefault(vname, []).append(
                    f"mounted by service {svc.name} (PreviousSpec)"
                )
    items, kept = [], []
    for v in state.volumes:
        users = mounts.get(v.name, [])
        reason = None
        if v.driver != "local":
            reason = f"driver {v.driver} is not local"
        elif v.options:
            reason = "has mount options (not local data): never pruned"
        elif users or (v.ref_count or 0) > 0:
            who = ", ".join(container_name(c) for c in users[:3])
            reason = f"in use by container {who}" if who else f"in use ({v.ref_count} reference(s))"
        elif anonymous_only and not v.is_anonymous:
            reason = "named volume: API >= 1.42 prunes anonymous volumes only (all=true)"
            if HEX64.match(v.name):
                reason += "; looks anonymous but lacks the com.docker.volume.anonymous label"
        elif not labels_match(filters, v.labels):
            reason = "excluded by label filter"
        if reason is not None:
            kept.append(
                PruneItem(v.name, v.name, 0, (reason, *svc_mounts.get(v.name, ())), "volume")
            )
            continue
        flags = list(svc_mounts.get(v.name, ()))
        if v.size is None or v.size < 0:
            flags.append("size unknown")
        items.append(PruneItem(v.name, v.name, max(v.size or 0, 0), tuple(flags), "volume"))
    warnings = []
    if any(i.flags and i.flags[0].startswith("mounted by service") for i in items):
        warnings.append("some volumes are mounted by services whose tasks are not on this node")
    extra = {"all": "true"} if all_volumes and api_at_least(state.api_version, "1.42") else {}
    return PrunePlan(
        kind="volumes",
        items=tuple(items),
        estimated_bytes=sum(i.size for i in items),
        warnings=tuple(warnings),
        kept=tuple(kept),
        endpoint="/volumes/prune",
        query=request_query(filters=filters.as_query(extra)),
    )


# ---- networks --------------------------------------------------------------------------------


def plan_networks_prune(
    state: EngineState, filters: PruneFilters = NO_FILTERS, *, now: datetime | float | None = None
) -> PrunePlan:
    """``POST /networks/prune`` (moby ``daemon/prune.go NetworksPrune``).

    On a manager, first the swarm-scoped networks (``clusterNetworksPrune``): every one except
    ``ingress`` that no service references (swarmkit refuses "in use" ones). Then the local
    networks without endpoints (``localNetworksPrune``): never the predefined ``bridge``,
    ``host``, ``none``; only running/paused containers hold endpoints, so a network used only
    by stopped containers goes. ``docker_gwbridge`` holds the ingress sandbox on swarm nodes.
    Frees no space (the response has no ``SpaceReclaimed``).
    """
    until = until_ns_of(filters, now)
    attached: dict[str, list[ContainerItem]] = {}
    for c in state.containers:
        for name, nid in c.networks:
            attached.setdefault(name, []).append(c)
            if nid:
                attached.setdefault(nid, []).append(c)
    svc_use: dict[str, list[str]] = {}
    svc_prev: dict[str, list[str]] = {}
    for svc in state.services:
        for target in svc.networks:
            svc_use.setdefault(target, []).append(svc.name)
        for target in svc.previous_networks:
            if target not in svc.networks:
                svc_prev.setdefault(target, []).append(svc.name)

    def users(n: NetworkItem) -> list[ContainerItem]:
        seen: dict[str, ContainerItem] = {}
        for c in attached.get(n.name, []) + attached.get(n.id, []):
            seen[c.id] = c
        return list(seen.values())

    cluster: list[PruneItem] = []
    local: list[PruneItem] = []
    kept: list[PruneItem] = []
    for n in sorted(state.networks, key=lambda x: x.name):
        reason = None
        flags: list[str] = []
        running = [c for c in users(n) if c.has_endpoints]
        stopped = [c for c in users(n) if not c.has_endpoints]
        created = parse_rfc3339_ns(n.created)
        if n.scope == "swarm":
            services = svc_use.get(n.id, []) + svc_use.get(n.name, [])
            if n.ingress or n.name == "ingress":
                reason = "swarm routing-mesh (ingress) network: never pruned"
            elif not state.is_manager:
                reason = "swarm-scoped: only a manager prunes it"
            elif until is not None and created is not None and created > until:
                reason = "newer than the until filter"
            elif not labels_match(filters, n.labels):
                reason = "excluded by label filter"
            elif services:
                reason = "in use by service " + ", ".join(sorted(set(services)))
            elif running:
                reason = f"in use by container {running[0].name}"
            else:
                flags.append("swarm-scoped: removed cluster-wide by the manager")
                prev = svc_prev.get(n.id, []) + svc_prev.get(n.name, [])
                for sname in sorted(set(prev)):
                    flags.append(
                        f"referenced by PreviousSpec of service {sname}: kept while a task of "
                        f"{sname} still uses it"
                    )
                if n.attachable:
                    flags.append("attachable: kept if a container on another node uses it")
            bucket = cluster
        else:
            if n.name in PREDEFINED_NETWORKS:
                reason = "predefined network: never pruned"
            elif n.config_only:
                reason = "config-only network: never pruned"
            elif until is not None and created is not None and created > until:
                reason = "newer than the until filter"
            elif not labels_match(filters, n.labels):
                reason = "excluded by label filter"
            elif running:
                reason = f"in use by container {running[0].name}"
            elif n.name == "docker_gwbridge" and state.swarm_active:
                reason = "holds the swarm ingress sandbox endpoint"
            else:
                for c in stopped:
                    flags.append(
                        f"attached to stopped container {c.name}: it cannot start after the prune"
                    )
            bucket = local
        if reason is not None:
            kept.append(PruneItem(n.name, n.name, 0, (reason,), "network"))
        else:
            bucket.append(PruneItem(n.name, n.name, 0, tuple(flags), "network"))
    return PrunePlan(
        kind="networks",
        items=tuple(cluster + local),
        estimated_bytes=0,
        kept=tuple(kept),
        endpoint="/networks/prune",
        query=request_query(filters=filters.as_query()),
    )


# ---- build cache -----------------------------------------------------------------------------


def plan_build_cache_prune(
    state: EngineState,
    *,
    all_cache: bool = False,
    filters: PruneFilters = NO_FILTERS,
    now: datetime | float | None = None,
) -> PrunePlan:
    """``POST /build/prune`` (moby/buildkit ``cache/manager.go prune``).

    Never records in use. Without ``all``: not ``internal`` / ``frontend`` records and not
    shared ones. ``until`` keeps records last used after it. Space = sizes of the removed
    records that are not shared (shared data stays with the images using it). Label filters
    are accepted but ignored by the builder.
    """
    until = until_ns_of(filters, now)
    items, kept = [], []
    for b in state.build_cache:
        reason = None
        last = parse_rfc3339_ns(b.last_used_at) if b.last_used_at else None
        if b.in_use:
            reason = "in use"
        elif not all_cache and b.type in ("internal", "frontend"):
            reason = f"{b.type} record (only pruned with all)"
        elif not all_cache and b.shared:
            reason = "shared with images (only pruned with all)"
        elif until is not None and last is not None and last > until:
            reason = "used after the until filter"
        if reason is not None:
            kept.append(PruneItem(b.id, truncate_id(b.id), 0, (reason,), "build_cache"))
            continue
        flags = (b.type,) + (("shared: frees no space",) if b.shared else ())
        items.append(
            PruneItem(
                b.id, truncate_id(b.id), 0 if b.shared else max(b.size, 0), flags, "build_cache"
            )
        )
    bq = PruneFilters(until=filters.until).as_query()
    return PrunePlan(
        kind="build_cache",
        items=tuple(items),
        estimated_bytes=sum(i.size for i in items),
        kept=tuple(kept),
        endpoint="/build/prune",
        query=request_query(all="1" if all_cache else "", filters=bq),
    )
