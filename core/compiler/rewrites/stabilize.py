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


@rewrite("stabilize", matches=("Log",), tags=("stable",))
def log_of_picked_softmax(rw: Rewriter, node: str) -> Optional[Ref]:
    """log(pick(softmax(z), y)) -> pick(log_softmax(z), y)"""
    picked = rw.src(node, "x")[0]
    if rw.op(picked) != "PickLabels":
        return None
    probabilities = rw.src(picked, "x")[0]
    if rw.op(probabilities) != "Softmax" or rw.attrs(probabilities)["axis"] not in (-1, 1):
        return None
    log_p = rw.add("LogSoftmax", [rw.src(probabilities, "x")], {"axis": rw.attrs(probabilities)["axis"]}, like=node)
    return rw.add("PickLabels", [log_p, rw.src(picked, "labels")], like=node)


def _operands(rw: Rewriter, node: str) -> tuple[Ref, Ref]:
    return rw.src(node, "a"), rw.src(node, "b")


def _undivided(rw: Rewriter, h: Ref, s: Ref, like: str) -> Optional[Ref]:
    """g when `h` is g / s, or onehot(y) * spread(g) when it is onehot(y) * spread(g / pick(s, y));
    None otherwise. Both are what the gradient of a log of the probabilities s sends back."""
    if rw.op(h[0]) == "Div" and rw.src(h[0], "b") == s:
        return rw.src(h[0], "a")
    if rw.op(h[0]) != "Mul":
        return None
    a, b = _operands(rw, h[0])
    one_hot, spread = (a, b) if rw.op(a[0]) == "OneHot" else (b, a)
    if rw.op(one_hot[0]) != "OneHot" or rw.op(spread[0]) != "BroadcastLike":
        return None
    ratio = rw.src(spread[0], "x")
    if rw.op(ratio[0]) != "Div":
        return None
    picked = rw.src(ratio[0], "b")
    labels = rw.src(one_hot[0], "labels")
    if rw.op(picked[0]) != "PickLabels" or rw.src(picked[0], "x") != s or rw.src(picked[0], "labels") != labels:
        return None
    numerator = rw.add("BroadcastLike", [rw.src(ratio[0], "a"), rw.src(spread[0], "like")],
                       rw.attrs(spread[0]), like=like)
    return rw.add("Mul", [numerator, one_hot], like=like)


@rewrite("stabilize", matches=("Mul",), tags=("stable",))
def log_softmax_gradient(rw: Rewriter, node: str) -> Optional[Ref]:
    """s * (g / s - sum(g / s * s)) -> g - s * sum(g), s = softmax(z): log(softmax)'s gradient, stably"""
    a, b = _operands(rw, node)
    s, difference = (a, b) if rw.op(a[0]) == "Softmax" else (b, a)
    if rw.op(s[0]) != "Softmax" or rw.op(difference[0]) != "Sub":
        return None
    h, total = _operands(rw, difference[0])
    axis = rw.attrs(s[0])["axis"]
    if rw.op(total[0]) != "Sum" or rw.attrs(total[0])["axes"] != axis or not rw.attrs(total[0])["keepdims"]:
        return None
    product = rw.src(total[0], "x")
    if rw.op(product[0]) != "Mul" or set(_operands(rw, product[0])) != {h, s}:
        return None
    g = _undivided(rw, h, s, node)
    if g is None:
        return None
    summed = rw.add("Sum", [g], {"axes": axis, "keepdims": True}, like=node)
    return rw.add("Sub", [g, rw.add("Mul", [s, summed], like=node)], like=node)
