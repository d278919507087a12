"""Screens: one per view, switched by number keys and the command palette.

Each view's screen is built by :mod:`swarmtui.views` with the :class:`~swarmtui.runtime.Runtime`
(``SwarmScreen(runtime)``); it renders snapshots and turns keys into intent: an operation
(run by the runtime's executor), or a :mod:`swarmtui.messages` request for another view.

May import: Textual, rich, :mod:`swarmtui.model`, :mod:`swarmtui.engine` (types, and the
runtime's objects it is handed), :mod:`swarmtui.ops`, :mod:`swarmtui.runtime`,
:mod:`swarmtui.messages` and :mod:`swarmtui.widgets`. Never the app, the views registry or the
CLI (they import the screens), and no screen builds an engine object.
"""
