"""Elementwise fusion and in-place marks."""
from __future__ import annotations

import numpy as np

from core.compiler.rewrites import run_phase
from core.graph.builder import apply


def _chain(b):
    x = b.var("x")
    return apply("Tanh", 0.7 * x + 0.3) * apply("Sigmoid", x) + 0.5 * x * x


def test_fuse_makes_one_kernel_of_a_chain(kit):
    graph, b = kit.graph(x=("N", 8))
    y = _chain(b)
    after, outs, records = run_phase("fuse", graph, [(y.node, "y")])
    fused = [n for n in after.nodes if after.op_name(n) == "Fused"]
    assert len(fused) == 1 and outs[0][0] == fused[0]
    assert after.attrs(fused[0])["n"] == 1 and set(kit.ops(after)) == {"Input", "Fused"}
    assert len(after.ui(fused[0])["covers"]) == 8
    assert any(r.rewrite == "fuse_elementwise" for r in records)
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph), rtol=1e-13)


def test_fuse_takes_bias_add_and_activation_after_a_matmul(kit):
    graph, b = kit.graph(x=("N", 3), w=(3, 4), bias=(4,))
    h = apply("Tanh", apply("MatMul", b.var("x"), b.var("w")) + b.var("bias"))
    after, outs, _ = run_phase("fuse", graph, [(h.node, "y")])
    assert after.op_name(outs[0][0]) == "Fused" and "MatMul" in kit.ops(after)
    assert after.attrs(outs[0][0])["n"] == 2
    kit.same_values(graph, after, [h.node], [outs[0]], kit.feeds(graph))


def test_a_value_read_outside_the_group_is_not_swallowed(kit):
    graph, b = kit.graph(x=("N", 3))
    a = apply("Exp", b.var("x"))
    y = apply("Tanh", a * 2.0)
    after, outs, _ = run_phase("fuse", graph, [(y.node, "y"), (a.node, "y")])
    assert a.node in after and after.op_name(a.node) == "Exp"
    kit.same_values(graph, after, [y.node, a.node], outs, kit.feeds(graph))


def test_a_smaller_operand_stays_outside(kit):
    graph, b = kit.graph(x=("N", 3), v=(3,))
    y = apply("Tanh", b.var("x") + apply("Exp", b.var("v")))
    after, outs, _ = run_phase("fuse", graph, [(y.node, "y")])
    assert "Exp" in kit.ops(after)
    kit.same_values(graph, after, [y.node], outs, kit.feeds(graph))


def test_operand_limit_splits_groups(kit):
    names = {f"x{i}": ("N", 2) for i in range(6)}
    graph, b = kit.graph(**names)
    total = b.var("x0")
    for i in range(1, 6):
        total = apply("Tanh", total + b.var(f"x{i}"))
    after, outs, _ = run_phase("fuse", graph, [(total.node, "y")], options={"max_operands": 3})
    fused = [n for n in after.nodes if after.op_name(n) == "Fused"]
    assert len(fused) >= 2 and all(after.attrs(n)["n"] <= 3 for n in fused)
    kit.same_values(graph, after, [total.node], outs, kit.feeds(graph))


def test_near_miss_non_elementwise_ops_are_not_fused(kit):
    graph, b = kit.graph(x=("N", 3))
    y = apply("Sum", apply("Exp", b.var("x")), axes=1)
    after, _, _ = run_phase("fuse", graph, [(y.node, "y")])
    assert "Fused" not in kit.ops(after)


def test_fused_expression_holds_no_names_from_the_file(kit):
    graph, b = kit.graph(secret_name=("N", 3))
    y = apply("Tanh", b.var("secret_name") * 2.0)
    after, outs, _ = run_phase("fuse", graph, [(y.node, "y")])
    assert "secret" not in after.attrs(outs[0][0])["expr"]


def test_inplace_marks_a_dying_operand_and_skips_shared_ones(kit):
    graph, b = kit.graph(x=("N", 3), w=(3, 3))
    m = apply("MatMul", b.var("x"), b.var("w"))
    y = apply("Tanh", m)
    shared = apply("MatMul", b.var("x"), b.var("w"), transpose_b=True)
    e = apply("Exp", shared)
    z = e + shared
    after, outs, records = run_phase("inplace", graph, [(y.node, "y"), (z.node, "y")])
    assert after.ui(y.node).get("inplace") == "x"
    assert "inplace" not in after.ui(e.node)
    assert after.ui(z.node).get("inplace") == "a"
    assert any(r.rewrite == "reuse_operand_buffers" for r in records)
    weights = {}
    feeds = kit.feeds(graph)
    feeds["w"] = np.eye(3)
    kit.same_values(graph, after, [y.node, z.node], outs, feeds, weights)
