"""Variable: a symbolic value of the front-end, with NumPy's operators, methods and indexing.

Every operator adds a node to the graph through the session's builder, so `3 * x + x * y` is
Mul and Add nodes, checked as they are built.
"""
from __future__ import annotations

from numbers import Number
from typing import Any, Optional, Sequence, Union

import numpy as np

from core.graph import LoomError
from core.graph.builder import Var

from .session import FrontEndTypeError, user_frame

Operand = Union["Variable", Number, np.ndarray]


class Variable(Var):
    """One output of a node: `x.type` is its dtype and shape; N in the shape is the batch size."""

    __slots__ = ()
    __array_ufunc__ = None      # NumPy numbers and arrays hand `np.float64(2) * x` to our operators

    # ---- Arithmetic (numbers become Constants of a fitting dtype)

    def __add__(self, other: Operand) -> "Variable":
        return binary("Add", self, other)

    def __radd__(self, other: Operand) -> "Variable":
        return binary("Add", other, self)

    def __sub__(self, other: Operand) -> "Variable":
        return binary("Sub", self, other)

    def __rsub__(self, other: Operand) -> "Variable":
        return binary("Sub", other, self)

    def __mul__(self, other: Operand) -> "Variable":
        return binary("Mul", self, other)

    def __rmul__(self, other: Operand) -> "Variable":
        return binary("Mul", other, self)

    def __truediv__(self, other: Operand) -> "Variable":
        return binary("Div", self, other)

    def __rtruediv__(self, other: Operand) -> "Variable":
        return binary("Div", other, self)

    def __pow__(self, other: Operand) -> "Variable":
        return binary("Pow", self, other)

    def __rpow__(self, other: Operand) -> "Variable":
        return binary("Pow", other, self)

    def __matmul__(self, other: "Variable") -> "Variable":
        return binary("MatMul", self, other)

    def __rmatmul__(self, other: "Variable") -> "Variable":
        return binary("MatMul", other, self)

    def __neg__(self) -> "Variable":
        return binary("Neg", self)

    def __pos__(self) -> "Variable":
        return self

    def __abs__(self) -> "Variable":
        return binary("Abs", self)

    # ---- Comparisons (1 where true, else 0); == stays identity, as in Theano: use loom.tensor.eq

    def __gt__(self, other: Operand) -> "Variable":
        return binary("Greater", self, other)

    def __ge__(self, other: Operand) -> "Variable":
        return binary("GreaterEqual", self, other)

    def __lt__(self, other: Operand) -> "Variable":
        return binary("Greater", other, self)

    def __le__(self, other: Operand) -> "Variable":
        return binary("GreaterEqual", other, self)

    def __bool__(self) -> bool:
        raise TypeError("a symbolic Variable has no truth value; compare with loom.tensor.where or eq")

    # ---- Indexing and methods

    def __getitem__(self, key: Any) -> "Variable":
        from .indexing import getitem

        return getitem(self, key)

    @property
    def name(self) -> str:
        """The node's id: an Input's feed name, a shared value's weights key."""
        return self.node

    @property
    def T(self) -> "Variable":  # noqa: N802 (NumPy's name)
        return binary("Transpose", self)

    def transpose(self, *axes: int) -> "Variable":
        return binary("Transpose", self, axes=list(axes[0] if len(axes) == 1 and isinstance(axes[0], (list, tuple))
                                                   else axes) or None)

    def reshape(self, *shape: Any) -> "Variable":
        from .tensor import reshape

        return reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (list, tuple)) else shape)

    def flatten(self) -> "Variable":
        return binary("Flatten", self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Variable":
        from .tensor import sum as sum_

        return sum_(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Variable":
        from .tensor import mean

        return mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> "Variable":
        from .tensor import max as max_

        return max_(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int = -1) -> "Variable":
        from .tensor import argmax

        return argmax(self, axis=axis)

    def eval(self, feeds: Optional[dict] = None) -> np.ndarray:
        """The value, computed now: `feeds` maps input Variables to arrays (Theano's `eval`)."""
        from .compiled import function

        feeds = feeds or {}
        return function(list(feeds), self)(*feeds.values())

    # ---- Pictures in notebooks

    def _repr_png_(self) -> Optional[bytes]:
        from .display import render_png

        return render_png(self)

    def _repr_svg_(self) -> Optional[str]:
        from .display import render_svg

        return render_svg(self)

    def __repr__(self) -> str:
        return f"{self.node}: {self.type}"


def binary(op: str, *operands: Operand, name: Optional[str] = None, **attrs: Any) -> Variable:
    """Add an `op` node fed by `operands` (Variables or numbers); returns its first output."""
    return build(op, operands, attrs, name)[0]


def build(op: str, operands: Sequence[Operand], attrs: dict, name: Optional[str] = None) -> list:
    """Add an `op` node; numbers and arrays become Constants matching the Variables' dtype."""
    from .session import builder

    variables = [v for v in operands if isinstance(v, Var)]
    target = variables[0].builder if variables else builder()
    for v in variables:
        if v.builder.graph is not target.graph:
            file, line = user_frame()
            raise LoomError(f"{op}: {variables[0].node} and {v.node} belong to different graphs "
                            "(one was made before loom.reset() or loom.load())", file=file, line=line)
    like = variables[0].dtype if variables else "float32"
    wired = [v if isinstance(v, Var) else constant(v, like, target) for v in operands]
    return target.add(op, wired, attrs, name=name)


def constant(value: Any, like: str = "float32", target: Any = None) -> Variable:
    """A Constant node for a number or array: an int stays int next to int Variables, else a float."""
    from .session import builder

    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        file, line = user_frame()
        raise FrontEndTypeError(f"cannot use {value!r} as a tensor", file=file, line=line)
    dtype = "float32" if like == "int64" and array.dtype.kind == "f" else like
    return (target or builder()).const(array.tolist(), dtype)
