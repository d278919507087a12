"""Stacks, as the docker CLI sees them: every object labelled ``com.docker.stack.namespace``.

Pure. A stack is only that label: its services come from the snapshot; its networks,
secrets and configs are not in the snapshot (nothing else needs them) and are listed by the
engine layer when a stacks view is shown or a removal is planned (:class:`StackObjects`).
The rows agree with ``docker stack ls`` (name, services), ``docker stack services`` and
``docker stack ps``; the health columns count the services' newest generation: running over
desired tasks (the engine's ServiceStatus, as ``docker service ls`` shows it), services
failing now (:func:`~swarmtui.model.selectors.failing_services`: history does not count) and
services whose update is in flight.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from swarmtui.model.dockerfmt import human_duration_ns
from swarmtui.model.jsonval import Json, as_labels, as_map, as_str
from swarmtui.model.selectors import failing_services
from swarmtui.model.state import ClusterState
from swarmtui.model.tables import Row
from swarmtui.model.types import STACK_LABEL, Service, Task

OBJECT_KINDS = ("network", "secret", "config")


@dataclass(frozen=True, slots=True)
class StackObject:
    """A network, secret or config of a stack (``GET /networks|secrets|configs``)."""

    kind: str  # network | secret | config
    id: str
    name: str
    stack: str


def parse_stack_object(kind: str, raw: Json) -> StackObject | None:
    """One listed network (``Name``/``Id``/``Labels``) or secret/config (``ID``/``Spec``);
    None when it carries no stack label."""
    if kind == "network":
        oid, name, labels = as_str(raw.get("Id")), as_str(raw.get("Name")), raw.get("Labels")
    else:
        spec = as_map(raw.get("Spec"))
        oid, name, labels = as_str(raw.get("ID")), as_str(spec.get("Name")), spec.get("Labels")
    stack = dict(as_labels(labels)).get(STACK_LABEL)
    if not stack or not oid:
        return None
    return StackObject(kind, oid, name or oid, stack)


def parse_stack_objects(kind: str, items: Iterable[Json]) -> tuple[StackObject, ...]:
    """The stack-labelled objects of one listing, by name (as the CLI removes them)."""
    found = (parse_stack_object(kind, as_map(item)) for item in items)
    return tuple(sorted((o for o in found if o is not None), key=lambda o: (o.name, o.id)))


@dataclass(frozen=True, slots=True)
class StackObjects:
    """The networks, secrets and configs of stacks, as last listed. ``listed``: the kinds
    that were read (the view shows ``?`` for the others' counts rather than 0)."""

    networks: tuple[StackObject, ...] = ()
    secrets: tuple[StackObject, ...] = ()
    configs: tuple[StackObject, ...] = ()
    listed_kinds: frozenset[str] = frozenset()

    @classmethod
    def from_listings(cls, networks: Iterable[Json] | None, secrets: Iterable[Json] | None,
                      configs: Iterable[Json] | None) -> StackObjects:
        """From the listings; None for a kind that could not be listed."""
        listings = dict(zip(OBJECT_KINDS, (networks, secrets, configs), strict=True))
        return cls(parse_stack_objects("network", networks or ()),
                   parse_stack_objects("secret", secrets or ()),
                   parse_stack_objects("config", configs or ()),
                   listed_kinds=frozenset(k for k, items in listings.items() if items is not None))

    @property
    def listed(self) -> bool:
        """Whether every kind was read."""
        return self.listed_kinds == frozenset(OBJECT_KINDS)

    def of(self, stack: str) -> StackObjects:
        """Only those of ``stack``."""
        return StackObjects(tuple(o for o in self.networks if o.stack == stack),
                            tuple(o for o in self.secrets if o.stack == stack),
                            tuple(o for o in self.configs if o.stack == stack),
                            listed_kinds=self.listed_kinds)

    @property
    def stacks(self) -> set[str]:
        return {o.stack for o in (*self.networks, *self.secrets, *self.configs)}

    @property
    def count(self) -> int:
        return len(self.networks) + len(self.secrets) + len(self.configs)


NO_OBJECTS = StackObjects()


def stack_services(state: ClusterState, stack: str) -> list[Service]:
    """The services of ``stack`` by name (``docker stack services``' order)."""
    return sorted((s for s in state.services.values() if s.stack == stack),
                  key=lambda s: (s.name, s.id))


def stack_names(state: ClusterState, objects: StackObjects = NO_OBJECTS) -> list[str]:
    """Every stack: those of the services (``docker stack ls``) and, once listed, those
    that only have networks, secrets or configs left (a stack removed halfway)."""
    names = {s.stack for s in state.services.values() if s.stack} | objects.stacks
    return sorted(names)


@dataclass(frozen=True, slots=True)
class StackSummary:
    """One row of the stacks view."""

    name: str
    services: int
    running: int | None  # None: a service's counts are unknown (listed without status)
    desired: int | None
    failing: int
    updating: int
    objects: StackObjects

    @property
    def replicas_text(self) -> str:
        running = "?" if self.running is None else str(self.running)
        desired = "?" if self.desired is None else str(self.desired)
        return f"{running}/{desired}"


def _desired(svc: Service) -> int | None:
    return svc.replicas if svc.desired is None else svc.desired


def stack_summaries(state: ClusterState,
                    objects: StackObjects = NO_OBJECTS) -> list[StackSummary]:
    """Every stack with its health, by name."""
    failing = set(failing_services(state))
    out = []
    for name in stack_names(state, objects):
        services = stack_services(state, name)
        running: int | None = 0
        desired: int | None = 0
        for svc in services:
            want = _desired(svc)
            running = None if running is None or svc.running is None else running + svc.running
            desired = None if desired is None or want is None else desired + want
        updating = sum(1 for s in services if s.update_status and s.update_status.in_progress)
        out.append(StackSummary(
            name=name, services=len(services), running=running, desired=desired,
            failing=sum(1 for s in services if s.id in failing), updating=updating,
            objects=objects.of(name),
        ))
    return out


STACK_COLUMNS = ("NAME", "SERVICES", "REPLICAS", "FAILING", "UPDATING", "NETWORKS", "SECRETS",
                 "CONFIGS")


def summary_cells(summary: StackSummary) -> tuple[str, ...]:
    o = summary.objects

    def count(kind: str, items: tuple[StackObject, ...]) -> str:
        return str(len(items)) if kind in o.listed_kinds else "?"

    return (summary.name, str(summary.services), summary.replicas_text,
            str(summary.failing) if summary.failing else "-",
            str(summary.updating) if summary.updating else "-",
            count("network", o.networks), count("secret", o.secrets),
            count("config", o.configs))


def stack_rows(state: ClusterState, objects: StackObjects = NO_OBJECTS) -> list[Row]:
    """The stacks view's rows, keyed by stack name (a stack has no ID)."""
    return [(s.name, summary_cells(s)) for s in stack_summaries(state, objects)]


# -- docker stack services / ps, as text for the stack's detail ---------------------------

def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded like the CLI's tabwriter (3 spaces between columns)."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in (header, *rows)]
    return "\n".join(lines) + "\n"


def _ports(svc: Service) -> str:
    return ", ".join(f"*:{p.published}->{p.target}/{p.protocol}"
                     for p in svc.ports if p.published)


def stack_services_text(state: ClusterState, stack: str) -> str:
    """``docker stack services STACK``: ID, NAME, MODE, REPLICAS, IMAGE, PORTS."""
    rows = [(s.id[:12], s.name, s.mode, s.replicas_text, s.image.split("@")[0], _ports(s))
            for s in stack_services(state, stack)]
    return _table(("ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"), rows)


def _pretty(value: str) -> str:
    return value[:1].upper() + value[1:]


def _current_state(task: Task, now_ns: int) -> str:
    if task.status_ns is None:
        return _pretty(task.state)
    return f"{_pretty(task.state)} {human_duration_ns(max(0, now_ns - task.status_ns))} ago"


def stack_tasks(state: ClusterState, stack: str) -> list[Task]:
    """The tasks of ``stack`` in ``docker stack ps``' order: by service name, slot (or
    node), newest first within a slot."""
    services = {s.id: s for s in stack_services(state, stack)}

    def key(t: Task) -> tuple[str, int, str, int]:
        svc = services[t.service_id]
        return (svc.name, t.slot or 0, t.node_id or "", -(t.created_ns or 0))

    return sorted((t for t in state.tasks.values() if t.service_id in services), key=key)


def stack_ps_text(state: ClusterState, stack: str, now_ns: int) -> str:
    """``docker stack ps STACK``: a slot's older tasks marked ``\\_``, errors quoted."""
    services = {s.id: s for s in stack_services(state, stack)}
    nodes = state.nodes
    rows = []
    last_slot: tuple[str, str] | None = None
    for task in stack_tasks(state, stack):
        svc = services[task.service_id]
        slot = str(task.slot) if task.slot is not None and not svc.is_global else (
            task.node_id or "")
        name = f"{svc.name}.{slot}"
        if last_slot == (svc.id, slot):
            name = f" \\_ {name}"
        last_slot = (svc.id, slot)
        node = nodes.get(task.node_id or "")
        error = f'"{task.err}"' if task.err else ""
        rows.append((task.id[:12], name, (task.image or svc.image).split("@")[0],
                     node.hostname if node else "", _pretty(task.desired_state),
                     _current_state(task, now_ns), error))
    return _table(("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"),
                  rows)


def stack_objects_text(objects: StackObjects) -> str:
    """What a stack uses besides services: one line per network, secret and config."""
    lines = [f"{o.kind:<8} {o.name}  ({o.id[:12]})"
             for o in (*objects.networks, *objects.secrets, *objects.configs)]
    missing = [f"{kind}s" for kind in OBJECT_KINDS if kind not in objects.listed_kinds]
    if missing:
        lines.append(f"({' and '.join(missing)} not read)")
    elif not lines:
        lines.append("(no networks, secrets or configs)")
    return "\n".join(lines) + "\n"


def stack_detail_text(state: ClusterState, objects: StackObjects, stack: str,
                      now_ns: int) -> str:
    """A stack's services, tasks and what it uses, for its detail dialog."""
    return (f"services (docker stack services {stack}):\n"
            f"{stack_services_text(state, stack)}\n"
            f"tasks (docker stack ps {stack}):\n"
            f"{stack_ps_text(state, stack, now_ns)}\n"
            f"uses:\n{stack_objects_text(objects.of(stack))}")


# -- compose files -------------------------------------------------------------------------

_KEY_RE = re.compile(r"""^(?P<indent>[ \t]*)(?P<key>"[^"]*"|'[^']*'|[^\s:#"'][^:#]*?)\s*:(\s|$)""")


def compose_service_names(text: str) -> tuple[str, ...]:
    """The keys under a compose file's top-level ``services:``, in file order.

    Not a YAML parser (none is a dependency): it reads block-style files such as ``docker
    stack config`` prints and people write. The docker CLI stays the judge of the file; this
    only lets the preview name what it will deploy."""
    return tuple(key for indent, level, key, _ in _services_lines(text) if indent == level)


def _services_lines(text: str) -> Iterator[tuple[int, int, str, str]]:
    """``(indent, level, key, value)`` of each ``key: value`` line under the top-level
    ``services:`` key, ``level`` being the indent of the service names (block style only)."""
    inside = False
    level: int | None = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY_RE.match(line)
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            inside = match is not None and match.group("key") == "services"
            level = None
            continue
        if not inside or match is None:
            continue
        if level is None:
            level = indent
        yield indent, level, match.group("key").strip("\"'"), line[match.end():].strip()


def compose_service_images(text: str) -> tuple[tuple[str, str], ...]:
    """``(service, image)`` for each service of a compose file that names an image, read the
    way :func:`compose_service_names` reads (block style, as ``docker stack config`` prints
    it): the preview refuses a reference the engine would refuse on create."""
    found: list[tuple[str, str]] = []
    service: str | None = None
    child: int | None = None  # the indent of a service's own keys
    for indent, level, key, value in _services_lines(text):
        if indent == level:
            service, child = key, None
            continue
        if child is None:
            child = indent
        if service is not None and indent == child and key == "image":
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            found.append((service, value))
    return tuple(found)
