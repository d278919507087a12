"""The stacks selectors, pure: stacks from the stack label on services and on networks,
secrets and configs (engine JSON as recorded on the lab), their health, and the text of
docker stack services / ps; the compose reader that names a file's services."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from uistate import fixed_swarm

from swarmtui.model.actions import ServicesListed
from swarmtui.model.parse import parse_service
from swarmtui.model.stacks import (
    StackObjects,
    compose_service_names,
    parse_stack_object,
    stack_names,
    stack_ps_text,
    stack_rows,
    stack_services_text,
    stack_summaries,
)
from swarmtui.model.state import ClusterState
from swarmtui.model.types import UpdateStatus

LAB = Path("/work/shared/reference/docker-api/lab")
FIXTURES = Path(__file__).parent / "fixtures" / "engine" / "v1.41"
NOW = 1_800_000_000 * 10**9


def state() -> ClusterState:
    return fixed_swarm().store.state


def test_a_recorded_stack_service_belongs_to_its_stack() -> None:
    raw = json.loads((FIXTURES / "service_stack_03_www01.json").read_text())
    svc = parse_service(raw)
    assert svc.stack == "stack_03"
    live = fixed_swarm()
    live.store.dispatch(ServicesListed((svc,), NOW))
    (summary,) = stack_summaries(live.store.state)
    assert (summary.name, summary.services, summary.desired) == ("stack_03", 1, 4)
    assert summary.running is None and summary.replicas_text == "?/4", "listed without status"


def test_rows_count_services_replicas_failing_and_updating() -> None:
    s = state()
    assert stack_names(s) == ["ops", "shop"]
    rows = dict(stack_rows(s))
    assert rows["shop"] == ("shop", "2", "5/5", "-", "-", "?", "?", "?")
    assert rows["ops"] == ("ops", "2", "0/2", "2", "-", "?", "?", "?")
    web = s.service_by_name("shop_web")
    assert web is not None
    live = fixed_swarm()
    updating = replace(web, update_status=UpdateStatus("updating"))
    live.store.dispatch(ServicesListed((updating,), NOW))
    (shop,) = stack_summaries(live.store.state)
    assert shop.updating == 1 and shop.failing == 0


def test_objects_from_recorded_listings_and_leftover_stacks() -> None:
    secrets = json.loads((LAB / "secrets.json").read_text())
    assert parse_stack_object("secret", secrets[0]) is None, "no stack label: not a stack's"
    labelled = {**secrets[0], "Spec": {"Name": "shop_token",
                                       "Labels": {"com.docker.stack.namespace": "shop"}}}
    network = {"Id": "n1", "Name": "gone_default", "Labels": {"com.docker.stack.namespace":
                                                               "gone"}}
    objects = StackObjects.from_listings([network], [labelled, secrets[0]], [])
    assert objects.listed and [o.name for o in objects.secrets] == ["shop_token"]
    s = state()
    assert stack_names(s, objects) == ["gone", "ops", "shop"]
    rows = dict(stack_rows(s, objects))
    assert rows["gone"] == ("gone", "0", "0/0", "-", "-", "1", "0", "0")
    assert rows["shop"][5:] == ("0", "1", "0")
    partial = StackObjects.from_listings([network], None, [])
    assert dict(stack_rows(s, partial))["gone"][5:] == ("1", "?", "0")


def test_stack_services_and_ps_text_like_the_cli() -> None:
    s = state()
    services = stack_services_text(s, "shop").splitlines()
    assert services[0].split() == ["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"]
    assert [line.split()[1:4] for line in services[1:]] == [
        ["shop_api", "replicated", "2/2"], ["shop_web", "replicated", "3/3"]]
    ps = stack_ps_text(s, "ops", NOW).splitlines()
    assert ps[0].split()[:4] == ["ID", "NAME", "IMAGE", "NODE"]
    assert "cron_backup.1" in ps[1] and "Starting 1 second ago" in ps[1]
    assert ps[2].split()[1:3] == ["\\_", "cron_backup.1"]
    assert ps[2].endswith('"task: non-zero exit (1)"')
    assert '"no suitable node (scheduling constraints not satisfied on 4 nodes)"' in ps[3]


def test_compose_service_names() -> None:
    text = """\
version: "3.8"
# a comment
services:
  web:
    image: busybox:lab   # comment
    deploy:
      replicas: 2
  "api": {image: busybox:lab}

  worker:
    image: x
networks:
  front: {}
"""
    assert compose_service_names(text) == ("web", "api", "worker")
    assert compose_service_names("version: '3'\n") == ()
