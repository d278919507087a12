"""`--demo`: a simulated swarm served in-process over a private unix socket.

The app talks to it through the same engine layer as to a real engine. A small script keeps
the demo moving so a projected screen stays alive, one step every ``DEMO_STEP_S`` seconds, in
a loop: a rolling update that completes, a node drained, an update to a crashing release that
fails and rolls back, the node brought back, a scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Callable

from swarmtui.engine.target import EngineTarget
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.metrics import MetricsEndpoints
from swarmtui.sim.objects import image_of, replicas_of
from swarmtui.sim.scenarios import BUILDERS, DEMO_BAD_RELEASE, build_ending_at
from swarmtui.sim.server import start_sim_server

# Long enough for each step to show on a screen: shop_web's update (3 slots, start-first,
# 10 s apart) takes about 45 s and spans two steps; the failing update rolls back within one.
DEMO_STEP_S = 20.0
WEB_RELEASES = ("nginx:1.25.4-alpine", "nginx:1.25.5-alpine")
DRAINED_NODE = "worker-1"


def _toggle(current: object, pair: tuple[object, object]) -> object:
    return pair[1] if current == pair[0] else pair[0]


def _demo_script(cluster: SimCluster) -> list[Callable[[], object]]:
    """What the demo does next, in a loop (only for the `demo` scenario). Each step reads the
    cluster as it is then, so the loop can go round for ever."""

    def update_web() -> object:
        current = image_of(cluster.resolve_service("shop_web").spec)
        return cluster.set_image("shop_web", str(_toggle(current, WEB_RELEASES)))

    def scale_whoami() -> object:
        current = replicas_of(cluster.resolve_service("whoami").spec)
        return cluster.scale_service("whoami", int(str(_toggle(current, (2, 4)))))

    return [
        update_web,  # completes
        lambda: cluster.set_availability(DRAINED_NODE, "drain"),
        lambda: cluster.set_image("shop_api", DEMO_BAD_RELEASE),  # fails, rolls back
        lambda: cluster.set_availability(DRAINED_NODE, "active"),
        scale_whoami,
    ]


async def _run_script(cluster: SimCluster) -> None:
    steps = _demo_script(cluster)
    i = 0
    while True:
        await asyncio.sleep(DEMO_STEP_S)
        with contextlib.suppress(Exception):  # a demo step that does not apply is skipped
            steps[i % len(steps)]()
        i += 1


@contextlib.asynccontextmanager
async def demo_engine(scenario: str, *, scripted: bool = True) -> AsyncIterator[EngineTarget]:
    """Serve ``scenario`` live (virtual time = wall time) and yield its engine target, with
    the simulated nodes' ``--metrics-addr`` endpoints on this machine's loopback as its
    metrics endpoints (the metrics view reads them directly, read-only and kiosk too; the
    demo's worker-1 has none: its panel says how to enable one, ``p`` probes it)."""
    if scenario not in BUILDERS:
        raise ValueError(f"unknown demo scenario {scenario!r} (choose from: {', '.join(BUILDERS)})")
    cluster = build_ending_at(scenario, time.time_ns())
    with tempfile.TemporaryDirectory(prefix="swarmtui-demo-") as folder:
        server = await start_sim_server(cluster, f"{folder}/docker.sock", realtime=True)
        endpoints = MetricsEndpoints(cluster)
        await endpoints.start()
        script = (
            asyncio.create_task(_run_script(cluster)) if scripted and scenario == "demo" else None
        )
        try:
            yield EngineTarget(
                url=server.url, source="--demo", display=f"simulated swarm ({scenario})",
                metrics=tuple(endpoints.urls.items()),
            )
        finally:
            if script is not None:
                script.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await script
            await endpoints.stop()
            await server.stop()
