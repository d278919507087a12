"""The events view's texts and filter: what an engine event says, in one readable row.

Pure (no IO). The engine reports what changed in an event's attributes: a swarm ``service
update`` carries ``image.old``/``image.new``, ``replicas.old``/``replicas.new`` and
``updatestate.old``/``updatestate.new``, a ``node update`` ``availability``, ``state``,
``role``, ``leader`` and ``reachability`` pairs (only the keys that changed), a container's
``die`` its ``exitCode``. :func:`event_details` turns those into ``image busybox:1 → busybox:2``.

The filter's syntax is the grid's (``key:value`` words) with the logs' ``~REGEX``:
``type:service action:update node:lab-node1 web ~^shop_``. Words of one key are alternatives
(``type:service,node`` = ``type:service type:node``), different keys must all match. A bare word
is an object: a part of its name (or its service's, for a task's container) or a prefix of its
ID; ``~REGEX`` is searched in those names.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from swarmtui.model.impact import bytes_size
from swarmtui.model.types import EngineEvent, Node

EVENT_HISTORY = 1000
"""How many events the store keeps (the newest): memory stays flat under an event flood."""

PATTERN_MARK = "~"
EVENT_TYPES = ("builder", "config", "container", "daemon", "image", "network", "node",
               "plugin", "secret", "service", "volume")
"""The types ``GET /events`` reports (and filters by)."""

SWARM = "swarm"  # the node column of a swarm-wide event (no node of its own)

# Attribute pairs (``KEY.old``/``KEY.new``) by how the row names them, in display order.
_PAIR_LABELS = {
    "image": "image",
    "replicas": "replicas",
    "updatestate": "update",
    "availability": "availability",
    "state": "state",
    "role": "role",
    "leader": "leader",
    "reachability": "reachability",
}
_FILTER_KEYS = {"type": "types", "action": "actions", "event": "actions", "scope": "scopes",
                "node": "nodes", "object": "objects", "name": "objects"}
_TASK_NAME = "com.docker.swarm.task.name"
_SERVICE_NAME = "com.docker.swarm.service.name"
_NODE_ID = "com.docker.swarm.node.id"


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events the view shows; empty matches all. See the module doc for the syntax."""

    types: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.types or self.actions or self.scopes or self.nodes or self.objects
                    or self.patterns)

    def to_text(self) -> str:
        """The prompt's text for this filter (what :func:`parse_event_filter` reads back)."""
        words = [f"{key}:{','.join(values)}" for key, values in (
            ("type", self.types), ("action", self.actions), ("scope", self.scopes),
            ("node", self.nodes)) if values]
        words += list(self.objects)
        words += [PATTERN_MARK + p for p in self.patterns]
        return " ".join(shlex.quote(w) if " " in w else w for w in words)


def parse_event_filter(text: str) -> EventFilter:
    """Parse the prompt's words. Raises ValueError (one readable line) for a bad ``~regex``,
    an unknown type or unbalanced quotes."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot parse {text!r}: {exc}") from None
    found: dict[str, list[str]] = {field: [] for field in _FILTER_KEYS.values()}
    patterns: list[str] = []
    for word in words:
        if word.startswith(PATTERN_MARK) and len(word) > 1:
            try:
                re.compile(word[1:], re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {word[1:]!r}: {exc.msg}") from None
            patterns.append(word[1:])
            continue
        key, sep, value = word.partition(":")
        field = _FILTER_KEYS.get(key.lower()) if sep else None
        if field is not None and not value:
            continue  # ``type:`` half typed: no filter yet
        if field is None:
            # Not a key: an object (image names have colons: busybox:lab).
            found["objects"].append(word)
            continue
        for item in (v for v in value.split(",") if v):
            found[field].append(item if field in ("objects", "nodes") else item.lower())
    for kind in found["types"]:
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown event type {kind!r} (one of {', '.join(EVENT_TYPES)})")
    return EventFilter(
        types=tuple(dict.fromkeys(found["types"])),
        actions=tuple(dict.fromkeys(found["actions"])),
        scopes=tuple(dict.fromkeys(found["scopes"])),
        nodes=tuple(dict.fromkeys(found["nodes"])),
        objects=tuple(dict.fromkeys(found["objects"])),
        patterns=tuple(dict.fromkeys(patterns)),
    )


# -- what an event is about ----------------------------------------------------------------
def event_node_id(event: EngineEvent, self_node_id: str) -> str:
    """The node an event happened on: the node itself for a node event, the task's node for
    a container, the engine we talk to for its other local events; "" for swarm-wide ones."""
    if event.type == "node":
        return event.actor_id
    if event.scope == "local":
        return event.attr(_NODE_ID) or self_node_id
    return ""


def node_label(nodes: Mapping[str, Node], node_id: str) -> str:
    """A node's hostname (its ID cut to 12 while unknown); :data:`SWARM` for none."""
    if not node_id:
        return SWARM
    node = nodes.get(node_id)
    return node.hostname if node is not None and node.hostname else node_id[:12]


def event_object(event: EngineEvent) -> str:
    """What the event is about: its name, ``service.slot`` for a task's container (the task
    ID is noise here), an ID cut to 12 when it has no name."""
    task = event.attr(_TASK_NAME)
    if event.type == "container" and task:
        parts = task.split(".")
        return ".".join(parts[:-1]) if len(parts) > 2 else task
    name = event.attr("name")
    if name and not name.startswith("sha256:"):
        return name
    actor = event.actor_id.removeprefix("sha256:")
    return actor[:12]


def _object_names(event: EngineEvent) -> tuple[str, ...]:
    return tuple(n for n in (event.attr("name"), event.attr(_SERVICE_NAME), event.attr(_TASK_NAME),
                             event_object(event)) if n)


def event_matches(flt: EventFilter, event: EngineEvent, node_id: str,
                  nodes: Mapping[str, Node]) -> bool:
    """True when ``event`` (on node ``node_id``, see :func:`event_node_id`) passes ``flt``."""
    if flt.types and event.type not in flt.types:
        return False
    if flt.actions and not any(_action_matches(a, event.action) for a in flt.actions):
        return False
    if flt.scopes and event.scope not in flt.scopes:
        return False
    if flt.nodes and not any(_node_matches(n, node_id, nodes) for n in flt.nodes):
        return False
    if flt.objects or flt.patterns:
        names = _object_names(event)
        by_word = any(
            any(word.lower() in n.lower() for n in names) or event.actor_id.startswith(word)
            for word in flt.objects
        )
        by_pattern = any(
            any(re.search(p, n, re.IGNORECASE) for n in names) for p in flt.patterns
        )
        if not (by_word or by_pattern):
            return False
    return True


def _action_matches(wanted: str, action: str) -> bool:
    # ``exec_start: sh -c …`` and ``health_status: healthy`` carry a detail after a colon.
    return action == wanted or action.split(":", 1)[0] == wanted


def _node_matches(wanted: str, node_id: str, nodes: Mapping[str, Node]) -> bool:
    if not node_id:
        return wanted == SWARM
    node = nodes.get(node_id)
    return node_id.startswith(wanted) or (node is not None and wanted in (node.hostname,
                                                                          node.name))


# -- what an event says --------------------------------------------------------------------
def _short_image(image: str, other: str) -> str:
    """An image without its digest, unless the digest is all that changed (then cut to 12)."""
    name, _, digest = image.partition("@")
    other_name = other.partition("@")[0]
    if digest and name == other_name:
        return f"{name}@{digest.removeprefix('sha256:')[:12]}"
    return name


def _pair(label: str, old: str | None, new: str | None) -> str:
    if label == "image":
        old, new = (_short_image(old, new or "") if old else old,
                    _short_image(new, old or "") if new else new)
    if old is not None and new is not None:
        return f"{label} {old} → {new}"
    if new is not None:
        return f"{label} → {new}"
    return f"{label} {old} → ?"


def event_details(event: EngineEvent) -> str:
    """The event's key attributes, readable: ``image a → b · replicas 2 → 4``."""
    attrs = dict(event.attributes)
    parts: list[str] = []
    keys = [k[:-4] for k in attrs if k.endswith((".old", ".new"))]
    known = [k for k in _PAIR_LABELS if k in keys]
    others = sorted({k for k in keys if k not in _PAIR_LABELS})
    for key in (*known, *others):
        parts.append(_pair(_PAIR_LABELS.get(key, key), attrs.get(f"{key}.old"),
                           attrs.get(f"{key}.new")))
    if event.type == "container":
        if "exitCode" in attrs:
            parts.append(f"exit {attrs['exitCode']}")
        if "signal" in attrs:
            parts.append(f"signal {attrs['signal']}")
        if event.action == "oom":
            parts.append("out of memory")
    if event.type == "network" and attrs.get("container"):
        parts.append(f"container {attrs['container'][:12]}")
    if "reclaimed" in attrs:
        try:
            parts.append(f"reclaimed {bytes_size(int(attrs['reclaimed']))}")
        except ValueError:
            parts.append(f"reclaimed {attrs['reclaimed']}")
    return " · ".join(parts)


EVENT_COLUMNS = ("TIME", "TYPE", "ACTION", "OBJECT", "DETAILS", "NODE")
"""DETAILS before NODE: on a narrow terminal what changed is worth more than where."""


def event_time(time_ns: int) -> str:
    """``HH:MM:SS`` in UTC (as the view showed it before)."""
    return datetime.fromtimestamp(time_ns / 1e9, tz=UTC).strftime("%H:%M:%S")


def event_cells(event: EngineEvent, node_id: str, nodes: Mapping[str, Node]) -> tuple[str, ...]:
    """One row of the view, a text per :data:`EVENT_COLUMNS`."""
    return (event_time(event.time_ns), event.type, event.action, event_object(event),
            event_details(event), node_label(nodes, node_id))


def first_seq(events: Sequence[EngineEvent], event_count: int) -> int:
    """The sequence number of the oldest event kept (events are numbered from 0 as received)."""
    return event_count - len(events)
