"""The simulated engine's JSON holds the live lab's shapes: every key path (and JSON type)
the real engine returns for the same kinds of objects, the simulator returns too."""

from __future__ import annotations

from typing import Any

import pytest
from swarmlab import Lab
from test_sim import assert_shape

from swarmtui.sim.scenarios import build

pytestmark = pytest.mark.lab


def _service(lab: Lab, *args: str) -> None:
    lab.docker("service", "create", "--detach", "--no-resolve-image", *args, "busybox:lab",
               "sh", "-c", "while true; do echo tick; sleep 2; done")


def test_sim_shapes_hold_against_the_live_lab(swarm: Lab) -> None:
    _service(swarm, "--name", "web", "--replicas", "3", "--label", "team=a",
             "--update-parallelism", "1", "--update-delay", "2s")
    _service(swarm, "--name", "agent", "--mode", "global")
    swarm.docker("service", "update", "--detach", "--replicas", "2", "web")  # a PreviousSpec

    def listed(path: str) -> list[Any]:
        data = swarm.api(path)
        assert isinstance(data, list)
        return data

    sim = build("demo")
    assert_shape(listed("/nodes"), sim.nodes_json())
    assert_shape(listed("/services?status=true"), sim.services_json(status=True))
    assert_shape(listed("/tasks"), sim.tasks_json())
    assert_shape([swarm.api("/info")["Swarm"]], [sim.info_json()["Swarm"]])
    assert_shape([swarm.api("/version")], [sim.version_json()])
