"""Screen 6: the nodes, as ``docker node ls`` lists them, with resources and labels; Enter
shows a node's tasks. The node actions (availability, promote/demote, labels, remove) are
operations: each previews its impact (the tasks a drain moves, the managers and raft quorum of
a demote) and is confirmed before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from swarmtui.model.state import ClusterState
from swarmtui.model.tables import NODE_COLUMNS, node_rows
from swarmtui.model.types import Node
from swarmtui.ops.base import Operation
from swarmtui.ops.node import (
    AddLabel,
    Demote,
    NodeClient,
    Promote,
    RemoveLabel,
    RemoveNode,
    SetAvailability,
)
from swarmtui.screens.base import operation_binding
from swarmtui.screens.table import TableScreen, TableSpec, columns


def _find_node(state: ClusterState, key: str) -> Node | None:
    return state.nodes.get(key)


NODES: TableSpec[Node] = TableSpec(
    name="nodes",
    noun="node",
    columns=columns(*NODE_COLUMNS),
    rows=node_rows,
    find=_find_node,
    grid_filter=lambda node: {"node": node.name},  # the grid's node:NAME
    event_types=frozenset({"node"}),
)


class NodesScreen(TableScreen[Node]):
    SPEC = NODES

    BINDINGS = [
        operation_binding("a", "active", "Active"),
        operation_binding("p", "pause", "Pause"),
        operation_binding("d", "drain", "Drain"),
        operation_binding("plus", "promote", "Promote"),
        operation_binding("minus", "demote", "Demote"),
        # Keys that open a prompt have priority: the app opens it before it routes the next key.
        replace(operation_binding("l", "add_label", "Label…"), priority=True),
        replace(operation_binding("L", "remove_label", "Unlabel…"), priority=True),
        operation_binding("D", "remove", "Remove"),
    ]

    def node_client(self) -> NodeClient:
        return self.runtime.live.client

    def _run(self, make: Callable[[NodeClient, Node], Operation[Any]], verb: str) -> None:
        node = self.selected()
        if node is not None:
            self.run_operation(make(self.node_client(), node), verb=verb)

    def action_active(self) -> None:
        """`a`: the scheduler may place tasks on the selected node again."""
        self._run(lambda c, n: SetAvailability(c, n.id, "active"), "Activate")

    def action_pause(self) -> None:
        """`p`: the selected node keeps its tasks and takes no new ones."""
        self._run(lambda c, n: SetAvailability(c, n.id, "pause"), "Pause")

    def action_drain(self) -> None:
        """`d`: the selected node's tasks move elsewhere (the preview says where)."""
        self._run(lambda c, n: SetAvailability(c, n.id, "drain"), "Drain")

    def action_promote(self) -> None:
        """`+`: make the selected node a manager."""
        self._run(lambda c, n: Promote(c, n.id), "Promote")

    def action_demote(self) -> None:
        """`-`: make the selected manager a worker (never the last; quorum typed)."""
        self._run(lambda c, n: Demote(c, n.id), "Demote")

    def action_remove(self) -> None:
        """`D`: remove a down worker from the swarm (its name typed to confirm)."""
        self._run(lambda c, n: RemoveNode(c, n.id), "Remove")

    def _ask(self, node: Node, hint: str, verb: str,
             make: Callable[[str], Operation[Any]]) -> None:
        """Open the prompt; Enter builds the operation from the text and runs it. Bad input
        is said in one line and the prompt stays open to fix it."""

        def accept(text: str) -> bool:
            try:
                operation = make(text)
            except ValueError as exc:
                self.notify(f"{node.hostname}: {exc}", severity="error")
                return False
            self.run_operation(operation, verb=verb)
            return True

        self.prompt.open("", hint=hint, verb=verb, accept=accept)

    def action_add_label(self) -> None:
        """`l`: ask for ``key=value``, then preview the label added."""
        node = self.selected()
        if node is not None:
            client = self.node_client()
            self._ask(node, f"Label {node.hostname} (key=value)", "Label",
                      lambda text: AddLabel(client, node.id, text))

    def action_remove_label(self) -> None:
        """`L`: ask for the key, then preview the label removed."""
        node = self.selected()
        if node is not None:
            client = self.node_client()
            keys = ", ".join(k for k, _ in node.labels) or "none"
            self._ask(node, f"Remove a label of {node.hostname} (has: {keys})", "Unlabel",
                      lambda text: RemoveLabel(client, node.id, text))
