"""What ``docker system df [-v]`` prints, byte for byte (:func:`render_df`,
:func:`render_df_verbose`), and the documented JSON form of ``swarmtui df --json``
(:func:`df_to_json`).

Pure, stdlib only. May import :mod:`.usage`, :mod:`swarmtui.model.dockerfmt` and
:mod:`swarmtui.model.imageref`; never the prune modules.

Sources: docker/cli ``cli/command/formatter/disk_usage.go`` (``-v`` tables),
``formatter/{image,container,volume,buildcache}.go`` (column contents),
``formatter/displayutils.go`` (``Ellipsis``), ``formatter/tabwriter/tabwriter.go`` (column
layout: minwidth 10, padding 3), ``system/df.go`` (builder size = sum of non-shared records).
Checked against the real docker CLI 28.2.2 and 20.10.24 run against recorded responses
(``tests/fixtures/engine/cli_goldens_v1.41.json``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, Literal

from swarmtui.model.disk.usage import (
    BuildCacheItem,
    ContainerItem,
    DiskUsage,
    ImageItem,
    Labels,
    UsageRow,
)
from swarmtui.model.dockerfmt import (
    GO_ZERO_TIME_NS,
    NS,
    created_since,
    human_size,
    parse_rfc3339_ns,
    percent_of,
    to_unix_ns,
    truncate_id,
)
from swarmtui.model.imageref import parse_image_ref

# --------------------------------------------------------------------------------------------
# Rendering (docker/cli table format: text/tabwriter minwidth 10, tabwidth 1, padding 3)
# --------------------------------------------------------------------------------------------

CliStyle = Literal["20.10", "28", "29"]
"""Which docker CLI's ``-v`` tables to reproduce. Only image SIZE differs: 20.10 prints it with
4 significant digits (``1.982MB``), 28 and 29 with 3 (``1.98MB``)."""



def display_width(text: str) -> int:
    """Cell width as docker/cli measures it: one column per rune, two for East Asian Wide /
    Fullwidth runes (go-runewidth / x/text/width in a non-CJK locale), zero for combining marks.
    """
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def tabwrite(rows: Sequence[Sequence[str]], *, minwidth: int = 10, padding: int = 3) -> str:
    """Align rows like Go's tabwriter with docker/cli's settings; every line ends in ``\\n``.

    Every cell but the last of a line is padded with spaces to its column's width
    ``max(minwidth, widest cell + padding)``; the last cell is written as is.
    """
    if not rows:
        return ""
    ncols = max(len(r) for r in rows)
    widths = [minwidth] * max(ncols - 1, 0)
    for r in rows:
        for j, cell in enumerate(r[:-1]):
            widths[j] = max(widths[j], display_width(cell) + padding)
    out = []
    for r in rows:
        parts = []
        for j, cell in enumerate(r):
            if j < len(r) - 1:
                parts.append(cell + " " * (widths[j] - display_width(cell)))
            else:
                parts.append(cell)
        out.append("".join(parts) + "\n")
    return "".join(out)


def _reclaimable_cell(kind: str, row: UsageRow) -> str:
    text = human_size(row.reclaimable)
    # Images / Containers / Local Volumes get "(NN%)" when SIZE > 0; Build Cache never does
    # (docker/cli diskUsageBuilderContext.Reclaimable, 20.10 … 29).
    if kind != "Build Cache" and row.total_size > 0:
        text += f" ({percent_of(row.reclaimable, row.total_size)}%)"
    return text


def render_df(du: DiskUsage) -> str:
    """``docker system df`` output, byte for byte (including the trailing newline)."""
    rows = [["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]]
    for kind, row in du.rows():
        rows.append(
            [
                kind,
                str(row.total_count),
                str(row.active_count),
                human_size(row.total_size),
                _reclaimable_cell(kind, row),
            ]
        )
    return tabwrite(rows)


def _char_width(ch: str) -> int:
    # formatter/displayutils.go charWidth: 2 for East Asian Wide/Fullwidth, else 1.
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def ellipsis(text: str, max_width: int) -> str:
    """docker/cli ``Ellipsis``: cut to ``max_width`` display columns ending in ``…``."""
    if max_width <= 0:
        return ""
    if max_width == 1:
        return text[:1]
    if text.isascii():
        return text if len(text) <= max_width else text[: max_width - 1] + "…"
    cumulative, total = [], 0
    for ch in text:
        total += _char_width(ch)
        cumulative.append(total)
    if total <= max_width:
        return text
    for i in range(len(text) - 1):
        if cumulative[i] <= max_width - 1 < cumulative[i + 1]:
            return text[: i + 1] + "…"
    return text


_GO_ESCAPES: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Go ``strconv.Quote`` (printable runes kept, others escaped)."""
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():  # Go IsPrint: L, M, N, P, S and the ASCII space
            out.append(ch)
        else:
            cp = ord(ch)
            if cp < 0x80:
                out.append(f"\\x{cp:02x}")
            elif cp < 0x10000:
                out.append(f"\\u{cp:04x}")
            else:
                out.append(f"\\U{cp:08x}")
    out.append('"')
    return "".join(out)


def image_repo_tag(item: ImageItem) -> tuple[str, str] | None:
    """(REPOSITORY, TAG) of the ``-v`` images table; None when the CLI skips the row.

    First tag only; dangling images and untagged references -> ``<none>``; a first tag that
    does not parse makes the CLI ``continue`` (the row is not printed).
    """
    if not item.repo_tags or item.is_dangling:
        return ("<none>", "<none>")
    ref = parse_image_ref(item.repo_tags[0])
    if ref is None:
        return None
    if ref.tag is None:
        return ("<none>", "<none>")
    return (ref.familiar_name, ref.tag)


def container_image_display(item: ContainerItem) -> str:
    """IMAGE column (truncated form): short ID when created from an ID, else the familiar
    reference without digest (``busybox:lab@sha256:…`` -> ``busybox:lab``)."""
    if not item.image:
        return "<no image>"
    if truncate_id(item.image_id) == truncate_id(item.image):
        return truncate_id(item.image)
    ref = parse_image_ref(item.image)
    if ref is None:
        return item.image
    return replace(ref, digest=None).familiar


def _sorted_build_cache(items: Iterable[BuildCacheItem]) -> list[BuildCacheItem]:
    # formatter/buildcache.go buildCacheSort: nil LastUsedAt first, then by time, ties by ID.
    def key(b: BuildCacheItem) -> tuple[int, int, str]:
        ts = parse_rfc3339_ns(b.last_used_at) if b.last_used_at is not None else None
        return (0, 0, b.id) if ts is None else (1, ts, b.id)

    return sorted(items, key=key)


def render_df_verbose(du: DiskUsage, now: datetime | float, *, style: CliStyle = "28") -> str:
    """``docker system df -v`` output, byte for byte, with CREATED ages relative to ``now``.

    Sections and headers as the CLI prints them; image SIZE has 3 significant digits (4 with
    ``style="20.10"``), SHARED/UNIQUE SIZE 4, container SIZE 3 (SizeRw only), volume SIZE 4,
    build-cache SIZE 3; build-cache IDs are truncated and marked ``*`` when in use.
    """
    now_ns = to_unix_ns(now)
    img_size_precision = 4 if style == "20.10" else 3
    out: list[str] = ["Images space usage:\n\n"]
    rows = [
        [
            "REPOSITORY",
            "TAG",
            "IMAGE ID",
            "CREATED",
            "SIZE",
            "SHARED SIZE",
            "UNIQUE SIZE",
            "CONTAINERS",
        ]
    ]
    for img in du.image_items:
        rt = image_repo_tag(img)
        if rt is None:
            continue
        unique = img.unique_size
        rows.append(
            [
                rt[0],
                rt[1],
                truncate_id(img.id),
                created_since(now_ns, img.created * NS),
                human_size(img.size, img_size_precision),
                "N/A" if img.shared_size == -1 else human_size(img.shared_size),
                "N/A" if unique is None else human_size(unique),
                "N/A" if img.containers == -1 else str(img.containers),
            ]
        )
    out.append(tabwrite(rows))

    out.append("\nContainers space usage:\n\n")
    rows = [
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "LOCAL VOLUMES",
            "SIZE",
            "CREATED",
            "STATUS",
            "NAMES",
        ]
    ]
    for c in du.container_items:
        rows.append(
            [
                truncate_id(c.id),
                container_image_display(c),
                go_quote(ellipsis(c.command, 20)),
                str(sum(1 for m in c.mounts if m.driver == "local")),
                human_size(c.size_rw or 0, 3),
                created_since(now_ns, c.created * NS),
                c.status,
                c.name,
            ]
        )
    out.append(tabwrite(rows))

    out.append("\nLocal Volumes space usage:\n\n")
    rows = [["VOLUME NAME", "LINKS", "SIZE"]]
    for v in du.volume_items:
        rows.append(
            [
                v.name,
                "N/A" if v.ref_count is None else str(v.ref_count),
                "N/A" if v.size is None else human_size(v.size),
            ]
        )
    out.append(tabwrite(rows))

    out.append(f"\nBuild cache usage: {human_size(du.build_cache.total_size)}\n\n")
    rows = [["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"]]
    for b in _sorted_build_cache(du.build_cache_items):
        created = parse_rfc3339_ns(b.created_at)
        last = parse_rfc3339_ns(b.last_used_at) if b.last_used_at is not None else None
        rows.append(
            [
                truncate_id(b.id) + ("*" if b.in_use else ""),
                b.type,
                human_size(b.size, 3),
                created_since(now_ns, GO_ZERO_TIME_NS if created is None else created),
                "" if last is None else created_since(now_ns, last),
                str(b.usage_count),
                "true" if b.shared else "false",
            ]
        )
    out.append(tabwrite(rows))
    return "".join(out)




# --------------------------------------------------------------------------------------------
# JSON form (swarmtui df --json)
# --------------------------------------------------------------------------------------------

DF_JSON_SCHEMA: Final = "swarmtui.df/1"


def _labels_json(labels: Labels) -> dict[str, str]:
    return dict(labels)


def df_to_json(du: DiskUsage) -> dict[str, Any]:
    """The stable JSON form of a :class:`DiskUsage` (``swarmtui df --json``).

    Top level:

    * ``schema`` -- always ``"swarmtui.df/1"``; bumped on incompatible changes.
    * ``api_version`` -- Engine API version the data was read with (``"1.41"``).
    * ``shape`` -- ``"legacy"`` (lists, API < 1.52) or ``"usage"`` (``*Usage``, >= 1.52).
    * ``algorithm`` -- ``"server"`` (engine totals), ``"cli28"`` or ``"cli29"`` (computed).
    * ``summary`` -- list of 4 objects in CLI order, each: ``type`` (``"Images"``,
      ``"Containers"``, ``"Local Volumes"``, ``"Build Cache"``), ``total_count``,
      ``active_count``, ``size_bytes``, ``reclaimable_bytes`` (integers, may be negative when
      the engine's numbers are inconsistent), ``reclaimable_percent`` (integer percent as the
      CLI truncates it, ``null`` when size is 0 and always for Build Cache), and the CLI's
      strings ``size`` and ``reclaimable`` (e.g. ``"28.88MB"``, ``"24.52MB (84%)"``).
    * ``images`` -- objects: ``id`` (full ``sha256:…``), ``repository``/``tag`` (as the ``-v``
      table shows them, ``"<none>"`` for untagged; ``null`` when the CLI would skip the row),
      ``repo_tags``, ``repo_digests`` (lists), ``created`` (unix seconds), ``size``,
      ``shared_size``, ``unique_size`` (bytes; -1 / ``null`` when unknown), ``containers``
      (count, -1 unknown), ``labels`` (object).
    * ``containers`` -- ``id``, ``name`` (primary name, no ``/``), ``names`` (raw), ``image``,
      ``image_id``, ``command``, ``created`` (unix s), ``state``, ``status``, ``size_rw``
      (bytes of the writable layer; ``null`` if unknown), ``local_volumes`` (mounts with the
      local driver), ``labels``.
    * ``volumes`` -- ``name``, ``driver``, ``scope``, ``links`` (reference count, ``null``
      if unknown), ``size`` (bytes, -1 not computed, ``null`` unknown), ``anonymous`` (has
      the ``com.docker.volume.anonymous`` label), ``labels``, ``created_at`` (RFC 3339).
    * ``build_cache`` -- ``id``, ``parents``, ``type``, ``description``, ``in_use``,
      ``shared``, ``size``, ``created_at``, ``last_used_at`` (RFC 3339 or ``null``),
      ``usage_count``.
    """
    summary = []
    for kind, row in du.rows():
        pct = (
            percent_of(row.reclaimable, row.total_size)
            if kind != "Build Cache" and row.total_size > 0
            else None
        )
        summary.append(
            {
                "type": kind,
                "total_count": row.total_count,
                "active_count": row.active_count,
                "size_bytes": row.total_size,
                "reclaimable_bytes": row.reclaimable,
                "reclaimable_percent": pct,
                "size": human_size(row.total_size),
                "reclaimable": _reclaimable_cell(kind, row),
            }
        )
    images = []
    for i in du.image_items:
        rt = image_repo_tag(i)
        images.append(
            {
                "id": i.id,
                "repository": rt[0] if rt else None,
                "tag": rt[1] if rt else None,
                "repo_tags": list(i.repo_tags),
                "repo_digests": list(i.repo_digests),
                "created": i.created,
                "size": i.size,
                "shared_size": i.shared_size,
                "unique_size": i.unique_size,
                "containers": i.containers,
                "labels": _labels_json(i.labels),
            }
        )
    containers = [
        {
            "id": c.id,
            "name": c.name,
            "names": list(c.names),
            "image": c.image,
            "image_id": c.image_id,
            "command": c.command,
            "created": c.created,
            "state": c.state,
            "status": c.status,
            "size_rw": c.size_rw,
            "local_volumes": sum(1 for m in c.mounts if m.driver == "local"),
            "labels": _labels_json(c.labels),
        }
        for c in du.container_items
    ]
    volumes = [
        {
            "name": v.name,
            "driver": v.driver,
            "scope": v.scope,
            "links": v.ref_count,
            "size": v.size,
            "anonymous": v.is_anonymous,
            "labels": _labels_json(v.labels),
            "created_at": v.created_at,
        }
        for v in du.volume_items
    ]
    cache = [
        {
            "id": b.id,
            "parents": list(b.parents),
            "type": b.type,
            "description": b.description,
            "in_use": b.in_use,
            "shared": b.shared,
            "size": b.size,
            "created_at": b.created_at,
            "last_used_at": b.last_used_at,
            "usage_count": b.usage_count,
        }
        for b in du.build_cache_items
    ]
    return {
        "schema": DF_JSON_SCHEMA,
        "api_version": du.api_version,
        "shape": du.shape,
        "algorithm": du.algorithm,
        "summary": summary,
        "images": images,
        "containers": containers,
        "volumes": volumes,
        "build_cache": cache,
    }
