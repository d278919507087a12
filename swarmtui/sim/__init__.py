"""A simulated Docker Swarm that speaks the Engine API's own JSON and HTTP.

* :mod:`swarmtui.sim.cluster` — ``SimCluster``: a deterministic swarm on a virtual clock
  (orchestrator, scheduler, rolling updates, events, logs), pure stdlib.
* :mod:`swarmtui.sim.scenarios` — ``build(name, seed, start_ns)``: ``demo``, ``scale``, ``chatty``.
* :mod:`swarmtui.sim.server` — an aiohttp app serving a cluster on a unix socket like dockerd.

May import: the standard library and aiohttp only, never another swarmtui package: the
simulator checks the code that reads the engine, so it must not run that code itself.
"""
