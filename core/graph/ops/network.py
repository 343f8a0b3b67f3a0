"""Network ops: softmax, and the layers that own their weights (Dense, Embedding, Dropout).

A layer has a NumPy forward of its own and an `expand` into primitive ops; the compiler
differentiates the expansion, so a layer carries no gradient rule (tinygrad's composites).
"""
from __future__ import annotations

import numpy as np

from ..builder import Builder, Var, apply
from ..errors import ShapeError
from ..registry import INTERNAL, call_rule, get_op, register
from ..spec import Attr, OpSpec, ParamDecl, Port
from ..types import TensorType
from ..validate import param_key
from .sources import INITS

X = (Port("x"),)
ACTIVATIONS = {"none": None, "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid",
               "leaky_relu": "LeakyReLU", "elu": "ELU", "softplus": "Softplus", "softmax": "Softmax"}
AXIS = (Attr("axis", "int", -1, "the axis the probabilities sum over", minimum=-8, maximum=7),)


def activation_attr(default: str) -> Attr:
    return Attr("activation", "choice", default, "applied to the result", choices=tuple(ACTIVATIONS))


def activate(y: np.ndarray, activation: str) -> np.ndarray:
    """Apply a named activation with the op's own reference implementation."""
    op = ACTIVATIONS[activation]
    if op is None:
        return y
    spec = get_op(op)
    return call_rule(spec.forward, (y,), spec.default_attrs())


def activate_var(y: Var, activation: str) -> Var:
    op = ACTIVATIONS[activation]
    return apply(op, y) if op else y


def param_var(builder: Builder, node_id: str, name: str, decl: ParamDecl) -> Var:
    """A Parameter node standing for a layer's own array, under the same weights key."""
    attrs = {"shape": list(decl.shape), "dtype": decl.dtype, "init": decl.init, "scale": decl.scale,
             "trainable": decl.trainable}
    return builder.add("Parameter", [], attrs, name=param_key(node_id, name))[0]


# ---- Softmax

def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _axis_type(types, axis):
    (x,) = types
    if not x.is_float or not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"needs a float tensor with axis {axis}, got {x}")
    return [x]


register(OpSpec(
    "Softmax", "Network", "exp(x) / sum(exp(x)) along an axis: scores to probabilities.", X,
    _axis_type, _softmax, attrs=AXIS,
    grad=lambda g, x, y, axis: (y * (g - apply("Sum", g * y, axes=axis, keepdims=True)),)))
register(OpSpec(
    "LogSoftmax", "Network", "log(softmax(x)), computed stably.", X, _axis_type, _log_softmax,
    attrs=AXIS,
    grad=lambda g, x, y, axis: (g - apply("Exp", y) * apply("Sum", g, axes=axis, keepdims=True),)))


# ---- Dense

def _features(x: TensorType, op: str) -> int:
    if not x.is_float or x.ndim < 1 or not isinstance(x.shape[-1], int):
        raise ShapeError(f"{op} needs float features with a fixed last dimension, got {x}", port="x")
    return x.shape[-1]


def _dense_params(attrs, types):
    (x,) = types
    decls = {"W": ParamDecl((_features(x, "Dense"), attrs["units"]), x.dtype, attrs["init"], 0.1)}
    if attrs["use_bias"]:
        decls["b"] = ParamDecl((attrs["units"],), x.dtype, "zeros")
    return decls


def _dense_forward(x, ctx, units, activation, use_bias):
    y = x @ ctx.param("W")
    return activate(y + ctx.param("b") if use_bias else y, activation)


def _dense_expand(builder, x, node_id, **attrs):
    decls = _dense_params(attrs, [x.type])
    y = apply("MatMul", x, param_var(builder, node_id, "W", decls["W"]))
    if attrs["use_bias"]:
        y = y + param_var(builder, node_id, "b", decls["b"])
    return [activate_var(y, attrs["activation"])]


def _dense_type(types, units):
    (x,) = types
    _features(x, "Dense")
    return [TensorType(x.dtype, x.shape[:-1] + (units,))]


register(OpSpec(
    "Dense", "Network", "Fully connected layer: activation(x @ W + b); owns W and b.", X,
    _dense_type, _dense_forward,
    attrs=(Attr("units", "int", 16, "output features", minimum=1, maximum=1 << 20),
           activation_attr("tanh"), Attr("use_bias", "bool", True, "add a learned bias b"),
           Attr("init", "choice", "glorot_uniform", "how W is first drawn", choices=INITS)),
    params=_dense_params, expand=_dense_expand))


# ---- Embedding

def _embedding_type(types, dim, dtype):
    (ids,) = types
    if ids.dtype != "int64":
        raise ShapeError(f"Embedding needs int64 ids, got {ids.dtype}", port="ids")
    return [TensorType(dtype, ids.shape + (dim,))]


def _embedding_params(attrs, types):
    return {"table": ParamDecl((attrs["num_embeddings"], attrs["dim"]), attrs["dtype"], "normal", 0.1,
                               trainable=attrs.get("trainable", True))}


register(OpSpec(
    "Embedding", "Network", "Integer ids -> learned rows of a table (num_embeddings x dim).",
    (Port("ids", differentiable=False),), _embedding_type,
    lambda ids, ctx: get_op("Gather").forward(ctx.param("table"), ids),
    attrs=(Attr("num_embeddings", "int", 10, "how many ids", minimum=1, maximum=1 << 22),
           Attr("dim", "int", 8, "length of each row", minimum=1, maximum=1 << 16),
           Attr("dtype", "choice", "float32", "element type of the table", choices=("float32", "float64")),
           Attr("trainable", "bool", True, "train the table; off keeps it frozen (e.g. pretrained word vectors)")),
    params=_embedding_params,
    expand=lambda builder, ids, node_id, **attrs: [apply(
        "Gather", param_var(builder, node_id, "table", _embedding_params(attrs, [])["table"]), ids)]))


# ---- Dropout

def _dropout_mask(x, rate, ctx):
    if not ctx.training or rate == 0:
        return np.ones_like(x)
    return (ctx.rng.random(x.shape) >= rate).astype(x.dtype) / x.dtype.type(1 - rate)


RATE = (Attr("rate", "float", 0.5, "fraction of values zeroed while training", minimum=0.0, maximum=0.95),)

register(OpSpec(
    "Dropout", "Network", "While training, zero a random fraction of x and rescale the rest; "
    "identity in evaluation.", X, lambda types, attrs: [types[0]],
    lambda x, rate, ctx: x * _dropout_mask(x, rate, ctx), attrs=RATE,
    expand=lambda builder, x, node_id, rate: [x * apply("DropoutMask", x, rate=rate)]))
register(OpSpec(
    "DropoutMask", INTERNAL, "Random 0 / (1 / (1 - rate)) mask shaped like x; ones in evaluation.",
    (Port("x", differentiable=False),), lambda types, attrs: [types[0]], _dropout_mask,
    attrs=RATE, hidden=True, stochastic=True))
