"""`--demo`: a simulated swarm served in-process over a private unix socket.

The app talks to it through the same engine layer as to a real engine. A small script keeps
the demo moving (scales, a rolling update, a rollback) so a projected screen stays alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Callable

from swarmtui.engine.target import EngineTarget
from swarmtui.sim.cluster import SimCluster
from swarmtui.sim.scenarios import BUILDERS, build_ending_at
from swarmtui.sim.server import start_sim_server

DEMO_STEP_S = 20.0


def _demo_script(cluster: SimCluster) -> list[Callable[[], object]]:
    """What the demo does next, in a loop (only for the `demo` scenario)."""
    return [
        lambda: cluster.scale_service("whoami", 4),
        lambda: cluster.set_image("shop_api", "registry.example/shop/api:2.1.1"),
        lambda: cluster.scale_service("whoami", 2),
        lambda: cluster.rollback_service("shop_api"),
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
    """Serve ``scenario`` live (virtual time = wall time) and yield its engine target."""
    if scenario not in BUILDERS:
        raise ValueError(f"unknown demo scenario {scenario!r} (choose from: {', '.join(BUILDERS)})")
    cluster = build_ending_at(scenario, time.time_ns())
    with tempfile.TemporaryDirectory(prefix="swarmtui-demo-") as folder:
        server = await start_sim_server(cluster, f"{folder}/docker.sock", realtime=True)
        script = (
            asyncio.create_task(_run_script(cluster)) if scripted and scenario == "demo" else None
        )
        try:
            yield EngineTarget(
                url=server.url, source="--demo", display=f"simulated swarm ({scenario})"
            )
        finally:
            if script is not None:
                script.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await script
            await server.stop()
