"""Renaming as one undo step (the node, the training references to it and its weights together), and wires
that name the default-named nodes they make clear (a Parameter into a MatMul becomes W1).
"""
from __future__ import annotations

import copy
from typing import Any, Optional

from PySide6.QtGui import QUndoCommand, QUndoStack

from core.graph import Edge, Graph, GraphError
from core.graph.naming import name_problem, names_after_wiring, rename_node
from core.graph.validate import param_key
from core.graph.wired_shape import has_default_shape, wired_shape
from core.training.references import rename_references

from .commands import ConnectCommand, SetAttrCommand
from .edits import macro


class RenameNodeCommand(QUndoCommand):
    """Rename a node; graph.training follows, and so do the weights of `weights_owner` (its `.weights` dict).

    Undo restores the node's id, the training configuration as it was (byte for byte) and the weight keys.
    Raises GraphError with the reason when the name is refused.
    """

    def __init__(self, graph: Graph, old: str, new: str, weights_owner: Any = None,
                 parent: Optional[QUndoCommand] = None) -> None:
        super().__init__(parent)
        problem = name_problem(graph, old, new)
        if problem:
            raise GraphError(problem, node=old)
        self.graph, self.old, self.new, self.owner = graph, old, new, weights_owner
        self.old_training = copy.deepcopy(graph.training)
        self.new_training = rename_references(graph.training, old, new) if graph.training else {}
        self.keys = [(param_key(old, name), param_key(new, name))
                     for node, name, _ in graph.analysis().params.values() if node == old]
        self.layers = _layer_records(graph, old, new)
        self.setText(f"rename '{old}' to '{new}'")

    def redo(self) -> None:
        rename_node(self.graph, self.old, self.new)
        for node, (_, record) in self.layers.items():
            self.graph.set_ui(self.new if node == self.old else node, "layer", record)
        self._set_training(self.new_training)
        self._move_weights(self.keys)

    def undo(self) -> None:
        for node, (record, _) in self.layers.items():
            self.graph.set_ui(self.new if node == self.old else node, "layer", record)
        rename_node(self.graph, self.new, self.old)
        self._set_training(self.old_training)
        self._move_weights([(b, a) for a, b in self.keys])

    def _set_training(self, config: dict) -> None:
        if config != self.graph.training:
            self.graph.set_training(config)

    def _move_weights(self, pairs: list[tuple[str, str]]) -> None:
        weights = getattr(self.owner, "weights", None)
        if not isinstance(weights, dict):
            return
        moved = {new: weights.pop(old) for old, new in pairs if old in weights}
        weights.update(moved)


def _layer_records(graph: Graph, old: str, new: str) -> dict[str, tuple[dict, dict]]:
    """The expanded-layer records (ui "layer") that name `old` as a member, before and after the rename,
    so that Collapse Layer still finds the renamed member."""
    found = {}
    for node in graph.nodes:
        record = graph.ui(node).get("layer")
        if not isinstance(record, dict) or not isinstance(record.get("inputs"), dict):
            continue
        inputs = {port: [[new if dst == old else dst, dst_port] for dst, dst_port in targets]
                  for port, targets in record["inputs"].items()}
        if inputs != record["inputs"]:
            found[node] = (copy.deepcopy(record), {**copy.deepcopy(record), "inputs": inputs})
    return found


def check_named_wire(graph: Graph, edge: Edge) -> tuple[bool, str]:
    """Whether a wire may be drawn (Graph.check_wire), also accepting an unset Parameter whose shape the
    wire implies (a MatMul's weights whose bias is already set): it takes that shape as it is wired."""
    ok, reason = graph.check_wire(*edge)
    if ok or not has_default_shape_parameter(graph, edge.src) or not graph.check_wire(*edge, typed=False)[0]:
        return ok, reason
    return (True, "") if _shaped_trial(graph, edge)[1] is not None else (False, reason)


def _shaped_trial(graph: Graph, edge: Edge) -> tuple[Graph, Optional[list]]:
    """A copy of the graph with the wire drawn and, for an unset Parameter, the shape it implies (or None)."""
    trial = graph.copy()
    trial.connect(*edge, typed=False)
    shape = wired_shape(trial, edge.src) if has_default_shape_parameter(trial, edge.src) else None
    if shape is not None:
        trial.set_attr(edge.src, "shape", shape)
        if any(d.node == edge.dst for d in trial.validate()):
            shape = None
    return trial, shape


def connect_named(stack: QUndoStack, graph: Graph, edge: Edge) -> None:
    """Draw a wire, in the same undo step giving an unset Parameter the shape the wire implies and renaming
    the default-named nodes the wire makes clear."""
    trial, shape = _shaped_trial(graph, edge)
    renames = names_after_wiring(trial, edge)
    if shape is None and not renames:
        stack.push(ConnectCommand(graph, edge))
        return
    with macro(stack, f"connect {edge.src} to {edge.dst}.{edge.dst_port}"):
        stack.push(ConnectCommand(graph, edge, typed=shape is None))
        if shape is not None:
            stack.push(SetAttrCommand(graph, edge.src, "shape", shape))
        for old, new in renames.items():
            stack.push(RenameNodeCommand(graph, old, new))


def has_default_shape_parameter(graph: Graph, node_id: str) -> bool:
    """A Parameter whose shape nobody has set yet."""
    return graph.op_name(node_id) == "Parameter" and has_default_shape(graph, node_id)
