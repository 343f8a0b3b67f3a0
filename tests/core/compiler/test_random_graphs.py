"""Random graphs (every plain-tensor op kind, broadcasting, fan-out): first and second order
gradients against finite differences of the reference executor, and the compiled step against
the reference. LOOM_LONG_TESTS=1 runs many more graphs."""
from __future__ import annotations

import os

import numpy as np
import pytest

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import evaluate, init_params
from core.graph.builder import Builder, apply

from gradcheck import numeric_gradient, relative_error
from random_graphs import KINDS, RandomGraph

COUNT = 300 if os.environ.get("LOOM_LONG_TESTS") else 14


def gradient_penalty(expanded, first) -> None:
    """penalty = sum over parameters of sum(grad^2): differentiating it needs second order."""
    b = Builder(expanded)
    parts = [apply("Sum", apply("Square", b.var(*ref))) for ref in first.grads.values()]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    apply("Sum", total, name="penalty")


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_graph_gradients(seed):
    made = RandomGraph(seed)
    graph, params = made.graph, made.params
    weights = init_params(graph, seed)
    expanded, first = differentiate(graph, "cost", wrt=params)
    params = [p for p in params if p in first.grads]   # the cost may not reach both
    assert params
    gradient_penalty(expanded, first)
    twice, second = differentiate(expanded, "penalty", wrt=params)
    refs = [first.grads[p] for p in params] + [second.grads[p] for p in params]
    reference = evaluate(twice, {}, weights, refs)
    for p in params:
        want = numeric_gradient(graph, {}, weights, "cost", p)
        assert relative_error(reference[first.grads[p]], want) < 1e-6, (p, made.kinds)
        want = numeric_gradient(expanded, {}, weights, "penalty", p)
        assert relative_error(reference[second.grads[p]], want) < 1e-5, (p, made.kinds)
    compiled = compile(twice, [], refs, weights=weights)()
    for ref, got in zip(refs, compiled):
        np.testing.assert_allclose(got, reference[ref], rtol=1e-9, atol=1e-12, err_msg=str(made.kinds))


def test_the_generator_reaches_every_kind():
    seen = set()
    for seed in range(COUNT if COUNT > 40 else 40):
        seen |= set(RandomGraph(seed).kinds)
    assert seen == set(KINDS)
