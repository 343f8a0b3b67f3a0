"""ONNX import: Loom's own exports come back equivalent; hand-made MLP/CNN models match ONNX Runtime."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from core.export.common import ExportError, default_outputs  # noqa: E402
from core.export.onnx_export import export_onnx  # noqa: E402
from core.export.onnx_import import ModelImportError, import_onnx  # noqa: E402
from core.graph import GraphFileError, evaluate, load_graph, save_graph  # noqa: E402
from export_cases import random_feeds  # noqa: E402


def test_import_of_own_export_is_equivalent(example, tmp_path):
    name, graph, weights = example
    path = tmp_path / f"{name}.onnx"
    try:
        export_onnx(graph, weights, path)
    except ExportError as e:
        assert e.node in graph  # an op with no ONNX form (checked in test_onnx_export)
        return
    imported, imported_weights = import_onnx(path)
    assert imported.validate() == []
    outputs = default_outputs(graph)
    assert sorted(default_outputs(imported)) == sorted(outputs)
    feeds = random_feeds(graph, 6, seed=4, positive=name == "nan_demo")
    want = evaluate(graph, feeds, weights, outputs)
    got = evaluate(imported, {k: v for k, v in feeds.items() if k in imported}, imported_weights, outputs)
    for node in outputs:
        np.testing.assert_allclose(got[node], want[node], rtol=1e-6, atol=1e-6, err_msg=node)
    # ... and it saves as a Loom file that loads back with its weights
    save_graph(tmp_path / "back.json", imported, imported_weights)
    again, again_weights = load_graph(tmp_path / "back.json")
    assert again.to_dict() == imported.to_dict()
    assert sorted(again_weights) == sorted(imported_weights)


def _model(nodes, inputs, outputs, initializers, opset=17, name="net"):
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def _compare(model, feeds, tmp_path, rtol=1e-5, atol=1e-5):
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    graph, weights = import_onnx(path)
    assert graph.validate() == []
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, feeds)
    names = [o.name for o in model.graph.output]
    got = evaluate(graph, feeds, weights, names)
    for n, w in zip(names, want):
        np.testing.assert_allclose(got[n], w, rtol=rtol, atol=atol, err_msg=n)
    return graph, weights


def _tensor(name, dims, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, dims)


def test_pytorch_style_cnn(tmp_path):
    """Conv with bias, BatchNorm, Relu, MaxPool, Flatten, Gemm with transB, as torch.onnx writes them."""
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    inits = {"conv1.weight": f32(4, 1, 3, 3), "conv1.bias": f32(4), "bn.weight": f32(4), "bn.bias": f32(4),
             "bn.running_mean": f32(4), "bn.running_var": np.abs(f32(4)) + 0.5,
             "fc.weight": f32(10, 4 * 4 * 4), "fc.bias": f32(10)}
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["/conv1/Conv_output_0"],
                         name="/conv1/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["/conv1/Conv_output_0", "bn.weight", "bn.bias",
                                                "bn.running_mean", "bn.running_var"], ["bn_out"],
                         name="/bn/BatchNormalization", epsilon=1e-5),
        helper.make_node("Relu", ["bn_out"], ["relu_out"], name="/Relu"),
        helper.make_node("MaxPool", ["relu_out"], ["pool_out"], name="/MaxPool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Flatten", ["pool_out"], ["flat"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="/Softmax", axis=1),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])]
    model = _model(nodes, inputs, [_tensor("probs", ["batch", 10])], inits)
    graph, weights = _compare(model, {"input": f32(3, 1, 8, 8)}, tmp_path)
    assert graph.attrs("input")["shape"] == ("N", 1, 8, 8)
    assert {"conv1_weight", "fc_weight", "bn_running_var"} <= set(weights)
    np.testing.assert_array_equal(weights["fc_weight"], inits["fc.weight"])
    assert graph.op_name("logits") == "Add" and graph.op_name("probs") == "Softmax"
    positions = [tuple(graph.ui(n)["pos"]) for n in graph.nodes]
    assert len(set(positions)) == len(positions)  # laid out, nothing on top of anything
    assert graph.ui("input")["pos"][0] < graph.ui("probs")["pos"][0]
    assert all(x % 200 == 0 and y % 60 == 0 for x, y in positions)


def test_shape_and_elementwise_ops(tmp_path):
    rng = np.random.default_rng(1)
    inits = {"shape": np.array([0, 3, 2], dtype=np.int64), "w": rng.normal(size=(3, 2)).astype(np.float32),
             "lo": np.array(-0.5, dtype=np.float32), "hi": np.array(0.5, dtype=np.float32),
             "starts": np.array([1], dtype=np.int64), "ends": np.array([100], dtype=np.int64),
             "axes": np.array([1], dtype=np.int64), "axes0": np.array([2], dtype=np.int64)}
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["t", "w"], ["m"]),
        helper.make_node("Clip", ["m", "lo", "hi"], ["c"]),
        helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.float32(2.0))),
        helper.make_node("Mul", ["c", "two"], ["c2"]),
        helper.make_node("Sum", ["c2", "c", "m"], ["s"]),
        helper.make_node("Identity", ["s"], ["s_id"]),
        helper.make_node("Dropout", ["s_id"], ["d"]),
        helper.make_node("Slice", ["d", "starts", "ends", "axes"], ["sl"]),
        helper.make_node("Concat", ["sl", "sl"], ["cat"], axis=1),
        helper.make_node("Unsqueeze", ["cat", "axes0"], ["u"]),
        helper.make_node("Squeeze", ["u", "axes0"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["mean"], axes=[1], keepdims=0),
        helper.make_node("Exp", ["mean"], ["e"]),
        helper.make_node("Reciprocal", ["e"], ["rec"]),
        helper.make_node("Sqrt", ["rec"], ["sqrt"]),
        helper.make_node("Max", ["sqrt", "rec"], ["mx"]),
        helper.make_node("LeakyRelu", ["mx"], ["lr"], alpha=0.2),
        helper.make_node("ReduceSum", ["lr", "axes"], ["rs"], keepdims=1),
        helper.make_node("Cast", ["ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["rs", "ids_f"], ["out"]),
    ]
    inputs = [_tensor("x", ["N", 6]), _tensor("ids", ["N", 1], TensorProto.INT64)]
    model = _model(nodes, inputs, [_tensor("out", ["N", 1])], inits)
    feeds = {"x": rng.normal(size=(4, 6)).astype(np.float32), "ids": np.array([[0], [1], [2], [3]])}
    graph, weights = _compare(model, feeds, tmp_path)
    assert sorted(weights) == ["w"]  # shapes, bounds and axes became attributes, not parameters
    assert graph.attrs("r")["shape"] == ("N", 3, 2)


def test_unknown_ops_are_listed_in_one_message(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="first"),
             helper.make_node("Erf", ["a"], ["b"], name="odd_one"),
             helper.make_node("HardSwish", ["b"], ["c"], name="another")]
    path = tmp_path / "odd.onnx"
    onnx.save(_model(nodes, [_tensor("x", ["N", 3])], [_tensor("c", ["N", 3])], {}), str(path))
    with pytest.raises(ModelImportError) as info:
        import_onnx(path)
    message = str(info.value)
    assert str(path) in message and "odd_one (Erf)" in message and "another (HardSwish)" in message
    assert "first" not in message


def test_unsupported_attribute_names_the_node(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="dilated", dilations=[2, 2])]
    model = _model(nodes, [_tensor("x", ["N", 1, 9, 9])], [_tensor("y", ["N", 2, 5, 5])],
                   {"w": np.ones((2, 1, 3, 3), np.float32)})
    onnx.save(model, str(tmp_path / "d.onnx"))
    with pytest.raises(ModelImportError, match="ONNX node 'dilated'.*dilated"):
        import_onnx(tmp_path / "d.onnx")


def test_unreadable_files(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\x00\xffnot a model at all" * 10)
    with pytest.raises(GraphFileError) as info:
        import_onnx(tmp_path / "junk.onnx")
    assert info.value.file == str(tmp_path / "junk.onnx")
    with pytest.raises(GraphFileError, match="cannot read"):
        import_onnx(tmp_path / "missing.onnx")


def test_external_weights_are_refused(tmp_path):
    big = np.ones((64, 64), np.float32)
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_tensor("x", ["N", 64])],
                   [_tensor("y", ["N", 64])], {"w": big})
    onnx.save_model(model, str(tmp_path / "ext.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext.bin", size_threshold=0)
    with pytest.raises(GraphFileError, match="external"):
        import_onnx(tmp_path / "ext.onnx")


def test_weights_in_constant_nodes_become_parameters(tmp_path):
    w = np.arange(24, dtype=np.float32).reshape(8, 3) / 10  # more than a few numbers: a weight
    nodes = [helper.make_node("Constant", [], ["dense/kernel"], value=numpy_helper.from_array(w)),
             helper.make_node("Constant", [], ["half"], value=numpy_helper.from_array(np.float32(0.5))),
             helper.make_node("MatMul", ["x", "dense/kernel"], ["h"]),
             helper.make_node("Mul", ["h", "half"], ["y"])]
    model = _model(nodes, [_tensor("x", ["N", 8])], [_tensor("y", ["N", 3])], {})
    graph, weights = _compare(model, {"x": np.ones((2, 8), np.float32)}, tmp_path)
    assert graph.op_name("dense_kernel") == "Parameter" and list(weights) == ["dense_kernel"]
    np.testing.assert_array_equal(weights["dense_kernel"], w)
    assert graph.op_name("half") == "Constant"
