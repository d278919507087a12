"""Docker's value formats (swarmtui.model.dockerfmt): the one parser of RFC 3339 times, API
versions and IDs, with the edge cases every caller relies on."""

from __future__ import annotations

import calendar

import pytest

from swarmtui.model import dockerfmt as f


def utc_ns(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ns: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * f.NS + ns


def test_go_zero_time_is_never_for_engine_fields_and_exact_for_the_cli() -> None:
    assert f.parse_time_ns("0001-01-01T00:00:00Z") is None
    zero = f.parse_rfc3339_ns("0001-01-01T00:00:00Z")
    assert zero == f.GO_ZERO_TIME_NS == utc_ns(1, 1, 1)
    # The docker CLI prints a saturated duration for it; the disk tables do the same.
    assert f.created_since(utc_ns(2026, 11, 25), zero) == "292 years ago"


def test_z_and_offsets_name_the_same_instant() -> None:
    z = f.parse_rfc3339_ns("2026-11-20T10:00:00.123456789Z")
    assert z == utc_ns(2026, 11, 20, 10, 0, 0, 123456789)
    assert f.parse_rfc3339_ns("2026-11-20T10:00:00.123456789+00:00") == z
    assert f.parse_rfc3339_ns("2026-11-20T11:00:00.123456789+01:00") == z
    assert f.parse_rfc3339_ns("2026-11-20T07:30:00.123456789-02:30") == z


@pytest.mark.parametrize(
    ("text", "frac"),
    [
        ("2026-11-25T12:36:07Z", 0),  # no fraction
        ("2026-11-25T12:36:07.5Z", 500_000_000),
        ("2026-11-25T12:36:07.885178340Z", 885_178_340),  # nine digits: exact
        ("2026-11-25T12:36:07.000000001Z", 1),
        ("2026-11-25T12:36:07.8851783409999Z", 885_178_340),  # Go keeps nine digits
    ],
)
def test_fractions_keep_nanoseconds(text: str, frac: int) -> None:
    assert f.parse_rfc3339_ns(text) == utc_ns(2026, 11, 25, 12, 36, 7, frac)
    assert f.parse_time_ns(text) == utc_ns(2026, 11, 25, 12, 36, 7, frac)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        "",
        "nonsense",
        "2026-02-30T00:00:00Z",  # no such day
        "2026-11-25T25:00:00Z",  # no such hour
        "2026-11-25 12:00:00Z",  # Go's layout needs the T
        "2026-11-25T12:00:00",  # and a zone
        "2026-11-25T12:00:00.Z",
        " 2026-11-25T12:00:00Z",
    ],
)
def test_garbage_is_none(bad: object) -> None:
    assert f.parse_rfc3339_ns(bad) is None
    assert f.parse_time_ns(bad) is None


def test_api_versions() -> None:
    assert f.parse_api_version("1.41") == (1, 41)
    assert f.parse_api_version("v1.41") == (1, 41)
    assert f.parse_api_version(" 1.52 ") == (1, 52)
    assert f.parse_api_version("1.45.0") == (1, 45)
    for bad in ("", "v", "1", "x.y", "unknown"):
        assert f.parse_api_version(bad) == (0, 0)
    assert f.parse_api_version("1.9") < f.parse_api_version("1.41")  # numeric, not text
    assert f.api_at_least("1.42", "1.42") and not f.api_at_least("1.41", "1.42")


def test_truncate_id() -> None:
    assert f.truncate_id("sha256:e466d4f91b5d95dd855c") == "e466d4f91b5d"
    assert f.truncate_id("1n7j8lkaz3y8p7qtpfqmt81qt") == "1n7j8lkaz3y8"
    assert f.truncate_id("short") == "short"


def test_sizes_and_durations_are_go_units() -> None:
    assert [f.human_size(n) for n in (0, 999, 1000, 1_062_500, -993_500)] == [
        "0B", "999B", "1kB", "1.062MB", "-9.935e+05B",
    ]
    assert f.human_size(999_500, 3) == "1e+03kB"
    assert f.human_duration(3600) == "About an hour"
    assert f.parse_go_duration_ns("1h30m") == 5400 * f.NS
    assert f.parse_go_duration_ns("soon") is None
    assert f.percent_of(-993_500, 6000) == -16558  # truncates toward zero, as Go does
