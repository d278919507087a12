"""The images view, the pure part: an engine's images (``GET /images/json``), the services
that use each, and an image's layers ``docker history`` style, alone or beside another's.

Pure, stdlib only. Builds on the disk model's image parsing (:func:`parse_image_item`) and its
service matching (:func:`image_matches_ref`: by normalised ``repo:tag``, by digest, by ID), and
prints sizes and ages as the docker CLI does (:mod:`swarmtui.model.dockerfmt`).

Sources: docker/cli ``cli/command/formatter/image.go`` (SIZE with 3 digits, SHARED SIZE with 4,
``N/A`` for -1), ``formatter/history.go`` (IMAGE truncated to 12, ``<missing>`` kept; CREATED
``HumanDuration(now - created) + " ago"``; CREATED BY with tabs as spaces, cut to 45 columns
with ``…`` unless ``--no-trunc``; SIZE ``HumanSizeWithPrecision(size, 3)``), moby
``daemon/images/image_history.go`` (entries newest first; one per ``History`` item, the layered
ones consuming ``RootFS.Layers`` from the bottom).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarmtui.model.disk.prune_images import image_matches_ref
from swarmtui.model.disk.render import ellipsis, image_repo_tag
from swarmtui.model.disk.usage import ImageItem, parse_image_item
from swarmtui.model.dockerfmt import NS, created_since, human_size, truncate_id
from swarmtui.model.jsonval import as_int, as_list, as_map, as_str, as_strs
from swarmtui.model.types import Service

Row = tuple[str, tuple[str, ...]]

IMAGE_COLUMNS = ("REPOSITORY:TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "CONTAINERS",
                 "SERVICES")
HISTORY_COLUMNS = ("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")
CREATED_BY_WIDTH = 45  # docker history's cut (formatter/history.go)


# --------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------


def images_from_json(images: object, containers: object = None, df: object = None
                     ) -> tuple[ImageItem, ...]:
    """``/images/json`` as items, with what it leaves out (``-1`` before API 1.51) filled in:
    ``SharedSize`` and ``Containers`` from ``/system/df``'s images when given, else the
    container count from ``/containers/json?all=1`` (by ``ImageID``)."""
    items = [parse_image_item(raw) for raw in as_list(images)]
    from_df = {i.id: i for i in (parse_image_item(r) for r in as_list(as_map(df).get("Images")))}
    counts: dict[str, int] = {}
    if containers is not None:
        for c in as_list(containers):
            image_id = as_str(as_map(c).get("ImageID"))
            counts[image_id] = counts.get(image_id, 0) + 1
    out = []
    for item in items:
        shared, used = item.shared_size, item.containers
        known = from_df.get(item.id)
        if shared == -1 and known is not None:
            shared = known.shared_size
        if used == -1 and known is not None:
            used = known.containers
        if used == -1 and containers is not None:
            used = counts.get(item.id, 0)
        out.append(ImageItem(item.id, item.repo_tags, item.repo_digests, item.parent_id,
                             item.created, item.size, shared, used, item.labels,
                             item.index_size))
    return tuple(out)


def repo_tag_text(item: ImageItem) -> str:
    """The first ``repository:tag`` (``<none>:<none>`` when dangling), ``+N`` more tags."""
    pair = image_repo_tag(item)
    first = "<none>:<none>" if pair is None else f"{pair[0]}:{pair[1]}"
    more = len([t for t in item.repo_tags if t != "<none>:<none>"]) - 1
    return first + (f" +{more}" if more > 0 else "")


def image_users(item: ImageItem, services: Iterable[Service]) -> tuple[str, ...]:
    """Names of the services whose ``ContainerSpec.Image`` (with or without ``@digest``)
    designates ``item``, sorted."""
    return tuple(sorted(s.name for s in services if s.image and image_matches_ref(item, s.image)))


def _count(value: int) -> str:
    return "N/A" if value == -1 else str(value)


def _sort_key(item: ImageItem) -> tuple[int, str]:
    return (-item.created, item.id)  # newest first, as docker image ls


def image_rows(images: Sequence[ImageItem], services: Iterable[Service], now_ns: int
               ) -> list[Row]:
    """One row per image, newest first: tag, short ID, age, sizes, containers, services."""
    users = tuple(services)
    rows: list[Row] = []
    for item in sorted(images, key=_sort_key):
        cells = (repo_tag_text(item), truncate_id(item.id),
                 created_since(now_ns, item.created * NS),
                 "N/A" if item.size == -1 else human_size(item.size, 3),
                 "N/A" if item.shared_size == -1 else human_size(item.shared_size),
                 _count(item.containers), ", ".join(image_users(item, users)) or "-")
        rows.append((item.id, cells))
    return rows


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ``/images/{id}/history`` entry."""

    id: str
    created: int  # unix seconds
    created_by: str
    size: int
    comment: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImageLayers:
    """An image's inspect (tags, ``RootFS.Layers``, size) and history (newest first)."""

    id: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]
    size: int
    history: tuple[HistoryEntry, ...]

    @property
    def name(self) -> str:
        return self.repo_tags[0] if self.repo_tags else truncate_id(self.id)

    def layered_entries(self) -> tuple[bool, ...]:
        """For each history entry (newest first): whether it added one of ``layers``.

        The API does not say (``empty_layer`` stays in the daemon): entries with a size
        did; when those are fewer than the layers, the newest size-0 entries that are not
        ``#(nop)`` metadata make up the rest (a layer may be empty: ``touch`` of nothing)."""
        sized = [e.size > 0 for e in self.history]
        missing = len(self.layers) - sum(sized)
        if missing > 0:
            for i, e in enumerate(self.history):
                if missing == 0:
                    break
                if not sized[i] and "#(nop)" not in e.created_by:
                    sized[i] = True
                    missing -= 1
        return tuple(sized)


def image_layers_from_json(inspect: object, history: object) -> ImageLayers:
    """``/images/{id}/json`` and ``/images/{id}/history`` as :class:`ImageLayers`."""
    d = as_map(inspect)
    entries = tuple(
        HistoryEntry(id=as_str(h.get("Id")), created=as_int(h.get("Created")),
                     created_by=as_str(h.get("CreatedBy")), size=as_int(h.get("Size")),
                     comment=as_str(h.get("Comment")), tags=as_strs(h.get("Tags")))
        for h in (as_map(x) for x in as_list(history))
    )
    return ImageLayers(id=as_str(d.get("Id")), repo_tags=as_strs(d.get("RepoTags")),
                       layers=as_strs(as_map(d.get("RootFS")).get("Layers")),
                       size=as_int(d.get("Size")), history=entries)


def created_by_text(entry: HistoryEntry, width: int | None = CREATED_BY_WIDTH) -> str:
    """CREATED BY: tabs as spaces, cut to ``width`` columns (None: ``--no-trunc``)."""
    text = entry.created_by.replace("\t", " ")
    return text if width is None else ellipsis(text, width)


def history_row(entry: HistoryEntry, now_ns: int, *, trunc: bool = True,
                width: int | None = CREATED_BY_WIDTH) -> tuple[str, ...]:
    """One ``docker history`` row: IMAGE, CREATED, CREATED BY, SIZE, COMMENT."""
    return (truncate_id(entry.id) if trunc else entry.id,
            created_since(now_ns, entry.created * NS),
            created_by_text(entry, width if trunc else None),
            human_size(entry.size, 3), entry.comment)


def history_rows(image: ImageLayers, now_ns: int, *, trunc: bool = True) -> list[tuple[str, ...]]:
    """``docker history`` (``--no-trunc`` when not ``trunc``), newest first."""
    return [history_row(e, now_ns, trunc=trunc) for e in image.history]


def history_total(image: ImageLayers) -> int:
    return sum(e.size for e in image.history)


def summary_text(image: ImageLayers) -> str:
    """``3 layers · 2.09MB · 3 history entries``."""
    n = len(image.layers)
    return (f"{n} layer{'s' if n != 1 else ''} · {human_size(image.size, 3)} · "
            f"{len(image.history)} history entr{'ies' if len(image.history) != 1 else 'y'}")


# --------------------------------------------------------------------------------------------
# Two images side by side
# --------------------------------------------------------------------------------------------


def shared_layer_count(a: ImageLayers, b: ImageLayers) -> int:
    """How many bottom layers both have (the common prefix of ``RootFS.Layers``)."""
    n = 0
    for x, y in zip(a.layers, b.layers, strict=False):
        if x != y:
            break
        n += 1
    return n


def shared_entries(image: ImageLayers, shared_layers: int) -> tuple[bool, ...]:
    """For each history entry (newest first): whether it belongs to the shared base, i.e. the
    layers up to and including it are all among the ``shared_layers`` bottom ones (an entry
    without a layer counts when the next layer above it is shared too)."""
    layered = image.layered_entries()
    out = [False] * len(layered)
    below = 0  # layers added by the entries older than this one
    for i in range(len(layered) - 1, -1, -1):
        upto = below + (1 if layered[i] else 0)
        out[i] = upto <= shared_layers if layered[i] else below < shared_layers
        below = upto
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two images' histories side by side: the shared base and each side's rows (newest
    first), marked."""

    left: ImageLayers
    right: ImageLayers
    shared_layers: int
    left_shared: tuple[bool, ...]
    right_shared: tuple[bool, ...]

    def summary(self) -> str:
        n = self.shared_layers
        if not n:
            return "no shared base layers"
        size = sum(e.size for e, s in zip(self.left.history, self.left_shared, strict=True) if s)
        return f"{n} shared base layer{'s' if n != 1 else ''} ({human_size(size, 3)}), marked ="


def compare(left: ImageLayers, right: ImageLayers) -> Comparison:
    n = shared_layer_count(left, right)
    return Comparison(left, right, n, shared_entries(left, n), shared_entries(right, n))


COMPARE_COLUMNS = ("IMAGE", "CREATED", "CREATED BY", "SIZE", "BASE")


def compare_rows(image: ImageLayers, shared: Sequence[bool], now_ns: int, width: int
                 ) -> list[tuple[str, ...]]:
    """One side's rows: IMAGE, CREATED, CREATED BY (cut to ``width``), SIZE, and ``=`` for an
    entry of the shared base (last: a line never starts with blanks)."""
    rows: list[tuple[str, ...]] = []
    for entry, base in zip(image.history, shared, strict=True):
        image_id, created, created_by, size, _ = history_row(entry, now_ns, width=width)
        rows.append((image_id, created, created_by, size, "=" if base else ""))
    return rows

