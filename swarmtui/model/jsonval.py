"""Tolerant readers for engine JSON values: wrong types become defaults, never exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Json = Mapping[str, Any]


def as_map(value: object) -> Json:
    # A plain dict first: isinstance against the Mapping ABC is the slow check, and decoded
    # JSON is dicts (360,000 calls parsing a 30,000-task listing).
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def as_int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def as_str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def as_labels(value: object) -> tuple[tuple[str, str], ...]:
    """A label map as a sorted tuple of pairs (hashable, comparable)."""
    return tuple(sorted((str(k), str(v)) for k, v in as_map(value).items()))


def as_opt_int(value: object) -> int | None:
    """A number as an int; None when absent or not a number (unlike :func:`as_int`, no
    default: the caller tells "0" from "not reported")."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return None


def as_bool(value: object) -> bool:
    return value is True


def as_strs(value: object) -> tuple[str, ...]:
    """The strings of a list (other entries dropped)."""
    return tuple(v for v in as_list(value) if isinstance(v, str))
