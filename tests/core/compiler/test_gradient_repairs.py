"""Reproducers of wrong or silent gradients (issue 17), each checked against finite differences
of the reference executor, and the compiled step against the reference."""
from __future__ import annotations

import numpy as np
import pytest

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import Graph, GraphError, evaluate, init_params
from core.graph.builder import Builder, apply

from gradcheck import numeric_gradient, relative_error


def parameter(graph: Graph, name: str, shape: list, dtype: str = "float64") -> None:
    graph.add_node("Parameter", {"shape": shape, "dtype": dtype, "init": "normal", "scale": 1.0}, node_id=name)


def gradients(graph: Graph, cost: str = "cost", weights: dict | None = None, feeds: dict | None = None):
    """(symbolic gradients by parameter, finite differences by parameter)."""
    weights = init_params(graph, 0) if weights is None else weights
    feeds = feeds or {}
    expanded, grads = differentiate(graph, cost)
    symbolic = evaluate(expanded, feeds, weights, list(grads.grads.values()))
    found = {k: symbolic[ref] for k, ref in grads.grads.items()}
    numeric = {k: numeric_gradient(graph, feeds, weights, cost, k) for k in weights
               if graph.op_name(k) == "Parameter"}
    return found, numeric


def test_max_over_tied_copies_shares_the_gradient():
    graph = Graph()
    parameter(graph, "x", [2, 1])
    b = Builder(graph)
    pair = apply("Concat", b.var("x"), b.var("x"), axis=1)
    apply("Sum", apply("Max", pair, axes=[1]), name="cost")
    found, numeric = gradients(graph)
    np.testing.assert_allclose(numeric["x"], 1.0, atol=1e-8)
    np.testing.assert_allclose(found["x"], numeric["x"], atol=1e-8)


def test_max_over_a_broadcast_row_shares_the_gradient():
    graph = Graph()
    parameter(graph, "x", [4, 1])
    b = Builder(graph)
    spread = b.var("x") + b.const(np.zeros((1, 3)).tolist(), "float64")
    apply("Sum", apply("Max", spread, axes=[1]), name="cost")
    found, numeric = gradients(graph)
    np.testing.assert_allclose(found["x"], numeric["x"], atol=1e-8)
    np.testing.assert_allclose(found["x"], 1.0)


def test_maxpool_ties_share_the_gradient_as_documented():
    graph = Graph()
    graph.add_node("Input", {"shape": [1, 1, 2, 4], "dtype": "float64"}, node_id="x")
    apply("Sum", apply("MaxPool2D", Builder(graph).var("x"), size=2) * 3.0, name="cost")
    expanded, grads = differentiate(graph, "cost", wrt=["x"])
    images = np.array([[[[1.0, 1.0, 2.0, 0.0], [0.0, -1.0, 2.0, 2.0]]]])
    got = evaluate(expanded, {"x": images}, {}, [grads.grads["x"]])[grads.grads["x"]]
    np.testing.assert_allclose(got, [[[[1.5, 1.5, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]]]])


def test_slice_passes_its_gradient():
    graph = Graph()
    parameter(graph, "p", [3])
    apply("Sum", apply("Slice", Builder(graph).var("p"), axis=0, start=0, stop=2), name="cost")
    found, numeric = gradients(graph)
    np.testing.assert_allclose(numeric["p"], [1, 1, 0], atol=1e-8)
    np.testing.assert_allclose(found["p"], numeric["p"], atol=1e-8)


def test_an_op_without_a_gradient_rule_is_refused_by_name():
    graph = Graph()
    parameter(graph, "p", [3])
    fused = apply("Fused", Builder(graph).var("p"), n=1, expr="tanh(x1)", dtype="float64", name="kernel")
    apply("Sum", fused, name="cost")
    with pytest.raises(GraphError, match="Fused has no gradient rule") as caught:
        differentiate(graph, "cost")
    assert caught.value.node == fused.node


def hessian_check(graph: Graph, wrt: str, feeds: dict | None = None, rtol: float = 1e-6) -> None:
    """penalty = sum(grad^2) of `cost`; its gradient against finite differences of the penalty."""
    feeds = feeds or {}
    weights = init_params(graph, 0)
    expanded, first = differentiate(graph, "cost", wrt=[wrt])
    b = Builder(expanded)
    apply("Sum", apply("Square", b.var(*first.grads[wrt])), name="penalty")
    twice, second = differentiate(expanded, "penalty", wrt=[wrt])
    got = evaluate(twice, feeds, weights, [second.grads[wrt]])[second.grads[wrt]]
    want = numeric_gradient(expanded, feeds, weights, "penalty", wrt)
    assert np.abs(want).max() > 1e-3, "the check needs a nonzero second derivative"
    assert relative_error(got, want) < rtol


def test_second_order_through_concat():
    graph = Graph()
    parameter(graph, "w", [2, 3])
    b = Builder(graph)
    joined = apply("Concat", apply("Tanh", b.var("w")), b.var("w") * b.var("w"), axis=1)
    apply("Sum", apply("Sigmoid", joined), name="cost")
    hessian_check(graph, "w")


def test_second_order_through_conv():
    graph = Graph()
    graph.add_node("Input", {"shape": [2, 2, 5, 5], "dtype": "float64"}, node_id="x")
    parameter(graph, "w", [3, 2, 3, 3])
    b = Builder(graph)
    y = apply("Conv", b.var("x"), b.var("w"), stride=2, padding=1)
    apply("Sum", apply("Tanh", y), name="cost")
    hessian_check(graph, "w", {"x": np.random.default_rng(1).normal(size=(2, 2, 5, 5))})


def test_conv_of_float32_images_and_float64_kernels_is_float64_everywhere():
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 1, 4, 4], "dtype": "float32"}, node_id="x")
    parameter(graph, "w", [2, 1, 3, 3])
    b = Builder(graph)
    apply("Conv", b.var("x"), b.var("w"), name="y")
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32)
    weights = init_params(graph, 0)
    declared = graph.types()[("y", "y")].dtype
    reference = evaluate(graph, {"x": x}, weights, ["y"])["y"]
    compiled = compile(graph, ["x"], ["y"], weights=weights)(x)[0]
    assert declared == "float64" == reference.dtype == compiled.dtype
    np.testing.assert_allclose(compiled, reference, rtol=1e-12)


def test_matmul_of_a_stack_of_matrices_by_a_vector():
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 2, 2], "dtype": "float64"}, node_id="a")
    parameter(graph, "v", [2])
    parameter(graph, "u", [2])
    b = Builder(graph)
    left = apply("MatMul", b.var("a"), b.var("v"), name="left")       # (N, 2)
    right = apply("MatMul", b.var("u"), b.var("a"), name="right")     # (N, 2)
    apply("Sum", apply("Tanh", left * right), name="cost")
    a = np.random.default_rng(0).normal(size=(3, 2, 2))
    weights = init_params(graph, 0)
    values = evaluate(graph, {"a": a}, weights, ["left", "right"])
    np.testing.assert_allclose(values["left"], a @ weights["v"])
    np.testing.assert_allclose(values["right"], weights["u"] @ a)
    found, numeric = gradients(graph, weights=weights, feeds={"a": a})
    for key in ("u", "v"):
        assert relative_error(found[key], numeric[key]) < 1e-7
