"""What a log session follows (pure): target parsing, service selection, since/tail choices."""

from __future__ import annotations

import pytest
from uistate import NOW, fixed_swarm

from swarmtui.model.log_targets import (
    LogTargets,
    describe_window,
    parse_targets,
    parse_window,
    resolve_names,
    select_services,
)

S = 1_000_000_000


def names(targets: LogTargets) -> list[str]:
    return [s.name for s in select_services(fixed_swarm().store.state, targets)]


def test_parse_targets() -> None:
    assert parse_targets("") == LogTargets()
    assert parse_targets("stack:shop agent svcapi /^cron/") == LogTargets(
        ("shop",), ("agent", "svcapi"), "^cron"
    )
    assert parse_targets("service:x /a/ /b/").pattern == "(?:a)|(?:b)"
    assert parse_targets("'my svc'").services == ("my svc",)
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_targets("/(/")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_targets("'open")
    t = LogTargets(("shop",), ("agent",), "^c")
    assert parse_targets(t.to_text()) == t
    assert t.describe() == "stack shop · service agent · /^c/"
    assert LogTargets().describe() == "all services"


def test_select_services() -> None:
    assert names(LogTargets()) == ["agent", "cron_backup", "gpu_job", "shop_api", "shop_web"]
    assert names(LogTargets(stacks=("shop",))) == ["shop_api", "shop_web"]
    assert names(LogTargets(services=("agent", "svcgpu"))) == ["agent", "gpu_job"]
    assert names(LogTargets(services=("svc",))) == []  # ambiguous ID prefix: nothing
    assert names(LogTargets(pattern="_(job|backup)$")) == ["cron_backup", "gpu_job"]
    assert names(LogTargets(stacks=("ops",), services=("agent",))) == [
        "agent", "cron_backup", "gpu_job"]


def test_resolve_names_for_the_command_line() -> None:
    state = fixed_swarm().store.state
    targets, unknown = resolve_names(state, ["shop", "agent", "nope", "svcweb0"])
    assert targets == LogTargets(("shop",), ("agent", "svcweb0"))
    assert unknown == ["nope"]


def test_parse_and_describe_window() -> None:
    assert parse_window("", NOW) == (None, None)
    assert parse_window("all", NOW) == (None, None)
    assert parse_window("500", NOW) == (500, None)
    assert parse_window("5m", NOW) == (None, NOW - 300 * S)
    assert parse_window("2027-01-15T07:00:00Z", NOW) == (None, NOW - 3600 * S)
    with pytest.raises(ValueError):
        parse_window("yesterday", NOW)
    assert describe_window(200, None, NOW) == "last 200 lines per task"
    assert describe_window(None, None, NOW) == "all lines"
    assert describe_window(None, NOW - 300 * S, NOW) == "since 5m ago"
    assert describe_window(None, NOW - 5400 * S, NOW) == "since 1h30m ago"
    assert describe_window(None, NOW - 90 * 3600 * S, NOW) == "since 2027-01-11 14:00:00Z"
