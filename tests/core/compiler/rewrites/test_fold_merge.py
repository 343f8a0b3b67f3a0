"""Constant folding, common-subexpression merge and dead-node removal."""
from __future__ import annotations

from core.compiler.rewrites import run_phase
from core.graph.builder import apply


def test_fold_fires_on_constant_arithmetic(kit):
    graph, b = kit.graph(x=("N", 3))
    y = b.var("x") * apply("Add", b.const(2.0, "float64"), b.const(3.0, "float64"))
    after, outs, records = run_phase("fold", graph, [(y.node, "y")])
    assert any(r.rewrite == "fold_constants" for r in records)
    assert "Add" not in kit.ops(after)
    assert 5.0 in [after.attrs(n)["value"] for n in after.nodes if after.op_name(n) == "Constant"]
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph))


def test_fold_folds_size_of_a_static_shape_only(kit):
    graph, b = kit.graph(x=(4, 3), z=("N", 3))
    s1 = apply("Size", b.var("x"))
    s2 = apply("Size", b.var("z"))
    after, outs, _ = run_phase("fold", graph, [(s1.node, "y"), (s2.node, "y")])
    assert after.op_name(outs[0][0]) == "Constant" and after.attrs(outs[0][0])["value"] == 12.0
    assert after.op_name(outs[1][0]) == "Size"


def test_fold_leaves_a_near_miss(kit):
    graph, b = kit.graph(x=("N", 3))
    y = apply("Add", b.const(2.0, "float64"), b.var("x"))
    after, outs, records = run_phase("fold", graph, [(y.node, "y")])
    assert not [r for r in records if r.rewrite == "fold_constants"]
    assert "Add" in kit.ops(after)


def test_merge_fires_and_keeps_values(kit):
    graph, b = kit.graph(x=("N", 3))
    y = apply("Tanh", b.var("x")) + apply("Tanh", b.var("x"))
    after, outs, records = run_phase("merge", graph, [(y.node, "y")])
    assert kit.ops(after).count("Tanh") == 1
    assert any(r.rewrite == "merge_common_subexpressions" for r in records)
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph))


def test_merge_leaves_different_inputs_and_attrs_alone(kit):
    graph, b = kit.graph(x=("N", 3), z=("N", 3))
    y = apply("Tanh", b.var("x")) + apply("Tanh", b.var("z"))
    w = apply("Clip", b.var("x"), lo=-1.0, hi=1.0) + apply("Clip", b.var("x"), lo=-0.5, hi=1.0)
    after, _, _ = run_phase("merge", graph, [(y.node, "y"), (w.node, "y")])
    assert kit.ops(after).count("Tanh") == 2 and kit.ops(after).count("Clip") == 2


def test_merge_never_merges_random_ops(kit):
    graph, b = kit.graph(x=("N", 3))
    y = apply("DropoutMask", b.var("x"), rate=0.5) + apply("DropoutMask", b.var("x"), rate=0.5)
    after, _, _ = run_phase("merge", graph, [(y.node, "y")])
    assert kit.ops(after).count("DropoutMask") == 2


def test_dead_nodes_are_removed_but_inputs_stay(kit):
    graph, b = kit.graph(x=("N", 3), unused=("N", 3))
    apply("Exp", b.var("x"))
    y = apply("Tanh", b.var("x"))
    after, _, records = run_phase("fold", graph, [(y.node, "y")])
    assert "Exp" not in kit.ops(after) and "unused" in after
    assert any(r.rewrite == "remove_dead_nodes" for r in records)


def test_phases_do_not_touch_their_input(kit):
    graph, b = kit.graph(x=("N", 3))
    y = b.var("x") * apply("Add", b.const(2.0, "float64"), b.const(3.0, "float64"))
    before = graph.to_dict()
    run_phase("fold", graph, [(y.node, "y")])
    assert graph.to_dict() == before
