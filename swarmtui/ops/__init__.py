"""The operations layer: every change swarmtui makes to an engine passes through here.

An :class:`~swarmtui.ops.base.Operation` reads what it will change (``plan``: a
:class:`~swarmtui.ops.base.Plan` with a :class:`~swarmtui.ops.base.Preview` the app and the
CLI show, and the object versions it was based on), then, once confirmed, ``execute``\\s it
into an :class:`~swarmtui.ops.base.Outcome`. The one :class:`~swarmtui.ops.executor.Executor`
runs them: it alone hands out the :class:`~swarmtui.engine.client.WritePermit` without which
the engine layer sends no POST, PUT or DELETE, and with ``read_only`` it hands out none.

May import: ``swarmtui.model`` and ``swarmtui.engine``. Never Textual or the screens: the
app (``swarmtui.screens.base``) and the CLI (``swarmtui.cli.opflow``) drive operations.
"""
