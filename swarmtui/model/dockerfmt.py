"""Docker's value formats, parsed and printed in one place: RFC 3339 times (with Go's zero
time), Go durations, go-units sizes and durations, IDs and API versions.

Stdlib only, no IO, and it imports nothing from swarmtui: every other model module may use
it. Each function says which Go code it mirrors; the rules are Go's, not Python's (integer
division truncates toward zero, durations saturate at the int64 range).

Sources: Go ``time`` (``RFC3339Nano`` parsing, ``Time.Sub``, ``ParseDuration``),
docker/go-units ``size.go`` (``HumanSizeWithPrecision``) and ``duration.go``
(``HumanDuration``), moby ``pkg/stringid`` (``TruncateID``), moby ``api/types/versions``.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from typing import Final

NS: Final = 1_000_000_000
_INT64_MAX: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()

# --------------------------------------------------------------------------------------------
# RFC 3339 times
# --------------------------------------------------------------------------------------------

# Go's RFC3339Nano layout: "T", then a zone ("Z" or ±hh:mm); any number of fraction digits
# (Go keeps nine).
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", re.ASCII
)

GO_ZERO_TIME_NS: Final = (date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86400 * NS
"""Go's zero ``time.Time`` (``0001-01-01T00:00:00Z``) as unix nanoseconds: what the engine
sends for "never"."""


def parse_rfc3339_ns(value: object) -> int | None:
    """An RFC 3339 (nano) timestamp -> unix nanoseconds; None when missing or unparseable.

    Exact: Go's zero time is the real instant :data:`GO_ZERO_TIME_NS` (the docker CLI computes
    ``292 years ago`` from it, and so do the disk tables). Use :func:`parse_time_ns` for engine
    fields where the zero time means "never". Fractions past nine digits are cut, as in Go;
    impossible dates and times (``02-30``, ``25:00``) are None.
    """
    if not isinstance(value, str):
        return None
    # What the engine writes (Go's RFC3339Nano in UTC: "2026-01-01T00:00:08.762191315Z",
    # trailing zeros of the fraction cut, no fraction at all for whole seconds), read by
    # position: the minute it starts with is parsed once per minute.
    size = len(value)
    if (
        (size == 20 or (22 <= size <= 30 and value[19] == "."))
        and value[-1] == "Z"
        and value[16] == ":"
    ):
        minute = _minute_seconds(value[:16])
        sec, frac = value[17:19], value[20:-1] or "0"
        if (
            minute is not None
            and sec.isascii() and sec.isdigit() and frac.isascii() and frac.isdigit()
            and sec <= "60"
        ):
            return (minute + int(sec)) * NS + int(frac.ljust(9, "0"))
    return _parse_rfc3339_ns_any(value)


_MINUTE: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)", re.ASCII)


@functools.lru_cache(maxsize=4096)
def _minute_seconds(prefix: str) -> int | None:
    """``YYYY-MM-DDTHH:MM`` (UTC) as unix seconds; None when it is no valid minute."""
    m = _MINUTE.fullmatch(prefix)
    if m is None:
        return None
    ys, mos, ds, hs, mis = m.groups()
    hour, minute = int(hs), int(mis)
    days = _days_since_epoch(ys, mos, ds)
    if hour > 23 or minute > 59 or days is None:
        return None
    return days * 86400 + hour * 3600 + minute * 60


def _parse_rfc3339_ns_any(value: str) -> int | None:
    """:func:`parse_rfc3339_ns` for any layout RFC 3339 allows (zones, fraction lengths)."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        return None
    # 90,000 timestamps in a 30,000-task listing: one groups() call, days cached per date.
    ys, mos, ds, hs, mis, ss, fraction, zone = m.groups()
    hour, minute, second = int(hs), int(mis), int(ss)
    if hour > 23 or minute > 59 or second > 60:
        return None
    days = _days_since_epoch(ys, mos, ds)
    if days is None:
        return None
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    if zone != "Z":
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        seconds -= offset if zone[0] == "+" else -offset
    frac = (fraction or "")[:9].ljust(9, "0")
    return seconds * NS + int(frac)


@functools.lru_cache(maxsize=4096)
def _days_since_epoch(year: str, month: str, day: str) -> int | None:
    try:
        return date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def parse_time_ns(value: object) -> int | None:
    """An engine time field -> unix nanoseconds; None when missing, unparseable, or Go's zero
    time ``0001-01-01T00:00:00Z`` (the engine's "never", e.g. a task not yet updated)."""
    ns = parse_rfc3339_ns(value)
    return None if ns == GO_ZERO_TIME_NS else ns


def to_unix_ns(now: datetime | float) -> int:
    """``now`` (a datetime, or unix seconds) as unix nanoseconds. Naive datetimes are UTC."""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        delta = now - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86400 + delta.seconds) * NS + delta.microseconds * 1000
    return round(float(now) * NS) if isinstance(now, float) else int(now) * NS


# --------------------------------------------------------------------------------------------
# Durations (Go semantics: int64 nanoseconds that saturate)
# --------------------------------------------------------------------------------------------


def go_sub(a_ns: int, b_ns: int) -> int:
    """Go ``time.Time.Sub``: the difference saturates at the int64 range."""
    return max(_INT64_MIN, min(_INT64_MAX, a_ns - b_ns))


def go_trunc_div(a: int, b: int) -> int:
    """Go integer division (truncates toward zero; Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _unit_float(d: int, unit: int) -> float:
    """Go ``Duration.Seconds/Minutes/Hours``: whole units plus the remainder as a fraction."""
    whole = go_trunc_div(d, unit)
    rest = d - whole * unit
    return float(whole) + float(rest) / float(unit)


def human_duration_ns(d: int) -> str:
    """go-units ``HumanDuration`` for a duration in nanoseconds (``About an hour``…)."""
    seconds = int(_unit_float(d, NS))
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = int(_unit_float(d, 60 * NS))
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(_unit_float(d, 3600 * NS) + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(_unit_float(d, 3600 * NS)) // 24 // 365} years"


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration`` for a duration in seconds."""
    return human_duration_ns(round(seconds * NS))


def created_since(now_ns: int, then_ns: int) -> str:
    """What the CLI prints in CREATED columns: ``HumanDuration(now - then) + " ago"``."""
    return human_duration_ns(go_sub(now_ns, then_ns)) + " ago"


_GO_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": NS,
    "m": 60 * NS,
    "h": 3600 * NS,
}


def parse_go_duration_ns(value: str) -> int | None:
    """Go ``time.ParseDuration`` (``"24h"``, ``"1h30m"``, ``"-5m"``) -> ns; None if invalid."""
    s = value.strip()
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(s):
        m = _GO_DURATION_PART.match(s, pos)
        if m is None:
            return None
        total += float(m.group(1)) * _GO_DURATION_UNITS[m.group(2)]
        pos = m.end()
    return sign * round(total) if s else None


# --------------------------------------------------------------------------------------------
# Sizes (go-units)
# --------------------------------------------------------------------------------------------

_SI_UNITS: Final = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 4) -> str:
    """go-units ``HumanSizeWithPrecision``: SI (1000-based), ``%.<precision>g`` + unit.

    ``precision=4`` is ``HumanSize`` (``1.982MB``, ``0B``, ``999B``, ``1kB``); the ``-v``
    tables use 3 for some columns (``1.98MB``). The value is divided by 1000 repeatedly in
    float64, exactly as Go does, and Go's and Python's ``%g`` agree (correctly rounded,
    ties to even, same exponent rule): ``1062500`` -> ``1.062MB``; ``999500`` at precision 3 ->
    ``1e+03kB``; negative values are never divided: ``-993500`` -> ``-9.935e+05B``.
    """
    value = float(size)
    i = 0
    while value >= 1000.0 and i < len(_SI_UNITS) - 1:
        value = value / 1000.0
        i += 1
    return f"{value:.{precision}g}{_SI_UNITS[i]}"


def percent_of(part: int, whole: int) -> int:
    """``part*100/whole`` with Go's truncating integer division (the CLI's ``(NN%)``)."""
    return go_trunc_div(part * 100, whole)


# --------------------------------------------------------------------------------------------
# IDs and API versions
# --------------------------------------------------------------------------------------------


def truncate_id(value: str) -> str:
    """moby ``stringid.TruncateID``: drop an ``algo:`` prefix, keep 12 characters."""
    _, colon, rest = value.partition(":")
    return (rest if colon else value)[:12]


_API_VERSION: Final = re.compile(r"v?(\d+)\.(\d+)", re.ASCII)


def parse_api_version(version: str) -> tuple[int, int]:
    """``"1.41"`` / ``"v1.41"`` -> ``(1, 41)`` (a patch part is ignored); unparseable ->
    ``(0, 0)``, which is older than every engine, so callers refuse or fall back."""
    m = _API_VERSION.match(version.strip())
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def api_at_least(version: str, minimum: str) -> bool:
    """True when API ``version`` >= ``minimum`` (both like ``"1.42"``)."""
    return parse_api_version(version) >= parse_api_version(minimum)
