"""Images of an engine for the images view: the list and one image's layers, read only.

An :class:`ImageSource` is where images come from: an engine swarmtui talks to directly
(:class:`EngineImages`, over a :class:`~swarmtui.engine.disk.DiskEngine` of the runtime's
fleet: the manager and every configured engine), or a swarm node's answers to a node probe
(:class:`ProbedImages`, see :mod:`swarmtui.ops.images`). Both give the same
:class:`~swarmtui.model.disk.usage.ImageItem` s and
:class:`~swarmtui.model.images.ImageLayers`; every call raises EngineError (one line).

The list is ``GET /images/json``; before API 1.51 that leaves ``Containers`` and
``SharedSize`` at -1, so the containers are counted from ``GET /containers/json?all=1`` and
the shared sizes come from ``GET /system/df`` (what ``docker system df -v`` shows; API 1.42+
computes them in the list itself with ``shared-size=1``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from swarmtui.engine.client import EngineError
from swarmtui.engine.disk import DiskEngine
from swarmtui.engine.probe import NodeAnswer
from swarmtui.model.disk.usage import ImageItem
from swarmtui.model.images import ImageLayers, image_layers_from_json, images_from_json
from swarmtui.model.jsonval import as_list, as_map, as_str
from swarmtui.model.probe import (
    PROBE_LABEL,
    ProbeAnswerError,
    ProbeRequest,
    answer_json,
    without_probe_containers,
)

DF_TIMEOUT_S = 120.0


class ImageSource(Protocol):
    @property
    def name(self) -> str: ...

    async def images(self) -> tuple[ImageItem, ...]: ...

    async def layers(self, image_id: str) -> ImageLayers: ...


class EngineImages:
    """An engine of the fleet."""

    def __init__(self, engine: DiskEngine) -> None:
        self.engine = engine

    @property
    def name(self) -> str:
        return self.engine.name

    async def images(self) -> tuple[ImageItem, ...]:
        engine = self.engine
        await engine.connect()
        shared = engine.api >= (1, 42)
        raw = await engine.call("GET", "images/json", {"shared-size": "1"} if shared else None)
        containers = await engine.call("GET", "containers/json", {"all": "1"})
        df = None
        if any(as_map(i).get("SharedSize", -1) == -1 for i in as_list(raw)):
            df = await engine.call("GET", "system/df", timeout=DF_TIMEOUT_S)
        return images_from_json(raw, containers, df)

    async def layers(self, image_id: str) -> ImageLayers:
        inspect = await self.engine.call("GET", f"images/{image_id}/json")
        history = await self.engine.call("GET", f"images/{image_id}/history")
        return image_layers_from_json(inspect, history)


# --------------------------------------------------------------------------------------------
# Through a node probe
# --------------------------------------------------------------------------------------------

PROBE_API_PREFIX = "/v1.41"
LIST_REQUESTS = (
    ProbeRequest("images", "GET", f"{PROBE_API_PREFIX}/images/json"),
    ProbeRequest("containers", "GET", f"{PROBE_API_PREFIX}/containers/json", (("all", "1"),)),
    ProbeRequest("df", "GET", f"{PROBE_API_PREFIX}/system/df"),
)


def layer_requests(image_ids: Sequence[str]) -> tuple[ProbeRequest, ...]:
    """The second probe's requests: inspect and history of each image (keys ``iN``/``hN``)."""
    out: list[ProbeRequest] = []
    for n, image_id in enumerate(image_ids):
        out.append(ProbeRequest(f"i{n}", "GET", f"{PROBE_API_PREFIX}/images/{image_id}/json"))
        out.append(ProbeRequest(f"h{n}", "GET",
                                f"{PROBE_API_PREFIX}/images/{image_id}/history"))
    return tuple(out)


def _json(answer: NodeAnswer | None, key: str, what: str) -> Any:
    if answer is None or (answer.error is not None and key not in answer.answers):
        why = answer.error if answer is not None else "the probe did not ask"
        raise EngineError(f"{what}: {why}")
    raw = answer.answers.get(key)
    if raw is None:
        raise EngineError(f"{what}: no answer from the probe")
    try:
        return answer_json(raw, f"{what} on {answer.node.hostname}")
    except ProbeAnswerError as exc:
        raise EngineError(str(exc)) from None


class ProbedImages:
    """A swarm node's images as its engine answered a probe (list, then every image's layers)."""

    def __init__(self, listing: NodeAnswer, details: NodeAnswer | None,
                 image_ids: Sequence[str]) -> None:
        self.listing = listing
        self.details = details
        self.keys: Mapping[str, int] = {i: n for n, i in enumerate(image_ids)}

    @property
    def name(self) -> str:
        return f"{self.listing.node.hostname} (probe)"

    async def images(self) -> tuple[ImageItem, ...]:
        raw = _json(self.listing, "images", "GET /images/json")
        containers = [c for c in as_list(_json(self.listing, "containers", "GET /containers"))
                      if as_str(as_map(as_map(c).get("Labels")).get(PROBE_LABEL)) != "1"]
        df = without_probe_containers(_json(self.listing, "df", "GET /system/df"))
        return images_from_json(raw, containers, df)

    async def layers(self, image_id: str) -> ImageLayers:
        n = self.keys.get(image_id)
        if n is None:
            raise EngineError(f"{image_id[:19]}: not listed when the probe ran")
        inspect = _json(self.details, f"i{n}", f"GET /images/{image_id[7:19]}/json")
        history = _json(self.details, f"h{n}", f"GET /images/{image_id[7:19]}/history")
        return image_layers_from_json(inspect, history)


def listed_ids(listings: Sequence[NodeAnswer]) -> tuple[str, ...]:
    """Every image ID the nodes listed (sorted, once): what the second probe asks about."""
    ids: set[str] = set()
    for answer in listings:
        raw = answer.answers.get("images")
        if raw is None:
            continue
        try:
            data = answer_json(raw, "images")
        except ProbeAnswerError:
            continue
        ids.update(as_str(as_map(i).get("Id")) for i in as_list(data))
    return tuple(sorted(i for i in ids if i))
