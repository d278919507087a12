"""Reading what stacks own besides services: their networks, secrets and configs.

The snapshot holds nodes, services and tasks only; these are listed on demand (when the
stacks view is shown, when a removal is planned), filtered by the stack label as the docker
CLI does (``GET /networks?filters={"label":["com.docker.stack.namespace=NAME"]}``). Only
GETs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from swarmtui.engine.client import REQUEST_TIMEOUT_S, EngineError, WritePermit
from swarmtui.model.jsonval import as_list
from swarmtui.model.stacks import StackObjects
from swarmtui.model.types import STACK_LABEL


class Requester(Protocol):
    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                      timeout: float = REQUEST_TIMEOUT_S, *, body: Any = None,
                      permit: WritePermit | None = None) -> Any: ...


def label_filter(stack: str | None) -> dict[str, str]:
    """The ``filters`` parameter for one stack's objects (None: every stack's)."""
    label = STACK_LABEL if stack is None else f"{STACK_LABEL}={stack}"
    return {"filters": json.dumps({"label": [label]})}


async def list_stack_objects(client: Requester, stack: str | None = None, *,
                             partial: bool = False) -> StackObjects:
    """The networks, secrets and configs of ``stack`` (None: of every stack). Raises
    EngineError (one line); with ``partial``, a kind that cannot be listed is left out
    (``listed_kinds`` says which were read) unless none can."""
    params = label_filter(stack)
    listings: list[list[Any] | None] = []
    error: EngineError | None = None
    for kind in ("networks", "secrets", "configs"):
        try:
            listings.append(as_list(await client.request("GET", kind, params)))
        except EngineError as exc:
            if not partial:
                raise
            listings.append(None)
            error = exc
    if error is not None and all(item is None for item in listings):
        raise error
    return StackObjects.from_listings(*listings)


async def list_stack_services(client: Requester, stack: str) -> list[Any]:
    """The services of ``stack`` as the engine lists them now (not the snapshot's)."""
    return as_list(await client.request("GET", "services", label_filter(stack)))
