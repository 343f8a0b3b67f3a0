"""ONNX export: every example and every mapped op runs in ONNX Runtime with Loom's numbers."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from core.export.common import ExportError, default_outputs, inference_graph  # noqa: E402
from core.export.onnx_export import EMITTERS, export_onnx, to_onnx  # noqa: E402
from core.graph import evaluate, init_params  # noqa: E402
from export_cases import CASES, X4, case_feeds, make_graph, random_feeds  # noqa: E402


def run_onnx(path, feeds: dict) -> dict:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {k: v for k, v in feeds.items() if k in wanted})))


def assert_matches(graph, weights, path, feeds, outputs=None, rtol=1e-5, atol=1e-5) -> dict:
    got = run_onnx(path, feeds)
    outputs = outputs or default_outputs(graph)
    assert sorted(got) == sorted(outputs)
    want = evaluate(graph, feeds, weights, outputs)
    for name in outputs:
        assert got[name].shape == want[name].shape, name
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=atol, err_msg=name)
    return got


def test_every_example_exports_and_matches(example, tmp_path):
    name, graph, weights = example
    path = tmp_path / f"{name}.onnx"
    try:
        export_onnx(graph, weights, path)
    except ExportError as e:  # an op with no ONNX form: the error names it
        assert e.node in graph.nodes or e.node in inference_graph(graph)[0].nodes
        assert "no ONNX form" in e.message
        return
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    for batch in (1, 7):
        assert_matches(graph, weights, path, random_feeds(graph, batch, positive=name == "nan_demo"))


def test_batch_dimension_is_symbolic_and_labels_are_dropped(tmp_path):
    from export_cases import EXAMPLES
    from core.graph import load_graph

    graph, _ = load_graph(next(p for p in EXAMPLES if p.stem == "seed_mlp"))
    model = to_onnx(graph, init_params(graph, 0))
    (x,) = model.graph.input  # the labels y feed only the loss and metric, which are dropped
    assert x.name == "x"
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["N", 64]
    assert [o.name for o in model.graph.output] == ["p_y_given_x"]
    assert {t.name for t in model.graph.initializer} >= {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_loss_and_metric_export_when_asked(tmp_path):
    graph = make_graph(
        [("x", "Input", {"shape": ["N", 4]}), ("y", "Input", {"shape": ["N"], "dtype": "int64"}),
         ("t", "Input", {"shape": ["N", 3]}), ("z", "Dense", {"units": 3, "activation": "none"}),
         ("xent", "SoftmaxCrossEntropy", {}), ("acc", "Accuracy", {}), ("mse", "MSE", {}),
         ("bce", "BinaryCrossEntropy", {})],
        [("x", "z", "x"), ("z", "xent", "logits"), ("y", "xent", "labels"), ("z", "acc", "scores"),
         ("y", "acc", "labels"), ("z", "mse", "pred"), ("t", "mse", "target"), ("z", "bce", "logits"),
         ("t", "bce", "targets")])
    weights = init_params(graph, 1)
    feeds = random_feeds(graph, 9)
    feeds["t"] = (feeds["t"] > 0).astype(np.float32)
    export_onnx(graph, weights, tmp_path / "losses.onnx", outputs=["xent", "acc", "mse", "bce", "z"])
    assert_matches(graph, weights, tmp_path / "losses.onnx", feeds, ["xent", "acc", "mse", "bce", "z"])
    # by default losses and metrics are left out, and so is the labels input
    model = to_onnx(graph, weights)
    assert [o.name for o in model.graph.output] == ["z"]
    assert [i.name for i in model.graph.input] == ["x"]


@pytest.mark.parametrize("name,nodes,edges,positive", CASES, ids=[c[0] for c in CASES])
def test_mapped_ops_match(name, nodes, edges, positive, tmp_path):
    graph = make_graph(nodes, edges)
    weights = init_params(graph, 2)
    feeds = case_feeds(name, graph, positive)
    export_onnx(graph, weights, tmp_path / "op.onnx")
    assert_matches(graph, weights, tmp_path / "op.onnx", feeds)


def test_every_emitter_is_exercised():
    covered = {op for _, nodes, _, _ in CASES for _, op, _ in nodes}
    covered |= {"Conv", "Gather", "DropoutMask", "ReshapeLike", "SoftmaxCrossEntropy", "MSE",
                "BinaryCrossEntropy", "Accuracy"}  # by layer expansion and the tests above
    assert set(EMITTERS) <= covered


def test_expanded_internal_ops_match(tmp_path):
    """DropoutMask and ReshapeLike only appear in expanded or differentiated graphs."""
    graph = make_graph([X4, ("like", "Input", {"shape": ["N", 2, 2]}), ("mask", "DropoutMask", {}),
                        ("masked", "Mul", {}), ("out", "ReshapeLike", {})],
                       [("x", "mask", "x"), ("x", "masked", "a"), ("mask", "masked", "b"),
                        ("masked", "out", "x"), ("like", "out", "like")])
    feeds = random_feeds(graph, 3)
    export_onnx(graph, {}, tmp_path / "internal.onnx")
    assert_matches(graph, {}, tmp_path / "internal.onnx", feeds, ["out"])


def test_unmappable_op_is_named(tmp_path):
    graph = make_graph([X4, ("count", "Size", {}), ("like", "Input", {"shape": ["N", 4]}),
                        ("summed", "SumLike", {})],
                       [("x", "count", "x"), ("x", "summed", "x"), ("like", "summed", "like")])
    with pytest.raises(ExportError) as info:
        export_onnx(graph, {}, tmp_path / "bad.onnx", outputs=["count", "summed"])
    assert info.value.node == "count"
    assert "count (Size)" in str(info.value) and "summed (SumLike)" in str(info.value)
    assert not (tmp_path / "bad.onnx").exists()


def test_unknown_output_and_invalid_graph_are_refused(tmp_path):
    graph = make_graph([X4, ("out", "Tanh", {})], [("x", "out", "x")])
    with pytest.raises(ExportError, match="no node 'nope'"):
        to_onnx(graph, {}, outputs=["nope"])
    graph.add_node("Add", node_id="dangling")
    from core.graph import GraphError

    with pytest.raises(GraphError) as info:
        to_onnx(graph, {})
    assert info.value.node == "dangling"
