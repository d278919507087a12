"""The first frame's shortcuts give what the plain code gave (issue 14, first frame).

``parse_task`` reads each sub-map once and skips empty ports and networks, ``as_map`` tests
for a plain dict before the Mapping ABC, and ``parse_rfc3339_ns`` reads the engine's own
layout by position: each is checked here against the straightforward version on every
recorded task (API 1.41 to 1.52) and on odd shapes, and the tasks stay frozen.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from swarmtui.model import dockerfmt
from swarmtui.model.dockerfmt import parse_rfc3339_ns, parse_time_ns
from swarmtui.model.jsonval import as_int, as_map, as_str
from swarmtui.model.parse import parse_task, parse_tasks
from swarmtui.model.probe import PROBE_LABEL
from swarmtui.model.types import NetworkAttachment, PortMapping, Task

ENGINE = Path(__file__).parent / "fixtures" / "engine"


def reference_task(raw: Mapping[str, Any]) -> Task:
    """parse_task as it was before the first-frame work (the plain reading)."""
    def m(v: object) -> Mapping[str, Any]:
        return v if isinstance(v, Mapping) else {}

    status = m(raw.get("Status"))
    container = m(status.get("ContainerStatus"))
    spec = m(raw.get("Spec"))
    networks = []
    for att in raw.get("NetworksAttachments") or []:
        a = m(att)
        net = m(a.get("Network"))
        name = as_str(m(net.get("Spec")).get("Name")) or as_str(net.get("ID"))
        addrs = a.get("Addresses")
        networks.append(NetworkAttachment(
            network=name,
            addresses=tuple(str(x) for x in addrs) if isinstance(addrs, list) else ()))
    ports = []
    for p in m(status.get("PortStatus")).get("Ports") or []:
        pm = m(p)
        published = pm.get("PublishedPort")
        ports.append(PortMapping(
            published=as_int(published) if published is not None else None,
            target=as_int(pm.get("TargetPort")), protocol=as_str(pm.get("Protocol"), "tcp"),
            mode=as_str(pm.get("PublishMode"), "ingress")))
    slot = raw.get("Slot")
    exit_code = container.get("ExitCode")
    return Task(
        id=as_str(raw.get("ID")),
        version=as_int(m(raw.get("Version")).get("Index")),
        service_id=as_str(raw.get("ServiceID")),
        slot=as_int(slot) if isinstance(slot, int) and slot > 0 else None,
        node_id=as_str(raw.get("NodeID")) or None,
        state=as_str(status.get("State"), "new"),
        desired_state=as_str(raw.get("DesiredState"), "running"),
        message=as_str(status.get("Message")),
        err=as_str(status.get("Err")),
        status_ns=reference_time(status.get("Timestamp")),
        created_ns=reference_time(raw.get("CreatedAt")),
        updated_ns=reference_time(raw.get("UpdatedAt")),
        container_id=as_str(container.get("ContainerID")) or None,
        exit_code=as_int(exit_code) if exit_code is not None else None,
        image=as_str(m(spec.get("ContainerSpec")).get("Image")),
        networks=tuple(networks),
        ports=tuple(ports),
        probe=m(m(spec.get("ContainerSpec")).get("Labels")).get(PROBE_LABEL) is not None,
    )


def reference_time(value: object) -> int | None:
    """parse_time_ns through the general RFC 3339 reading only (no positional shortcut)."""
    if not isinstance(value, str):
        return None
    ns = dockerfmt._parse_rfc3339_ns_any(value)
    return None if ns == dockerfmt.GO_ZERO_TIME_NS else ns


def recorded_tasks() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every task in the recorded engine answers (listings and update recordings)."""
    for path in sorted(ENGINE.rglob("*.json")):
        data = json.loads(path.read_text())
        items = data.get("tasks") if isinstance(data, dict) else data
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and "DesiredState" in item:
                yield f"{path.relative_to(ENGINE)}:{item.get('ID', '')[:8]}", item


RECORDED = list(recorded_tasks())


def test_the_recordings_cover_every_api_version_and_the_shapes_that_matter() -> None:
    names = {name.split("/")[0] for name, _ in RECORDED}
    assert {"v1.41", "v1.52"} <= names
    raws = [raw for _, raw in RECORDED]
    assert len(raws) >= 50
    # (none has networks attached: mutations() adds them)
    assert any(r["Status"].get("Err") for r in raws)
    assert any(r["Status"]["State"] != "running" for r in raws)


@pytest.mark.parametrize(("name", "raw"), RECORDED, ids=[n for n, _ in RECORDED])
def test_a_recorded_task_parses_as_the_plain_reading_does(name: str, raw: dict[str, Any]) -> None:
    assert parse_task(raw) == reference_task(raw)


def mutations(raw: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """Odd shapes an engine (or a proxy) could send: fields missing, null, of another type,
    ports and networks present, a probe's label, timestamps in other zones and lengths."""
    odd: list[object] = [None, 0, 1, True, "", "x", [], {}, [1], {"a": 1}, 2.5, -3]
    paths = [("ID",), ("Slot",), ("NodeID",), ("Status",), ("Status", "State"),
             ("Status", "Timestamp"), ("Status", "ContainerStatus"),
             ("Status", "ContainerStatus", "ExitCode"), ("Status", "PortStatus"),
             ("Spec",), ("Spec", "ContainerSpec"), ("Spec", "ContainerSpec", "Labels"),
             ("NetworksAttachments",), ("CreatedAt",), ("UpdatedAt",), ("Version",)]
    for path in paths:
        for value in odd:
            out = copy.deepcopy(raw)
            node: Any = out
            for key in path[:-1]:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            node[path[-1]] = value
            yield out
    rich = copy.deepcopy(raw)
    rich["Status"]["PortStatus"] = {"Ports": [
        {"Protocol": "udp", "TargetPort": 53, "PublishedPort": 5353, "PublishMode": "host"},
        {"TargetPort": "80"}, "junk"]}
    rich["Spec"].setdefault("ContainerSpec", {})["Labels"] = {PROBE_LABEL: "1"}
    rich["NetworksAttachments"] = [{"Network": {"ID": "n1"}, "Addresses": ["10.0.0.2/24"]},
                                   {"Network": {"Spec": {"Name": "web"}}}, "junk"]
    yield rich
    for stamp in ("2026-01-01T00:00:08.762191315+02:00", "2026-01-01T00:00:08Z",
                  "2026-01-01T00:00:08.7Z", "2026-01-01T00:00:60.000000000Z",
                  "2026-01-01T00:00:61.000000000Z", "2026-02-30T00:00:08.762191315Z",
                  "2026-01-01T24:00:08.762191315Z", "0001-01-01T00:00:00Z",
                  "2026-01-01T00:00:0٣.762191315Z", "2026-01-01T00:00:08.76219131٣Z",
                  "2026-01-01T00:00:08.7621913150Z", "2026-01-01 00:00:08.762191315Z",
                  "2026-01-01T00:00:+8.762191315Z", "2026-01-01T00:00:08.-62191315Z"):
        out = copy.deepcopy(raw)
        out["Status"]["Timestamp"] = out["UpdatedAt"] = stamp
        yield out
    for _ in range(20):  # characters of a well-formed stamp replaced at random
        out = copy.deepcopy(raw)
        stamp = list(out.get("UpdatedAt") or "2026-01-01T00:00:08.762191315Z")
        stamp[rng.randrange(len(stamp))] = rng.choice("0123456789:-.TZ+ x")
        out["UpdatedAt"] = "".join(stamp)
        yield out


def test_odd_shapes_parse_as_the_plain_reading_does() -> None:
    rng = random.Random(14)
    checked = 0
    for _, raw in RECORDED[::7]:
        for variant in mutations(raw, rng):
            try:
                expected: Task | type[Exception] = reference_task(variant)
            except Exception as exc:  # the same inputs must fail the same way
                expected = type(exc)
            if isinstance(expected, Task):
                assert parse_task(variant) == expected, variant
            else:
                with pytest.raises(expected):
                    parse_task(variant)
            checked += 1
    assert checked > 1000


def test_timestamps_read_by_position_equal_the_general_reading() -> None:
    rng = random.Random(41)
    stamps = [raw[k] for _, raw in RECORDED for k in ("CreatedAt", "UpdatedAt")]
    for _ in range(5000):
        stamp = rng.choice(stamps)
        if rng.random() < 0.5:  # Go cuts the fraction's trailing zeros (all of it: no dot)
            cut = rng.randrange(0, 11)
            stamp = stamp[:19] + ("." + stamp[20:29][:cut] if cut else "") + "Z"
        base = list(stamp)
        for _ in range(rng.randrange(3)):
            base[rng.randrange(len(base))] = rng.choice("0123456789:-.TZ+ ٣")
        stamp = "".join(base)
        assert parse_time_ns(stamp) == reference_time(stamp), stamp
        assert parse_rfc3339_ns(stamp) == dockerfmt._parse_rfc3339_ns_any(stamp), stamp
    assert parse_rfc3339_ns("2026-01-01T00:00:08.762191315Z") == 1767225608762191315


def test_as_map_still_takes_any_mapping_and_nothing_else() -> None:
    proxy = MappingProxyType({"a": 1})
    assert as_map(proxy) is proxy
    assert as_map({"a": 1}) == {"a": 1}
    assert as_map([("a", 1)]) == {} and as_map(None) == {} and as_map("a") == {}


def test_parsed_tasks_are_frozen_and_equal_by_value() -> None:
    raws = [raw for _, raw in RECORDED]
    tasks = parse_tasks(raws)
    assert tasks == parse_tasks(copy.deepcopy(raws))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tasks[0].state = "failed"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        tasks[0].extra = 1  # type: ignore[attr-defined]
    assert all(type(t) is Task for t in tasks)
