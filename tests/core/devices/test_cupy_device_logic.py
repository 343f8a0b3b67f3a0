"""The CUDA device's Python side run on NumPy: CuPy mirrors NumPy's API for every call the device
makes (reductions, take, copyto, fancy indexing), so a CupyDevice whose array module is NumPy
checks its softmax and cross-entropy, its namespace and the compiled step's device path here,
where no GPU is. Its elementwise kernels are swapped for NumPy's: CUDA source is checked by nvcc
(test_expr.py) and on a GPU by `bash bench/gpu_check.sh`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.bench_compiler_workloads import sgd_updates
from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import LoomError, evaluate, load_graph
from cupy_standin import CupyOnNumpy

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "resources" / "examples").glob("*.json"))


@pytest.fixture
def cupy_on_numpy(monkeypatch):
    import core.compiler.function as function

    monkeypatch.setattr(function, "get_device", lambda name="auto": CupyOnNumpy())


def _feeds(graph, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for node in graph.nodes:
        if graph.op_name(node) == "Input":
            attrs = graph.attrs(node)
            shape = tuple(7 if d == "N" else d for d in attrs["shape"])
            feeds[node] = (rng.integers(0, 2, shape) if attrs["dtype"] == "int64"
                           else rng.normal(size=shape).astype(attrs["dtype"]))
    return feeds


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_steps_like_the_reference_through_the_cuda_devices_code(path, cupy_on_numpy):
    graph, weights = load_graph(path)
    outputs = [n for n in graph.nodes if not graph.out_edges(n) and graph.op_name(n) not in ("Input", "Parameter")]
    updates = {}
    if graph.training.get("loss"):
        graph, grads = differentiate(graph, graph.training["loss"])
        updates = sgd_updates(graph, grads)
    inputs = [n for n in graph.nodes if graph.op_name(n) == "Input"]
    step = compile(graph, inputs, outputs, updates, weights=weights, device="cuda")
    assert step.device.name == "cuda" and step.device.fallback_reason is None
    with np.errstate(all="ignore"):
        for seed in range(2):
            feeds = _feeds(graph, seed)
            before = step.get_weights()
            ref = evaluate(step.graph, feeds, before, outputs + list(updates.values()))
            for name, value in zip(outputs, step(**feeds)):
                np.testing.assert_allclose(value, ref[name], rtol=1e-5, atol=1e-6)
            after = step.get_weights()
            for key, node in updates.items():
                np.testing.assert_allclose(after[key], ref[node], rtol=1e-5, atol=1e-6)
    assert step.device.name == "cuda"                     # no CPU fallback on the way


def test_bad_labels_are_refused_by_the_cuda_devices_cross_entropy_naming_the_node(cupy_on_numpy):
    graph, _ = load_graph(next(p for p in EXAMPLES if p.stem == "seed_mlp"))
    graph, grads = differentiate(graph, "cost")
    step = compile(graph, ["x", "y"], ["cost"], sgd_updates(graph, grads), device="cuda")
    x = np.zeros((4, 64), np.float32)
    for labels in ([0, 1, 2, 10], [0, -1, 2, 3]):
        with pytest.raises(LoomError, match="labels must lie in 0..9") as info:
            step(x, np.array(labels))
        assert info.value.node == "cost"
