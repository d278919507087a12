"""Pure presentation of disk usage and prune: prune kinds and their names, usage bars, the
preview text of a :class:`~swarmtui.model.disk.prune_plan.PrunePlan`, the outcome of a prune as the
engine reported it, and which swarm nodes no engine covers.

Stdlib only, no IO. The engine layer (``swarmtui/engine/disk.py``) fills the data classes
here; the CLI and the screens print them. May import every other module of the package and
:mod:`swarmtui.model.dockerfmt`; none of them imports this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from swarmtui.model.disk.prune_plan import PruneItem, PrunePlan
from swarmtui.model.disk.prune_result import (
    PlanDiff,
    PruneResult,
    render_prune_result,
    render_system_prune_result,
)
from swarmtui.model.disk.render import CliStyle, tabwrite
from swarmtui.model.disk.usage import UsageRow
from swarmtui.model.dockerfmt import human_size, parse_api_version, percent_of, truncate_id

# --------------------------------------------------------------------------------------------
# Prune kinds and options
# --------------------------------------------------------------------------------------------

CLI_KINDS: Final = ("containers", "images", "volumes", "networks", "build-cache", "system")
"""The ``KIND`` argument of ``swarmtui prune``."""

_CLI_TO_MODEL: Final = {
    "containers": "containers",
    "images": "images",
    "volumes": "volumes",
    "networks": "networks",
    "build-cache": "build_cache",
    "build_cache": "build_cache",
    "builder": "build_cache",
    "system": "system",
}


def model_kind(kind: str) -> str:
    """``build-cache`` -> ``build_cache``; the model's kind names otherwise unchanged.

    Raises ValueError for an unknown kind."""
    try:
        return _CLI_TO_MODEL[kind]
    except KeyError:
        raise ValueError(
            f"unknown prune kind {kind!r} (choose from: {', '.join(CLI_KINDS)})"
        ) from None


@dataclass(frozen=True, slots=True)
class PruneOptions:
    """What the prune commands' flags mean, per kind.

    ``all``: images -- every unused image, not only dangling ones (``-a``); volumes -- named
    volumes too (``--all``, API >= 1.42; older engines always prune every unused volume);
    build cache -- internal, frontend and shared records too (``--all``); system -- both
    (``-a``). ``volumes``: system prune only, also prune volumes (``--volumes``).
    ``keep_storage``: build cache only, bytes of cache to keep (sent as ``keep-storage`` up to
    API 1.47, ``reserved-space`` from 1.48); the preview then shows the most it can remove.
    """

    all: bool = False
    volumes: bool = False
    keep_storage: int | None = None


def prune_heading(kind: str, options: PruneOptions) -> str:
    """``Prune all unused images`` / ``System prune --all``."""
    title = prune_title(kind, options)
    return (
        "System prune" + title[len("system prune") :]
        if title.startswith("system")
        else ("Prune " + title)
    )


def prune_title(kind: str, options: PruneOptions) -> str:
    """A short human name: ``images (all unused)``, ``system --all --volumes``."""
    kind = model_kind(kind)
    if kind == "system":
        flags = (" --all" if options.all else "") + (" --volumes" if options.volumes else "")
        return "system prune" + flags
    detail = {
        "containers": "stopped containers",
        "images": "all unused images" if options.all else "dangling images",
        "volumes": "unused volumes, named too" if options.all else "unused volumes",
        "networks": "unused networks",
        "build_cache": "all build cache" if options.all else "unused build cache",
    }[kind]
    return detail


def needs_typed_confirmation(kind: str, options: PruneOptions) -> bool:
    """Volume data cannot be recovered: volume prunes (and ``system --volumes``) are confirmed
    by typing the engine's name."""
    kind = model_kind(kind)
    return kind == "volumes" or (kind == "system" and options.volumes)


def typed_confirmation_text(engine_names: Sequence[str]) -> str:
    """What the user types to confirm a volume prune: the engine's name, or the names of all
    engines separated by single spaces."""
    return " ".join(engine_names)


# --------------------------------------------------------------------------------------------
# Usage panels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanelRow:
    """One panel row as shown: the CLI's strings plus the bar proportions."""

    type: str
    total: str
    active: str
    size: str
    reclaimable: str
    reclaimable_percent: int | None
    used_cells: int
    reclaimable_cells: int
    width: int


def usage_cells(row: UsageRow, width: int) -> tuple[int, int]:
    """(in-use cells, reclaimable cells) of a bar ``width`` cells wide; the rest is empty.

    The full bar is SIZE; the reclaimable part is clamped to ``[0, SIZE]`` (engines can report
    a reclaimable size above SIZE or below 0). A non-zero part gets at least one cell."""
    if width <= 0 or row.total_size <= 0:
        return (0, 0)
    recl = min(max(row.reclaimable, 0), row.total_size)
    used = row.total_size - recl
    recl_cells = round(recl * width / row.total_size)
    if recl > 0:
        recl_cells = max(recl_cells, 1)
    if used > 0:
        recl_cells = min(recl_cells, width - 1)
    return (width - recl_cells, recl_cells)


def panel_rows(rows: Iterable[tuple[str, UsageRow]], width: int = 20) -> list[PanelRow]:
    """The four ``docker system df`` rows with bars (``DiskUsage.rows()``)."""
    out = []
    for kind, row in rows:
        pct = (
            percent_of(row.reclaimable, row.total_size)
            if kind != "Build Cache" and row.total_size > 0
            else None
        )
        recl = human_size(row.reclaimable) + (f" ({pct}%)" if pct is not None else "")
        used, rec = usage_cells(row, width)
        out.append(
            PanelRow(
                kind,
                str(row.total_count),
                str(row.active_count),
                human_size(row.total_size),
                recl,
                pct,
                used,
                rec,
                width,
            )
        )
    return out


def cli_style_for(api_version: str) -> CliStyle:
    """Which docker CLI's ``-v`` tables to match: the one shipped with the engine's API
    (20.10 for API 1.41 and older, else the current layout)."""
    return "20.10" if parse_api_version(api_version) <= (1, 41) else "28"


def format_age_s(seconds: float) -> str:
    """``4s``, ``3m``, ``2h05m``, ``3d`` -- compact data ages."""
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


# --------------------------------------------------------------------------------------------
# Coverage: which swarm nodes have an engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwarmNodeRef:
    """A swarm node as far as coverage is concerned."""

    id: str
    hostname: str
    role: str = "worker"
    state: str = "ready"


def uncovered_nodes(
    nodes: Iterable[SwarmNodeRef], covered_ids: Iterable[str]
) -> list[SwarmNodeRef]:
    """Swarm nodes whose engine is not among the configured ones, by hostname."""
    covered = set(covered_ids)
    return sorted((n for n in nodes if n.id not in covered), key=lambda n: (n.hostname, n.id))


def coverage_hint(missing: Sequence[SwarmNodeRef]) -> str:
    """One paragraph saying which nodes are not covered and how to add them."""
    if not missing:
        return ""
    names = ", ".join(f"{n.hostname} ({n.role}, {n.state})" for n in missing)
    example = missing[0].hostname
    return (
        f"Not covered (a manager cannot see a worker's disk): {names}. "
        f"Add one engine per node: swarmtui --engine {example}=URL "
        "(unix://…, tcp://HOST:2376, ssh://user@HOST, or a docker context name), "
        "or list them under [engines] in $XDG_CONFIG_HOME/swarmtui/engines.toml."
    )


def coverage_text(
    missing: Sequence[SwarmNodeRef], not_probed: Mapping[str, str], probe_hint: str = ""
) -> str:
    """The disk screen's paragraph on uncovered nodes: those the last node probe could not
    reach with its reason (drained, paused, down, too old), then the others with how to add
    them (and ``probe_hint``, how to probe them, when probing is possible)."""
    if not missing:
        return ""
    explained = [n for n in missing if n.id in not_probed]
    rest = [n for n in missing if n.id not in not_probed]
    parts = []
    if explained:
        parts.append("Not covered by the node probe: " + "; ".join(
            f"{n.hostname} ({n.role}, {n.state}): {not_probed[n.id]}" for n in explained) + ".")
    if rest:
        parts.append(coverage_hint(rest) + (f" Or {probe_hint}." if probe_hint else ""))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Prune preview
# --------------------------------------------------------------------------------------------

_STEP_TITLES: Final = {
    "containers": "Containers",
    "networks": "Networks",
    "volumes": "Volumes",
    "images": "Images",
    "build_cache": "Build cache",
}
_NOUNS: Final = {
    "containers": ("container", "containers"),
    "networks": ("network", "networks"),
    "volumes": ("volume", "volumes"),
    "images": ("image", "images"),
    "build_cache": ("build cache record", "build cache records"),
}


def _count(kind: str, n: int) -> str:
    one, many = _NOUNS.get(kind, ("object", "objects"))
    return f"{n} {one if n == 1 else many}"


def item_label(item: PruneItem) -> str:
    """What to call an item: its name (every reference an image loses), with the short ID for
    images and containers."""
    name = ", ".join(item.untags) if item.kind == "image" and item.untags else item.name
    if item.kind in ("image", "container") and name != truncate_id(item.id):
        return f"{name} ({truncate_id(item.id)})"
    return name


def non_local_volumes(plan: PrunePlan) -> list[PruneItem]:
    """Volumes kept because their driver is not local (shared storage), across steps."""
    steps = plan.steps or (plan,)
    return [
        k
        for s in steps
        for k in s.kept
        if k.kind == "volume" and k.flags and "is not local" in k.flags[0]
    ]


def estimate_text(plan: PrunePlan) -> str:
    """``1.234MB`` or ``1.234MB (up to 2MB)`` for image plans with an upper bound."""
    bounds = [s.max_bytes for s in (plan.steps or (plan,)) if s.max_bytes is not None]
    text = human_size(plan.estimated_bytes)
    if bounds:
        upper = (
            plan.estimated_bytes
            - sum(s.estimated_bytes for s in (plan.steps or (plan,)) if s.max_bytes is not None)
            + sum(bounds)
        )
        if upper > plan.estimated_bytes:
            text += f" (up to {human_size(upper)})"
    return text


def request_text(plan: PrunePlan, *, per_item: bool) -> str:
    """The request(s) a step is performed with."""
    if per_item:
        return "DELETE /images/{reference} for each listed image (not the blanket prune)"
    query = "&".join(f"{k}={v}" for k, v in plan.query)
    return f"POST {plan.endpoint}" + (f"?{query}" if query else "")


_SERVICE_REASONS: Final = ("used by service", "needed for rollback of service")


def _step_lines(step: PrunePlan, *, per_item: bool) -> list[str]:
    lines: list[str] = []
    if step.items:
        rows = [["NAME", "ACTION", "SIZE", "NOTES"]]
        for it in step.items:
            rows.append([item_label(it), it.action, human_size(it.size), "; ".join(it.flags)])
        lines += [
            "  " + line.rstrip() for line in tabwrite(rows, minwidth=1, padding=2).splitlines()
        ]
    else:
        lines.append("  nothing to remove")
    if step.protected:
        lines.append("  Protected -- kept because a service needs them:")
        for it in step.protected:
            reasons = [f for f in it.flags if f.startswith(_SERVICE_REASONS)]
            engine = [f for f in it.flags if f.startswith("the engine's prune")]
            lines.append(
                f"  * {item_label(it)}: " + "; ".join(reasons) + "".join(f" ({e})" for e in engine)
            )
    for it in non_local_volumes(step):
        lines.append(f"  ! kept, {it.flags[0]}: {it.name} (shared storage is never pruned here)")
    lines.append("  via " + request_text(step, per_item=per_item))
    return lines


def render_plan_text(plan: PrunePlan, *, title: str, per_item_steps: Sequence[str] = ()) -> str:
    """The preview: what will be removed (per step for ``system``), sizes, protected images
    with their reasons, non-local volumes, warnings and the estimated space. ``per_item_steps``:
    kinds done by per-image deletes because the blanket endpoint is unsafe."""
    lines = [title]
    steps = plan.steps or (plan,)
    total = len(plan.items)
    what = _count(plan.kind, total) if plan.kind != "system" else _count("", total)
    lines.append(f"Will remove {what}, freeing about {estimate_text(plan)}.")
    for step in steps:
        if plan.kind == "system":
            lines.append(
                f"{_STEP_TITLES.get(step.kind, step.kind)}: {_count(step.kind, len(step.items))}"
            )
        lines += _step_lines(step, per_item=step.kind in per_item_steps)
    if plan.warnings:
        lines.append("Warnings:")
        lines += [f"  ! {w}" for w in plan.warnings]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Outcome of a prune
# --------------------------------------------------------------------------------------------

Method = Literal["endpoint", "per-item", "not run"]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One prune request (or one run of per-item deletes) and what the engine answered.

    ``result`` is exactly what the engine reported (None when the step failed or did not run).
    For per-item image deletes the engine reports no space: ``space_note`` then says how
    ``result.space_reclaimed`` was measured.
    """

    kind: str
    method: Method
    result: PruneResult | None = None
    error: str | None = None
    space_note: str = ""
    request: str = ""


@dataclass(frozen=True, slots=True)
class PruneOutcome:
    """What one engine did for one confirmed plan.

    ``refused``: why nothing was sent (read-only, the engine changed since the preview, a
    safety guard); ``diff``: the plan compared with what was removed."""

    engine: str
    kind: str
    title: str
    steps: tuple[StepOutcome, ...] = ()
    refused: str | None = None
    diff: PlanDiff | None = None

    @property
    def results(self) -> tuple[PruneResult, ...]:
        return tuple(s.result for s in self.steps if s.result is not None)

    @property
    def errors(self) -> tuple[str, ...]:
        out = [s.error for s in self.steps if s.error]
        if self.refused:
            out.insert(0, self.refused)
        return tuple(out)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def space_reclaimed(self) -> int:
        return sum(r.reclaimed for r in self.results)


def render_outcome(outcome: PruneOutcome) -> str:
    """The docker CLI's output for what the engine reported (``Deleted …``, ``Total reclaimed
    space``); empty when nothing ran. Errors and notes: :func:`outcome_notes`."""
    results = outcome.results
    if not results:
        return ""
    if outcome.kind == "system":
        return render_system_prune_result(results)
    return render_prune_result(results[0])


def _step_name(kind: str) -> str:
    return _STEP_TITLES.get(kind, kind).lower()


def outcome_notes(outcome: PruneOutcome) -> list[str]:
    """One line per refusal, error, step not run and measured (not reported) space."""
    if outcome.refused:
        return [f"refused, nothing was changed: {outcome.refused}"]
    notes = []
    for s in outcome.steps:
        if s.error:
            notes.append(f"error ({_step_name(s.kind)}): {s.error}")
        elif s.method == "not run":
            notes.append(f"not run ({_step_name(s.kind)}): an earlier step failed")
        elif s.space_note:
            notes.append(f"note ({_step_name(s.kind)}): {s.space_note}")
    return notes


def render_diff(diff: PlanDiff | None) -> str:
    """One line comparing the preview with what the engine removed."""
    if diff is None:
        return ""
    copies = ""
    if diff.node_copies:
        copies = (f" The engine also reports {', '.join(diff.node_copies)} deleted: only this "
                  "node's copy (no task had an endpoint here just then); the swarm network "
                  "stays, in use.")
    if diff.matches:
        return "Removed exactly what the preview listed." + copies
    parts = []
    if diff.planned_not_removed:
        parts.append(f"{len(diff.planned_not_removed)} listed but not removed")
    if diff.removed_not_planned:
        parts.append(f"{len(diff.removed_not_planned)} removed but not listed")
    return "Differs from the preview: " + ", ".join(parts) + "." + copies
