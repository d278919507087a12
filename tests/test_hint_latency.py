"""A hint after a quiet spell is listed at once (a scale reaches the screen within one round
trip, not a debounce later); a burst of hints still coalesces into few listings."""

from __future__ import annotations

import asyncio
from typing import Any

from test_update_polling import WEB, ListingClient
from uistate import fixed_swarm

from swarmtui.engine.client import EngineError
from swarmtui.engine.live import Rates, Reconciler


async def _services_listed(client: ListingClient, count: int, timeout: float) -> bool:
    async def wait() -> None:
        while client.calls.count("services") < count:
            await asyncio.sleep(0.005)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        return False
    return True


def test_a_hint_after_quiet_lists_at_once_and_a_burst_coalesces() -> None:
    async def scenario() -> None:
        live = fixed_swarm()
        client = ListingClient("completed")
        # A long debounce makes "at once" unmistakable on a loaded machine.
        rec = Reconciler(client, live.store, Rates(debounce_s=3.0))  # type: ignore[arg-type]
        connected = asyncio.Event()
        connected.set()
        runner = asyncio.create_task(rec.run(connected))
        try:
            assert await _services_listed(client, 1, 5.0)  # the first idle listing
            await asyncio.sleep(0.05)
            rec.hint_service(WEB)
            assert await _services_listed(client, 2, 1.5), "a lone hint waited out debounce_s"
            for _ in range(20):  # a burst right after it: one more listing, debounced
                rec.hint_service(WEB)
                await asyncio.sleep(0.01)
            assert not await _services_listed(client, 3, 1.0)
            assert await _services_listed(client, 3, 4.0)
            await asyncio.sleep(0.2)
            assert client.calls.count("services") == 3
        finally:
            runner.cancel()

    asyncio.run(scenario())


def test_a_hint_about_a_removed_service_does_not_poll_it_for_good() -> None:
    """A container event of a service already removed hinted it; its tasks listing then got
    404 ("service not found") on every step, so the step failed before the converge window
    was cleaned and the reconciler listed every 0.5 s for good (seen on the lab at idle)."""

    class RefusingUnknown(ListingClient):
        async def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
            if filters and any(sid != WEB for sid in filters.get("service", ())):
                self.calls.append("tasks")
                raise EngineError("GET /tasks: HTTP 404: service gone not found")
            return await super().tasks(filters)

    async def scenario() -> None:
        live = fixed_swarm()
        client = RefusingUnknown("completed")
        rec = Reconciler(client, live.store, Rates())  # type: ignore[arg-type]
        connected = asyncio.Event()
        connected.set()
        runner = asyncio.create_task(rec.run(connected))
        try:
            await asyncio.sleep(0.3)
            rec.hint_service("gone")
            await asyncio.sleep(0.5)
            client.calls.clear()
            await asyncio.sleep(3)
            assert "gone" not in rec.converging
            assert client.calls.count("services") <= 1, client.calls
        finally:
            runner.cancel()

    asyncio.run(scenario())
