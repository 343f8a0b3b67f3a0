"""Symbolic reverse mode on whole graphs: fan-out, broadcasting, non-differentiable paths."""
from __future__ import annotations

import numpy as np
import pytest

from core.compiler.autodiff import add_gradients, differentiate
from core.graph import Graph, GraphError, evaluate, init_params


def numeric_gradient(graph, feeds, weights, key, eps=1e-6):
    values = weights[key]
    out = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        original = values[index]
        values[index] = original + eps
        up = float(evaluate(graph, feeds, weights, ["cost"])["cost"])
        values[index] = original - eps
        down = float(evaluate(graph, feeds, weights, ["cost"])["cost"])
        values[index] = original
        out[index] = (up - down) / (2 * eps)
    return out


def assert_gradients_match(graph, feeds, seed=0):
    weights = init_params(graph, seed)
    expanded, grads = differentiate(graph, "cost")
    symbolic = evaluate(expanded, feeds, weights, list(grads.grads.values()))
    assert grads.grads, "no gradients were produced"
    for key, ref in grads.grads.items():
        numeric = numeric_gradient(graph, feeds, weights, key)
        np.testing.assert_allclose(symbolic[ref], numeric, rtol=1e-6, atol=1e-8, err_msg=key)
    return expanded, grads


def fan_out_graph() -> Graph:
    """cost = sum(tanh(W) * W + W): W feeds three consumers, and b broadcasts over rows."""
    g = Graph()
    g.add_node("Parameter", {"shape": [3, 4], "dtype": "float64", "init": "normal", "scale": 1.0}, node_id="W")
    g.add_node("Parameter", {"shape": [4], "dtype": "float64", "init": "normal", "scale": 1.0}, node_id="b")
    g.add_node("Tanh", node_id="t")
    g.add_node("Mul", node_id="m")
    g.add_node("Add", node_id="s")
    g.add_node("Add", node_id="plus_b")
    g.add_node("Sum", node_id="cost")
    g.connect("W", "y", "t", "x")
    g.connect("t", "y", "m", "a")
    g.connect("W", "y", "m", "b")
    g.connect("m", "y", "s", "a")
    g.connect("W", "y", "s", "b")
    g.connect("s", "y", "plus_b", "a")
    g.connect("b", "y", "plus_b", "b")
    g.connect("plus_b", "y", "cost", "x")
    return g


def test_fan_out_accumulates_and_broadcasting_is_reduced():
    expanded, grads = assert_gradients_match(fan_out_graph(), {})
    assert expanded.op_name(grads.grads["b"][0]) == "SumLike"
    adds = [n for n in expanded.nodes if expanded.role(n) == "grad" and expanded.op_name(n) == "Add"]
    assert len(adds) == 2, "three uses of W need two Add nodes"


def test_gradient_nodes_are_tagged_and_the_forward_graph_is_untouched(lecture_mlp):
    before = lecture_mlp.to_dict()
    expanded, grads = differentiate(lecture_mlp, "cost")
    assert lecture_mlp.to_dict() == before
    forward = set(lecture_mlp.nodes)
    added = [n for n in expanded.nodes if n not in forward]
    assert added and all(expanded.role(n) == "grad" for n in added)
    assert set(grads.grads) == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_lecture_mlp_gradients_match_finite_differences(lecture_mlp):
    for node in lecture_mlp.nodes:
        if lecture_mlp.op_name(node) in ("Parameter", "Input") and lecture_mlp.attrs(node)["dtype"] == "float32":
            lecture_mlp.set_attr(node, "dtype", "float64")
    small = {"W1": [64, 5], "b1": [5], "W2": [5, 4], "b2": [4], "W3": [4, 10]}
    for key, shape in small.items():
        lecture_mlp.set_attr(key, "shape", shape)
    lecture_mlp.set_attr("b1", "init", "normal")
    rng = np.random.default_rng(0)
    feeds = {"x": rng.uniform(0, 1, (6, 64)), "y": rng.integers(0, 10, 6)}
    assert_gradients_match(lecture_mlp, feeds)


def test_labels_and_metrics_get_no_gradient(lecture_mlp):
    expanded, grads = differentiate(lecture_mlp, "cost")
    grad_nodes = [n for n in expanded.nodes if expanded.role(n) == "grad"]
    for node in grad_nodes:
        sources = {e.src for e in expanded.in_edges(node).values()}
        assert "accuracy" not in sources
    assert "y" not in grads.grads and "x" not in grads.grads


def test_a_parameter_the_cost_ignores_gets_a_warning():
    g = fan_out_graph()
    g.add_node("Parameter", {"shape": [2], "dtype": "float64"}, node_id="unused")
    _, grads = differentiate(g, "cost")
    assert [d.node for d in grads.diagnostics] == ["unused"]
    assert "does not depend" in grads.diagnostics[0].message
    assert "unused" not in grads.grads


def test_the_cost_must_be_a_float_scalar(lecture_mlp):
    with pytest.raises(GraphError, match="scalar"):
        differentiate(lecture_mlp, "p_y_given_x")


def test_add_gradients_refuses_unexpanded_layers():
    g = Graph()
    g.add_node("Input", {"shape": ["N", 3]}, node_id="x")
    g.add_node("Dense", {"units": 2}, node_id="d")
    g.add_node("Sum", node_id="cost")
    g.connect("x", "y", "d", "x")
    g.connect("d", "y", "cost", "x")
    with pytest.raises(GraphError, match="expand"):
        add_gradients(g, "cost")
