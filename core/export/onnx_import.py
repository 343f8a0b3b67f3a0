"""ONNX import: a model whose ops Loom knows becomes a Loom graph with its weights, laid out by layer.

Initializers used as data become Parameters named after them; Constant nodes used as data become
Constant nodes; constants that give shapes, axes or bounds become attributes. `onnx` is imported
only when an import runs, and the file is read without external data.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from core.graph import BATCH, Graph, GraphFileError, LoomError
from core.graph.builder import Builder, Var

from .onnx_import_ops import DTYPES, argmax, batchnorm, cast, clip, softmax_xent_loss

MAX_BYTES = 512 * 1024 * 1024
SMALL = 16  # a Constant node with more numbers than this is a weight: it becomes a Parameter
H_GAP, V_GAP = 200, 120


class ModelImportError(LoomError):
    """An ONNX model Loom cannot represent: the message names each node and op that does not map."""


class Importer:
    """Walks an ONNX graph in order, adding Loom nodes through a Builder."""

    def __init__(self, model: Any, source: str) -> None:
        from onnx import numpy_helper

        self.to_array = numpy_helper.to_array
        self.model, self.source = model, source
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.graph = Graph()
        self.builder = Builder(self.graph)
        self.weights: dict[str, np.ndarray] = {}
        self.values: dict[str, Var] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.initializers: set[str] = set()
        self.onnx_node = ""

    # ---- Values

    def fail(self, message: str) -> ModelImportError:
        return ModelImportError(f"ONNX node '{self.onnx_node}': {message}", file=self.source)

    def const(self, name: str, what: str) -> np.ndarray:
        """A constant input's value (shapes, axes, bounds); fails when it is computed at run time."""
        if name not in self.consts:
            raise self.fail(f"its {what} must be a constant")
        return self.consts[name]

    def optional_const(self, node: Any, index: int, what: str) -> Optional[np.ndarray]:
        if len(node.input) <= index or not node.input[index]:
            return None
        return self.const(node.input[index], what)

    def var(self, name: str) -> Var:
        """The Var for an ONNX value; a constant used as data becomes a Parameter (initializers and
        large Constant nodes) or a Constant node (small ones and integers)."""
        if name in self.values:
            return self.values[name]
        if name not in self.consts:
            raise self.fail(f"input '{name}' is not produced by any node")
        array = self.consts[name]
        if array.dtype.kind == "f" and array.ndim > 0 and (name in self.initializers or array.size > SMALL):
            dtype = "float64" if array.dtype == np.float64 else "float32"
            node_id = self.graph.unique_id(identifier(name, "param"))
            init = "glorot_uniform" if array.ndim >= 2 else "zeros"  # used only if the user redraws them
            self.graph.add_node("Parameter", {"shape": list(array.shape), "dtype": dtype, "init": init},
                                node_id=node_id)
            self.weights[node_id] = array.astype(dtype)
            self.builder.types[(node_id, "y")] = self.graph.types()[(node_id, "y")]
            var = self.builder.var(node_id)
        else:
            dtype = "int64" if array.dtype.kind in "iub" else ("float64" if array.dtype == np.float64 else "float32")
            var = self.builder.add("Constant", [], {"value": array.astype(dtype).tolist(), "dtype": dtype},
                                   name=identifier(name, "const"))[0]
        self.values[name] = var
        return var

    def op(self, op: str, inputs: list[Var], name: str, **attrs: Any) -> Var:
        """Add one Loom node named after the ONNX value it computes."""
        return self.builder.add(op, inputs, attrs, name=identifier(name, op.lower()))[0]

    # ---- The walk

    def run(self) -> tuple[Graph, dict]:
        g = self.model.graph
        for tensor in g.initializer:
            self.consts[tensor.name] = self.to_array(tensor)
            self.initializers.add(tensor.name)
        unknown = [f"{n.name or n.output[0]} ({n.op_type})" for n in g.node
                   if n.domain not in ("", "ai.onnx") or n.op_type not in CONVERTERS]
        if unknown:
            raise ModelImportError("Loom has no op for: " + ", ".join(unknown), file=self.source)
        for value in g.input:
            if value.name not in self.consts:
                self._input(value)
        for node in g.node:
            self.onnx_node = node.name or node.output[0]
            if node.op_type == "Constant":
                self.consts[node.output[0]] = self._constant_value(node)
                continue
            try:
                result = CONVERTERS[node.op_type](self, node, attributes(node))
            except ModelImportError:
                raise
            except LoomError as e:
                raise self.fail(f"{node.op_type}: {e}") from None
            self.values[node.output[0]] = result
        for value in g.output:
            self.onnx_node = value.name
            self.var(value.name)
        self.graph.meta = {"title": _text(g.name, 200) or "Imported ONNX model",
                           "description": _text(g.doc_string or self.model.doc_string, 2000)}
        layout(self.graph)
        return self.graph, self.weights

    def _input(self, value: Any) -> None:
        kind = value.type.tensor_type
        if kind.elem_type not in DTYPES:
            raise ModelImportError(f"input '{value.name}' has an element type Loom does not have "
                                   f"(ONNX type {kind.elem_type})", file=self.source)
        if not kind.HasField("shape"):
            raise ModelImportError(f"input '{value.name}' has no declared shape", file=self.source)
        shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else BATCH for d in kind.shape.dim]
        if shape.count(BATCH) > 1:
            raise ModelImportError(f"input '{value.name}' has {shape.count(BATCH)} unknown dimensions; "
                                   "Loom allows one (the batch size N)", file=self.source)
        node_id = self.graph.unique_id(identifier(value.name, "input"))
        self.graph.add_node("Input", {"shape": shape, "dtype": DTYPES[kind.elem_type]}, node_id=node_id)
        self.builder.types[(node_id, "y")] = self.graph.types()[(node_id, "y")]
        self.values[value.name] = self.builder.var(node_id)

    def _constant_value(self, node: Any) -> np.ndarray:
        from onnx import helper

        for a in node.attribute:
            value = helper.get_attribute_value(a)
            if a.name == "value":
                return self.to_array(value)
            if a.name in ("value_float", "value_floats"):
                return np.asarray(value, dtype=np.float32)
            if a.name in ("value_int", "value_ints"):
                return np.asarray(value, dtype=np.int64)
        raise self.fail("this Constant holds no number Loom can read")


def attributes(node: Any) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def identifier(text: str, fallback: str) -> str:
    """A readable node id from an ONNX name: '/fc1/Gemm_output_0' -> 'fc1_Gemm_output_0'."""
    text = re.sub(r"_+", "_", re.sub(r"\W", "_", str(text))).strip("_")[:48]
    if not text:
        return fallback
    return text if text[0].isalpha() else f"{fallback}_{text}"


def _text(text: str, limit: int) -> str:
    return "".join(c for c in str(text) if c.isprintable())[:limit]


def layout(graph: Graph) -> None:
    """Place nodes by topological layer: columns 200 px apart, rows 120 px apart, centred.

    Weights and constants sit one column before their first consumer rather than at the far left.
    """
    depth: dict[str, int] = {}
    order = graph.topological_order()
    for node_id in order:
        depth[node_id] = max((depth[e.src] + 1 for e in graph.in_edges(node_id).values()), default=0)
    for node_id in order:
        consumers = [depth[e.dst] for e in graph.out_edges(node_id)]
        if graph.op_name(node_id) != "Input" and not graph.in_edges(node_id) and consumers:
            depth[node_id] = max(min(consumers) - 1, 0)
    columns: dict[int, list[str]] = {}
    for node_id in graph.topological_order():
        columns.setdefault(depth[node_id], []).append(node_id)
    for column, nodes in columns.items():
        top = -(len(nodes) - 1) * V_GAP // 2
        for row, node_id in enumerate(nodes):
            graph.set_ui(node_id, "pos", [column * H_GAP, top + row * V_GAP])


# ---- Converters: one per ONNX op, (importer, node, attributes) -> the Var of output 0

Converter = Callable[[Importer, Any, dict], Var]


def _same(op: str, **defaults: Any) -> Converter:
    """An ONNX op that is a Loom op input for input; `defaults` maps Loom attrs to ONNX defaults."""
    def convert(im: Importer, node: Any, attrs: dict) -> Var:
        values = {k: attrs.get(k, v) for k, v in defaults.items()}
        return im.op(op, [im.var(n) for n in node.input], node.output[0], **values)
    return convert


def _chain(op: str) -> Converter:
    """Variadic Max, Min, Sum as a chain of binary nodes."""
    def convert(im: Importer, node: Any, attrs: dict) -> Var:
        result = im.var(node.input[0])
        last = len(node.input) - 1
        for i, name in enumerate(node.input[1:], 1):
            result = im.op(op, [result, im.var(name)], node.output[0] + ("" if i == last else "_partial"))
        return result
    return convert


def _alias(im: Importer, node: Any, attrs: dict) -> Var:
    return im.var(node.input[0])


def _reciprocal(im: Importer, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    return im.op("Div", [im.builder.const(1.0, x.dtype), x], node.output[0])


def _softmax(op: str) -> Converter:
    def convert(im: Importer, node: Any, attrs: dict) -> Var:
        x = im.var(node.input[0])
        axis = attrs.get("axis", -1 if im.opset >= 13 else 1) % max(x.ndim, 1)
        if im.opset < 13 and axis != x.ndim - 1:
            raise im.fail(f"{op} before opset 13 flattens from axis {axis}; Loom's works on one axis")
        return im.op(op, [x], node.output[0], axis=axis)
    return convert


def _gemm(im: Importer, node: Any, attrs: dict) -> Var:
    a, b = im.var(node.input[0]), im.var(node.input[1])
    scaled = attrs.get("alpha", 1.0) != 1.0
    biased = len(node.input) > 2 and bool(node.input[2])
    y = im.op("MatMul", [a, b], node.output[0] + ("_matmul" if scaled or biased else ""),
              transpose_a=bool(attrs.get("transA", 0)),
              transpose_b=bool(attrs.get("transB", 0)))
    if scaled:
        alpha = im.builder.const(float(attrs["alpha"]), y.dtype)
        y = im.op("Mul", [y, alpha], node.output[0] + ("_scaled" if biased else ""))
    if biased:
        c = im.var(node.input[2])
        if attrs.get("beta", 1.0) != 1.0:
            c = c * float(attrs["beta"])
        y = im.op("Add", [y, c], node.output[0])
    return y


def _reshape_dims(im: Importer, x: Var, target: list[int], allow_zero: bool = False) -> list:
    """An ONNX target shape in Loom's terms: 0 copies a dimension, N stays symbolic."""
    dims: list = []
    for i, d in enumerate(int(v) for v in target):
        if d == 0 and not allow_zero:
            if i >= x.ndim:
                raise im.fail(f"dimension {i} copies an axis the input does not have")
            dims.append(x.shape[i])
        else:
            dims.append(d)
    if BATCH in x.shape and BATCH not in dims and -1 in dims:
        per_sample = int(np.prod([d for d in x.shape if d != BATCH]))
        if int(np.prod([d for d in dims if d != -1])) == per_sample:
            dims[dims.index(-1)] = BATCH
    return dims


def _reshape(im: Importer, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    target = im.const(node.input[1], "target shape").reshape(-1).tolist()
    if attrs.get("allowzero", 0) and 0 in target:
        raise im.fail("Loom has no empty tensors (allowzero with a 0 dimension)")
    return im.op("Reshape", [x], node.output[0], shape=_reshape_dims(im, x, target))


def _axes_arg(im: Importer, node: Any, attrs: dict, index: int) -> Optional[list[int]]:
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    axes = im.optional_const(node, index, "axes")
    return None if axes is None else [int(a) for a in axes.reshape(-1)]


def _squeeze(unsqueeze: bool) -> Converter:
    def convert(im: Importer, node: Any, attrs: dict) -> Var:
        x = im.var(node.input[0])
        axes = _axes_arg(im, node, attrs, 1)
        shape = list(x.shape)
        if unsqueeze:
            rank = x.ndim + len(axes or [])
            for a in sorted(a % rank for a in axes or []):
                shape.insert(a, 1)
        else:
            drop = {a % x.ndim for a in axes} if axes else {i for i, d in enumerate(shape) if d == 1}
            shape = [d for i, d in enumerate(shape) if i not in drop]
        return im.op("Reshape", [x], node.output[0], shape=shape)
    return convert


def _flatten(im: Importer, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    axis = attrs.get("axis", 1) % max(x.ndim, 1)
    if axis == 1:
        return im.op("Flatten", [x], node.output[0])
    head, tail = x.shape[:axis], x.shape[axis:]
    rest = [d for d in head if d != BATCH]
    if BATCH in tail or (BATCH in head and int(np.prod(rest)) != 1):
        raise im.fail(f"Flatten from axis {axis} would merge the batch dimension with others")
    first = BATCH if BATCH in head else int(np.prod(head))
    return im.op("Reshape", [x], node.output[0], shape=[first, int(np.prod(tail))])


def _transpose(im: Importer, node: Any, attrs: dict) -> Var:
    perm = attrs.get("perm")
    return im.op("Transpose", [im.var(node.input[0])], node.output[0],
                 axes=None if perm is None else [int(p) for p in perm])


def _concat(im: Importer, node: Any, attrs: dict) -> Var:
    xs = [im.var(n) for n in node.input]
    if len(xs) == 1:
        return xs[0]
    return im.op("Concat", xs, node.output[0], axis=int(attrs["axis"]), n=len(xs))


def _pads(im: Importer, attrs: dict, kernel: list[int], stride: int) -> int:
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if stride != 1 or kernel[0] != kernel[1] or kernel[0] % 2 == 0:
            raise im.fail(f"auto_pad {auto} needs stride 1 and an odd square kernel in Loom")
        return (kernel[0] - 1) // 2
    pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
    if auto == "VALID" or not any(pads):
        return 0
    if len(set(pads)) != 1:
        raise im.fail(f"pads {pads} differ by side; Loom pads every side alike")
    return pads[0]


def _stride(im: Importer, attrs: dict, default: int) -> int:
    strides = [int(s) for s in attrs.get("strides", [default, default])]
    if len(strides) != 2 or strides[0] != strides[1]:
        raise im.fail(f"strides {strides}: Loom takes one stride for both image axes")
    if any(int(d) != 1 for d in attrs.get("dilations", [1, 1])):
        raise im.fail("Loom has no dilated windows")
    return strides[0]


def _conv(im: Importer, node: Any, attrs: dict) -> Var:
    if attrs.get("group", 1) != 1:
        raise im.fail("grouped convolutions are not in Loom")
    x, w = im.var(node.input[0]), im.var(node.input[1])
    if w.ndim != 4:
        raise im.fail("only 2-D convolutions (kernels F, C, kh, kw) are in Loom")
    stride = _stride(im, attrs, 1)
    padding = _pads(im, attrs, list(w.shape[2:]), stride)
    biased = len(node.input) > 2 and node.input[2]
    y = im.op("Conv", [x, w], node.output[0] + ("_conv" if biased else ""), stride=stride, padding=padding)
    if biased:
        bias = im.var(node.input[2])
        shaped = im.op("Reshape", [bias], node.input[2] + "_shaped", shape=[w.shape[0], 1, 1])
        y = im.op("Add", [y, shaped], node.output[0])
    return y


def _maxpool(im: Importer, node: Any, attrs: dict) -> Var:
    kernel = [int(k) for k in attrs["kernel_shape"]]
    if len(kernel) != 2 or kernel[0] != kernel[1]:
        raise im.fail(f"kernel {kernel}: Loom pools square windows of images")
    if attrs.get("ceil_mode", 0) or attrs.get("storage_order", 0):
        raise im.fail("ceil_mode and storage_order are not in Loom")
    if len(node.output) > 1 and node.output[1]:
        raise im.fail("Loom's MaxPool2D has no indices output")
    stride = _stride(im, attrs, 1)
    auto = attrs.get("auto_pad", b"NOTSET")
    if any(int(p) for p in attrs.get("pads", [])) or auto in (b"SAME_UPPER", b"SAME_LOWER"):
        raise im.fail("padded pooling is not in Loom")
    return im.op("MaxPool2D", [im.var(node.input[0])], node.output[0], size=kernel[0], stride=stride)


def _global_avg(im: Importer, node: Any, attrs: dict) -> Var:
    return im.op("Mean", [im.var(node.input[0])], node.output[0], axes=[2, 3], keepdims=True)


def _reduce(op: str, axes_input_from: int) -> Converter:
    def convert(im: Importer, node: Any, attrs: dict) -> Var:
        x = im.var(node.input[0])
        axes = _axes_arg(im, node, attrs, 1) if im.opset >= axes_input_from else \
            ([int(a) for a in attrs["axes"]] if "axes" in attrs else None)
        if not axes and attrs.get("noop_with_empty_axes", 0):
            return x
        return im.op(op, [x], node.output[0], axes=axes or None, keepdims=bool(attrs.get("keepdims", 1)))
    return convert


def _gather(im: Importer, node: Any, attrs: dict) -> Var:
    if attrs.get("axis", 0) != 0:
        raise im.fail("Loom gathers rows only (axis 0)")
    return im.op("Gather", [im.var(node.input[0]), im.var(node.input[1])], node.output[0])


def _slice(im: Importer, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    starts = im.const(node.input[1], "starts").reshape(-1)
    ends = im.const(node.input[2], "ends").reshape(-1)
    axes = im.optional_const(node, 3, "axes")
    steps = im.optional_const(node, 4, "steps")
    axes = list(range(len(starts))) if axes is None else [int(a) % x.ndim for a in axes.reshape(-1)]
    if steps is not None and np.any(steps != 1):
        raise im.fail("Loom slices with step 1 only")
    cuts = []
    for axis, start, end in zip(axes, starts, ends):
        size = x.shape[axis]
        if isinstance(size, str):
            raise im.fail("Loom cannot slice the batch dimension")
        lo, hi = (int(np.clip(v + size if v < 0 else v, 0, size)) for v in (start, end))
        if (lo, hi) != (0, size):
            cuts.append((axis, lo, hi))
    for i, (axis, lo, hi) in enumerate(cuts):  # only the last cut carries the output's name
        name = node.output[0] + ("" if i == len(cuts) - 1 else f"_axis{axis}")
        x = im.op("Slice", [x], name, axis=axis, start=lo, stop=hi)
    return x


CONVERTERS: dict[str, Converter] = {
    "Constant": _alias, "Identity": _alias, "Dropout": _alias,
    "Add": _same("Add"), "Sub": _same("Sub"), "Mul": _same("Mul"), "Div": _same("Div"),
    "Pow": _same("Pow"), "Neg": _same("Neg"), "Abs": _same("Abs"), "Sign": _same("Sign"),
    "Max": _chain("Maximum"), "Min": _chain("Minimum"), "Sum": _chain("Add"), "Reciprocal": _reciprocal,
    "Exp": _same("Exp"), "Log": _same("Log"), "Sqrt": _same("Sqrt"), "Tanh": _same("Tanh"),
    "Sigmoid": _same("Sigmoid"), "Relu": _same("ReLU"), "LeakyRelu": _same("LeakyReLU", alpha=0.01),
    "Elu": _same("ELU", alpha=1.0), "Softplus": _same("Softplus"), "Clip": clip, "Cast": cast,
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "MatMul": _same("MatMul"), "Gemm": _gemm, "Reshape": _reshape, "Flatten": _flatten,
    "Squeeze": _squeeze(False), "Unsqueeze": _squeeze(True), "Transpose": _transpose,
    "Concat": _concat, "Slice": _slice, "Gather": _gather,
    "SoftmaxCrossEntropyLoss": softmax_xent_loss, "ArgMax": argmax, "Equal": _same("Equal"),
    "Greater": _same("Greater"), "GreaterOrEqual": _same("GreaterEqual"),
    "Conv": _conv, "MaxPool": _maxpool, "GlobalAveragePool": _global_avg, "BatchNormalization": batchnorm,
    "ReduceSum": _reduce("Sum", 13), "ReduceMean": _reduce("Mean", 18), "ReduceMax": _reduce("Max", 18),
}


def graph_from_onnx(model: Any, source: str = "<model>") -> tuple[Graph, dict[str, np.ndarray]]:
    """A Loom graph and its weights from an onnx.ModelProto (see import_onnx)."""
    return Importer(model, source).run()


def import_onnx(path: str | os.PathLike) -> tuple[Graph, dict[str, np.ndarray]]:
    """Read an ONNX model as a Loom graph, laid out by layer, with its weights by Parameter id.

    Raises
    ------
    GraphFileError when the file is missing, too large, not ONNX or keeps its weights elsewhere;
    ModelImportError listing every op Loom does not have, or naming the node that does not fit.
    """
    import onnx

    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise GraphFileError(f"the model is {size // 2**20} MiB; Loom imports up to 512 MiB", file=str(path))
        model = onnx.load_model(str(path), load_external_data=False)
    except OSError as e:
        raise GraphFileError(f"cannot read the file: {e.strerror or e}", file=str(path)) from None
    except Exception as e:  # protobuf raises its own DecodeError family on garbage
        raise GraphFileError(f"not an ONNX model ({type(e).__name__})", file=str(path)) from None
    if not model.graph.node and not model.graph.output:
        raise GraphFileError("not an ONNX model (it has no graph)", file=str(path))
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise GraphFileError("the model keeps its weights in external files; save it with the "
                             "weights inside (onnx.save_model(..., save_as_external_data=False))",
                             file=str(path))
    return graph_from_onnx(model, str(path))
