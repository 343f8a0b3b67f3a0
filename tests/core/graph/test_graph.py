"""The Graph model: mutations and their inverses, events, wiring checks, diagnostics, queries."""
from __future__ import annotations

import numpy as np
import pytest

from core.graph import Graph, GraphError, evaluate


def small() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": ["N", 3]}, node_id="x")
    g.add_node("Parameter", {"shape": [3, 2]}, node_id="W")
    g.add_node("MatMul", node_id="mm")
    g.add_node("Tanh", node_id="h")
    g.connect("x", "y", "mm", "a")
    g.connect("W", "y", "mm", "b")
    g.connect("mm", "y", "h", "x")
    return g


def test_every_mutation_emits_one_event_then_changed():
    g = small()
    seen = []
    for name in g.events.NAMES:
        getattr(g.events, name).connect(lambda *args, name=name: seen.append(name))
    g.add_node("Sigmoid", node_id="s")
    g.connect("mm", "y", "s", "x")
    g.set_ui("s", "pos", [10, 20])
    g.set_attr("mm", "transpose_b", False)
    assert seen == ["node_added", "changed", "edge_added", "changed", "ui_changed", "changed",
                    "attr_changed", "changed"]


def test_remove_node_then_restore_gives_back_the_exact_graph():
    g = small()
    before = g.to_dict()
    record = g.remove_node("mm")
    assert "mm" not in g and g.edges() == []
    g.restore_node(record)
    assert g.to_dict() == before


def test_disconnect_inverse_is_connect():
    g = small()
    before = g.to_dict()
    edge = g.disconnect(g.in_edges("h")["x"])
    g.connect(*edge)
    assert g.to_dict() == before


@pytest.mark.parametrize("wire, reason", [
    (("h", "y", "mm", "a"), "already fed"),
    (("h", "y", "h", "x"), "cannot feed itself"),
    (("x", "y", "nowhere", "x"), "no node"),
    (("x", "z", "h", "x"), "no output"),
    (("x", "y", "mm", "c"), "no input"),
])
def test_check_wire_explains_refusals(wire, reason):
    ok, why = small().check_wire(*wire)
    assert not ok and reason in why


def test_check_wire_refuses_a_cycle_and_a_shape_mismatch():
    g = small()
    g.add_node("Add", node_id="add")
    g.connect("h", "y", "add", "a")
    ok, why = g.check_wire("add", "y", "mm", "a")
    assert not ok and "already fed" in why
    g.disconnect(g.in_edges("mm")["a"])
    ok, why = g.check_wire("add", "y", "mm", "a")
    assert not ok and "cycle" in why
    g.add_node("Input", {"shape": ["N", 5]}, node_id="wide")
    ok, why = g.check_wire("wide", "y", "mm", "a")
    assert not ok and "inner dimensions" in why
    with pytest.raises(GraphError, match="inner dimensions"):
        g.connect("wide", "y", "mm", "a")


def test_validate_reports_unconnected_ports_and_shape_errors_without_raising():
    g = small()
    g.add_node("Add", node_id="lonely")
    g.set_attr("W", "shape", [4, 2])
    problems = {(d.node, d.port, d.severity) for d in g.validate()}
    assert ("lonely", "a", "error") in problems and ("lonely", "b", "error") in problems
    assert any(d.node == "mm" and "inner dimensions" in d.message for d in g.validate())
    assert ("h", "y") not in g.types()


def test_types_follow_attribute_changes():
    g = small()
    assert str(g.types()[("h", "y")]) == "float32[N, 2]"
    g.set_attr("W", "shape", [3, 7])
    assert str(g.types()[("h", "y")]) == "float32[N, 7]"


def test_bad_attribute_values_are_refused_with_the_reason():
    g = small()
    with pytest.raises(GraphError, match="positive integer"):
        g.set_attr("W", "shape", [0, 2])
    with pytest.raises(GraphError, match="no attribute"):
        g.set_attr("W", "colour", 1)
    with pytest.raises(GraphError, match="one of"):
        g.add_node("Input", {"dtype": "complex"})
    with pytest.raises(GraphError, match="letter"):
        g.add_node("Tanh", node_id="1; import os")


def test_required_subgraph_and_topological_order(vectors):
    assert vectors.required(["res1"]) == {"a", "b", "res1"}
    sub = vectors.subgraph(["res1"])
    assert sorted(sub.nodes) == ["a", "b", "res1"]
    order = vectors.topological_order()
    assert order.index("res1") < order.index("res2") and order.index("c") < order.index("res2")


def test_the_lecture_vectors_graph_computes_dot_of_a_sum(vectors):
    a, b, c = np.array([1.0, 2, 3]), np.array([0.5, 0, -1]), np.arange(12.0).reshape(3, 4)
    result = evaluate(vectors, {"a": a, "b": b, "c": c}, {})
    np.testing.assert_allclose(result["res2"], (a + b) @ c)


def test_unique_ids_are_identifiers():
    g = small()
    assert g.unique_id("mm") == "mm_2"
    assert g.unique_id("3 bad-name") == "n_3_bad_name"
