"""The reconciler lists an updating service's tasks every ``update_s`` (≤ 250 ms, as the
docker CLI's 200 ms progress loop) for as long as the update runs, services no faster than
``converge_s``, and returns to the idle rates when the update ends, where no full task listing
is made."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from uistate import fixed_swarm

from swarmtui.engine.live import Rates, Reconciler
from swarmtui.model.types import UpdateStatus

WEB = "svcweb00000000000000000001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ListingClient:
    """Answers listings with the raw state of a running update; counts what is asked."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.calls: list[str] = []
        self.task_filters: list[Any] = []

    async def services(self, status: bool = False) -> list[dict[str, Any]]:
        self.calls.append("services")
        return [{"ID": WEB, "Version": {"Index": 5},
                 "Spec": {"Name": "shop_web", "Mode": {"Replicated": {"Replicas": 3}},
                          "TaskTemplate": {"ContainerSpec": {"Image": "busybox:lab2"}}},
                 "UpdateStatus": {"State": self.state, "Message": "update in progress"},
                 "ServiceStatus": {"RunningTasks": 3, "DesiredTasks": 3}}]

    async def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
        self.calls.append("tasks")
        self.task_filters.append(filters)
        return []

    async def nodes(self) -> list[dict[str, Any]]:
        self.calls.append("nodes")
        return []


def test_an_update_in_flight_lists_tasks_every_200_ms_until_it_ends() -> None:
    live = fixed_swarm()
    client = ListingClient("updating")
    clock = FakeClock()
    # small_swarm_tasks=-1 (never small): this fake swarm's few tasks stand in for a big one
    # (a small swarm's idle poll is a full task listing: tests/test_idle_polling.py).
    big = Rates(small_swarm_tasks=-1)
    rec = Reconciler(client, live.store, big, clock)  # type: ignore[arg-type]
    assert UpdateStatus("updating").in_progress

    async def run(seconds: float) -> list[float]:
        """Step at each deadline for ``seconds``; when tasks were listed."""
        listed: list[float] = []
        end = clock.now + seconds
        while clock.now < end:
            clock.now = max(clock.now, rec._deadline())
            before = client.calls.count("tasks")
            await rec.step()
            if client.calls.count("tasks") > before:
                listed.append(clock.now)
        return listed

    rec.hint_service(WEB)
    client.calls.clear()
    listed = asyncio.run(run(60.0))  # longer than the 30 s converge window
    gaps = [b - a for a, b in itertools.pairwise(listed)]
    assert max(gaps) <= 0.25 and len(listed) >= 240
    services = client.calls.count("services")
    assert services <= 60 / Rates().converge_s + 2, "services no faster than converge_s"

    client.state = "completed"
    asyncio.run(run(1.0))  # the next services listing sees the update end
    client.calls.clear()
    client.task_filters.clear()
    asyncio.run(run(60.0))
    # Idle again: services (with their counts) every 5 s, one slice of the task sweep every
    # 30 s, and never the full task listing (~45 MB at 1,000 nodes).
    assert client.calls.count("tasks") <= 3 and client.calls.count("services") <= 13
    assert all(f and f.get("service") for f in client.task_filters), client.task_filters
