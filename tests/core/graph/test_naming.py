"""Node names: renames keep everything but the id, and new nodes are named for their role."""
from __future__ import annotations

from core.graph import Graph
from core.graph.naming import name_problem, names_after_wiring, new_node_name, rename_node


def dense_layer() -> Graph:
    """x -> matmul(x, parameter) -> add(., parameter_2) -> tanh, every node with its default name but x."""
    g = Graph()
    g.add_node("Input", {"shape": ["N", 4]}, node_id=new_node_name(g, "Input"))
    for op, attrs in (("Parameter", {"shape": [4, 3]}), ("Parameter", {"shape": [3]}), ("MatMul", {}),
                      ("Add", {}), ("Tanh", {})):
        g.add_node(op, attrs, node_id=new_node_name(g, op))
    return g


def wire(g: Graph, *edge) -> dict:
    edge = g.connect(*edge)
    renames = names_after_wiring(g, edge)
    for old, new in renames.items():
        rename_node(g, old, new)
    return renames


def test_a_hand_built_dense_layer_gets_the_lecture_names():
    g = dense_layer()
    assert g.nodes == ["x", "parameter", "parameter_2", "matmul", "add", "tanh"]
    assert wire(g, "x", "y", "matmul", "a") == {}
    assert wire(g, "parameter", "y", "matmul", "b") == {"parameter": "W1"}
    assert wire(g, "matmul", "y", "add", "a") == {}
    assert wire(g, "parameter_2", "y", "add", "b") == {"parameter_2": "b1"}
    assert wire(g, "add", "y", "tanh", "x") == {"tanh": "hidden1"}
    assert g.nodes == ["x", "W1", "b1", "matmul", "add", "hidden1"]   # the order of the nodes is kept
    assert not g.validate()


def test_losses_dense_layers_and_label_inputs_are_named_for_their_role():
    g = Graph()
    assert [new_node_name(g, op) for op in ("Dense", "SoftmaxCrossEntropy")] == ["hidden1", "cost"]
    g.add_node("Dense", node_id="hidden1")
    g.add_node("SoftmaxCrossEntropy", node_id="cost")
    assert new_node_name(g, "Dense") == "hidden2" and new_node_name(g, "MSE") == "mse"
    g.add_node("Input", {"shape": ["N"], "dtype": "int64"}, node_id="input")
    assert wire(g, "input", "y", "cost", "labels") == {"input": "y"}


def test_a_node_the_user_named_is_never_renamed():
    g = dense_layer()
    rename_node(g, "parameter", "weights")
    assert wire(g, "weights", "y", "matmul", "b") == {}


def test_rename_keeps_wires_attributes_place_and_order():
    g = dense_layer()
    for edge in (("x", "y", "matmul", "a"), ("parameter", "y", "matmul", "b"), ("matmul", "y", "add", "a")):
        g.connect(*edge)
    g.set_ui("matmul", "pos", [10, 20])
    before = g.to_dict()
    rename_node(g, "matmul", "W1x")
    assert g.source("add", "a") == ("W1x", "y") and g.source("W1x", "b") == ("parameter", "y")
    rename_node(g, "W1x", "matmul")
    assert g.to_dict() == before


def test_a_bad_or_taken_name_is_refused_with_the_reason():
    g = dense_layer()
    g.add_node("Dense", {"units": 2}, node_id="h")
    g.connect("x", "y", "h", "x")
    assert name_problem(g, "tanh", "tanh") is None and name_problem(g, "tanh", "act") is None
    assert "letter or _" in name_problem(g, "tanh", "2nd")
    assert "letter or _" in name_problem(g, "tanh", "my layer")
    assert name_problem(g, "tanh", "x") == "'x' is already the name of another node"
    assert name_problem(g, "tanh", "h_W") == "'h_W' is the weight name of h's W"

