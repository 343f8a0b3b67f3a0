"""ONNX import repairs (issue 17): each model is checked against ONNX Runtime, by output name."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from core.export.onnx_export import export_onnx  # noqa: E402
from core.export.onnx_import import import_onnx  # noqa: E402
from core.graph import evaluate  # noqa: E402
from export_cases import random_feeds  # noqa: E402
from test_onnx_import import _compare, _model, _tensor  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("axis", [2, 3])
def test_flatten_from_a_later_axis_merges_the_head_too(axis, tmp_path):
    nodes = [helper.make_node("Flatten", ["x"], ["flat"], axis=axis),
             helper.make_node("Relu", ["flat"], ["out"])]
    shape = [2, 3, 4, 5]
    out = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
    model = _model(nodes, [_tensor("x", shape)], [_tensor("out", out)], {})
    graph, _ = _compare(model, {"x": RNG.normal(size=shape).astype(np.float32)}, tmp_path)
    assert graph.types()[("out", "y")].shape == tuple(out)


def test_slice_over_two_axes_names_only_its_result_after_the_output(tmp_path):
    inits = {"starts": np.array([1, 0], np.int64), "ends": np.array([3, 2], np.int64),
             "axes": np.array([1, 2], np.int64)}
    nodes = [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["part"])]
    model = _model(nodes, [_tensor("x", ["N", 4, 3])], [_tensor("part", ["N", 2, 2])], inits)
    graph, _ = _compare(model, {"x": RNG.normal(size=(2, 4, 3)).astype(np.float32)}, tmp_path)
    assert graph.types()[("part", "y")].shape == ("N", 2, 2)


def test_gemm_without_c_keeps_the_output_name_when_scaled(tmp_path):
    inits = {"w": RNG.normal(size=(3, 2)).astype(np.float32)}
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], alpha=2.5)]
    model = _model(nodes, [_tensor("x", ["N", 3])], [_tensor("y", ["N", 2])], inits)
    graph, _ = _compare(model, {"x": RNG.normal(size=(4, 3)).astype(np.float32)}, tmp_path)
    assert graph.op_name("y") == "Mul"


def binary_classifier():
    """z = x @ W; binary cross-entropy and accuracy of a single score against 0/1 targets."""
    from core.graph import Graph
    from core.graph.builder import Builder, apply

    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 3]}, node_id="x")
    graph.add_node("Input", {"shape": ["N", 1]}, node_id="t")
    graph.add_node("Parameter", {"shape": [3, 1], "init": "normal", "scale": 1.0}, node_id="W")
    b = Builder(graph)
    z = apply("MatMul", b.var("x"), b.var("W"), name="z")
    apply("BinaryCrossEntropy", z, b.var("t"), name="cost")
    apply("Accuracy", z, b.var("t"), name="accuracy")
    return graph, {}


def example(name):
    from core.graph import init_params, load_graph
    from export_cases import EXAMPLES

    if name == "binary":
        graph, weights = binary_classifier()
    else:
        graph, weights = load_graph(next(p for p in EXAMPLES if p.stem == name))
    return graph, init_params(graph, 3, weights)


@pytest.mark.parametrize("name", ["spirals", "digits_cnn", "autoencoder", "binary"])
def test_own_export_with_losses_and_metrics_imports_back(name, tmp_path):
    graph, weights = example(name)
    losses = [n for n in graph.nodes if graph.spec(n).category == "Loss"]
    outputs = [n for n in graph.nodes if graph.spec(n).category not in ("Loss", "Sources")
               and not graph.out_edges(n)] + losses
    path = tmp_path / f"{name}.onnx"
    export_onnx(graph, weights, path, outputs=outputs)
    imported, imported_weights = import_onnx(path)
    assert imported.validate() == []
    feeds = random_feeds(graph, 6, seed=4)
    if name == "binary":
        feeds["t"] = (feeds["t"] > 0.5).astype(np.float32)
    want = evaluate(graph, feeds, weights, outputs)
    got = evaluate(imported, {k: v for k, v in feeds.items() if k in imported}, imported_weights, outputs)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    runtime = dict(zip(names, session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})))
    assert losses
    for node in outputs:
        np.testing.assert_allclose(got[node], want[node], rtol=1e-5, atol=1e-6, err_msg=node)
        np.testing.assert_allclose(got[node], runtime[node], rtol=1e-5, atol=1e-6, err_msg=node)
