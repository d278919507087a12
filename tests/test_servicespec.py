"""The pure parts of the service actions: spec diffs, spec changes, input validation."""

from __future__ import annotations

import pytest
from service_fakes import service_spec

from swarmtui.model import servicespec as ss
from swarmtui.model.imageref import image_ref_problem
from swarmtui.model.specdiff import change_text, go_duration, spec_changes
from swarmtui.model.types import UpdateConfig


def lines(old: dict, new: dict) -> list[str]:  # type: ignore[type-arg]
    return [change_text(c) for c in spec_changes(old, new)]


def test_spec_diff_lists_leaf_changes_old_to_new() -> None:
    old = service_spec("web")
    assert lines(old, ss.scaled_spec(old, 5)) == ["Mode.Replicated.Replicas: 3 → 5"]
    assert lines(old, ss.image_spec(old, "busybox:lab2")) == [
        "TaskTemplate.ContainerSpec.Image: busybox:lab → busybox:lab2"]
    assert lines(old, old) == []


def test_spec_diff_shows_added_removed_and_nested_fields() -> None:
    old = {"A": {"B": 1}, "L": [1, 2], "Gone": "x"}
    new = {"A": {"B": 1, "C": {"D": True}}, "L": [1, 3], "Null": None}
    # In the order the fields appear; an explicit null is no change from absent.
    assert lines(old, new) == ["A.C.D: (unset) → true", "L: [1,2] → [1,3]", "Gone: x → (unset)"]


def test_spec_diff_shows_durations_as_go_does() -> None:
    assert lines({"UpdateConfig": {"Delay": 0}}, {"UpdateConfig": {"Delay": 10**9}}) == [
        "UpdateConfig.Delay: 0s → 1s"]
    assert [go_duration(n) for n in (0, 500, 1500, 5 * 10**6, 1_500_000_000, 90 * 10**9,
                                     3600 * 10**9, -2 * 10**9)] == [
        "0s", "500ns", "1.5µs", "5ms", "1.5s", "1m30s", "1h0m0s", "-2s"]


def test_replicas_must_be_a_whole_number_of_zero_or_more() -> None:
    assert ss.parse_replicas(" 5 ") == 5 and ss.parse_replicas("0") == 0
    for bad in ("-1", "2.5", "abc", "", "1e3"):
        with pytest.raises(ValueError, match="whole number of 0 or more"):
            ss.parse_replicas(bad)


def test_scaling_a_global_service_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot scale agent: it is a global service"):
        ss.scaled_spec(service_spec("agent", replicas=None), 3, "agent")


def test_the_input_spec_is_never_changed() -> None:
    old = service_spec("web")
    before = repr(old)
    ss.scaled_spec(old, 7)
    ss.image_spec(old, "alpine:3")
    ss.forced_spec(old)
    ss.update_config_spec(old, ss.UpdateConfigChange(parallelism=2))
    assert repr(old) == before


def test_force_update_increments_force_update() -> None:
    old = service_spec("web")
    assert lines(old, ss.forced_spec(old)) == ["TaskTemplate.ForceUpdate: 0 → 1"]


def test_image_reference_grammar() -> None:
    for good in ("busybox:lab2", "reg.example.com:5000/team/web:1.2", "localhost/x",
                 "busybox@sha256:" + "a" * 64, "busybox:lab@sha256:" + "b" * 64):
        assert image_ref_problem(good) is None, good
    cases = {
        "Busybox:1": "must be lowercase",
        "busybox:": "the tag must be",
        "busybox:-x": "the tag must be",
        "busybox:" + "t" * 129: "the tag must be",
        "busybox@sha256:abc": "sha256 needs 64 hex digits",
        "a" * 64: "is an image ID",
        "bus box": "contains a space",
        "": "it is empty",
        "a//b": "not [domain[:port]/]path[:tag][@digest]",
    }
    for bad, reason in cases.items():
        problem = image_ref_problem(bad)
        assert problem is not None and reason in problem and "\n" not in problem, bad
    with pytest.raises(ValueError, match="must be lowercase"):
        ss.image_spec(service_spec("web"), "Busybox:1")


def test_update_config_text_round_trips_and_validates() -> None:
    text = ss.update_config_text(UpdateConfig())
    assert text == ("parallelism=1 delay=0s monitor=5s order=stop-first "
                    "failure-action=pause")
    assert ss.parse_update_config(text) == ss.UpdateConfigChange(1, 0, 5 * 10**9,
                                                                  "stop-first", "pause")
    assert ss.parse_update_config("delay=1m30s order=start-first") == ss.UpdateConfigChange(
        delay_ns=90 * 10**9, order="start-first")
    cases = {
        "parallelism=-1": "parallelism must be 0",
        "parallelism=x": "parallelism must be a whole number",
        "delay=-5s": "delay must not be negative",
        "monitor=soon": "monitor must be a duration",
        "order=random": "order must be stop-first or start-first",
        "failure-action=explode": "failure-action must be one of pause, continue, rollback",
        "speed=3": "unknown setting",
        "": "nothing to change",
    }
    for bad, reason in cases.items():
        with pytest.raises(ValueError, match=reason):
            ss.parse_update_config(bad)


def test_update_config_writes_only_what_changes() -> None:
    old = service_spec("web", update_config={"Parallelism": 1, "Delay": 5 * 10**9,
                                             "FailureAction": "pause", "Order": "stop-first"})
    change = ss.parse_update_config("parallelism=1 delay=1s order=start-first")
    assert lines(old, ss.update_config_spec(old, change)) == [
        "UpdateConfig.Delay: 5s → 1s", "UpdateConfig.Order: stop-first → start-first"]


def test_update_config_on_a_spec_without_one_writes_the_config_in_force() -> None:
    # A partial UpdateConfig would read as zeroes: parallelism 0 means all at once.
    old = service_spec("web")
    new = ss.update_config_spec(old, ss.UpdateConfigChange(delay_ns=10**9))
    assert new["UpdateConfig"] == {"Parallelism": 1, "Delay": 10**9, "FailureAction": "pause",
                                   "Monitor": 5 * 10**9, "MaxFailureRatio": 0.0,
                                   "Order": "stop-first"}
    same = ss.update_config_spec(old, ss.UpdateConfigChange(parallelism=1, order="stop-first"))
    assert same == old, "the defaults in force: nothing to write"


def test_rollback_needs_a_previous_spec() -> None:
    with pytest.raises(ValueError, match="cannot roll back web: it has no previous spec"):
        ss.rollback_target(None, "web")
    prev = service_spec("web", "busybox:old")
    assert ss.rollback_target(prev) == prev
