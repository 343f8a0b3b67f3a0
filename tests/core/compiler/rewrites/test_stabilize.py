"""Numerical stabilization: each rewrite fires, skips a near miss, keeps values, and is stable."""
from __future__ import annotations

import numpy as np

from core.compiler.autodiff import add_gradients
from core.compiler.rewrites import run_phase
from core.graph import evaluate
from core.graph.builder import apply


def _fired(records, name):
    return name in {r.rewrite for r in records}


def test_log_softmax_fires_and_is_stable(kit):
    graph, b = kit.graph(z=("N", 4))
    y = apply("Log", apply("Softmax", b.var("z")))
    after, outs, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert _fired(records, "log_softmax") and "LogSoftmax" in kit.ops(after)
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph))
    big = {"z": np.array([[0.0, 1000.0, -1000.0, 3.0]])}
    value = evaluate(after, big, {}, [outs[0]])[outs[0]]
    assert np.all(np.isfinite(value)) and np.isclose(value[0, 2], -2000.0)


def test_log_softmax_near_miss(kit):
    graph, b = kit.graph(z=("N", 4))
    y = apply("Log", apply("Softmax", b.var("z")) + 0.5)
    after, _, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert not _fired(records, "log_softmax") and "LogSoftmax" not in kit.ops(after)


def test_log1p_fires_and_is_accurate(kit):
    graph, b = kit.graph(x=(3,))
    y = apply("Log", 1.0 + b.var("x"))
    after, outs, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert _fired(records, "log1p") and "Log1p" in kit.ops(after)
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph, low=-0.5, high=2.0))
    tiny = evaluate(after, {"x": np.array([1e-20, 1e-10, 0.5])}, {}, [outs[0]])[outs[0]]
    np.testing.assert_allclose(tiny, np.log1p([1e-20, 1e-10, 0.5]), rtol=1e-15)


def test_log1p_near_miss(kit):
    graph, b = kit.graph(x=(3,))
    y = apply("Log", 2.0 + b.var("x"))
    _, _, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert not _fired(records, "log1p")


def test_log_sigmoid_fires_and_is_stable(kit):
    graph, b = kit.graph(x=(3,))
    y = apply("Log", apply("Sigmoid", b.var("x")))
    after, outs, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert _fired(records, "log_sigmoid") and "Softplus" in kit.ops(after)
    kit.same_values(graph, after, [y.node], [outs[0]], kit.feeds(graph))
    value = evaluate(after, {"x": np.array([-800.0, 0.0, 800.0])}, {}, [outs[0]])[outs[0]]
    np.testing.assert_allclose(value, [-800.0, -np.log(2.0), 0.0], atol=1e-12)


def test_log_sigmoid_near_miss(kit):
    graph, b = kit.graph(x=(3,))
    y = apply("Log", apply("Tanh", b.var("x")))
    _, _, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert not _fired(records, "log_sigmoid")


def _hand_cross_entropy(kit, reduce="Mean"):
    graph, b = kit.graph(z=("N", 4), labels=(("N",), "int64"))
    picked = apply("PickLabels", apply("Log", apply("Softmax", b.var("z"))), b.var("labels"))
    return graph, -apply(reduce, picked)


def test_softmax_cross_entropy_fires_on_a_hand_written_loss(kit):
    graph, cost = _hand_cross_entropy(kit)
    after, outs, records = run_phase("stabilize", graph, [(cost.node, "y")])
    assert _fired(records, "softmax_cross_entropy")
    assert after.op_name(outs[0][0]) == "SoftmaxCrossEntropy"
    assert not {"Softmax", "Log", "PickLabels"} & set(kit.ops(after))
    kit.same_values(graph, after, [cost.node], [outs[0]], kit.feeds(graph))
    huge = {"z": np.array([[0.0, 2000.0, -2000.0, 1.0]]), "labels": np.array([2])}
    assert np.isclose(evaluate(after, huge, {}, [outs[0]])[outs[0]], 4000.0)
    assert not np.isfinite(evaluate(graph, huge, {}, [cost.node])[cost.node])


def test_softmax_cross_entropy_near_miss_sum_instead_of_mean(kit):
    graph, cost = _hand_cross_entropy(kit, reduce="Sum")
    after, _, records = run_phase("stabilize", graph, [(cost.node, "y")])
    assert not _fired(records, "softmax_cross_entropy")
    assert "SoftmaxCrossEntropy" not in kit.ops(after)


def test_softmax_minus_one_hot_fires_on_the_cross_entropy_gradient(kit):
    graph, b = kit.graph(z=("N", 4), labels=(("N",), "int64"))
    cost = apply("SoftmaxCrossEntropy", b.var("z"), b.var("labels"))
    grads = add_gradients(graph, cost.node, wrt=["z"])
    ref = grads.grads["z"]
    after, outs, records = run_phase("stabilize", graph, [ref])
    assert _fired(records, "softmax_minus_one_hot") and "SoftmaxXentGrad" in kit.ops(after)
    kit.same_values(graph, after, [ref], [outs[0]], kit.feeds(graph), rtol=1e-12)


def test_softmax_minus_one_hot_near_miss(kit):
    graph, b = kit.graph(z=("N", 4), w=("N", 4))
    y = apply("Softmax", b.var("z")) - b.var("w")
    _, _, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert not _fired(records, "softmax_minus_one_hot")
