"""The visualizer grid as a pure function of a snapshot and view options.

One column per node (plus an "unassigned" column for tasks no node took), each a list of
styled lines: a header block (node identity and health) and a body (task cards). The widget
only paints these lines; everything a user can see on the grid is decided here and tested.
"""

from __future__ import annotations

import textwrap
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from swarmtui.model.state import ClusterState
from swarmtui.model.taskindex import UNASSIGNED_NODE
from swarmtui.model.times import NS_PER_S, coarse_age, coarse_age_changes_at
from swarmtui.model.types import LIVE_DESIRED_STATES, Node, Service, Task

DENSITIES = ("cards", "lines", "counts")
SHOW_MODES = ("running", "all", "failed")
SERVICE_TINTS = 8  # well-separated hues, none near a state colour (styles/grid.tcss)
UNASSIGNED = "~unassigned"
ERROR_LINES = 3
CARD_EXACT_AGE_S = 10  # card ages read to the second while a task is this young
# States of a task that is (nearly) up, whatever its desired state.
_UP_STATES = frozenset({"running", "starting", "preparing", "ready"})

# Task states in the order cards are stacked under a node.
_STATE_RANK = {
    "running": 0,
    "starting": 1,
    "ready": 1,
    "preparing": 1,
    "accepted": 2,
    "assigned": 2,
    "pending": 3,
    "allocated": 3,
    "new": 3,
    "failed": 4,
    "rejected": 4,
    "shutdown": 5,
    "complete": 5,
    "orphaned": 6,
    "remove": 6,
}


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with a semantic style name (mapped to colours by the widget's CSS)."""

    text: str
    style: str = ""
    tint: int | None = None  # service colour index, for the card's bar


Line = tuple[Span, ...]


Body = tuple[tuple[Line, ...], tuple[str | None, ...]]


class Column:
    """One node (or the unassigned bucket): header lines, body lines, and task ids per line.

    Immutable. The body may be given as a pure function of the column's inputs instead, with
    its height: it is then built on first read (``body``, ``task_at``) and kept. The grid
    reads the bodies of the columns in view only, so the first layout of 1,000 nodes builds
    a handful of bodies, not 30,000 cards (~0.5 s); a column scrolled to is built then.
    """

    __slots__ = (
        "_body",
        "_build",
        "_task_ids",
        "attention",
        "header",
        "height",
        "key",
        "running",
        "title"
    )

    key: str
    title: str
    header: tuple[Line, ...]
    running: int
    attention: str  # "down", "drained" or "paused": what the header warns of
    height: int  # len(body), known without building it
    _body: Body | None
    _build: Callable[[], Body] | None
    _task_ids: tuple[str, ...]

    def __init__(
        self,
        key: str,
        title: str,
        header: tuple[Line, ...],
        body: tuple[Line, ...] = (),
        task_at: tuple[str | None, ...] = (),
        running: int = 0,
        attention: str = "",
        *,
        build: Callable[[], Body] | None = None,
        height: int | None = None,
        task_ids: tuple[str, ...] = (),
    ) -> None:
        init = object.__setattr__
        init(self, "key", key)
        init(self, "title", title)
        init(self, "header", header)
        init(self, "running", running)
        init(self, "attention", attention)
        if build is None:
            init(self, "_body", (body, task_at))
            init(self, "height", len(body))
        else:
            assert height is not None, "a body built later needs its height now"
            init(self, "_body", None)
            init(self, "height", height)
        init(self, "_build", build)
        init(self, "_task_ids", task_ids)  # the tasks a body still to build will show

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Column is immutable (cannot set {name})")

    def _built(self) -> Body:
        body = self._body
        if body is None:
            assert self._build is not None
            body = self._build()
            assert len(body[0]) == self.height, "a column's height must be its body's"
            object.__setattr__(self, "_body", body)
            object.__setattr__(self, "_build", None)
        return body

    @property
    def body(self) -> tuple[Line, ...]:
        return self._built()[0]

    @property
    def task_at(self) -> tuple[str | None, ...]:
        """The task id of each body line (None for spacers and stack headers)."""
        return self._built()[1]

    def shows(self, task_id: str) -> bool:
        """``task_id in task_at``, without building the body."""
        if self._body is None:
            return task_id in self._task_ids
        return task_id in self._body[1]

    @property
    def built(self) -> bool:
        """Whether the body exists yet (tests, benchmarks)."""
        return self._body is not None

    def _fields(self) -> tuple[object, ...]:
        return (self.key, self.title, self.header, *self._built(), self.running, self.attention)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Column):
            return NotImplemented
        return self is other or self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        state = "built" if self.built else "not built"
        return f"Column({self.key!r}, {self.title!r}, {self.height} lines {state})"


@dataclass(frozen=True, slots=True)
class GridOptions:
    density: str = "cards"
    show: str = "running"
    stack: str | None = None
    service: str | None = None
    node: str | None = None
    text: str = ""
    label: str | None = None  # "key" or "key=value" on the node's labels
    group_by_stack: bool = False
    show_labels: bool = False
    column_width: int = 30
    symbols: bool = False  # a glyph before each task state, for terminals without colour


@dataclass(frozen=True, slots=True)
class GridLayout:
    columns: tuple[Column, ...]
    column_width: int
    header_height: int
    body_height: int
    hidden_tasks: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def service_tint(name: str) -> int:
    """Stable colour index per service (crc32, not the salted ``hash``); the logs use it."""
    return zlib.crc32(name.encode()) % SERVICE_TINTS


def service_tints(services: Mapping[str, Service]) -> dict[str, int]:
    """Tint per service id. In name order (the order cards stack in) every run of
    SERVICE_TINTS services has distinct tints: each takes its own ``service_tint`` unless
    one of the services just before it has that, then the next free one."""
    out: dict[str, int] = {}
    recent: list[int] = []
    for sid, svc in sorted(services.items(), key=lambda item: (item[1].name, item[0])):
        tint = service_tint(svc.name)
        while tint in recent:
            tint = (tint + 1) % SERVICE_TINTS
        out[sid] = tint
        recent = [*recent, tint][-(SERVICE_TINTS - 1) :]
    return out


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def _image_tag(image: str) -> str:
    """``repo/name:tag@sha256:…`` -> ``name:tag`` (what fits on a card)."""
    ref = image.split("@", 1)[0]
    return ref.rsplit("/", 1)[-1] or image[:12]


def _bytes_short(n: int) -> str:
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit in ("B", "K") else f"{value:.1f}{unit}"
        value /= 1024
    return f"{n}B"


def task_label(task: Task, service: Service | None) -> str:
    name = service.name if service else task.service_id[:12]
    if task.slot is not None:
        return f"{name}.{task.slot}"
    return name


def _state_style(task: Task, node: Node | None) -> str:
    if node is not None and node.state != "ready":
        return "task-stale"
    if task.state == "running" and not task.wants_running:
        return "task-stopping"
    if task.state == "running":
        return "task-running"
    if task.state in ("failed", "rejected"):
        return "task-failed"
    if task.state in ("pending", "allocated", "new", "assigned"):
        return "task-pending"
    if task.state in ("shutdown", "complete", "remove", "orphaned"):
        return "task-shutdown"
    return "task-starting"


_ATTENTION_OF_STYLE = {"node-down": "down", "node-drain": "drained", "node-pause": "paused"}


# What a task state's colour says, as a glyph (NO_COLOR: the style alone is bold/reverse/…).
STATE_SYMBOLS = {
    "task-running": "●",
    "task-starting": "◐",
    "task-pending": "◌",
    "task-failed": "✕",
    "task-shutdown": "○",
    "task-stopping": "↓",
    "task-stale": "?",
}


def _node_status(node: Node) -> tuple[str, str]:
    if node.state != "ready":
        return node.state.upper(), "node-down"
    if node.availability == "drain":
        return "DRAINED", "node-drain"
    if node.availability == "pause":
        return "PAUSED", "node-pause"
    return "ready", "node-ready"


def _manager_text(node: Node) -> str:
    if not node.is_manager:
        return "worker"
    if node.leader:
        return "manager ★leader"
    return f"manager {node.reachability or '?'}"


def _node_header(node: Node, width: int, running: int, show_labels: bool) -> tuple[Line, ...]:
    status, style = _node_status(node)
    lines: list[Line] = [
        (
            Span(
                _fit(node.name, width - len(status) - 1).ljust(width - len(status)),
                f"{style} node-name",
            ),
            Span(status, style),
        ),
        (Span(_fit(_manager_text(node), width), "node-role"),),
        (
            Span(
                _fit(
                    f"{node.nano_cpus / 1e9:g} CPU {_bytes_short(node.memory_bytes)} "
                    f"{node.engine_version.split('+')[0]}",
                    width,
                ),
                "node-meta",
            ),
        ),
        (Span(_fit(f"{running} running", width), "node-meta"),),
    ]
    if show_labels:
        for key, value in node.labels:
            lines.append((Span(_fit(f"{key}={value}", width), "node-label"),))
    return tuple(lines)


def _visible(task: Task, show: str) -> bool:
    if show == "all":
        return True
    if show == "failed":
        return task.state in ("failed", "rejected") or bool(task.err)
    # "running": what is (or should be) up now, including tasks still shutting down during an
    # update and tasks the scheduler cannot place; not finished history.
    if task.wants_running:
        return True
    return task.state in _UP_STATES


def _task_matches(task: Task, service: Service | None, opts: GridOptions, label: str) -> bool:
    if opts.service and (service is None or service.name != opts.service):
        return False
    if opts.stack and (service is None or service.stack != opts.stack):
        return False
    if opts.text:
        needle = opts.text.lower()
        hay = f"{label} {task.image} {task.state} {task.err} {task.id}".lower()
        if needle not in hay:
            return False
    return True


def _node_matches(node: Node, opts: GridOptions) -> bool:
    if opts.node and opts.node not in (node.name, node.hostname, node.id):
        return False
    if opts.label:
        key, _, value = opts.label.partition("=")
        labels = dict(node.labels)
        if key not in labels or (value and labels[key] != value):
            return False
    return True


def _card(
    task: Task,
    service: Service | None,
    node: Node | None,
    width: int,
    now_ns: int,
    opts: GridOptions,
    tints: Mapping[str, int],
) -> list[Line]:
    density = opts.density
    label = task_label(task, service)
    tint = tints.get(task.service_id, service_tint(service.name if service else task.service_id))
    style = _state_style(task, node)
    state = "unknown (node down)" if style == "task-stale" else task.state
    if style == "task-stopping":
        state = f"running→{task.desired_state}"
    if density == "lines" and style == "task-stopping":
        state = "stopping"  # one line has no room for running→shutdown
    if opts.symbols:
        state = f"{STATE_SYMBOLS[style]} {state}"
    # Past 10 s a card's age row is rewritten every 10 s, not every second.
    age = coarse_age(now_ns, task.status_ns, exact_below_s=CARD_EXACT_AGE_S)
    bar = Span("▌", "task-bar", tint)
    inner = width - 1
    if density == "lines":
        tail = f" {state} {age}"
        return [
            (
                bar,
                Span(_fit(label, inner - len(tail)).ljust(max(0, inner - len(tail))), "task-name"),
                Span(_fit(tail, inner), style),
            )
        ]
    lines: list[Line] = [
        (bar, Span(_fit(label, inner).ljust(inner), "task-name")),
        (bar, Span(_fit(_image_tag(task.image), inner).ljust(inner), "task-image")),
        (bar, Span(_fit(f"{state} {age}", inner).ljust(inner), style)),
    ]
    for part in _reason_lines(task, inner):
        lines.append((bar, Span(part.ljust(inner), "task-error")))
    lines.append(())
    return lines


def _reason_lines(task: Task, inner: int) -> list[str]:
    """The error lines of a card (why it failed, or why it waits)."""
    reason = task.err or (task.message if task.state == "pending" else "")
    if not reason or task.state == "running":
        return []
    # Errors are the point of a failed card: wrap them rather than cut them short.
    wrapped = textwrap.wrap(reason, inner) or [""]
    if len(wrapped) > ERROR_LINES:
        wrapped = [*wrapped[: ERROR_LINES - 1], _fit(" ".join(wrapped[ERROR_LINES - 1 :]), inner)]
    return wrapped


def _card_height(task: Task, width: int, density: str) -> int:
    """``len(_card(task, ...))`` without building it: name, image, state, the reason's
    lines and a spacer (one line in the ``lines`` density)."""
    if density == "lines":
        return 1
    if task.state == "running" or not (task.err or (task.state == "pending" and task.message)):
        return 4
    return 4 + len(_reason_lines(task, width - 1))


def _sort_key(task: Task, services: Mapping[str, Service]) -> tuple[str, int, int, int]:
    svc = services.get(task.service_id)
    return (
        svc.name if svc else task.service_id,
        task.slot or 0,
        _STATE_RANK.get(task.state, 9),
        -(task.created_ns or 0),
    )


def _counts_lines(
    tasks: list[Task], services: Mapping[str, Service], width: int, tints: Mapping[str, int]
) -> list[tuple[Line, str | None]]:
    per: dict[str, list[Task]] = {}
    for t in tasks:
        per.setdefault(t.service_id, []).append(t)
    out: list[tuple[Line, str | None]] = []
    for sid in sorted(per, key=lambda s: services[s].name if s in services else s):
        group = per[sid]
        name = services[sid].name if sid in services else sid[:12]
        running = sum(1 for t in group if t.state == "running")
        bad = sum(1 for t in group if t.state in ("failed", "rejected"))
        pending = len(group) - running - bad
        counts = f"{running}"
        style = "task-running"
        if pending:
            counts += f" +{pending}…"
            style = "task-starting"
        if bad:
            counts += f" {bad}✗"
            style = "task-failed"
        inner = width - 1
        out.append(
            (
                (
                    Span("▌", "task-bar", tints.get(sid, service_tint(name))),
                    Span(
                        _fit(name, inner - len(counts) - 1).ljust(inner - len(counts)), "task-name"
                    ),
                    Span(counts, style),
                ),
                group[0].id,
            )
        )
    return out


def grid_layout(state: ClusterState, opts: GridOptions, now_ns: int) -> GridLayout:
    """Lay out the grid for ``state`` as the user asked to see it."""
    return GridLayouter().layout(state, opts, now_ns)


class GridLayouter:
    """``grid_layout`` with a memory: a column whose inputs did not change (the same node
    and task bucket objects of the snapshot's task index, the same names and ages) is reused
    as the very same object, so a change of one task re-lays one column, costs in proportion
    to that column, and the widget repaints only the rows that differ."""

    def __init__(self) -> None:
        # Per column key: the tasks it shows, picked from its node's bucket.
        self._selected: dict[
            str, tuple[object, object, frozenset[str], GridOptions, tuple[tuple[Task, ...], int]]
        ] = {}
        self._columns: dict[
            str, tuple[object, tuple[Task, ...], tuple[object, ...], Column, int, object]
        ] = {}
        self._names: dict[str, str] = {}
        self._tints: tuple[object, dict[str, int]] = (None, {})
        self._nodes: tuple[object, list[Node]] = (None, [])
        self._last: tuple[object, object, object, GridOptions, int, GridLayout] | None = None

    def layout(self, state: ClusterState, opts: GridOptions, now_ns: int) -> GridLayout:
        # Most snapshots change only the event feed or the connection: same nodes, services
        # and tasks (identity), same options, no card age ticked -> the same layout.
        last = self._last
        if (
            last is not None
            and last[0] is state.nodes
            and last[1] is state.services
            and last[2] is state.tasks
            and last[3] == opts
            and now_ns < last[4]
        ):
            return last[5]
        layout = self._layout(state, opts, now_ns)
        valid_until = min(
            (entry[4] for entry in self._columns.values()), default=now_ns + 3600 * NS_PER_S
        )
        self._last = (state.nodes, state.services, state.tasks, opts, valid_until, layout)
        return layout

    def _layout(self, state: ClusterState, opts: GridOptions, now_ns: int) -> GridLayout:
        width = max(12, opts.column_width)
        services = state.services
        if self._tints[0] is not services:
            self._tints = (services, service_tints(services))
        tints = self._tints[1]
        # What a card shows of its service; a changed tint re-lays the column too. Kept as
        # the same object while equal: columns compare it by identity.
        names = {sid: f"{s.name}\0{s.stack or ''}\0{tints[sid]}" for sid, s in services.items()}
        if names != self._names:
            self._names = names
        if self._nodes[0] is not state.nodes:
            self._nodes = (
                state.nodes,
                sorted(
                    state.nodes.values(),
                    key=lambda n: (not n.is_manager, not n.leader, n.name),
                ),
            )
        nodes = self._nodes[1]
        index = state.task_index
        # The newest failed attempts of slots with nothing running, by the node they are on
        # (few: the index keeps them per service).
        failures_at: dict[str, set[str]] = {}
        if opts.show == "running":
            for tid in index.last_failures:
                task = state.tasks[tid]
                failures_at.setdefault(task.node_id or UNASSIGNED_NODE, set()).add(tid)
        filtering = bool(opts.service or opts.stack or opts.text)
        hidden = 0
        columns: list[Column] = []
        unassigned, n_hidden = self._select(
            UNASSIGNED, index.node(UNASSIGNED_NODE), services, opts,
            frozenset(failures_at.get(UNASSIGNED_NODE, ())),
        )
        hidden += n_hidden
        if unassigned and not opts.node:
            columns.append(
                self._column(
                    UNASSIGNED, "unassigned", None, unassigned, services, opts, width, now_ns
                )
            )
        for node in nodes:
            matches = _node_matches(node, opts)
            if not matches and not filtering:
                continue
            shown, n_hidden = self._select(
                node.id, index.node(node.id), services, opts,
                frozenset(failures_at.get(node.id, ())),
            )
            hidden += n_hidden  # hidden by the task filter on any node, in view or not
            if matches:
                columns.append(
                    self._column(node.id, node.name, node, shown, services, opts, width, now_ns)
                )
        live = {c.key for c in columns}
        for key in [k for k in self._columns if k not in live]:
            del self._columns[key]
        for key in [k for k in self._selected if k != UNASSIGNED and k not in state.nodes]:
            del self._selected[key]
        header_height = max((len(c.header) for c in columns), default=0)
        body_height = max((c.height for c in columns), default=0)
        return GridLayout(tuple(columns), width, header_height, body_height, hidden)

    def _select(
        self,
        key: str,
        bucket: Mapping[str, Task],
        services: Mapping[str, Service],
        opts: GridOptions,
        failures: frozenset[str],
    ) -> tuple[tuple[Task, ...], int]:
        """The tasks of one node's bucket the grid shows, and how many the filter hides;
        the same tuple while the bucket, the names, its last failures and the options are."""
        cached = self._selected.get(key)
        if (
            cached is not None
            and cached[0] is bucket
            and cached[1] is self._names
            and cached[2] == failures
            and cached[3] == opts
        ):
            return cached[4]
        shown: list[Task] = []
        hidden = 0
        show = opts.show
        filtering = bool(opts.service or opts.stack or opts.text)
        for task in bucket.values():
            service = services.get(task.service_id)
            if service is None:
                continue  # ghost of a removed service: never shown, never counted
            if show == "running":
                if (
                    task.desired_state not in LIVE_DESIRED_STATES
                    and task.state not in _UP_STATES
                    and task.id not in failures
                ):
                    continue
            elif not _visible(task, show):
                continue
            if filtering and not _task_matches(task, service, opts, task_label(task, service)):
                hidden += 1
                continue
            shown.append(task)
        result = (tuple(shown), hidden)
        self._selected[key] = (bucket, self._names, failures, opts, result)
        return result

    def _column(
        self,
        key: str,
        title: str,
        node: Node | None,
        task_tuple: tuple[Task, ...],
        services: Mapping[str, Service],
        opts: GridOptions,
        width: int,
        now_ns: int,
    ) -> Column:
        # What the cards show besides the task objects: service names/stacks (compared only
        # when they changed), and ages, which stay the same until the soonest
        # card's age text ticks over.
        head = (title, opts, width)
        cached = self._columns.get(key)
        if (
            cached is not None
            and cached[0] is node
            and now_ns < cached[4]
            and cached[2][:3] == head
            and (
                cached[1] is task_tuple
                or (
                    len(cached[1]) == len(task_tuple)
                    and all(a is b for a, b in zip(cached[1], task_tuple, strict=True))
                )
            )
        ):
            # The names of every service as the cards show them, by identity (kept while
            # equal), then those of this column's tasks only.
            if cached[5] is self._names:
                return cached[3]
            meta = self._meta(head, task_tuple)
            if meta == cached[2]:
                self._columns[key] = (cached[0], task_tuple, *cached[2:5], self._names)
                return cached[3]
        column = _column(
            key, title, node, list(task_tuple), services, opts, width, now_ns, self._tints[1]
        )
        valid_until = min(
            (coarse_age_changes_at(now_ns, t.status_ns, CARD_EXACT_AGE_S) for t in task_tuple),
            default=now_ns + 3600 * NS_PER_S,
        )
        self._columns[key] = (
            node,
            task_tuple,
            self._meta(head, task_tuple),
            column,
            valid_until,
            self._names,
        )
        return column

    def _meta(self, head: tuple[object, ...], tasks: tuple[Task, ...]) -> tuple[object, ...]:
        names = self._names
        return (*head, *(names.get(t.service_id, "") for t in tasks))


def _column(
    key: str,
    title: str,
    node: Node | None,
    tasks: list[Task],
    services: Mapping[str, Service],
    opts: GridOptions,
    width: int,
    now_ns: int,
    tints: Mapping[str, int],
) -> Column:
    running = sum(
        1 for t in tasks if t.state == "running" and (node is None or node.state == "ready")
    )
    if node is None:
        header: tuple[Line, ...] = (
            (Span(_fit("unassigned", width).ljust(width), "node-down node-name"),),
            (Span(_fit("tasks no node can take", width), "node-role"),),
            (Span("", "node-meta"),),
            (Span(_fit(f"{len(tasks)} waiting", width), "node-meta"),),
        )
    else:
        header = _node_header(node, width, running, opts.show_labels)
    attention = "" if node is None else _ATTENTION_OF_STYLE.get(_node_status(node)[1], "")

    def build() -> Body:
        return _body(tasks, services, node, opts, width, now_ns, tints)

    if opts.density == "counts" or opts.group_by_stack:
        body, task_at = build()  # few lines, or a height that depends on the order
        return Column(key, title, header, body, task_at, running, attention)
    # The cards are built when the column is first drawn (Column): most are out of view.
    height = sum(_card_height(t, width, opts.density) for t in tasks)
    return Column(key, title, header, running=running, attention=attention, build=build,
                  height=height, task_ids=tuple(t.id for t in tasks))


def _body(
    tasks: list[Task],
    services: Mapping[str, Service],
    node: Node | None,
    opts: GridOptions,
    width: int,
    now_ns: int,
    tints: Mapping[str, int],
) -> Body:
    """A column's card lines and the task of each line."""
    tasks = sorted(tasks, key=lambda t: _sort_key(t, services))
    body: list[Line] = []
    task_at: list[str | None] = []
    if opts.density == "counts":
        for line, tid in _counts_lines(tasks, services, width, tints):
            body.append(line)
            task_at.append(tid)
    else:
        current_stack: str | None = None
        for task in tasks:
            service = services.get(task.service_id)
            if opts.group_by_stack:
                stack = (service.stack if service else None) or "(no stack)"
                if stack != current_stack:
                    current_stack = stack
                    body.append(
                        (Span(_fit(f"── {stack} ", width).ljust(width, "─"), "stack-header"),)
                    )
                    task_at.append(None)
            for line in _card(task, service, node, width, now_ns, opts, tints):
                body.append(line)
                task_at.append(task.id if line else None)
    return tuple(body), tuple(task_at)


def out_of_view(layout: GridLayout, first: int, last: int) -> str:
    """What the columns outside ``first..last`` (those wholly in view) hide, so a node that
    is down is never silently off-screen: ``← 1 more node · → 3 more nodes (1 down)``."""
    parts = []
    for arrow, hidden in (
        ("←", layout.columns[: max(0, first)]),
        ("→", layout.columns[last + 1 :]),
    ):
        nodes = [c for c in hidden if c.key != UNASSIGNED]
        if not hidden:
            continue
        text = f"{arrow} {len(nodes)} more node{'' if len(nodes) == 1 else 's'}"
        if len(nodes) < len(hidden):
            text = f"{arrow} unassigned" if not nodes else f"{text} + unassigned"
        flags = [
            f"{n} {what}"
            for what in ("down", "drained", "paused")
            if (n := sum(1 for c in nodes if c.attention == what))
        ]
        if flags:
            text += f" ({', '.join(flags)})"
        parts.append(text)
    return " · ".join(parts)


def column_text(layout: GridLayout) -> Iterable[str]:
    """Plain text of the whole grid, line by line (used by tests and text screenshots)."""
    w = layout.column_width
    gap = " "
    for y in range(layout.header_height):
        yield gap.join(
            _line_text(c.header[y] if y < len(c.header) else (), w) for c in layout.columns
        ).rstrip()
    for y in range(layout.body_height):
        yield gap.join(
            _line_text(c.body[y] if y < len(c.body) else (), w) for c in layout.columns
        ).rstrip()


def _line_text(line: Line, width: int) -> str:
    return "".join(s.text for s in line)[:width].ljust(width)
