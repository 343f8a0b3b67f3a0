"""Undo commands: one QUndoCommand per Graph method; the scene follows the graph's events.

Each constructor captures what the inverse needs; `redo` calls the Graph method and `undo`
its inverse. No command touches an item or a widget.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

from PySide6.QtGui import QUndoCommand

from core.graph import Edge, Graph

MOVE_COMMAND_ID = 1001


class AddNodeCommand(QUndoCommand):
    """Add one node; undo removes it, redo puts the same node back in the same place."""

    def __init__(self, graph: Graph, op: str, attrs: Optional[dict] = None, *,
                 node_id: Optional[str] = None, ui: Optional[dict] = None,
                 role: Optional[str] = None, parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.op = op
        self.attrs = dict(attrs or {})
        self.node_id = node_id or graph.unique_id(op.lower())
        self.ui = copy.deepcopy(ui or {})
        self.role = role
        self._record = None
        self.setText(f"add {op} '{self.node_id}'")

    def redo(self) -> None:
        if self._record is None:
            self.graph.add_node(self.op, self.attrs, node_id=self.node_id, ui=self.ui, role=self.role)
        else:
            self.graph.restore_node(self._record)

    def undo(self) -> None:
        self._record = self.graph.remove_node(self.node_id)


class RemoveNodeCommand(QUndoCommand):
    """Remove one node (and any wire still on it); undo restores it exactly."""

    def __init__(self, graph: Graph, node_id: str, parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.node_id = node_id
        self._record = None
        self.setText(f"delete {graph.op_name(node_id)} '{node_id}'")

    def redo(self) -> None:
        self._record = self.graph.remove_node(self.node_id)

    def undo(self) -> None:
        self.graph.restore_node(self._record)


class ConnectCommand(QUndoCommand):
    """Draw one wire; `typed=False` skips the shape check (pasting, restoring)."""

    def __init__(self, graph: Graph, edge: Edge, *, typed: bool = True,
                 parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.edge = Edge(*edge)
        self.typed = typed
        self.setText(f"connect {edge.src} to {edge.dst}.{edge.dst_port}")

    def redo(self) -> None:
        self.graph.connect(*self.edge, typed=self.typed)
        self.typed = False  # a wire that was accepted once comes back as it was

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class DisconnectCommand(QUndoCommand):
    """Remove one wire; undo draws it again."""

    def __init__(self, graph: Graph, edge: Edge, parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.edge = Edge(*edge)
        self.setText(f"disconnect {edge.src} from {edge.dst}.{edge.dst_port}")

    def redo(self) -> None:
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(*self.edge, typed=False)


class SetAttrCommand(QUndoCommand):
    """Change one attribute; undo puts the old value back."""

    def __init__(self, graph: Graph, node_id: str, name: str, value: Any,
                 parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.node_id = node_id
        self.name = name
        self.value = value
        self.old = graph.attrs(node_id)[name]
        self.setText(f"set {node_id}.{name}")

    def redo(self) -> None:
        self.graph.set_attr(self.node_id, self.name, self.value)

    def undo(self) -> None:
        self.graph.set_attr(self.node_id, self.name, self.old)


class SetUiCommand(QUndoCommand):
    """Change one presentation value of a node (ui dict); undo restores the old one."""

    def __init__(self, graph: Graph, node_id: str, key: str, value: Any,
                 parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.node_id = node_id
        self.key = key
        self.value = copy.deepcopy(value)
        self.old = copy.deepcopy(graph.ui(node_id).get(key))
        self.setText(f"change {node_id} {key}")

    def redo(self) -> None:
        self.graph.set_ui(self.node_id, self.key, self.value)

    def undo(self) -> None:
        self.graph.set_ui(self.node_id, self.key, self.old)


class MoveNodeCommand(QUndoCommand):
    """Move nodes (ui "pos"); the steps of one drag merge into one undo entry.

    `moves` maps node id -> (old position or None, new position).
    """

    def __init__(self, graph: Graph, moves: dict[str, tuple], drag_id: int,
                 parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.moves = {k: (copy.deepcopy(old), list(new)) for k, (old, new) in moves.items()}
        self.drag_id = drag_id
        self._update_text()

    def _update_text(self) -> None:
        names = sorted(self.moves)
        self.setText(f"move '{names[0]}'" if len(names) == 1 else f"move {len(names)} nodes")

    def id(self) -> int:  # noqa: A003 (Qt override)
        return MOVE_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, MoveNodeCommand) or other.drag_id != self.drag_id:
            return False
        for node_id, (old, new) in other.moves.items():
            first = self.moves.get(node_id, (old, new))[0]
            self.moves[node_id] = (first, new)
        self._update_text()
        return True

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            if node_id in self.graph:
                self.graph.set_ui(node_id, "pos", list(new))

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            if node_id in self.graph:
                self.graph.set_ui(node_id, "pos", copy.deepcopy(old))
