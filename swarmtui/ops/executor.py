"""The one executor: the only place a :class:`WritePermit` is made, and so the only place
``--read-only`` is enforced."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from swarmtui.engine.client import WritePermit
from swarmtui.ops.base import Operation, Outcome, Plan

PayloadT = TypeVar("PayloadT")

READ_ONLY_REFUSAL = "read-only mode: nothing was changed"


class Executor:
    """Plans operations (always allowed: planning only reads) and executes confirmed plans
    (refused outright when ``read_only``). One executor per runtime; ``executed`` counts
    what it ran, for tests and the status line."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self.executed = 0
        self._lock = asyncio.Lock()

    @property
    def can_execute(self) -> bool:
        return not self.read_only

    async def plan(self, operation: Operation[PayloadT]) -> Plan[PayloadT]:
        return await operation.plan()

    async def execute(self, plan: Plan[PayloadT]) -> Outcome:
        """Run ``plan`` with a permit that lives for this call only. One operation at a time:
        two confirmations must not interleave their writes."""
        if self.read_only:
            return Outcome(plan.preview.title, refused=READ_ONLY_REFUSAL)
        async with self._lock:
            permit = WritePermit._issue(plan.preview.title)
            try:
                outcome = await plan.operation.execute(plan, permit)
            finally:
                permit._revoke()
            self.executed += 1
            return outcome
