"""Disk usage: ``GET /system/df`` (both shapes) parsed into :class:`DiskUsage`, with the
summary arithmetic of ``docker system df`` (:func:`summarize_legacy`).

Pure, stdlib only. May import :mod:`swarmtui.model.jsonval`, :mod:`swarmtui.model.dockerfmt`
and :mod:`swarmtui.model.imageref`; nothing else of the disk package (every other module of
it builds on this one).

Sources: docker/cli ``cli/command/formatter/disk_usage.go`` (v20.10 … v28.5: summary rows;
v29: server/client totals); moby/moby ``client/system_disk_usage.go``
(``diskUsageResultFromLegacyAPI``: docker CLI 29.x against API < 1.52),
``api/types/system/disk_usage.go`` (``ImageUsage`` … JSON keys), ``daemon/disk_usage.go``
(server totals); the Engine API reference (SystemDataUsage: ``ImageUsage``/``ContainerUsage``/
``VolumeUsage``/``BuildCacheUsage`` = ``{ActiveCount, TotalCount, TotalSize, Reclaimable,
Items}``, ``Items`` only with ``verbose=1``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from swarmtui.model.imageref import ImageRef, parse_image_ref
from swarmtui.model.jsonval import Json
from swarmtui.model.jsonval import as_bool as _bool
from swarmtui.model.jsonval import as_int as _int
from swarmtui.model.jsonval import as_labels as _labels
from swarmtui.model.jsonval import as_list as _list
from swarmtui.model.jsonval import as_map as _map
from swarmtui.model.jsonval import as_opt_int as _opt_int
from swarmtui.model.jsonval import as_str as _str
from swarmtui.model.jsonval import as_strs as _strs

Labels = tuple[tuple[str, str], ...]

LegacyAlgorithm = Literal["cli28", "cli29"]
"""How summary rows are computed from a legacy (API < 1.52) response.

``cli28``: docker/cli 20.10 … 28.x (``formatter/disk_usage.go``) -- the CLI of that era and
the one installed on the lab. ``cli29``: docker/cli 29.x, whose moby client synthesises the
totals (``client/system_disk_usage.go``); images are reclaimable when *unused* instead of
"layers minus what used images hold", container states match exactly, volume sizes of -1 are
ignored in the total but not in the used part.
"""

ACTIVE_STATES: Final = ("running", "paused", "restarting")
ANONYMOUS_VOLUME_LABEL: Final = "com.docker.volume.anonymous"
OCI_IMAGE_INDEX: Final = "application/vnd.oci.image.index.v1+json"
SWARM_SERVICE_NAME_LABEL: Final = "com.docker.swarm.service.name"
SWARM_SERVICE_ID_LABEL: Final = "com.docker.swarm.service.id"
SWARM_TASK_ID_LABEL: Final = "com.docker.swarm.task.id"



# --------------------------------------------------------------------------------------------
# Disk usage data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One row of ``docker system df``."""

    total_count: int
    active_count: int
    total_size: int
    reclaimable: int


_ZERO_ROW: Final = UsageRow(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ImageItem:
    """An image as listed by ``/system/df`` (or ``/images/json``).

    ``size``/``shared_size``/``containers`` are -1 when the engine did not compute them
    (``/images/json`` before API 1.51 reports ``Containers: -1`` and ``SharedSize: -1``).
    ``index_size`` is the size of an OCI image-index descriptor (API >= 1.48), used only by the
    ``cli29`` algorithm.
    """

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    parent_id: str = ""
    created: int = 0
    size: int = -1
    shared_size: int = -1
    containers: int = -1
    labels: Labels = ()
    index_size: int = 0

    @property
    def is_dangling(self) -> bool:
        """docker/cli ``isDangling``: no tags and no digests (or only the ``<none>`` ones)."""
        if not self.repo_tags and not self.repo_digests:
            return True
        return self.repo_tags == ("<none>:<none>",) and self.repo_digests == ("<none>@<none>",)

    @property
    def unique_size(self) -> int | None:
        """``Size - SharedSize``; None when either is unknown (-1)."""
        if self.size == -1 or self.shared_size == -1:
            return None
        return self.size - self.shared_size

    def references(self) -> tuple[ImageRef, ...]:
        """Tags and digests as parsed references, sorted like moby's reference store."""
        refs = []
        for raw in (*self.repo_tags, *self.repo_digests):
            if raw in ("<none>:<none>", "<none>@<none>"):
                continue
            ref = parse_image_ref(raw)
            if ref is not None:
                refs.append(ref)
        unique = {str(r): r for r in refs}
        return tuple(unique[k] for k in sorted(unique))


@dataclass(frozen=True, slots=True)
class MountItem:
    """A container mount (``Mounts[]`` of a container summary)."""

    type: str
    name: str
    source: str
    destination: str
    driver: str


@dataclass(frozen=True, slots=True)
class ContainerItem:
    """A container as listed by ``/system/df`` or ``/containers/json?all=1``.

    ``size_rw`` is None when unknown (``/containers/json`` without ``size=1``); ``/system/df``
    omits ``SizeRw`` when it is 0, which is read as 0.
    """

    id: str
    names: tuple[str, ...] = ()
    image: str = ""
    image_id: str = ""
    command: str = ""
    created: int = 0
    state: str = ""
    status: str = ""
    size_rw: int | None = None
    size_root_fs: int = 0
    labels: Labels = ()
    mounts: tuple[MountItem, ...] = ()
    networks: tuple[tuple[str, str], ...] = ()
    """``(network name, network ID)`` for each entry of ``NetworkSettings.Networks``."""

    @property
    def name(self) -> str:
        """The first name that is not a legacy link, without the leading ``/``."""
        for raw in self.names:
            name = raw[1:] if raw.startswith("/") else raw
            if "/" not in name:
                return name
        return ""

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")

    @property
    def has_endpoints(self) -> bool:
        """Whether its network endpoints exist (they are released when it stops)."""
        return self.state in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class VolumeItem:
    """A volume from ``/volumes`` and/or ``/system/df``.

    ``size``/``ref_count`` come from ``UsageData`` (df only); None when absent. ``Size`` is -1
    when the engine could not compute it.
    """

    name: str
    driver: str = "local"
    scope: str = "local"
    mountpoint: str = ""
    created_at: str = ""
    labels: Labels = ()
    options: Labels = ()
    size: int | None = None
    ref_count: int | None = None

    @property
    def is_anonymous(self) -> bool:
        """Carries ``com.docker.volume.anonymous`` (set by Engine >= 23 for anonymous mounts)."""
        return any(k == ANONYMOUS_VOLUME_LABEL for k, _ in self.labels)


@dataclass(frozen=True, slots=True)
class BuildCacheItem:
    """A build-cache record (``BuildCache[]`` / ``BuildCacheUsage.Items[]``)."""

    id: str
    parents: tuple[str, ...] = ()
    type: str = ""
    description: str = ""
    in_use: bool = False
    shared: bool = False
    size: int = 0
    created_at: str = ""
    last_used_at: str | None = None
    usage_count: int = 0


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """``GET /system/df`` of one daemon, with the four summary rows computed.

    ``shape`` is ``legacy`` (lists, API < 1.52) or ``usage`` (``*Usage`` objects, API >= 1.52);
    ``algorithm`` says how the rows were obtained: ``server`` (the engine's totals), ``cli28``
    or ``cli29`` (computed from legacy lists, see :data:`LegacyAlgorithm`).
    """

    api_version: str
    images: UsageRow
    containers: UsageRow
    volumes: UsageRow
    build_cache: UsageRow
    image_items: tuple[ImageItem, ...] = ()
    container_items: tuple[ContainerItem, ...] = ()
    volume_items: tuple[VolumeItem, ...] = ()
    build_cache_items: tuple[BuildCacheItem, ...] = ()
    shape: Literal["legacy", "usage"] = "legacy"
    algorithm: Literal["cli28", "cli29", "server"] = "cli28"
    layers_size: int = 0

    def rows(self) -> tuple[tuple[str, UsageRow], ...]:
        """``(TYPE, row)`` in the CLI's order."""
        return (
            ("Images", self.images),
            ("Containers", self.containers),
            ("Local Volumes", self.volumes),
            ("Build Cache", self.build_cache),
        )


def parse_image_item(raw: object) -> ImageItem:
    """One image summary (df or ``/images/json``). ``VirtualSize`` stands in for a missing
    ``Size`` (they are equal on the APIs that still send it)."""
    d = _map(raw)
    size = _opt_int(d.get("Size"))
    if size is None:
        size = _opt_int(d.get("VirtualSize"))
    desc = _map(d.get("Descriptor"))
    return ImageItem(
        id=_str(d.get("Id")),
        repo_tags=_strs(d.get("RepoTags")),
        repo_digests=_strs(d.get("RepoDigests")),
        parent_id=_str(d.get("ParentId")),
        created=_int(d.get("Created")),
        size=-1 if size is None else size,
        shared_size=_int(d.get("SharedSize"), -1) if "SharedSize" in d else -1,
        containers=_int(d.get("Containers"), -1) if "Containers" in d else -1,
        labels=_labels(d.get("Labels")),
        index_size=_int(desc.get("size")) if _str(desc.get("mediaType")) == OCI_IMAGE_INDEX else 0,
    )


def parse_container_item(raw: object, *, size_known: bool = True) -> ContainerItem:
    """One container summary. With ``size_known`` (df, or ``?size=1``) a missing ``SizeRw``
    means 0 (``omitempty``); otherwise it stays None (unknown)."""
    d = _map(raw)
    mounts = tuple(
        MountItem(
            type=_str(m.get("Type")),
            name=_str(m.get("Name")),
            source=_str(m.get("Source")),
            destination=_str(m.get("Destination")),
            driver=_str(m.get("Driver")),
        )
        for m in (_map(x) for x in _list(d.get("Mounts")))
    )
    nets = _map(_map(d.get("NetworkSettings")).get("Networks"))
    size_rw = _opt_int(d.get("SizeRw"))
    if size_rw is None and size_known:
        size_rw = 0
    return ContainerItem(
        id=_str(d.get("Id")),
        names=_strs(d.get("Names")),
        image=_str(d.get("Image")),
        image_id=_str(d.get("ImageID")),
        command=_str(d.get("Command")),
        created=_int(d.get("Created")),
        state=_str(d.get("State")),
        status=_str(d.get("Status")),
        size_rw=size_rw,
        size_root_fs=_int(d.get("SizeRootFs")),
        labels=_labels(d.get("Labels")),
        mounts=mounts,
        networks=tuple(sorted((str(k), _str(_map(v).get("NetworkID"))) for k, v in nets.items())),
    )


def parse_volume_item(raw: object) -> VolumeItem:
    """One volume (``/volumes`` entry or df item)."""
    d = _map(raw)
    usage = d.get("UsageData")
    u = _map(usage)
    return VolumeItem(
        name=_str(d.get("Name")),
        driver=_str(d.get("Driver")),
        scope=_str(d.get("Scope"), "local"),
        mountpoint=_str(d.get("Mountpoint")),
        created_at=_str(d.get("CreatedAt")),
        labels=_labels(d.get("Labels")),
        options=_labels(d.get("Options")),
        size=_int(u.get("Size")) if isinstance(usage, Mapping) else None,
        ref_count=_int(u.get("RefCount")) if isinstance(usage, Mapping) else None,
    )


def parse_build_cache_item(raw: object) -> BuildCacheItem:
    """One build-cache record; ``Parent`` (API <= 1.41) and ``Parents`` (>= 1.42) both read."""
    d = _map(raw)
    parents = _strs(d.get("Parents"))
    if not parents and _str(d.get("Parent")):
        parents = (_str(d.get("Parent")),)
    last = d.get("LastUsedAt")
    return BuildCacheItem(
        id=_str(d.get("ID")),
        parents=parents,
        type=_str(d.get("Type")),
        description=_str(d.get("Description")),
        in_use=_bool(d.get("InUse")),
        shared=_bool(d.get("Shared")),
        size=_int(d.get("Size")),
        created_at=_str(d.get("CreatedAt")),
        last_used_at=last if isinstance(last, str) else None,
        usage_count=_int(d.get("UsageCount")),
    )


def _is_active_cli28(state: str) -> bool:
    # docker/cli <= 28 diskUsageContainersContext.isActive: strings.Contains on each state.
    return any(s in state for s in ACTIVE_STATES)


def summarize_legacy(
    layers_size: int,
    images: Sequence[ImageItem],
    containers: Sequence[ContainerItem],
    volumes: Sequence[VolumeItem],
    build_cache: Sequence[BuildCacheItem],
    algorithm: LegacyAlgorithm = "cli28",
) -> tuple[UsageRow, UsageRow, UsageRow, UsageRow]:
    """Summary rows from legacy lists, as docker/cli <= 28 (``cli28``) or 29.x (``cli29``)."""
    # Images. TOTAL = len, ACTIVE = Containers > 0, SIZE = LayersSize in both generations.
    img_active = sum(1 for i in images if i.containers > 0)
    if algorithm == "cli28":
        # formatter/disk_usage.go (<= 28): LayersSize - sum(Size - SharedSize) over images with
        # Containers != 0, skipping unknown (-1) sizes. Can go negative; printed as is.
        used = sum(
            i.size - i.shared_size
            for i in images
            if i.containers != 0 and i.size != -1 and i.shared_size != -1
        )
        img_recl = layers_size - used
    else:
        # moby client imageDiskUsageFromLegacyAPI: sum(Size - SharedSize) of images with
        # Containers <= 0 (+ index descriptor size), skipping unknown sizes.
        img_recl = sum(
            i.size - i.shared_size + i.index_size
            for i in images
            if i.containers <= 0 and i.size != -1 and i.shared_size != -1
        )
    img_row = UsageRow(len(images), img_active, layers_size, img_recl)

    # Containers: SIZE = sum(SizeRw); active = running/paused/restarting.
    def active(c: ContainerItem) -> bool:
        return _is_active_cli28(c.state) if algorithm == "cli28" else c.state in ACTIVE_STATES

    c_total = sum(c.size_rw or 0 for c in containers)
    c_used = sum(c.size_rw or 0 for c in containers if active(c))
    ctr_row = UsageRow(
        len(containers), sum(1 for c in containers if active(c)), c_total, c_total - c_used
    )

    # Volumes.
    with_usage = [v for v in volumes if v.size is not None and v.ref_count is not None]
    v_active = sum(1 for v in with_usage if (v.ref_count or 0) > 0)
    if algorithm == "cli28":
        v_total = sum(v.size or 0 for v in with_usage if v.size != -1)
        v_recl = sum(v.size or 0 for v in with_usage if v.size != -1 and v.ref_count == 0)
    else:
        v_total = sum(v.size or 0 for v in with_usage if (v.size or 0) > 0)
        v_used = sum(v.size or 0 for v in with_usage if (v.ref_count or 0) > 0)
        v_recl = v_total - v_used
    vol_row = UsageRow(len(volumes), v_active, v_total, v_recl)

    # Build cache (system/df.go bsz; same in the 29.x client).
    b_total = sum(b.size for b in build_cache if not b.shared)
    b_used = sum(b.size for b in build_cache if b.in_use and not b.shared)
    bc_row = UsageRow(
        len(build_cache), sum(1 for b in build_cache if b.in_use), b_total, b_total - b_used
    )
    return img_row, ctr_row, vol_row, bc_row


_USAGE_KEYS: Final = ("ImageUsage", "ContainerUsage", "VolumeUsage", "BuildCacheUsage")


def _usage_row(obj: object) -> UsageRow:
    d = _map(obj)
    if not d:
        return _ZERO_ROW
    return UsageRow(
        total_count=_int(d.get("TotalCount")),
        active_count=_int(d.get("ActiveCount")),
        total_size=_int(d.get("TotalSize")),
        reclaimable=_int(d.get("Reclaimable")),
    )


def parse_disk_usage(
    data: Json, api_version: str, *, legacy_algorithm: LegacyAlgorithm = "cli28"
) -> DiskUsage:
    """Parse ``GET /system/df`` of either shape.

    * If any ``*Usage`` object is present (API >= 1.52) the rows are the server's totals, like
      docker CLI 29 (a missing object -> a zero row, as the moby client does). Items come from
      ``*Usage.Items`` (``verbose=1``), else from the legacy lists that 1.52 still sends
      without ``verbose``.
    * Otherwise the rows are computed from the legacy lists with ``legacy_algorithm``.

    Tolerates missing keys, ``null`` lists, omitted ``SizeRw`` and -1 sizes.
    """
    images_raw = _list(data.get("Images"))
    containers_raw = _list(data.get("Containers"))
    volumes_raw = _list(data.get("Volumes"))
    cache_raw = _list(data.get("BuildCache"))
    layers = _int(data.get("LayersSize"))
    if any(isinstance(data.get(k), Mapping) for k in _USAGE_KEYS):
        iu, cu, vu, bu = (_map(data.get(k)) for k in _USAGE_KEYS)
        images = tuple(parse_image_item(x) for x in (_list(iu.get("Items")) or images_raw))
        containers = tuple(
            parse_container_item(x) for x in (_list(cu.get("Items")) or containers_raw)
        )
        volumes = tuple(parse_volume_item(x) for x in (_list(vu.get("Items")) or volumes_raw))
        cache = tuple(parse_build_cache_item(x) for x in (_list(bu.get("Items")) or cache_raw))
        return DiskUsage(
            api_version=api_version,
            images=_usage_row(iu),
            containers=_usage_row(cu),
            volumes=_usage_row(vu),
            build_cache=_usage_row(bu),
            image_items=images,
            container_items=containers,
            volume_items=volumes,
            build_cache_items=cache,
            shape="usage",
            algorithm="server",
            layers_size=_int(iu.get("TotalSize")) if iu else layers,
        )
    images = tuple(parse_image_item(x) for x in images_raw)
    containers = tuple(parse_container_item(x) for x in containers_raw)
    volumes = tuple(parse_volume_item(x) for x in volumes_raw)
    cache = tuple(parse_build_cache_item(x) for x in cache_raw)
    rows = summarize_legacy(layers, images, containers, volumes, cache, legacy_algorithm)
    return DiskUsage(
        api_version,
        *rows,
        image_items=images,
        container_items=containers,
        volume_items=volumes,
        build_cache_items=cache,
        shape="legacy",
        algorithm=legacy_algorithm,
        layers_size=layers,
    )
