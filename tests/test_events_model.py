"""The events view's pure parts on real engine JSON (lab captures, API 1.41 and 1.52 shapes):
the attribute texts (old → new), the filter's syntax and matching, and the store's bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmtui.model.actions import EventReceived
from swarmtui.model.events import (
    EVENT_HISTORY,
    EventFilter,
    event_cells,
    event_details,
    event_matches,
    event_node_id,
    event_object,
    first_seq,
    parse_event_filter,
)
from swarmtui.model.parse import parse_event
from swarmtui.model.reducer import reduce
from swarmtui.model.state import EMPTY_STATE
from swarmtui.model.types import EngineEvent, Node

FIXTURES = Path(__file__).parent / "fixtures" / "engine"
MANAGER = "mw8yydk6d4vnainhliavfu9f9"  # the lab's manager in the capture


NODES = {MANAGER: Node(id=MANAGER, version=1, hostname="lab-node1", name="lab-node1",
                       role="manager", availability="active", state="ready", addr="",
                       engine_version="", nano_cpus=0, memory_bytes=0, os="", arch="")}


def recorded(version: str) -> list[EngineEvent]:
    path = FIXTURES / version / "events_updates.jsonl"
    return [parse_event(json.loads(line)) for line in path.read_text().splitlines()]


def details(events: list[EngineEvent], kind: str, action: str) -> list[str]:
    return [event_details(e) for e in events if e.type == kind and e.action == action]


@pytest.fixture(params=["v1.41", "v1.52"])
def events(request: pytest.FixtureRequest) -> list[EngineEvent]:
    return recorded(request.param)


def test_both_api_versions_read_the_same(events: list[EngineEvent]) -> None:
    assert events == recorded("v1.41")


def test_service_updates_say_old_and_new(events: list[EngineEvent]) -> None:
    assert details(events, "service", "update") == [
        "image busybox:lab → busybox:lab2",
        "update → updating",  # the first update: no UpdateStatus before it
        "replicas 2 → 3",
        "update → updating",
        "replicas 3 → 2 · update updating → rollback_started",
        "update rollback_started → rollback_completed",
    ]


def test_node_availability_and_container_exits(events: list[EngineEvent]) -> None:
    assert details(events, "node", "update") == [
        "availability active → drain", "availability drain → active"]
    assert details(events, "container", "die") == ["exit 3", "exit 137", "exit 3", "exit 137"]
    assert details(events, "container", "kill")[0] == "signal 15"
    assert details(events, "network", "connect")[0] == "container 05c3d704573c"
    assert details(events, "secret", "create") == [""]


def test_rows_name_the_task_and_its_node(events: list[EngineEvent]) -> None:
    nodes = NODES
    die = next(e for e in events if e.action == "die")
    assert event_object(die) == "ev-crash.1"
    assert event_cells(die, event_node_id(die, "other"), nodes)[1:] == (
        "container", "die", "ev-crash.1", "exit 3", "lab-node1")
    update = next(e for e in events if e.type == "service")
    assert event_cells(update, event_node_id(update, MANAGER), nodes)[3::2] == ("ev-web", "swarm")
    drain = next(e for e in events if e.type == "node")
    assert event_node_id(drain, MANAGER) == drain.actor_id


def test_image_digests_are_cut() -> None:
    def image(old: str, new: str) -> str:
        ev = EngineEvent("service", "update", "s1", (("image.new", new), ("image.old", old),
                                                     ("name", "web")), "swarm", 1)
        return event_details(ev)

    assert image("nginx:1.25@sha256:" + "a" * 64, "nginx:1.27@sha256:" + "b" * 64) == (
        "image nginx:1.25 → nginx:1.27")
    assert image("nginx:1@sha256:" + "a" * 64, "nginx:1@sha256:" + "b" * 64) == (
        "image nginx:1@aaaaaaaaaaaa → nginx:1@bbbbbbbbbbbb")


def shown(flt: str, events: list[EngineEvent]) -> list[tuple[str, str, str]]:
    parsed = parse_event_filter(flt)
    nodes = NODES
    return [(e.type, e.action, event_object(e)) for e in events
            if event_matches(parsed, e, event_node_id(e, MANAGER), nodes)]


def test_filter_by_type_action_and_object(events: list[EngineEvent]) -> None:
    assert {t for t, _, _ in shown("type:node", events)} == {"node"}
    assert shown("type:service action:create", events) == [
        ("service", "create", "ev-web"), ("service", "create", "ev-crash")]
    assert shown("type:secret,config", events) == [
        ("secret", "create", "ev-secret"), ("config", "create", "ev-config")]
    # a bare word: part of a name (a task's container by its service's); ~regex in names
    assert {o for _, _, o in shown("type:container crash", events)} == {"ev-crash.1"}
    assert shown("~^ev-(net|secret)$", events) == [
        ("secret", "create", "ev-secret"), ("network", "create", "ev-net"),
        ("network", "update", "ev-net"), ("network", "remove", "ev-net")]
    assert shown("type:node lab-node3", events) == [("node", "update", "lab-node3")] * 2
    # an ID prefix (a service's ID is its events' actor)
    web = next(e for e in events if e.type == "service")
    assert {o for _, _, o in shown(f"{web.actor_id[:6]} type:service", events)} == {"ev-web"}


def test_filter_by_node_and_scope(events: list[EngineEvent]) -> None:
    local = shown("node:lab-node1", events)
    assert local and {t for t, _, _ in local} == {"container", "network"}
    assert shown("node:lab-node1", events) == shown(f"node:{MANAGER[:6]}", events)
    assert {t for t, _, _ in shown("node:swarm", events)} == {
        "service", "secret", "config", "network"}
    swarm_wide = shown("scope:swarm", events)
    assert swarm_wide == [e for e in swarm_wide if e not in local]
    assert [e for e in swarm_wide if e[0] == "node"] == [("node", "update", "lab-node3")] * 2


def test_filter_text_round_trips_and_bad_input_is_one_line() -> None:
    flt = parse_event_filter("type:service,node action:update node:lab-node1 busybox:lab ~^ev")
    assert flt == EventFilter(types=("service", "node"), actions=("update",),
                              nodes=("lab-node1",), objects=("busybox:lab",), patterns=("^ev",))
    assert parse_event_filter(flt.to_text()) == flt
    assert parse_event_filter("").is_empty
    assert parse_event_filter("type: node:").is_empty  # half typed: nothing hidden yet
    with pytest.raises(ValueError, match="invalid regular expression '\\('"):
        parse_event_filter("~(")
    with pytest.raises(ValueError, match="unknown event type 'servce'"):
        parse_event_filter("type:servce")


def test_the_store_keeps_the_newest_events_under_a_flood() -> None:
    state = EMPTY_STATE
    for i in range(EVENT_HISTORY * 5):
        state = reduce(state, EventReceived(EngineEvent(
            "container", "start", f"c{i}", (("name", f"c{i}"),), "local", i)))
    assert len(state.events) == EVENT_HISTORY
    assert state.event_count == EVENT_HISTORY * 5
    assert first_seq(state.events, state.event_count) == EVENT_HISTORY * 4
    assert state.events[0].actor_id == f"c{EVENT_HISTORY * 4}"
    assert state.events[-1].actor_id == f"c{EVENT_HISTORY * 5 - 1}"
