"""RenameNodeCommand and wires that name nodes: redo -> undo restores the exact model, weights included."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from core.graph import Edge, Graph, GraphError
from gui.canvas import edits
from gui.canvas.naming import RenameNodeCommand, connect_named


class Owner:
    """Stands for the document: what the command reads is `.weights`."""

    def __init__(self, weights: dict) -> None:
        self.weights = weights


def dense_graph() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": ["N", 8]}, node_id="x")
    g.add_node("Dense", {"units": 5}, node_id="dense1")
    g.add_node("SoftmaxCrossEntropy", node_id="cost")
    g.add_node("Input", {"shape": ["N"], "dtype": "int64"}, node_id="y")
    g.connect("x", "y", "dense1", "x")
    g.connect("dense1", "y", "cost", "logits")
    g.connect("y", "y", "cost", "labels")
    g.set_training({"dataset": {"name": "xor"}, "features": "x", "labels": "y", "loss": "cost",
                    "metrics": ["cost"]})
    return g


def test_rename_moves_the_layers_weights_and_undo_puts_everything_back():
    g, stack = dense_graph(), QUndoStack()
    kernel, bias = np.ones((8, 5), np.float32), np.zeros(5, np.float32)
    owner = Owner({"dense1_W": kernel, "dense1_b": bias})
    before = g.to_dict()
    stack.push(RenameNodeCommand(g, "dense1", "hidden", owner))
    assert set(owner.weights) == {"hidden_W", "hidden_b"} and owner.weights["hidden_W"] is kernel
    assert set(g.analysis().params) == {"hidden_W", "hidden_b"}
    stack.push(RenameNodeCommand(g, "cost", "objective", owner))
    assert g.training["loss"] == "objective" and g.training["metrics"] == ["objective"]
    stack.undo()
    stack.undo()
    assert g.to_dict() == before and set(owner.weights) == {"dense1_W", "dense1_b"}
    stack.redo()
    assert "hidden" in g and g.source("cost", "logits") == ("hidden", "y")


def test_a_dangling_reference_is_restored_exactly_when_a_node_takes_its_name():
    g, stack = dense_graph(), QUndoStack()
    g.remove_node("cost")
    g.add_node("MSE", node_id="mse")
    before = g.to_dict()
    stack.push(RenameNodeCommand(g, "mse", "cost"))              # the training's 'cost' finds a node again
    assert g.training["loss"] == "cost" and "mse" not in g
    stack.undo()
    assert g.to_dict() == before                                  # training.loss is 'cost' again, not 'mse'


def test_a_refused_name_raises_with_the_reason_and_changes_nothing():
    g = dense_graph()
    with pytest.raises(GraphError, match="already the name"):
        RenameNodeCommand(g, "dense1", "x")
    with pytest.raises(GraphError, match="weight name of dense1"):
        RenameNodeCommand(g, "cost", "dense1_W")


def test_collapse_still_finds_a_renamed_member_of_an_expanded_layer():
    g, stack = dense_graph(), QUndoStack()
    members = edits.expand_layer(stack, g, "dense1")
    fed = next(n for n in members if g.source(n, "a") == ("x", "y"))
    stack.push(RenameNodeCommand(g, fed, "product"))
    layer = edits.collapse_layer(stack, g, "product")
    assert g.source(layer, "x") == ("x", "y")
    while stack.canUndo():
        stack.undo()
    assert g.op_name("dense1") == "Dense" and g.source("dense1", "x") == ("x", "y")


def test_a_wire_that_names_nodes_is_one_undo_step():
    g, stack = Graph(), QUndoStack()
    g.add_node("Input", {"shape": ["N", 4]}, node_id="x")
    for op in ("Parameter", "MatMul", "Parameter", "Add"):
        g.add_node(op, {"shape": [4, 3]} if op == "Parameter" and "parameter" not in g else None)
    g.connect("x", "y", "matmul", "a")
    connect_named(stack, g, Edge("parameter", "y", "matmul", "b"))
    g.connect("matmul", "y", "add", "a")
    before = g.to_dict()
    connect_named(stack, g, Edge("parameter_2", "y", "add", "b"))
    assert "b1" in g and tuple(g.attrs("b1")["shape"]) == (3,) and stack.count() == 2
    stack.undo()
    assert g.to_dict() == before


def test_an_unset_weight_is_accepted_into_a_matmul_whose_bias_says_the_units():
    from gui.canvas.naming import check_named_wire

    g, stack = Graph(), QUndoStack()
    g.add_node("Input", {"shape": ["N", 4]}, node_id="x")
    g.add_node("Parameter", node_id="parameter")                       # shape (1,): never set
    g.add_node("MatMul", node_id="matmul")
    g.add_node("Parameter", {"shape": [3]}, node_id="b1")
    g.add_node("Add", node_id="add")
    for edge in (("x", "y", "matmul", "a"), ("matmul", "y", "add", "a"), ("b1", "y", "add", "b")):
        g.connect(*edge)
    wire = Edge("parameter", "y", "matmul", "b")
    assert not g.check_wire(*wire)[0] and check_named_wire(g, wire) == (True, "")
    before = g.to_dict()
    connect_named(stack, g, wire)
    assert tuple(g.attrs("W1")["shape"]) == (4, 3) and not g.validate()
    stack.undo()
    assert g.to_dict() == before
    g.set_attr("b1", "shape", [1])                                     # nothing says the units any more
    assert check_named_wire(g, wire)[0] is False
