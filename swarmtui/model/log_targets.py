"""What a log session follows: stacks, services, a name pattern — and which services match.

Pure (no IO). A stack is only the ``com.docker.stack.namespace`` label on its services, so
"follow a stack" means "follow every service carrying that label", re-evaluated whenever the
service list changes (services deployed into the stack later are picked up).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarmtui.model.state import ClusterState
from swarmtui.model.types import Service


@dataclass(frozen=True, slots=True)
class LogTargets:
    """A selection of services. Empty (no stack, no service, no pattern) means all services.

    ``services`` entries match a service name, its full ID, or a unique ID prefix (like the
    docker CLI). ``pattern`` is a regular expression searched in service names.
    """

    stacks: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    pattern: str | None = None

    @property
    def is_all(self) -> bool:
        return not (self.stacks or self.services or self.pattern)

    def describe(self) -> str:
        """One line for the screen: ``stack web · service api · /^db/`` or ``all services``."""
        if self.is_all:
            return "all services"
        parts = [f"stack {s}" for s in self.stacks]
        parts += [f"service {s}" for s in self.services]
        if self.pattern:
            parts.append(f"/{self.pattern}/")
        return " · ".join(parts)

    def to_text(self) -> str:
        """The inverse of :func:`parse_targets` (for pre-filling an input box)."""
        words = [f"stack:{s}" for s in self.stacks] + list(self.services)
        if self.pattern:
            words.append(f"/{self.pattern}/")
        return " ".join(shlex.quote(w) if " " in w else w for w in words)


def parse_targets(text: str) -> LogTargets:
    """Parse ``stack:web api worker /^db-/`` (``service:x`` also accepted; empty = all).

    Raises ValueError for an invalid regular expression or unbalanced quotes.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot parse {text!r}: {exc}") from None
    stacks: list[str] = []
    services: list[str] = []
    patterns: list[str] = []
    for word in words:
        if len(word) >= 2 and word.startswith("/") and word.endswith("/"):
            patterns.append(word[1:-1])
            continue
        key, sep, value = word.partition(":")
        if sep and key in ("stack", "s") and value:
            stacks.append(value)
        elif sep and key in ("service", "svc") and value:
            services.append(value)
        elif sep and key in ("pattern", "re") and value:
            patterns.append(value)
        else:
            services.append(word)
    pattern = "|".join(f"(?:{p})" for p in patterns) if len(patterns) > 1 else None
    if len(patterns) == 1:
        pattern = patterns[0]
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc.msg}") from None
    return LogTargets(tuple(stacks), tuple(services), pattern)


def _service_matches_ref(svc: Service, ref: str, all_ids: Sequence[str]) -> bool:
    if ref in (svc.name, svc.id):
        return True
    # A unique ID prefix, like the docker CLI (ambiguous prefixes match nothing).
    if len(ref) >= 1 and svc.id.startswith(ref):
        return sum(1 for i in all_ids if i.startswith(ref)) == 1
    return False


def select_services(state: ClusterState, targets: LogTargets) -> list[Service]:
    """The services ``targets`` selects right now, sorted by name."""
    services = list(state.services.values())
    if targets.is_all:
        return sorted(services, key=lambda s: (s.name, s.id))
    ids = [s.id for s in services]
    rx = re.compile(targets.pattern) if targets.pattern else None
    chosen = []
    for svc in services:
        if (
            (targets.stacks and svc.stack in targets.stacks)
            or any(_service_matches_ref(svc, ref, ids) for ref in targets.services)
            or (rx is not None and rx.search(svc.name) is not None)
        ):
            chosen.append(svc)
    return sorted(chosen, key=lambda s: (s.name, s.id))


def resolve_names(state: ClusterState, names: Iterable[str]) -> tuple[LogTargets, list[str]]:
    """Command-line targets: each name is a service (name, ID, unique ID prefix) or a stack.

    Returns the targets and the names that matched nothing. A name that is both a service
    and a stack is taken as the service (like ``docker service logs``) plus the stack.
    """
    services = list(state.services.values())
    ids = [s.id for s in services]
    stacks = {s.stack for s in services if s.stack}
    svc_refs: list[str] = []
    stack_refs: list[str] = []
    unknown: list[str] = []
    for name in names:
        is_service = any(_service_matches_ref(s, name, ids) for s in services)
        if is_service:
            svc_refs.append(name)
        if name in stacks:
            stack_refs.append(name)
        if not is_service and name not in stacks:
            unknown.append(name)
    return LogTargets(tuple(stack_refs), tuple(svc_refs)), unknown


def parse_window(
    text: str, now_ns: int, *, local_offset_s: int = 0
) -> tuple[int | None, int | None]:
    """The pane's since/tail choice -> ``(tail, since_ns)``.

    ``500`` = the last 500 lines of each task; ``5m``/``1h30m`` = since that long ago;
    ``2026-11-25T12:00`` (or any ``--since`` form) = since that time; ``all`` = everything.
    Raises ValueError with a readable message.
    """
    from swarmtui.model.logs import parse_since

    value = text.strip().lower()
    if value in ("", "all"):
        return None, None
    if value.isdigit():
        return int(value), None
    return None, parse_since(text.strip(), now_ns, local_offset_s=local_offset_s)


def describe_window(tail: int | None, since_ns: int | None, now_ns: int) -> str:
    """``last 200 lines`` / ``since 5m ago`` / ``since 2026-11-25 12:00:00Z`` / ``all lines``."""
    import datetime as _dt

    if since_ns is not None:
        ago_s = (now_ns - since_ns) // 1_000_000_000
        if 0 <= ago_s < 48 * 3600 and ago_s % 60 == 0:
            hours, minutes = divmod(ago_s // 60, 60)
            span = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")
            return f"since {span} ago"
        when = _dt.datetime.fromtimestamp(since_ns / 1e9, tz=_dt.UTC)
        return f"since {when:%Y-%m-%d %H:%M:%S}Z"
    if tail is not None:
        return f"last {tail} lines per task"
    return "all lines"
