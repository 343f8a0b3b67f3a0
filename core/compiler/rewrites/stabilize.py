"""Numerical stabilization: formulas that overflow or lose precision replaced by stable ops."""
from __future__ import annotations

from typing import Optional

from .base import Ref, Rewriter, rewrite
from .simplify import _is, _same_type


@rewrite("stabilize", matches=("Log",), tags=("stable",))
def log_softmax(rw: Rewriter, node: str) -> Optional[Ref]:
    """log(softmax(x)) -> log_softmax(x)"""
    inner = rw.src(node, "x")
    if rw.op(inner[0]) != "Softmax":
        return None
    return rw.add("LogSoftmax", [rw.src(inner[0], "x")], {"axis": rw.attrs(inner[0])["axis"]}, like=node)


@rewrite("stabilize", matches=("Log",), tags=("stable",))
def log1p(rw: Rewriter, node: str) -> Optional[Ref]:
    """log(1 + x) -> log1p(x)"""
    inner = rw.src(node, "x")
    if rw.op(inner[0]) != "Add":
        return None
    a, b = rw.src(inner[0], "a"), rw.src(inner[0], "b")
    x = b if _is(rw, a, 1.0) else a if _is(rw, b, 1.0) else None
    if x is None or not _same_type(rw, x, inner[0]):
        return None
    return rw.add("Log1p", [x], like=node)


@rewrite("stabilize", matches=("Log",), tags=("stable",))
def log_sigmoid(rw: Rewriter, node: str) -> Optional[Ref]:
    """log(sigmoid(x)) -> -softplus(-x)"""
    inner = rw.src(node, "x")
    if rw.op(inner[0]) != "Sigmoid":
        return None
    minus_x = rw.add("Neg", [rw.src(inner[0], "x")], like=node)
    return rw.add("Neg", [rw.add("Softplus", [minus_x], like=node)], like=node)


def _log_probabilities(rw: Rewriter, ref: Ref) -> Optional[Ref]:
    """The logits z when `ref` is log_softmax(z) or log(softmax(z)) over the last axis of a matrix."""
    node = ref[0]
    if rw.op(node) == "Log" and rw.op(rw.src(node, "x")[0]) == "Softmax":
        node = rw.src(node, "x")[0]
    elif rw.op(node) != "LogSoftmax":
        return None
    z = rw.src(node, "x")
    if rw.type(z).ndim != 2 or rw.attrs(node)["axis"] not in (-1, 1):
        return None
    return z


def _batch_mean(rw: Rewriter, node: str) -> bool:
    attrs = rw.attrs(node)
    return rw.op(node) == "Mean" and not attrs["keepdims"] and attrs["axes"] in (None, 0, (0,), (-1,), -1)


@rewrite("stabilize", matches=("Neg", "Mean"), tags=("stable",))
def softmax_cross_entropy(rw: Rewriter, node: str) -> Optional[Ref]:
    """-mean(pick(log(softmax(z)), y)) -> softmax_cross_entropy(z, y)"""
    inner = rw.src(node, "x")[0]
    if rw.op(node) == "Neg" and _batch_mean(rw, inner):
        picked = rw.src(inner, "x")[0]
    elif _batch_mean(rw, node) and rw.op(inner) == "Neg":
        picked = rw.src(inner, "x")[0]
    else:
        return None
    if rw.op(picked) != "PickLabels":
        return None
    z = _log_probabilities(rw, rw.src(picked, "x"))
    if z is None:
        return None
    return rw.add("SoftmaxCrossEntropy", [z, rw.src(picked, "labels")], like=node)


@rewrite("stabilize", matches=("Sub",), tags=("stable",))
def softmax_minus_one_hot(rw: Rewriter, node: str) -> Optional[Ref]:
    """softmax(z) - onehot(y, z) -> softmax_xent_grad(z, y)"""
    a, b = rw.src(node, "a"), rw.src(node, "b")
    if rw.op(a[0]) != "Softmax" or rw.op(b[0]) != "OneHot":
        return None
    z = rw.src(a[0], "x")
    if rw.type(z).ndim != 2 or rw.attrs(a[0])["axis"] not in (-1, 1) or rw.type(z) != rw.type((node, "y")):
        return None
    if rw.type(rw.src(b[0], "like")) != rw.type(z):
        return None
    return rw.add("SoftmaxXentGrad", [z, rw.src(b[0], "labels")], like=node)
