"""The garbage collector and the first frame (issue 14): a big decoded answer goes straight
to the collector's oldest generation (nothing exempted); a full task listing of
EXEMPT_FROM_GC_TASKS tasks or more, and the heap the first app of a process mounts with,
are exempted from later collections."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from uistate import fixed_app, fixed_swarm

from swarmtui.engine import client as client_module
from swarmtui.engine import live as live_module
from swarmtui.engine.client import PROMOTE_ABOVE_BYTES, decode_json
from swarmtui.engine.live import Reconciler


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing exempted (the rest of the suite's heap), as a
    fresh process (nothing exempted yet)."""
    gc.unfreeze()
    saved = set(client_module._EXEMPTED)
    client_module._EXEMPTED.clear()
    yield
    gc.unfreeze()
    client_module._EXEMPTED.clear()
    client_module._EXEMPTED.update(saved)


def raw_task(i: int) -> dict[str, Any]:
    return {"ID": f"bulk{i:021d}", "Version": {"Index": i + 1},
            "ServiceID": "svcweb00000000000000000001", "NodeID": "node01id", "Slot": i + 1,
            "Status": {"State": "running", "Timestamp": "2026-01-01T00:00:08.762191315Z"},
            "DesiredState": "running", "CreatedAt": "2026-01-01T00:00:01.000000000Z",
            "UpdatedAt": "2026-01-01T00:00:08.762191315Z",
            "Spec": {"ContainerSpec": {"Image": "busybox:lab"}}}


class TasksClient:
    def __init__(self, count: int) -> None:
        self.count = count

    async def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
        return [raw_task(i) for i in range(self.count)]


def list_tasks(count: int, service_ids: set[str] | None) -> int:
    """Tasks in the store after one listing of ``count``; how many objects got exempted."""
    live = fixed_swarm()
    rec = Reconciler(TasksClient(count), live.store)  # type: ignore[arg-type]
    asyncio.run(rec._list_tasks(service_ids))
    assert sum(1 for t in live.store.state.tasks.values() if t.id.startswith("bulk")) == count
    return gc.get_freeze_count()


def test_the_first_big_full_listing_leaves_the_heap_out_of_later_collections() -> None:
    assert list_tasks(live_module.EXEMPT_FROM_GC_TASKS, None) > 0
    gc.unfreeze()  # the next (a reconnect's) reuses its unchanged tasks: exempts nothing
    assert list_tasks(live_module.EXEMPT_FROM_GC_TASKS, None) == 0


def test_a_small_full_listing_or_a_big_partial_one_exempts_nothing() -> None:
    assert list_tasks(live_module.EXEMPT_FROM_GC_TASKS - 1, None) == 0
    assert list_tasks(live_module.EXEMPT_FROM_GC_TASKS, {"svcweb00000000000000000001"}) == 0


def test_a_big_answer_is_decoded_into_the_oldest_generation_and_stays_collectable() -> None:
    body = json.dumps([raw_task(i) for i in range(3000)]).encode()
    assert len(body) > PROMOTE_ABOVE_BYTES
    gc.collect()
    value = decode_json(body)
    oldest = gc.get_objects(generation=2)
    assert any(o is value for o in oldest) and any(o is value[-1] for o in oldest)
    assert gc.get_freeze_count() == 0  # promoted, not exempted
    assert value == json.loads(body)
    assert decode_json(b"[1]") == [1] and decode_json(b" ") is None


async def test_the_first_app_of_a_process_exempts_the_heap_it_starts_with_once() -> None:
    async with fixed_app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert gc.get_freeze_count() > 0
    assert "startup" in client_module._EXEMPTED
    gc.unfreeze()
    # Once per process: a second app's start exempts nothing more (its views still freeze
    # what they compose once painted, app.py _freeze_long_lived, so that is asked directly).
    client_module.exempt_from_collections("startup")
    assert gc.get_freeze_count() == 0


def test_a_big_answer_does_not_undo_what_was_exempted_on_purpose() -> None:
    """freeze + unfreeze (the promotion) unfreezes everything: after the app froze its views
    or the first big listing, every big answer (a 1,000-node nodes listing is 1.8 MB) would
    have put them back into the collector's passes."""
    kept = [{"n": i} for i in range(1000)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen >= len(kept)
    decode_json(json.dumps([{"k": i} for i in range(PROMOTE_ABOVE_BYTES // 8)]).encode())
    assert gc.get_freeze_count() == frozen
