"""What changes between two object specs, field by field: ``Mode.Replicated.Replicas: 3 → 5``.

Pure (stdlib only). The service operations' previews list these lines, so the user sees the
spec that will be sent, compared with the one the engine holds, before confirming.
Objects are walked key by key (dotted paths); lists and scalars are compared whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

ARROW: Final = "→"
UNSET: Final = "(unset)"


class _Missing:
    """A field absent from one side (distinct from an explicit null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Spec fields the engine holds in nanoseconds: shown as Go durations ("1s", "1m30s").
_DURATION_FIELDS: Final = frozenset({"Delay", "Monitor", "StopGracePeriod", "Interval",
                                     "Timeout", "StartPeriod", "StartInterval"})


@dataclass(frozen=True, slots=True)
class SpecChange:
    path: str
    old: Any
    new: Any

    @property
    def field(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def _walk(old: Any, new: Any, path: str) -> Iterator[SpecChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = [*old, *(k for k in new if k not in old)]
        for key in keys:
            sub = f"{path}.{key}" if path else str(key)
            yield from _walk(old.get(key, MISSING), new.get(key, MISSING), sub)
        return
    if isinstance(old, Mapping) and new is MISSING:
        for key, value in old.items():
            yield from _walk(value, MISSING, f"{path}.{key}" if path else str(key))
        return
    if old is MISSING and isinstance(new, Mapping):
        for key, value in new.items():
            yield from _walk(MISSING, value, f"{path}.{key}" if path else str(key))
        return
    absent = (MISSING, None)
    if old != new and not (old in absent and new in absent):  # absent and null: the same
        yield SpecChange(path, old, new)


def spec_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[SpecChange, ...]:
    """Every leaf that differs, in the order the fields appear (old's first)."""
    return tuple(_walk(old, new, ""))


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``500ms``, ``1.5s``, ``1m30s``, ``1h0m0s``."""
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)

    def frac(value: int, unit: int) -> str:
        whole, rest = divmod(value, unit)
        if not rest:
            return str(whole)
        digits = len(str(unit)) - 1
        return f"{whole}.{rest:0{digits}d}".rstrip("0")

    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{frac(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{frac(ns, 1_000_000)}ms"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = f"{hours}h" if hours else ""
    if hours or minutes:
        text += f"{minutes}m"
    return f"{sign}{text}{frac(rest, 10**9)}s"


def value_text(value: Any, field: str = "") -> str:
    """One value as the preview shows it."""
    if value is MISSING or value is None:
        return UNSET
    if field in _DURATION_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return go_duration(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def change_text(change: SpecChange) -> str:
    """``Mode.Replicated.Replicas: 3 → 5``."""
    return (f"{change.path}: {value_text(change.old, change.field)} {ARROW} "
            f"{value_text(change.new, change.field)}")


def render_changes(changes: tuple[SpecChange, ...], indent: str = "  ") -> str:
    """The preview block's lines, one per change."""
    return "".join(f"{indent}{change_text(c)}\n" for c in changes)
