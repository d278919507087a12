"""Pure disk-usage (``docker system df``) and prune model.

Stdlib only, no IO: the engine layer (``swarmtui/engine/disk.py``) fetches JSON and hands it
to the functions here. Import from the module that holds a name; this file re-exports nothing.

Modules, each importing only those above it (plus :mod:`swarmtui.model.dockerfmt`,
:mod:`swarmtui.model.imageref` and :mod:`swarmtui.model.jsonval`):

* :mod:`.usage` -- ``GET /system/df`` parsed into :class:`~.usage.DiskUsage`, summary rows.
* :mod:`.render` -- ``docker system df [-v]`` byte for byte, and ``swarmtui df --json``.
* :mod:`.engine_state` -- the list endpoints merged into what prune previews read.
* :mod:`.prune_plan` -- plans, filters, and the container/volume/network/build-cache plans.
* :mod:`.prune_images` -- the image plan (both image stores) and service protection.
* :mod:`.prune_system` -- the system prune, step by step in the CLI's order.
* :mod:`.prune_result` -- what a prune answered, the CLI's output for it, plan vs. result.
* :mod:`.view` -- presentation for the CLI and the screens: prune kinds, usage bars, preview
  and outcome texts, uncovered swarm nodes.
"""
