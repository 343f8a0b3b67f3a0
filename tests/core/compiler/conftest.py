"""Helpers for the compiler tests: small graphs built with the Builder, and value checks
against the reference executor (the ground truth)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from core.graph import Graph, evaluate, init_params
from core.graph.builder import Builder


class Kit:
    """Builds graphs and compares rewritten graphs with the originals on random inputs."""

    @staticmethod
    def graph(**inputs) -> tuple[Graph, Builder]:
        """Inputs by name: shape, or (shape, dtype); float64 by default."""
        graph = Graph()
        for name, spec in inputs.items():
            shape, dtype = spec if isinstance(spec, tuple) and isinstance(spec[-1], str) else (spec, "float64")
            graph.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=name)
        return graph, Builder(graph)

    @staticmethod
    def feeds(graph: Graph, batch: int = 5, seed: int = 0, low: float = -2.0, high: float = 2.0,
              classes: int = 4) -> dict:
        rng = np.random.default_rng(seed)
        feeds = {}
        for node in graph.nodes:
            if graph.op_name(node) != "Input":
                continue
            attrs = graph.attrs(node)
            shape = tuple(batch if d == "N" else d for d in attrs["shape"])
            if attrs["dtype"] == "int64":
                feeds[node] = rng.integers(0, classes, shape)
            else:
                feeds[node] = rng.uniform(low, high, shape).astype(attrs["dtype"])
        return feeds

    @staticmethod
    def same_values(before: Graph, after: Graph, outs_before, outs_after, feeds: dict,
                    weights=None, rtol: float = 1e-10, atol: float = 1e-12) -> None:
        weights = init_params(before, 0) if weights is None else weights
        a = evaluate(before, feeds, weights, outs_before)
        b = evaluate(after, feeds, weights, outs_after)
        for ra, rb in zip(outs_before, outs_after):
            np.testing.assert_allclose(b[rb], a[ra], rtol=rtol, atol=atol)

    @staticmethod
    def ops(graph: Graph) -> list[str]:
        return [graph.op_name(n) for n in graph.nodes]


@pytest.fixture
def kit() -> Kit:
    return Kit()


TEST_DEVICE = os.environ.get("LOOM_TEST_DEVICE", "cpu")


@pytest.fixture(autouse=True)
def compile_on_the_test_device(request, monkeypatch):
    """LOOM_TEST_DEVICE=cuda runs the compiler suite on the GPU: every compile() asked for the CPU
    gets the CUDA device instead, and results are still checked against the reference executor.
    Tests of the CPU device itself are marked cpu_only."""
    if TEST_DEVICE == "cpu" or request.node.get_closest_marker("cpu_only"):
        return
    import core.compiler.function as function
    from core.devices import cuda_unavailable_reason

    if TEST_DEVICE != "cuda" or cuda_unavailable_reason():
        pytest.fail(f"LOOM_TEST_DEVICE={TEST_DEVICE}: {cuda_unavailable_reason() or 'use cpu or cuda'}")
    real = function.get_device
    monkeypatch.setattr(function, "get_device", lambda name="auto": real("cuda" if name == "cpu" else name))
