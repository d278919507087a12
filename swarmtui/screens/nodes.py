"""Screen 6: the nodes, as ``docker node ls`` lists them; Enter shows a node's tasks."""

from __future__ import annotations

from swarmtui.model.state import ClusterState
from swarmtui.model.tables import NODE_COLUMNS, node_rows
from swarmtui.model.types import Node
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
