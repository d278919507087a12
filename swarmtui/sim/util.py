"""Small pieces the simulated engine shares: IDs, timestamps, Go-style JSON, filters, errors."""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

NS = 1_000_000_000
MS = 1_000_000

Json = dict[str, Any]
Filters = dict[str, list[str]]


class SimError(Exception):
    """An API error exactly as dockerd would answer it: HTTP status + ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(message: str) -> SimError:
    return SimError(404, message)


def invalid(message: str) -> SimError:
    return SimError(400, message)


# --------------------------------------------------------------------------- ids


class Rng:
    """The one source of randomness of a cluster: seeded, so every run is identical."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def swarm_id(self) -> str:
        """A swarmkit object ID (identity.NewID): 17 random bytes with the high bit set,
        base 36, first digit dropped → 25 lowercase alphanumerics."""
        n = self._r.getrandbits(136) | (1 << 135)
        return _base36(n)[1:26]

    def hex64(self) -> str:
        """A container/network/image ID: 64 lowercase hex digits."""
        return f"{self._r.getrandbits(256):064x}"

    def between(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi)`` (``lo`` when the range is empty)."""
        return lo if hi <= lo else self._r.randrange(lo, hi)

    def choice_index(self, n: int) -> int:
        return self._r.randrange(n)

    def token(self, n: int) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return "".join(alphabet[self._r.randrange(36)] for _ in range(n))

    def b64(self, nbytes: int) -> str:
        import base64

        return base64.b64encode(self._r.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out)) or "0"


# --------------------------------------------------------------------------- time


@functools.lru_cache(maxsize=4096)
def _second(secs: int) -> str:
    t = time.gmtime(secs)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )


def rfc3339(ns: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction are trimmed."""
    secs, frac = divmod(ns, NS)
    base = _second(secs)
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


def rfc3339_fixed(ns: int) -> str:
    """The fixed-width form the log stream uses (``2006-01-02T15:04:05.000000000Z07:00``)."""
    secs, frac = divmod(ns, NS)
    return f"{_second(secs)}.{frac:09d}Z"


# The daemon's own duration code, written again here on purpose: the simulator checks
# swarmtui.model (which has its copy in model/dockerfmt.py) and must not share it.

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNIT = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": MS, "s": NS,
                  "m": 60 * NS, "h": 3600 * NS}


def go_duration_ns(value: str) -> int | None:
    """Go ``time.ParseDuration`` (``24h``, ``1h30m``, ``-5m``) → ns; None when it is not one."""
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    text = text[1:] if text[:1] in "+-" and text else text
    if text == "0":
        return 0
    if not text:
        return None
    total, pos = 0.0, 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None:
            return None
        total += float(m.group(1)) * _DURATION_UNIT[m.group(2)]
        pos = m.end()
    return sign * round(total)


def human_duration(ns: int) -> str:
    """go-units ``HumanDuration``: what the daemon writes in a container's ``Status``."""
    seconds = ns // NS
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = ns // (60 * NS)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(ns / (3600 * NS) + 0.5)
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
    return f"{ns // (3600 * NS) // 24 // 365} years"


def parse_unix_ts(value: str, param: str = "since") -> int:
    """The daemon's ``since``/``until`` form: ``seconds[.nanoseconds]`` → unix ns."""
    text = value.strip()
    secs_s, _, frac_s = text.partition(".")
    try:
        secs = int(secs_s)
        frac = int(frac_s.ljust(9, "0")[:9]) if frac_s else 0
    except ValueError as exc:
        raise invalid(f'strconv.ParseInt: parsing "{text}": invalid syntax') from exc
    return secs * NS + frac


# --------------------------------------------------------------------------- json


def go_json(obj: Any) -> bytes:
    """Encode like Go's ``json.Encoder``: compact, HTML-escaped, UTF-8, trailing newline."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode() + b"\n"


def ordered(d: Mapping[str, Any], order: Iterable[str]) -> Json:
    """Re-key ``d`` in Go struct field order; unknown keys keep their order after the known."""
    out: Json = {}
    for key in order:
        if key in d:
            out[key] = d[key]
    for key, value in d.items():
        if key not in out:
            out[key] = value
    return out


# --------------------------------------------------------------------------- filters


def parse_filters(raw: str | None) -> Filters:
    """``filters`` query parameter → ``{key: [values]}``.

    Accepts both shapes the daemon accepts (``{"k": ["v"]}`` and the legacy
    ``{"k": {"v": true}}``) and rejects the rest with dockerd's 400 messages.
    """
    if raw is None or raw.strip() == "":
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise invalid(f"invalid character in filters: {exc}") from exc
    if not isinstance(data, dict):
        raise invalid(
            "json: cannot unmarshal array into Go value of type map[string]map[string]bool"
        )
    out: Filters = {}
    for key, value in data.items():
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise invalid(
                    "json: cannot unmarshal bool into Go value of type string"
                    if any(isinstance(v, bool) for v in value)
                    else "json: cannot unmarshal number into Go value of type string"
                )
            out[str(key)] = list(value)
        elif isinstance(value, dict):
            if not all(isinstance(v, bool) for v in value.values()):
                raise invalid("json: cannot unmarshal string into Go value of type bool")
            out[str(key)] = [k for k, v in value.items() if v]
        else:
            kind = "string" if isinstance(value, str) else type(value).__name__
            raise invalid(
                f"json: cannot unmarshal {kind} into Go value of type map[string]bool"
            )
    return out


def validate_filters(filters: Filters, accepted: Iterable[str]) -> None:
    allowed = set(accepted)
    for key in filters:
        if key not in allowed:
            raise invalid(f"invalid filter '{key}'")


def fuzzy_match(filters: Filters, key: str, *sources: str) -> bool:
    """moby ``Args.FuzzyMatch``: no filter → True; else exact or prefix match of any value."""
    values = filters.get(key)
    if not values:
        return True
    for source in sources:
        for v in values:
            if source == v or (v and source.startswith(v)):
                return True
    return False


def exact_match(filters: Filters, key: str, source: str) -> bool:
    values = filters.get(key)
    return not values or source in values


def labels_match(filters: Filters, labels: Mapping[str, str], key: str = "label") -> bool:
    """``label=k`` (present) and ``label=k=v`` (equal); every given label must match."""
    for want in filters.get(key, ()):
        name, sep, value = want.partition("=")
        if name not in labels:
            return False
        if sep and labels[name] != value:
            return False
    return True
