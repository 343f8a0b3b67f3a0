"""Sources: where values enter a graph (fed inputs, trained parameters, constants)."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..spec import Attr, OpSpec, ParamDecl, dtype_attr
from ..types import TensorType

INITS = ("zeros", "constant", "uniform", "normal", "glorot_uniform", "he_normal")
NO_INPUTS: tuple = ()


def _input_forward(ctx):
    return ctx.feed()


register(OpSpec(
    "Input", "Sources",
    "A value fed in at run time (features, labels). The node's id is its name; "
    "N in the shape is the batch size.",
    NO_INPUTS,
    infer=lambda types, attrs: [TensorType(attrs["dtype"], attrs["shape"])],
    forward=_input_forward,
    attrs=(Attr("shape", "shape", ("N", 2), "dimensions; N is the batch size", allow_batch=True),
           dtype_attr("float32", "float32, float64, or int64 for labels and ids"))))


def _parameter_decls(attrs, types):
    return {"": ParamDecl(attrs["shape"], attrs["dtype"], attrs["init"], attrs["scale"],
                          attrs["trainable"])}


register(OpSpec(
    "Parameter", "Sources",
    "A trained array (weights, biases). Its id is its name in weights files.",
    NO_INPUTS,
    infer=lambda types, attrs: [TensorType(attrs["dtype"], attrs["shape"])],
    forward=lambda ctx: ctx.param(""),
    attrs=(Attr("shape", "shape", (1,), "dimensions (no batch size)"),
           Attr("dtype", "choice", "float32", "element type", choices=("float32", "float64")),
           Attr("init", "choice", "glorot_uniform", "how the first values are drawn", choices=INITS),
           Attr("scale", "float", 0.1, "constant: the value; uniform: half-width; normal: std"),
           Attr("trainable", "bool", True, "whether training updates it")),
    params=_parameter_decls))


def _constant_type(types, attrs):
    value = np.asarray(attrs["value"], dtype=np.float64)
    dtype = np.dtype(attrs["dtype"])
    if dtype.kind in "iu" and not np.all(value == np.round(value)):
        raise ShapeError(f"an {dtype} constant needs whole numbers")
    if value.size and not _within(attrs["value"], value, dtype):
        bounds = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
        raise ShapeError(f"the constant holds values beyond {dtype}'s range ({bounds.min:.4g} to {bounds.max:.4g})")
    return [TensorType(attrs["dtype"], tuple(value.shape))]


def _within(raw, value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every number fits `dtype`; integers are compared exactly (float64 rounds 2**63 - 1 up)."""
    if dtype.kind == "f":
        return float(np.abs(value).max()) <= float(np.finfo(dtype).max)
    bounds = np.iinfo(dtype)
    exact = np.asarray(raw, dtype=object).ravel()
    return all(bounds.min <= int(v) <= bounds.max for v in exact)


register(OpSpec(
    "Constant", "Sources",
    "A fixed value written into the graph: a number or a nested list.",
    NO_INPUTS,
    infer=_constant_type,
    forward=lambda value, dtype: np.asarray(value, dtype=dtype),
    attrs=(Attr("value", "tensor", 0.0, "a number or nested lists of numbers"), dtype_attr())))
