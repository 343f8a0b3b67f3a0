"""A Builder sees nodes added after it was made; differentiating and recompiling an unchanged
graph do not re-run whole-graph validation and type inference (what made a cached recompile
take 17-128 ms); int32 labels are taken as they are."""
from __future__ import annotations

import numpy as np
import pytest

import core.graph.validate as validate
from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import evaluate, init_params
from core.graph.builder import Builder, apply


@pytest.fixture
def analyses(monkeypatch) -> list:
    calls = []
    real = validate.analyze

    def counting(graph):
        calls.append(len(graph))
        return real(graph)
    monkeypatch.setattr(validate, "analyze", counting)
    return calls


def test_a_builder_sees_nodes_added_after_it_was_made(lecture_mlp):
    builder = Builder(lecture_mlp)
    lecture_mlp.add_node("Parameter", {"shape": [10], "dtype": "float32"}, node_id="late")
    shifted = builder.var("p_y_given_x") + builder.var("late")
    assert shifted.shape == ("N", 10)
    with pytest.raises(KeyError, match="nowhere.y"):
        builder.var("nowhere")


def test_types_kept_while_building_match_a_full_analysis(lecture_mlp, analyses):
    expanded, grads = differentiate(lecture_mlp, "cost")
    assert len(analyses) <= 2, "one analysis of the graph, not one per gradient node"
    kept = expanded.analysis()
    fresh = validate.analyze(expanded)
    assert kept.types == fresh.types and kept.params.keys() == fresh.params.keys()
    assert kept.diagnostics == fresh.diagnostics


def test_a_cached_recompile_does_not_revalidate(lecture_mlp, analyses):
    expanded, grads = differentiate(lecture_mlp, "cost")
    outputs = ["cost", *grads.grads.values()]
    weights = init_params(expanded, 0)
    compile(expanded, ["x", "y"], outputs, weights=weights)
    analyses.clear()
    step = compile(expanded, ["x", "y"], outputs, weights=weights)
    assert analyses == []
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (5, 64)).astype(np.float32), rng.integers(0, 10, 5)
    want = evaluate(expanded, {"x": x, "y": y}, weights, outputs)
    for ref, got in zip(outputs, step(x, y)):
        np.testing.assert_allclose(got, want[ref], rtol=1e-5, atol=1e-6)


def test_int32_labels_are_used_without_a_copy_per_call(lecture_mlp):
    expanded, grads = differentiate(lecture_mlp, "cost")
    step = compile(expanded, ["x", "y"], ["cost", grads.grads["W1"]], weights=init_params(expanded, 0))
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (6, 64)).astype(np.float32), rng.integers(0, 10, 6)
    want = [v.copy() for v in step(x, y)]
    labels = y.astype(np.int32)
    for _ in range(2):
        got = step(x, labels)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    assert step._signature[1][1] == np.int32, "the second call took the fast path with int32 labels"


def test_feeding_a_new_node_checks_its_sources_and_that_it_is_new(lecture_mlp):
    from core.graph import GraphError

    node = lecture_mlp.add_node("Tanh", node_id="fresh")
    with pytest.raises(GraphError, match="no output nowhere.y") as caught:
        lecture_mlp.feed_new_node(node, [("nowhere", "y")])
    assert caught.value.port == "x"
    lecture_mlp.feed_new_node(node, [("p_y_given_x", "y")])
    assert lecture_mlp.source("fresh", "x") == ("p_y_given_x", "y")
    with pytest.raises(GraphError, match="without wires"):
        lecture_mlp.feed_new_node(node, [("p_y_given_x", "y")])
