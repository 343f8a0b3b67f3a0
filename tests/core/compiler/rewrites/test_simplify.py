"""Algebraic simplification: each identity fires, skips a near miss, and keeps values."""
from __future__ import annotations

import pytest

from core.compiler.rewrites import run_phase
from core.graph.builder import apply

CASES = [
    ("remove_multiply_by_one", lambda x, c: x * c(1.0), "Mul"),
    ("remove_multiply_by_one", lambda x, c: c(1.0) * x, "Mul"),
    ("remove_add_zero", lambda x, c: x + c(0.0), "Add"),
    ("remove_add_zero", lambda x, c: c(0.0) + x, "Add"),
    ("remove_subtract_zero", lambda x, c: x - c(0.0), "Sub"),
    ("remove_divide_by_one", lambda x, c: x / c(1.0), "Div"),
    ("remove_double_negation", lambda x, c: -(-x), "Neg"),
    ("cancel_exp_log", lambda x, c: apply("Exp", apply("Log", x)), "Exp"),
    ("cancel_exp_log", lambda x, c: apply("Log", apply("Exp", x)), "Log"),
]
NEAR_MISSES = [
    lambda x, c: x * c(2.0), lambda x, c: x + c(1.0), lambda x, c: c(0.0) - x, lambda x, c: c(1.0) / x,
    lambda x, c: -apply("Tanh", x), lambda x, c: apply("Exp", apply("Sqrt", x)),
    lambda x, c: x * c([[1.0, 1.0, 1.0]] * 4),  # broadcasting changes the shape: not an identity
]


def _build(kit, make):
    graph, b = kit.graph(x=(3,))
    y = make(b.var("x"), lambda v: b.const(v, "float64"))
    return graph, y


@pytest.mark.parametrize("name,make,op", CASES)
def test_identity_fires_and_keeps_values(kit, name, make, op):
    graph, y = _build(kit, make)
    after, outs, records = run_phase("simplify", graph, [(y.node, "y")])
    assert name in {r.rewrite for r in records}
    assert outs[0] == ("x", "y")
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph, low=0.5, high=2.0))


@pytest.mark.parametrize("make", NEAR_MISSES)
def test_near_miss_is_left_alone(kit, make):
    graph, y = _build(kit, make)
    after, outs, records = run_phase("simplify", graph, [(y.node, "y")])
    assert outs[0] == (y.node, "y")
    assert not [r for r in records if r.rewrite != "remove_dead_nodes"]


def test_records_state_the_formula(kit):
    graph, y = _build(kit, CASES[0][1])
    _, _, records = run_phase("simplify", graph, [(y.node, "y")])
    assert records[0].reason == "x * 1 -> x" and records[0].phase == "simplify"


def test_relu_mask_reads_the_relu_output(kit):
    from core.compiler.autodiff import add_gradients

    graph, b = kit.graph(x=("N", 3), w=(3, 3))
    z = apply("MatMul", b.var("x"), b.var("w")) + 0.5
    cost = apply("Sum", apply("ReLU", z) * 2.0)
    grads = add_gradients(graph, cost.node, wrt=["x"])
    after, outs, records = run_phase("simplify", graph, [(cost.node, "y"), grads.grads["x"]])
    assert "relu_mask_from_output" in {r.rewrite for r in records}
    assert [e.dst for e in after.out_edges(z.node)] == [n for n in after.nodes if after.op_name(n) == "ReLU"]
    kit.same_values(graph, after, [cost.node, grads.grads["x"]], outs, kit.feeds(graph))


def test_relu_mask_near_miss(kit):
    graph, b = kit.graph(x=("N", 3))
    y = apply("ReLU", b.var("x")) + apply("Greater", b.var("x"), 1.0)
    _, _, records = run_phase("simplify", graph, [(y.node, "y")])
    assert "relu_mask_from_output" not in {r.rewrite for r in records}
