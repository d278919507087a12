"""Short ages of engine timestamps (``4s``, ``3m``) and when they next change.

Timestamps are integer unix nanoseconds; :mod:`swarmtui.model.dockerfmt` parses them.
"""

from __future__ import annotations

NS_PER_S = 1_000_000_000


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


COARSE_STEP_S = 10
"""Ages under a minute that tick on their own (card ages, the header's data age) move in
steps of this many seconds: each step rewrites their rows on the terminal (bytes over SSH)."""


def coarse_age(now_ns: int, then_ns: int | None, exact_below_s: int = 0) -> str:
    """:func:`format_age` with seconds from ``exact_below_s`` on floored to
    :data:`COARSE_STEP_S` (``0s``, ``10s``…; a task that just started still reads ``3s``)."""
    if then_ns is None:
        return "-"
    seconds = max(0, (now_ns - then_ns) // NS_PER_S)
    if exact_below_s <= seconds < 60:
        return f"{seconds - seconds % COARSE_STEP_S}s"
    return format_age(now_ns, then_ns)


def coarse_age_changes_at(now_ns: int, then_ns: int | None, exact_below_s: int = 0) -> int:
    """When ``coarse_age(now, then, exact_below_s)`` will next read differently (unix ns)."""
    if then_ns is not None and exact_below_s * NS_PER_S <= now_ns - then_ns < 60 * NS_PER_S:
        step = COARSE_STEP_S * NS_PER_S
        return then_ns + ((now_ns - then_ns) // step + 1) * step
    return age_changes_at(now_ns, then_ns)


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
