"""What a log session follows: stacks, services, a name pattern — and which services match.

Pure (no IO). A stack is only the ``com.docker.stack.namespace`` label on its services, so
"follow a stack" means "follow every service carrying that label", re-evaluated whenever the
service list changes (services deployed into the stack later are picked up).

One syntax for the pane's ``f`` prompt and ``swarmtui logs``: a bare ``NAME`` is a stack, a
service (name, ID or unique ID prefix) or both; ``stack:NAME`` and ``service:NAME`` say which;
``~REGEX`` follows the services whose name matches. :func:`resolve_targets` checks every
word against the current state, so a typo is reported instead of following nothing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarmtui.model.state import ClusterState
from swarmtui.model.types import Service

PATTERN_MARK = "~"


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

    def describe(self, state: ClusterState | None = None) -> str:
        """One line for the screen: ``stack web · service api · ~^db`` or ``all services``.

        Services are shown by name whenever ``state`` knows them (a request from the task
        details carries the service ID).
        """
        if self.is_all:
            return "all services"
        parts = [f"stack {s}" for s in self.stacks]
        parts += [f"service {service_label(state, s)}" for s in self.services]
        if self.pattern:
            parts.append(PATTERN_MARK + self.pattern)
        return " · ".join(parts)

    def to_text(self, state: ClusterState | None = None) -> str:
        """The inverse of :func:`parse_targets` (for pre-filling an input box), with names."""
        stacks = stack_names(state) if state is not None else set()
        words = [f"stack:{s}" for s in self.stacks]
        for ref in self.services:
            name = service_label(state, ref)
            words.append(f"service:{name}" if name in stacks else name)
        if self.pattern:
            words.append(PATTERN_MARK + self.pattern)
        return " ".join(shlex.quote(w) if " " in w else w for w in words)


@dataclass(frozen=True, slots=True)
class TargetWords:
    """The prompt's (or command line's) words, sorted by kind, not yet checked."""

    stacks: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # bare: a stack, a service, or both
    patterns: tuple[str, ...] = ()


def parse_targets(text: str) -> TargetWords:
    """Parse ``stack:web api worker ~^db-`` (empty = all services).

    Raises ValueError for an invalid regular expression or unbalanced quotes.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot parse {text!r}: {exc}") from None
    return parse_words(words)


def parse_words(words: Iterable[str]) -> TargetWords:
    """:func:`parse_targets` for words already split (command-line arguments)."""
    stacks: list[str] = []
    services: list[str] = []
    names: list[str] = []
    patterns: list[str] = []
    for word in words:
        if word.startswith(PATTERN_MARK) and len(word) > 1:
            pattern = word[1:]
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"invalid regular expression {pattern!r}: {exc.msg}"
                ) from None
            patterns.append(pattern)
            continue
        key, sep, value = word.partition(":")
        if sep and key in ("stack", "s") and value:
            stacks.append(value)
        elif sep and key in ("service", "svc") and value:
            services.append(value)
        elif word:
            names.append(word)
    return TargetWords(tuple(stacks), tuple(services), tuple(names), tuple(patterns))


def _join_patterns(patterns: Sequence[str]) -> str | None:
    if not patterns:
        return None
    if len(patterns) == 1:
        return patterns[0]
    return "|".join(f"(?:{p})" for p in patterns)


def _service_matches_ref(svc: Service, ref: str, all_ids: Sequence[str]) -> bool:
    if ref in (svc.name, svc.id):
        return True
    # A unique ID prefix, like the docker CLI (ambiguous prefixes match nothing).
    if len(ref) >= 1 and svc.id.startswith(ref):
        return sum(1 for i in all_ids if i.startswith(ref)) == 1
    return False


def _find_service(state: ClusterState, ref: str) -> Service | None:
    services = list(state.services.values())
    ids = [s.id for s in services]
    for svc in services:
        if _service_matches_ref(svc, ref, ids):
            return svc
    return None


def service_label(state: ClusterState | None, ref: str) -> str:
    """The name of the service ``ref`` (name, ID, ID prefix) designates, else ``ref``."""
    svc = _find_service(state, ref) if state is not None else None
    return svc.name if svc is not None else ref


def stack_names(state: ClusterState) -> set[str]:
    return {s.stack for s in state.services.values() if s.stack}


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


def _count(n: int) -> str:
    return f"{n} service" if n == 1 else f"{n} services"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a follow request matched in the current state.

    ``matched`` has one phrase per word that matched (``stack shop (3 services)``,
    ``service shop and stack shop (2 services)``, ``~^db (1 service)``); ``unknown`` the
    words that matched nothing (then the request should change nothing).
    """

    targets: LogTargets
    matched: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    def summary(self) -> str:
        """``following stack shop (3 services)`` / ``following all services``."""
        return "following " + (", ".join(self.matched) or "all services")


def resolve_targets(state: ClusterState, words: TargetWords) -> Resolution:
    """Check every word against ``state``'s stacks and services (pure).

    A bare name that is both a service and a stack follows both (like ``docker service logs``
    for the service, plus the stack). Services are named by name in ``matched`` even when
    given by ID. Nothing here raises: unknown words are returned for the caller to report.
    """
    services = list(state.services.values())
    stacks = stack_names(state)
    members: dict[str, int] = {}
    for member in services:
        if member.stack:
            members[member.stack] = members.get(member.stack, 0) + 1
    stack_refs: list[str] = []
    svc_refs: list[str] = []
    matched: list[str] = []
    unknown: list[str] = []

    for name in words.stacks:
        if name in stacks:
            stack_refs.append(name)
            matched.append(f"stack {name} ({_count(members[name])})")
        else:
            unknown.append(f"stack:{name}")
    for ref in words.services:
        svc = _find_service(state, ref)
        if svc is not None:
            svc_refs.append(ref)
            matched.append(f"service {svc.name}")
        else:
            unknown.append(f"service:{ref}")
    for name in words.names:
        svc = _find_service(state, name)
        in_stacks = name in stacks
        if svc is not None:
            svc_refs.append(name)
        if in_stacks:
            stack_refs.append(name)
        if svc is not None and in_stacks:
            matched.append(f"service {svc.name} and stack {name} ({_count(members[name])})")
        elif svc is not None:
            matched.append(f"service {svc.name}")
        elif in_stacks:
            matched.append(f"stack {name} ({_count(members[name])})")
        else:
            unknown.append(name)
    for pattern in words.patterns:
        rx = re.compile(pattern)
        n = sum(1 for s in services if rx.search(s.name) is not None)
        if n:
            matched.append(f"{PATTERN_MARK}{pattern} ({_count(n)})")
        else:
            unknown.append(PATTERN_MARK + pattern)
    targets = LogTargets(
        tuple(dict.fromkeys(stack_refs)),
        tuple(dict.fromkeys(svc_refs)),
        _join_patterns(words.patterns),
    )
    return Resolution(targets, tuple(matched), tuple(unknown))


def resolve_names(state: ClusterState, names: Iterable[str]) -> tuple[LogTargets, list[str]]:
    """Command-line targets (``swarmtui logs``), in the pane's syntax: returns the targets and
    the words that matched nothing. Raises ValueError for a bad ``~regex``."""
    resolution = resolve_targets(state, parse_words(names))
    return resolution.targets, list(resolution.unknown)


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
