"""What a prune preview is computed from: the list endpoints (containers, images, volumes,
networks, build cache, services) merged into one :class:`EngineState`
(:func:`engine_state_from_json`).

Pure, stdlib only. May import :mod:`.usage`, :mod:`swarmtui.model.jsonval` and
:mod:`swarmtui.model.dockerfmt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from swarmtui.model.disk.usage import (
    BuildCacheItem,
    ContainerItem,
    DiskUsage,
    ImageItem,
    Labels,
    VolumeItem,
    parse_build_cache_item,
    parse_container_item,
    parse_disk_usage,
    parse_image_item,
    parse_volume_item,
)
from swarmtui.model.jsonval import Json
from swarmtui.model.jsonval import as_bool as _bool
from swarmtui.model.jsonval import as_labels as _labels
from swarmtui.model.jsonval import as_list as _list
from swarmtui.model.jsonval import as_map as _map
from swarmtui.model.jsonval import as_str as _str

# --------------------------------------------------------------------------------------------
# Engine state for prune previews
# --------------------------------------------------------------------------------------------

ImageStore = Literal["graphdriver", "containerd"]
"""The daemon's image store. ``containerd`` when ``GET /info`` ``DriverStatus`` contains
``["driver-type", "io.containerd.snapshotter.v1"]`` (default for new installs of Engine 29),
else ``graphdriver`` (20.10 … 28 default, the lab)."""


@dataclass(frozen=True, slots=True)
class NetworkItem:
    """A network from ``GET /networks``."""

    id: str
    name: str
    driver: str = ""
    scope: str = "local"
    created: str = ""
    labels: Labels = ()
    ingress: bool = False
    attachable: bool = False
    config_only: bool = False
    internal: bool = False


def parse_network_item(raw: object) -> NetworkItem:
    d = _map(raw)
    return NetworkItem(
        id=_str(d.get("Id") or d.get("ID")),
        name=_str(d.get("Name")),
        driver=_str(d.get("Driver")),
        scope=_str(d.get("Scope"), "local"),
        created=_str(d.get("Created")),
        labels=_labels(d.get("Labels")),
        ingress=_bool(d.get("Ingress")),
        attachable=_bool(d.get("Attachable")),
        config_only=_bool(d.get("ConfigOnly")),
        internal=_bool(d.get("Internal")),
    )


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """What a swarm service refers to, for prune protection (current and previous spec)."""

    id: str
    name: str
    image: str = ""
    previous_image: str = ""
    networks: tuple[str, ...] = ()
    previous_networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    previous_volumes: tuple[str, ...] = ()


def _spec_refs(spec: Json) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    tt = _map(spec.get("TaskTemplate"))
    cs = _map(tt.get("ContainerSpec"))
    nets = [_str(_map(n).get("Target")) for n in _list(tt.get("Networks"))]
    nets += [_str(_map(n).get("Target")) for n in _list(spec.get("Networks"))]  # < 1.44
    vols = [
        _str(_map(m).get("Source"))
        for m in _list(cs.get("Mounts"))
        if _str(_map(m).get("Type"), "volume") == "volume" and _str(_map(m).get("Source"))
    ]
    return (
        _str(cs.get("Image")),
        tuple(dict.fromkeys(n for n in nets if n)),
        tuple(dict.fromkeys(vols)),
    )


def parse_service_ref(raw: object) -> ServiceRef:
    """A ``GET /services`` entry -> :class:`ServiceRef` (``Spec`` and optional
    ``PreviousSpec``)."""
    d = _map(raw)
    spec = _map(d.get("Spec"))
    image, nets, vols = _spec_refs(spec)
    prev = d.get("PreviousSpec")
    p_image, p_nets, p_vols = _spec_refs(_map(prev)) if isinstance(prev, Mapping) else ("", (), ())
    return ServiceRef(
        id=_str(d.get("ID")),
        name=_str(spec.get("Name")),
        image=image,
        previous_image=p_image,
        networks=nets,
        previous_networks=p_nets,
        volumes=vols,
        previous_volumes=p_vols,
    )


@dataclass(frozen=True, slots=True)
class EngineState:
    """Everything a prune preview looks at, for one daemon.

    ``sizes_known`` is False when no ``/system/df`` data was merged in (container writable
    layers and volume sizes then count as 0 and plans say so).
    """

    api_version: str
    containers: tuple[ContainerItem, ...] = ()
    images: tuple[ImageItem, ...] = ()
    volumes: tuple[VolumeItem, ...] = ()
    networks: tuple[NetworkItem, ...] = ()
    build_cache: tuple[BuildCacheItem, ...] = ()
    services: tuple[ServiceRef, ...] = ()
    is_manager: bool = False
    swarm_active: bool = True
    image_store: ImageStore = "graphdriver"
    layers_size: int | None = None
    sizes_known: bool = True
    removed_containers: tuple[ContainerItem, ...] = ()
    """Containers an earlier step of a system prune removes; they still tell which image a
    service's tasks ran (protection by image ID)."""


def engine_state_from_json(
    api_version: str,
    *,
    containers: Iterable[Any] | None = None,
    images: Iterable[Any] | None = None,
    df: Json | DiskUsage | None = None,
    volumes: Json | Iterable[Any] | None = None,
    networks: Iterable[Any] | None = None,
    build_cache: Iterable[Any] | None = None,
    services: Iterable[Any] | None = None,
    is_manager: bool = False,
    swarm_active: bool = True,
    image_store: ImageStore = "graphdriver",
) -> EngineState:
    """Merge the list endpoints of one daemon into an :class:`EngineState`.

    ``containers``: ``/containers/json?all=1`` items; ``images``: ``/images/json?all=1`` items
    (``all=1`` so that untagged parent images of locally built images are visible);
    ``df``: ``/system/df`` (raw or parsed) -- supplies SizeRw, image SharedSize/Containers,
    volume UsageData and build-cache records; ``volumes``: ``/volumes`` (the object with
    ``Volumes`` or the list); ``networks``: ``/networks``; ``build_cache``: records if not in
    df; ``services``: ``/services`` (``Spec`` and ``PreviousSpec``). Lists missing here fall
    back to the df lists.
    """
    du: DiskUsage | None
    if isinstance(df, DiskUsage):
        du = df
    elif df is not None:
        du = parse_disk_usage(df, api_version)
    else:
        du = None

    df_images = {i.id: i for i in du.image_items} if du else {}
    if images is not None:
        merged_images = []
        for raw in images:
            img = parse_image_item(raw)
            known = df_images.get(img.id)
            if known is not None:
                img = replace(
                    img,
                    size=known.size if known.size != -1 else img.size,
                    shared_size=known.shared_size,
                    containers=known.containers,
                )
            merged_images.append(img)
        image_items = tuple(merged_images)
    else:
        image_items = du.image_items if du else ()

    df_ctrs = {c.id: c for c in du.container_items} if du else {}
    if containers is not None:
        merged_ctrs = []
        for raw in containers:
            c = parse_container_item(raw, size_known=False)
            known_c = df_ctrs.get(c.id)
            if c.size_rw is None and known_c is not None:
                c = replace(c, size_rw=known_c.size_rw)
            merged_ctrs.append(c)
        ctr_items = tuple(merged_ctrs)
    else:
        ctr_items = du.container_items if du else ()

    df_vols = {v.name: v for v in du.volume_items} if du else {}
    if volumes is not None:
        vol_list = _list(volumes.get("Volumes")) if isinstance(volumes, Mapping) else list(volumes)
        merged_vols = []
        for raw in vol_list:
            v = parse_volume_item(raw)
            known_v = df_vols.get(v.name)
            if v.size is None and known_v is not None:
                v = replace(v, size=known_v.size, ref_count=known_v.ref_count)
            merged_vols.append(v)
        vol_items = tuple(merged_vols)
    else:
        vol_items = du.volume_items if du else ()

    if build_cache is not None:
        cache_items = tuple(parse_build_cache_item(x) for x in build_cache)
    else:
        cache_items = du.build_cache_items if du else ()

    return EngineState(
        api_version=api_version,
        containers=ctr_items,
        images=image_items,
        volumes=vol_items,
        networks=tuple(parse_network_item(x) for x in (networks or ())),
        build_cache=cache_items,
        services=tuple(parse_service_ref(x) for x in (services or ())),
        is_manager=is_manager,
        swarm_active=swarm_active,
        image_store=image_store,
        layers_size=du.layers_size if du else None,
        sizes_known=du is not None,
    )
