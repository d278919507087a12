"""Engine timestamps (RFC 3339 with nanoseconds) as integer nanoseconds since the epoch."""

from __future__ import annotations

import calendar
import re

_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\d*(Z|[+-]\d\d:?\d\d)?$"
)

NS_PER_S = 1_000_000_000


def parse_ts(value: object) -> int | None:
    """Parse an engine timestamp such as ``2026-11-25T12:34:57.317125641Z`` to unix ns.

    Returns None for missing or unparseable values (the zero time ``0001-01-01T00:00:00Z``
    that Go serialises for "never" also maps to None).
    """
    if not isinstance(value, str) or not value:
        return None
    m = _RFC3339.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if year <= 1:
        return None
    frac = (m.group(7) or "").ljust(9, "0")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    tz = m.group(8)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds * NS_PER_S + int(frac)


def format_age(now_ns: int, then_ns: int | None) -> str:
    """Short age like ``4s``, ``3m``, ``2h``, ``5d`` (``-`` when unknown)."""
    if then_ns is None:
        return "-"
    seconds = max(0, (now_ns - then_ns) // NS_PER_S)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def age_changes_at(now_ns: int, then_ns: int | None) -> int:
    """When ``format_age(now, then)`` will next read differently (unix ns)."""
    if then_ns is None:
        return now_ns + 3600 * NS_PER_S
    age = max(0, now_ns - then_ns)
    for unit in (NS_PER_S, 60 * NS_PER_S, 3600 * NS_PER_S, 86400 * NS_PER_S):
        if age < unit * (
            60 if unit < 3600 * NS_PER_S else 24 if unit == 3600 * NS_PER_S else 10**9
        ):
            return then_ns + (age // unit + 1) * unit
    return now_ns + 86400 * NS_PER_S
