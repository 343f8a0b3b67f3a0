"""`import loom.tensor as T`: typed inputs, NumPy-like functions and every op of the registry.

    x = T.dmatrix("x", shape=(None, 64))      # None (or "N") is the batch size
    p = T.softmax(T.dot(x, W) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])

Names follow Theano and NumPy (`dot`, `tanh`, `mean`, `sum(axis=)`, `argmax`, `neq`, `where`);
`T.ops` holds a function per registry op under its snake_case name (`mat_mul`, `leaky_relu`,
`softmax_cross_entropy`, `dense`...), and each of those is also a name of this module.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from core.graph.types import BATCH

from .indexing import RowIndex, arange
from .optable import generated
from .session import FrontEndTypeError, builder, user_frame
from .variable import Operand, Variable, binary, constant

FLOATX = "float32"
PREFIXES = {"": None, "f": "float32", "d": "float64", "i": "int64", "l": "int64", "b": "int64"}
RANKS = {"scalar": 0, "vector": 1, "matrix": 2, "tensor3": 3, "tensor4": 4}

ops = generated()
globals().update(ops)


# ---- Typed inputs

def tensor(name: str = "tensor", dtype: Optional[str] = None, shape: Sequence[Any] = ()) -> Variable:
    """An Input fed at each call. `shape` holds ints, and None or "N" for the batch size."""
    dims = [BATCH if d is None else d for d in shape]
    return builder().add("Input", [], {"shape": dims, "dtype": _dtype(dtype)}, name=name)[0]


def _dtype(dtype: Optional[str]) -> str:
    dtype = dtype or FLOATX
    if dtype in ("int8", "int16", "int32", "uint8", "bool"):
        return "int64"          # Loom's integers are int64
    return dtype


def _constructor(kind: str, rank: int, dtype: Optional[str]):
    def make(name: Optional[str] = None, shape: Optional[Sequence[Any]] = None,
             dtype: Optional[str] = dtype) -> Variable:
        name = name or kind
        if shape is None:
            if rank > 1:
                file, line = user_frame()
                raise FrontEndTypeError(f"{kind} '{name}' needs its shape, e.g. shape=(None, 64): Loom types "
                                        "every value (None is the batch size)", file=file, line=line)
            shape = (None,) * rank
        if len(shape) != rank:
            file, line = user_frame()
            raise FrontEndTypeError(f"{kind} '{name}' has {rank} dimension(s), got shape {tuple(shape)}",
                                    file=file, line=line)
        return tensor(name, dtype, shape)

    make.__name__ = kind
    make.__doc__ = (f"A {rank}-dimensional Input of {dtype or 'floatX (' + FLOATX + ')'}"
                    + ("" if rank < 2 else "; give shape=, with None for the batch size") + ".")
    return make


for _prefix, _dt in PREFIXES.items():
    for _kind, _rank in RANKS.items():
        globals()[_prefix + _kind] = _constructor(_prefix + _kind, _rank, _dt)


# ---- NumPy and Theano names

def dot(a: Variable, b: Variable) -> Variable:
    """Matrix product (vectors as in NumPy)."""
    return binary("MatMul", a, b)


def _axes(axis: Any) -> Any:
    return list(axis) if isinstance(axis, (list, tuple)) else axis


def sum(x: Variable, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001 (NumPy's name)
    """Sum over `axis` (None: every axis)."""
    return binary("Sum", x, axes=_axes(axis), keepdims=keepdims)


def mean(x: Variable, axis: Any = None, keepdims: bool = False) -> Variable:
    """Mean over `axis`; integers (a count of mistakes) are averaged as floats."""
    return binary("Mean", as_float(x), axes=_axes(axis), keepdims=keepdims)


def max(x: Variable, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Largest element over `axis`."""
    return binary("Max", x, axes=_axes(axis), keepdims=keepdims)


def argmax(x: Variable, axis: int = -1) -> Variable:
    """Position of the largest element along `axis`, as int64."""
    return binary("Argmax", x, axis=axis)


def as_float(x: Variable) -> Variable:
    """x as float32 when it holds integers (x * 1.0), else x itself."""
    return x if x.type.is_float else x * constant(1.0, "float32", x.builder)


def reshape(x: Variable, shape: Sequence[Any]) -> Variable:
    """Same elements, new shape; -1 is worked out, None or "N" is the batch size."""
    return binary("Reshape", x, shape=[BATCH if d is None else d for d in shape])


def transpose(x: Variable, axes: Optional[Sequence[int]] = None) -> Variable:
    return binary("Transpose", x, axes=None if axes is None else list(axes))


def concatenate(tensors: Sequence[Variable], axis: int = 0) -> Variable:
    """Join tensors along `axis`."""
    return binary("Concat", *tensors, axis=axis, n=len(tensors))


def where(condition: Operand, a: Operand, b: Operand) -> Variable:
    """a where condition is nonzero, else b."""
    return binary("Where", condition, a, b)


def switch(condition: Operand, a: Operand, b: Operand) -> Variable:
    """Theano's name for where."""
    return where(condition, a, b)


def eq(a: Operand, b: Operand) -> Variable:
    """1 where a == b, else 0."""
    return binary("Equal", a, b)


def neq(a: Operand, b: Operand) -> Variable:
    """1 where a != b, else 0."""
    return 1 - eq(a, b)


def gt(a: Operand, b: Operand) -> Variable:
    return binary("Greater", a, b)


def ge(a: Operand, b: Operand) -> Variable:
    return binary("GreaterEqual", a, b)


def lt(a: Operand, b: Operand) -> Variable:
    return binary("Greater", b, a)


def le(a: Operand, b: Operand) -> Variable:
    return binary("GreaterEqual", b, a)


def maximum(a: Operand, b: Operand) -> Variable:
    return binary("Maximum", a, b)


def minimum(a: Operand, b: Operand) -> Variable:
    return binary("Minimum", a, b)


def clip(x: Variable, lo: float, hi: float) -> Variable:
    return binary("Clip", x, lo=lo, hi=hi)


def pow(a: Operand, b: Operand) -> Variable:  # noqa: A001
    return binary("Pow", a, b)


def sqr(x: Variable) -> Variable:
    return binary("Square", x)


def softmax(x: Variable, axis: int = -1) -> Variable:
    return binary("Softmax", x, axis=axis)


def log_softmax(x: Variable, axis: int = -1) -> Variable:
    return binary("LogSoftmax", x, axis=axis)


def nnet_categorical_crossentropy(logits: Variable, labels: Variable) -> Variable:
    """Mean cross-entropy of raw scores against int64 labels, computed stably."""
    return binary("SoftmaxCrossEntropy", logits, labels)


class _Namespace:
    """`T.nnet.softmax`, `T.nnet.sigmoid`, ...: the lecture's spelling of the same functions."""

    def __init__(self, **functions: Any) -> None:
        self.__dict__.update(functions)


nnet = _Namespace(softmax=softmax, sigmoid=ops["sigmoid"], relu=ops["relu"], softplus=ops["softplus"],
                  log_softmax=log_softmax, categorical_crossentropy=nnet_categorical_crossentropy)

__all__ = sorted(set(ops) | {"RowIndex", "Variable", "arange", "argmax", "as_float", "clip", "concatenate",
                             "dot", "eq", "ge", "gt", "le", "log_softmax", "lt", "max", "maximum", "mean",
                             "minimum", "neq", "nnet", "pow", "reshape", "softmax", "sqr", "sum", "switch",
                             "tensor", "transpose", "where"}
                 | {p + k for p in PREFIXES for k in RANKS})
del _prefix, _dt, _kind, _rank
