"""ONNX converters that are more than a rename: casts, clips, inference batch norm, and the
losses and metrics Loom's own exports write (SoftmaxCrossEntropyLoss, ArgMax)."""
from __future__ import annotations

from typing import Any

from core.graph.builder import Var

DTYPES = {1: "float32", 7: "int64", 11: "float64"}  # onnx.TensorProto codes Loom has


def softmax_xent_loss(im: Any, node: Any, attrs: dict) -> Var:
    """SoftmaxCrossEntropyLoss as Loom exports it: mean over (N, classes) scores, no weights."""
    if attrs.get("reduction", b"mean") not in (b"mean", "mean") or len(node.input) > 2 \
            or "ignore_index" in attrs or (len(node.output) > 1 and node.output[1]):
        raise im.fail("Loom's SoftmaxCrossEntropy is the mean over the batch, without weights, "
                      "ignore_index or log-probability output")
    scores, labels = im.var(node.input[0]), im.var(node.input[1])
    return im.op("SoftmaxCrossEntropy", [scores, labels], node.output[0])


def argmax(im: Any, node: Any, attrs: dict) -> Var:
    if attrs.get("select_last_index", 0):
        raise im.fail("Loom's Argmax picks the first of tied maxima")
    return im.op("Argmax", [im.var(node.input[0])], node.output[0], axis=int(attrs.get("axis", 0)),
                 keepdims=bool(attrs.get("keepdims", 1)))


def cast(im: Any, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    want = DTYPES.get(int(attrs["to"]))
    if want == x.dtype:
        return x
    if want in ("float32", "float64") and (x.dtype == "int64" or want == "float64"):
        return im.op("Mul", [x, im.builder.const(1.0, want)], node.output[0])
    raise im.fail(f"Loom cannot cast {x.dtype} to ONNX type {attrs['to']}")


def clip(im: Any, node: Any, attrs: dict) -> Var:
    x = im.var(node.input[0])
    lo = attrs.get("min") if im.opset < 11 else im.optional_const(node, 1, "min")
    hi = attrs.get("max") if im.opset < 11 else im.optional_const(node, 2, "max")
    if lo is not None and hi is not None:
        return im.op("Clip", [x], node.output[0], lo=float(lo), hi=float(hi))
    if lo is not None:
        return im.op("Maximum", [x, im.builder.const(float(lo), x.dtype)], node.output[0])
    if hi is not None:
        return im.op("Minimum", [x, im.builder.const(float(hi), x.dtype)], node.output[0])
    return x


def batchnorm(im: Any, node: Any, attrs: dict) -> Var:
    """(x - mean) / sqrt(var + eps) * scale + B, each per-channel array shaped (C, 1, 1)."""
    if len(node.output) > 1 and any(node.output[1:]):
        raise im.fail("only inference-mode BatchNormalization (one output) is in Loom")
    x = im.var(node.input[0])
    name = node.output[0]
    channel = [-1] + [1] * (x.ndim - 2)
    scale, bias, mean, var = (im.op("Reshape", [im.var(n)], n + "_shaped", shape=channel) for n in node.input[1:5])
    eps = im.builder.const(float(attrs.get("epsilon", 1e-5)), x.dtype)
    spread = im.op("Sqrt", [im.op("Add", [var, eps], name + "_var")], name + "_std")
    normed = im.op("Div", [im.op("Sub", [x, mean], name + "_centred"), spread], name + "_normed")
    return im.op("Add", [im.op("Mul", [normed, scale], name + "_scaled"), bias], name)
