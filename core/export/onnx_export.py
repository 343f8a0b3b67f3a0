"""ONNX export: the inference graph, layers expanded, weights as initializers (opset 17).

Each Loom op maps to ONNX nodes through one entry of EMITTERS; the batch size N becomes the
symbolic dimension "N". `onnx` is imported only when an export runs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from core.graph import Graph, TensorType, init_params
from core.graph.fileformat import atomic_write

from .common import ExportError, inference_graph

OPSET = 17
IR_VERSION = 8
DTYPES = {"float32": 1, "int64": 7, "float64": 11}  # onnx.TensorProto codes
BOOL = 9


class OnnxWriter:
    """Collects ONNX nodes, initializers and fresh value names while walking a Loom graph."""

    def __init__(self, graph: Graph, weights: dict) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.graph, self.weights = graph, weights
        self.types = graph.types()
        self.nodes: list = []
        self.initializers: list = []
        self._used = set(graph.nodes)

    # ---- Names and values

    def fresh(self, base: str) -> str:
        """A value name no node id or earlier helper uses."""
        name, i = base, 2
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def value(self, node_id: str, port: str = "y") -> str:
        return node_id if port == "y" else f"{node_id}_{port}"

    def inputs(self, node_id: str) -> list[str]:
        spec = self.graph.spec(node_id)
        return [self.value(*self.graph.source(node_id, p)) for p in spec.input_names(self.graph.attrs(node_id))]

    def in_types(self, node_id: str) -> list[TensorType]:
        spec = self.graph.spec(node_id)
        return [self.types[self.graph.source(node_id, p)] for p in spec.input_names(self.graph.attrs(node_id))]

    def out_type(self, node_id: str) -> TensorType:
        return self.types[(node_id, "y")]

    def const(self, base: str, array: Any, dtype: str) -> str:
        """An initializer holding a helper constant (shapes, bounds, axes)."""
        name = self.fresh(base)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    def add(self, op: str, inputs: list[str], output: Optional[str] = None, *, base: str = "t",
            **attrs: Any) -> str:
        """Append one ONNX node; returns the name of its output."""
        output = output or self.fresh(base)
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=self.fresh(f"{base}_{op}"),
                                                **attrs))
        return output

    def cast(self, name: str, have: str, want: str, base: str) -> str:
        if have == want:
            return name
        return self.add("Cast", [name], base=f"{base}_cast", to=DTYPES[want])

    def cast_inputs(self, node_id: str, dtype: str) -> list[str]:
        """The node's inputs, each cast to `dtype` where it differs (ONNX does not promote)."""
        return [self.cast(n, t.dtype, dtype, node_id)
                for n, t in zip(self.inputs(node_id), self.in_types(node_id))]


Emitter = Callable[[OnnxWriter, str, dict], None]


def _elementwise(op: str, **fixed: Any) -> Emitter:
    def emit(w: OnnxWriter, node: str, attrs: dict) -> None:
        w.add(op, w.cast_inputs(node, w.out_type(node).dtype), node, base=node,
              **{k: (attrs[v] if isinstance(v, str) else v) for k, v in fixed.items()})
    return emit


def _plain(op: str, **fixed: Any) -> Emitter:
    """An op whose inputs pass as they are (indices stay int64)."""
    def emit(w: OnnxWriter, node: str, attrs: dict) -> None:
        w.add(op, w.inputs(node), node, base=node, **fixed)
    return emit


def _compare(op: str) -> Emitter:
    def emit(w: OnnxWriter, node: str, attrs: dict) -> None:
        flag = w.add(op, w.cast_inputs(node, w.out_type(node).dtype), base=node)
        w.add("Cast", [flag], node, base=node, to=DTYPES[w.out_type(node).dtype])
    return emit


def _with_scalar(first: str, then: str, value: float) -> Emitter:
    """then(first(x), value) or first(x, value) written as two nodes: log1p, expm1."""
    def emit(w: OnnxWriter, node: str, attrs: dict) -> None:
        dtype = w.out_type(node).dtype
        (x,) = w.cast_inputs(node, dtype)
        one = w.const(f"{node}_one", value, dtype)
        if first == "Add":
            w.add(then, [w.add("Add", [x, one], base=node)], node, base=node)
        else:
            w.add(then, [w.add(first, [x], base=node), one], node, base=node)
    return emit


def _square(w: OnnxWriter, node: str, attrs: dict) -> None:
    (x,) = w.cast_inputs(node, w.out_type(node).dtype)
    w.add("Mul", [x, x], node, base=node)


def _clip(w: OnnxWriter, node: str, attrs: dict) -> None:
    dtype = w.out_type(node).dtype
    lo, hi = w.const(f"{node}_lo", attrs["lo"], dtype), w.const(f"{node}_hi", attrs["hi"], dtype)
    w.add("Clip", w.cast_inputs(node, dtype) + [lo, hi], node, base=node)


def _where(w: OnnxWriter, node: str, attrs: dict) -> None:
    dtype = w.out_type(node).dtype
    c = w.add("Cast", w.inputs(node)[:1], base=f"{node}_cond", to=BOOL)
    a, b = w.cast_inputs(node, dtype)[1:]
    w.add("Where", [c, a, b], node, base=node)


def _constant(w: OnnxWriter, node: str, attrs: dict) -> None:
    array = np.asarray(attrs["value"], dtype=attrs["dtype"])
    w.nodes.append(w.helper.make_node("Constant", [], [node], name=w.fresh(f"{node}_Constant"),
                                      value=w.numpy_helper.from_array(array, node)))


def _matmul(w: OnnxWriter, node: str, attrs: dict) -> None:
    names = w.cast_inputs(node, w.out_type(node).dtype)
    for i, flag in enumerate(("transpose_a", "transpose_b")):
        if attrs[flag]:
            rank = w.in_types(node)[i].ndim
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
            names[i] = w.add("Transpose", [names[i]], base=f"{node}_{flag[-1]}T", perm=perm)
    w.add("MatMul", names, node, base=node)


def _transpose(w: OnnxWriter, node: str, attrs: dict) -> None:
    rank = w.in_types(node)[0].ndim
    axes = attrs["axes"]
    perm = list(reversed(range(rank))) if axes is None else [a % rank for a in axes]
    w.add("Transpose", w.inputs(node), node, base=node, perm=perm)


def _reshape(w: OnnxWriter, node: str, attrs: dict) -> None:
    shape = [-1 if isinstance(d, str) else d for d in w.out_type(node).shape]
    w.add("Reshape", w.inputs(node) + [w.const(f"{node}_shape", shape, "int64")], node, base=node)


def _reshape_like(w: OnnxWriter, node: str, attrs: dict) -> None:
    x, like = w.inputs(node)
    w.add("Reshape", [x, w.add("Shape", [like], base=f"{node}_like")], node, base=node)


def _slice(w: OnnxWriter, node: str, attrs: dict) -> None:
    args = [w.const(f"{node}_{k}", [attrs[k]], "int64") for k in ("start", "stop", "axis")]
    w.add("Slice", w.inputs(node) + args, node, base=node)


def _reduce(op: str) -> Emitter:
    def emit(w: OnnxWriter, node: str, attrs: dict) -> None:
        axes, keep = attrs["axes"], int(attrs["keepdims"])
        axes = None if axes is None else ([axes] if isinstance(axes, int) else list(axes))
        names = w.inputs(node)
        if op == "ReduceSum":  # axes moved from attribute to input in opset 13 for ReduceSum only
            w.add(op, names + ([w.const(f"{node}_axes", axes, "int64")] if axes else []), node,
                  base=node, keepdims=keep)
        else:
            w.add(op, names, node, base=node, keepdims=keep, **({"axes": axes} if axes else {}))
    return emit


def _conv(w: OnnxWriter, node: str, attrs: dict) -> None:
    kernel = w.in_types(node)[1].shape[2:]
    p, s = attrs["padding"], attrs["stride"]
    w.add("Conv", w.cast_inputs(node, w.out_type(node).dtype), node, base=node,
          kernel_shape=list(kernel), pads=[p, p, p, p], strides=[s, s])


def _maxpool(w: OnnxWriter, node: str, attrs: dict) -> None:
    size = attrs["size"]
    stride = attrs["stride"] or size
    w.add("MaxPool", w.inputs(node), node, base=node, kernel_shape=[size, size], strides=[stride, stride])


def _dropout_mask(w: OnnxWriter, node: str, attrs: dict) -> None:
    shape = w.add("Shape", w.inputs(node), base=f"{node}_shape")
    one = w.numpy_helper.from_array(np.ones(1, dtype=w.out_type(node).dtype), f"{node}_one")
    w.add("ConstantOfShape", [shape], node, base=node, value=one)


def _pick_labels(w: OnnxWriter, node: str, attrs: dict) -> None:
    x, labels = w.inputs(node)
    axis = w.const(f"{node}_axis", [1], "int64")
    column = w.add("Unsqueeze", [labels, axis], base=node)
    w.add("Squeeze", [w.add("GatherElements", [x, column], base=node, axis=1), axis], node, base=node)


# ---- Losses and metrics (exported only when asked for as outputs)

def _softmax_xent(w: OnnxWriter, node: str, attrs: dict) -> None:
    w.add("SoftmaxCrossEntropyLoss", w.inputs(node), node, base=node, reduction="mean")


def _mse(w: OnnxWriter, node: str, attrs: dict) -> None:
    p, t = w.cast_inputs(node, w.out_type(node).dtype)
    d = w.add("Sub", [p, t], base=node)
    w.add("ReduceMean", [w.add("Mul", [d, d], base=node)], node, base=node, keepdims=0)


def _binary_xent(w: OnnxWriter, node: str, attrs: dict) -> None:
    z, t = w.cast_inputs(node, w.out_type(node).dtype)
    # softplus(z) = max(z, 0) + log1p(exp(-|z|)), stable for large |z|
    zero = w.const(f"{node}_zero", 0.0, w.out_type(node).dtype)
    one = w.const(f"{node}_one", 1.0, w.out_type(node).dtype)
    tail = w.add("Log", [w.add("Add", [w.add("Exp", [w.add("Neg", [w.add("Abs", [z], base=node)],
                                                             base=node)], base=node), one], base=node)],
                 base=node)
    softplus = w.add("Add", [w.add("Max", [z, zero], base=node), tail], base=node)
    per = w.add("Sub", [softplus, w.add("Mul", [t, z], base=node)], base=node)
    w.add("ReduceMean", [per], node, base=node, keepdims=0)


def _accuracy(w: OnnxWriter, node: str, attrs: dict) -> None:
    scores_t, labels_t = w.in_types(node)
    scores, labels = w.inputs(node)
    if scores_t.ndim == 2 and scores_t.shape[1] != 1:
        hits = w.add("Equal", [w.add("ArgMax", [scores], base=node, axis=1, keepdims=0), labels], base=node)
    else:
        zero = w.const(f"{node}_zero", 0.0, scores_t.dtype)
        half = w.const(f"{node}_half", 0.5, labels_t.dtype) if labels_t.is_float else \
            w.const(f"{node}_half", 0, labels_t.dtype)
        hits = w.add("Equal", [w.add("Greater", [scores, zero], base=node),
                               w.add("Greater", [labels, half], base=node)], base=node)
    w.add("ReduceMean", [w.add("Cast", [hits], base=node, to=DTYPES["float32"])], node, base=node,
          keepdims=0)


EMITTERS: dict[str, Emitter] = {
    "Constant": _constant,
    "Add": _elementwise("Add"), "Sub": _elementwise("Sub"), "Mul": _elementwise("Mul"),
    "Div": _elementwise("Div"), "Neg": _elementwise("Neg"), "Pow": _elementwise("Pow"),
    "Square": _square, "Abs": _elementwise("Abs"), "Maximum": _elementwise("Max"),
    "Minimum": _elementwise("Min"), "Clip": _clip, "Exp": _elementwise("Exp"),
    "Log": _elementwise("Log"), "Sqrt": _elementwise("Sqrt"), "Tanh": _elementwise("Tanh"),
    "Sigmoid": _elementwise("Sigmoid"), "ReLU": _elementwise("Relu"),
    "LeakyReLU": _elementwise("LeakyRelu", alpha="alpha"), "ELU": _elementwise("Elu", alpha="alpha"),
    "Softplus": _elementwise("Softplus"), "Log1p": _with_scalar("Add", "Log", 1.0),
    "Expm1": _with_scalar("Exp", "Sub", 1.0), "Sign": _elementwise("Sign"),
    "Greater": _compare("Greater"), "GreaterEqual": _compare("GreaterOrEqual"),
    "Equal": _compare("Equal"), "Where": _where,
    "MatMul": _matmul, "Transpose": _transpose, "Reshape": _reshape, "ReshapeLike": _reshape_like,
    "Flatten": _elementwise("Flatten", axis=1), "Concat": _elementwise("Concat", axis="axis"),
    "Slice": _slice, "Gather": _plain("Gather", axis=0), "PickLabels": _pick_labels,
    "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"), "Max": _reduce("ReduceMax"),
    "Argmax": lambda w, node, attrs: w.add("ArgMax", w.inputs(node), node, base=node, axis=attrs["axis"],
                                           keepdims=int(attrs["keepdims"])),
    "Softmax": _elementwise("Softmax", axis="axis"), "LogSoftmax": _elementwise("LogSoftmax", axis="axis"),
    "Conv": _conv, "MaxPool2D": _maxpool, "DropoutMask": _dropout_mask,
    "SoftmaxCrossEntropy": _softmax_xent, "MSE": _mse, "BinaryCrossEntropy": _binary_xent,
    "Accuracy": _accuracy,
}


def _value_info(helper: Any, name: str, t: TensorType) -> Any:
    dims = [d if isinstance(d, str) else int(d) for d in t.shape]
    return helper.make_tensor_value_info(name, DTYPES[t.dtype], dims)


def to_onnx(graph: Graph, weights: Optional[dict] = None, outputs: Optional[Iterable[str]] = None) -> Any:
    """The inference part of `graph` as an onnx.ModelProto.

    Parameters
    ----------
    graph: a valid Loom graph (layers are expanded here; the graph is not changed).
    weights: values by weights key; missing ones are drawn as Loom would (seed 0).
    outputs: node ids to compute; default: common.default_outputs (results, not losses or metrics).

    Raises
    ------
    ExportError naming every node whose op has no ONNX form; GraphError for an invalid graph.
    """
    from onnx import helper

    inference, outputs = inference_graph(graph, outputs)
    decls = inference.analysis().params
    values = init_params(inference, 0, {k: v for k, v in (weights or {}).items() if k in decls})
    unknown = [(n, inference.op_name(n)) for n in inference.nodes
               if inference.op_name(n) not in EMITTERS and inference.op_name(n) not in ("Input", "Parameter")]
    if unknown:
        listed = ", ".join(f"{n} ({op})" for n, op in unknown)
        raise ExportError(f"no ONNX form for: {listed}", node=unknown[0][0])
    writer = OnnxWriter(inference, values)
    graph_inputs = []
    for node_id in inference.topological_order():
        op = inference.op_name(node_id)
        if op == "Input":
            graph_inputs.append(_value_info(helper, node_id, writer.out_type(node_id)))
        elif op == "Parameter":
            writer.initializers.append(writer.numpy_helper.from_array(values[node_id], node_id))
        else:
            try:
                EMITTERS[op](writer, node_id, inference.attrs(node_id))
            except (KeyError, ValueError, TypeError) as e:
                raise ExportError(f"{op} could not be written to ONNX: {e}", node=node_id) from None
    outs = [_value_info(helper, n, writer.out_type(n)) for n in outputs]
    inner = {(n, "y") for n in inference.nodes} - {(n, "y") for n in outputs}
    infos = [_value_info(helper, n, writer.types[(n, p)]) for n, p in sorted(inner)
             if inference.op_name(n) not in ("Input", "Parameter") and (n, p) in writer.types]
    title = str(graph.meta.get("title", "")) or "loom_graph"
    onnx_graph = helper.make_graph(writer.nodes, _safe_text(title, 64) or "loom_graph", graph_inputs, outs,
                                   writer.initializers, doc_string=_safe_text(graph.meta.get("description", ""), 2000),
                                   value_info=infos)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="loom", ir_version=IR_VERSION)
    return model


def _safe_text(text: Any, limit: int) -> str:
    return "".join(c for c in str(text) if c.isprintable())[:limit]


def export_onnx(graph: Graph, weights: Optional[dict], path: str | os.PathLike,
                outputs: Optional[Iterable[str]] = None) -> Path:
    """Write `graph` as an ONNX model checked by onnx.checker; the write is atomic."""
    import onnx

    model = to_onnx(graph, weights, outputs)
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ExportError(f"the ONNX model failed its check: {str(e).splitlines()[0]}") from None
    data = model.SerializeToString()
    path = Path(path)
    atomic_write(path, lambda f: f.write(data))
    return path


__all__ = ["EMITTERS", "export_onnx", "to_onnx"]
