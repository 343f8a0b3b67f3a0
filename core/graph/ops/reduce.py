"""Reductions over axes (Sum, Mean, Max) and the broadcasts their gradients need."""
from __future__ import annotations

import numpy as np

from ..builder import apply
from ..errors import ShapeError
from ..registry import INTERNAL, register
from ..spec import Attr, OpSpec, Port
from ..types import TensorType, normalize_axes, reduce_shape

X = (Port("x"),)
AXES = (Attr("axes", "axes", None, "axes to reduce (empty: all)"),
        Attr("keepdims", "bool", False, "keep reduced axes with length 1"))


def _reduce_type(types, axes, keepdims):
    (x,) = types
    return [TensorType(x.dtype, reduce_shape(x.shape, normalize_axes(axes, x.ndim), keepdims))]


def _np_axes(axes, x):
    return normalize_axes(axes, x.ndim)


def _back(g, x, axes, keepdims):
    return apply("BroadcastLike", g, x, axes=axes, keepdims=keepdims)


def _max_grad(g, x, y, axes, keepdims):
    """Ties share: each element equal to the maximum gets g divided by how many are."""
    hit = apply("Equal", x, _back(y, x, axes, keepdims))
    count = apply("Sum", hit, axes=axes, keepdims=keepdims)
    return (_back(g / count, x, axes, keepdims) * hit,)


register(OpSpec(
    "Sum", "Reduce", "Sum of x over the given axes.", X, _reduce_type,
    lambda x, axes, keepdims: np.sum(x, axis=_np_axes(axes, x), keepdims=keepdims),
    attrs=AXES, grad=lambda g, x, y, axes, keepdims: (_back(g, x, axes, keepdims),)))
register(OpSpec(
    "Mean", "Reduce", "Mean of x over the given axes.", X, _reduce_type,
    lambda x, axes, keepdims: np.mean(x, axis=_np_axes(axes, x), keepdims=keepdims),
    attrs=AXES,
    grad=lambda g, x, y, axes, keepdims: (_back(g, x, axes, keepdims) / apply("Size", x, axes=axes),)))
register(OpSpec(
    "Max", "Reduce", "Largest element of x over the given axes (ties share the gradient).", X,
    _reduce_type, lambda x, axes, keepdims: np.max(x, axis=_np_axes(axes, x), keepdims=keepdims),
    attrs=AXES, grad=_max_grad))


# ---- Helpers that gradients produce (not in the palette)

def _broadcast_like(x, like, axes, keepdims):
    if not keepdims:
        x = np.expand_dims(x, _np_axes(axes, like))
    return np.broadcast_to(x, like.shape).astype(x.dtype, copy=True)


def _size_dtype(t: TensorType) -> str:
    return t.dtype if t.is_float else "float32"


register(OpSpec(
    "BroadcastLike", INTERNAL, "x, reduced over `axes`, spread back to the shape of `like`.",
    (Port("x"), Port("like", differentiable=False)),
    lambda types, attrs: [TensorType(types[0].dtype, types[1].shape)], _broadcast_like,
    attrs=AXES, hidden=True,
    grad=lambda g, x, like, y, axes, keepdims: (
        apply("SumLike", g, x) if keepdims else apply("Sum", g, axes=axes), None)))
register(OpSpec(
    "Size", INTERNAL, "How many elements of x lie in the given axes, as a float scalar.",
    (Port("x", "only its shape is read", differentiable=False),),
    lambda types, axes: [TensorType(_size_dtype(types[0]), ())],
    lambda x, axes: np.asarray(np.prod([x.shape[a] for a in _np_axes(axes, x)]),
                               dtype=x.dtype if x.dtype.kind == "f" else np.float32),
    attrs=(Attr("axes", "axes", None, "axes to count (empty: all)"),), hidden=True))


# ---- Positions (not differentiable)

def _argmax_type(types, axis, keepdims):
    (x,) = types
    if x.ndim == 0:
        raise ShapeError(f"Argmax needs at least one axis, got {x}", port="x")
    return [TensorType("int64", reduce_shape(x.shape, normalize_axes(axis, x.ndim), keepdims))]


register(OpSpec(
    "Argmax", "Reduce", "Position of the largest element of x along an axis (the first, on ties), "
    "as int64: the predicted class of scores (N, classes).",
    (Port("x", "piecewise constant: no gradient", differentiable=False),), _argmax_type,
    lambda x, axis, keepdims: np.argmax(x, axis=axis % x.ndim, keepdims=keepdims),
    attrs=(Attr("axis", "int", -1, "the axis to search along", minimum=-8, maximum=7),
           Attr("keepdims", "bool", False, "keep the searched axis with length 1"))))
