"""What a log session follows (pure): target parsing, service selection, since/tail choices."""

from __future__ import annotations

from dataclasses import replace

import pytest
from uistate import NOW, fixed_swarm

from swarmtui.model.log_targets import (
    LogTargets,
    TargetWords,
    describe_window,
    parse_targets,
    parse_window,
    resolve_names,
    resolve_targets,
    select_services,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.types import STACK_LABEL, Service

S = 1_000_000_000


def names(targets: LogTargets) -> list[str]:
    return [s.name for s in select_services(fixed_swarm().store.state, targets)]


def test_parse_targets() -> None:
    assert parse_targets("") == TargetWords()
    assert parse_targets("stack:shop agent svcapi service:x ~^cron ~db$") == TargetWords(
        ("shop",), ("x",), ("agent", "svcapi"), ("^cron", "db$")
    )
    assert parse_targets("'my svc'").names == ("my svc",)
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_targets("~(")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_targets("'open")
    state = fixed_swarm().store.state
    t = LogTargets(("shop",), ("agent",), "^c")
    assert resolve_targets(state, parse_targets(t.to_text())).targets == t
    assert t.describe() == "stack shop · service agent · ~^c"
    assert LogTargets().describe() == "all services"


def with_service(state: ClusterState, sid: str, name: str, stack: str | None) -> ClusterState:
    labels = ((STACK_LABEL, stack),) if stack else ()
    svc = Service(sid, 1, name, "nginx", "replicated", 1, labels)
    return replace(state, services={**state.services, sid: svc})


def test_a_bare_name_is_a_stack_a_service_or_both() -> None:
    state = fixed_swarm().store.state
    shop = resolve_targets(state, parse_targets("shop"))
    assert shop.targets == LogTargets(stacks=("shop",))
    assert shop.summary() == "following stack shop (2 services)"
    agent = resolve_targets(state, parse_targets("agent"))
    assert agent.targets == LogTargets(services=("agent",))
    assert agent.summary() == "following service agent"
    both_state = with_service(state, "svcshop0000000000000000001", "shop", None)
    both = resolve_targets(both_state, parse_targets("shop"))
    assert both.targets == LogTargets(stacks=("shop",), services=("shop",))
    assert both.summary() == "following service shop and stack shop (2 services)"
    assert [s.name for s in select_services(both_state, both.targets)] == [
        "shop", "shop_api", "shop_web"]
    # A service given by ID prefix is named by its name.
    assert resolve_targets(state, parse_targets("svcweb0")).summary() == (
        "following service shop_web")
    assert resolve_targets(state, parse_targets("~^shop_")).summary() == (
        "following ~^shop_ (2 services)")
    assert resolve_targets(state, parse_targets("")).summary() == "following all services"


def test_a_name_that_matches_nothing_is_reported() -> None:
    state = fixed_swarm().store.state
    r = resolve_targets(state, parse_targets("shop nope stack:agent service:ops ~^zzz"))
    assert r.unknown == ("stack:agent", "service:ops", "nope", "~^zzz")
    assert r.matched == ("stack shop (2 services)",)


def test_describe_and_prefill_show_names_not_ids() -> None:
    state = fixed_swarm().store.state
    by_id = LogTargets(services=("svcweb00000000000000000001",))
    assert by_id.describe(state) == "service shop_web"
    assert by_id.to_text(state) == "shop_web"
    assert by_id.describe() == "service svcweb00000000000000000001"  # no state: no name
    # A service named like a stack is pre-filled as service:NAME (re-submitting keeps it).
    both_state = with_service(state, "svcshop0000000000000000001", "shop", None)
    only_service = LogTargets(services=("svcshop0000000000000000001",))
    assert only_service.to_text(both_state) == "service:shop"
    again = resolve_targets(both_state, parse_targets(only_service.to_text(both_state)))
    assert again.targets == LogTargets(services=("shop",))


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
    targets, unknown = resolve_names(state, ["~^shop_", "stack:ops"])
    assert targets == LogTargets(stacks=("ops",), pattern="^shop_") and unknown == []


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
