"""The lecture's hand-written cross-entropy: log(pick(softmax)) and log(softmax)'s gradient made
stable. Each rewrite fires, skips a near miss, keeps the values and survives logits of 1e3."""
from __future__ import annotations

import numpy as np

from core.compiler.autodiff import add_gradients
from core.compiler.rewrites import run_phase
from core.graph import evaluate
from core.graph.builder import apply

HUGE = {"z": np.array([[1e3, 0.0, -1e3, 2.0], [0.0, 1e3, 3.0, 0.0]]), "labels": np.array([2, 1])}


def _fired(records, name):
    return name in {r.rewrite for r in records}


def _stable_log_p(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _picked_log(kit, then_pick: bool):
    """-log(softmax(z))[rows, labels] (then_pick) or -log(softmax(z)[rows, labels]), per sample."""
    graph, b = kit.graph(z=("N", 4), labels=(("N",), "int64"))
    p = apply("Softmax", b.var("z"))
    if then_pick:
        return graph, -apply("PickLabels", apply("Log", p), b.var("labels"))
    return graph, -apply("Log", apply("PickLabels", p, b.var("labels")))


def test_log_of_picked_softmax_fires_keeps_values_and_is_stable(kit):
    graph, loss = _picked_log(kit, then_pick=False)
    after, outs, records = run_phase("stabilize", graph, [(loss.node, "y")])
    assert _fired(records, "log_of_picked_softmax") and "LogSoftmax" in kit.ops(after)
    assert "Log" not in kit.ops(after)
    kit.same_values(graph, after, [loss.node], [outs[0]], kit.feeds(graph))
    value = evaluate(after, HUGE, {}, [outs[0]])[outs[0]]
    np.testing.assert_allclose(value, -_stable_log_p(HUGE["z"])[[0, 1], [2, 1]])
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(evaluate(graph, HUGE, {}, [loss.node])[loss.node]))


def test_log_of_picked_softmax_near_miss_softmax_over_the_batch_axis(kit):
    graph, b = kit.graph(z=(3, 4), labels=((3,), "int64"))
    p = apply("Softmax", b.var("z"), axis=0)
    loss = apply("Log", apply("PickLabels", p, b.var("labels")))
    _, _, records = run_phase("stabilize", graph, [(loss.node, "y")])
    assert not _fired(records, "log_of_picked_softmax")


def _gradient(kit, then_pick: bool):
    graph, loss = _picked_log(kit, then_pick)
    cost = apply("Mean", loss)
    grads = add_gradients(graph, (cost.node, "y"), wrt=["z"])
    return graph, grads.grads["z"]


def test_log_softmax_gradient_fires_on_both_lecture_forms_and_keeps_values(kit):
    for then_pick in (True, False):
        graph, ref = _gradient(kit, then_pick)
        after, outs, records = run_phase("stabilize", graph, [ref])
        assert _fired(records, "log_softmax_gradient")
        kit.same_values(graph, after, [ref], [outs[0]], kit.feeds(graph), rtol=1e-12)
        g = evaluate(after, HUGE, {}, [outs[0]])[outs[0]]
        want = np.exp(_stable_log_p(HUGE["z"]))
        want[[0, 1], HUGE["labels"]] -= 1
        np.testing.assert_allclose(g, want / 2, atol=1e-15)
        with np.errstate(all="ignore"):
            assert not np.all(np.isfinite(evaluate(graph, HUGE, {}, [ref])[ref]))


def test_log_softmax_gradient_near_miss_another_softmax(kit):
    graph, b = kit.graph(z=("N", 4), w=("N", 4), g=("N", 4))
    s, t = apply("Softmax", b.var("z")), apply("Softmax", b.var("w"))
    h = b.var("g") / t
    y = s * (h - apply("Sum", h * s, axes=-1, keepdims=True))
    _, _, records = run_phase("stabilize", graph, [(y.node, "y")])
    assert not _fired(records, "log_softmax_gradient")
