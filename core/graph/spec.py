"""The vocabulary every op is declared in: ports, typed attributes, parameters and the OpSpec."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from .errors import quoted
from .types import BATCH, DTYPES, TensorType

ATTR_KINDS = ("int", "float", "bool", "choice", "shape", "axes", "tensor")
MAX_INT = 1 << 62        # an int attribute beyond this is no count, size or seed anyone means
MAX_DIM = 1 << 31        # one dimension of a shape
MAX_TENSOR = 1_000_000   # numbers in a literal tensor


class AttrError(ValueError):
    """An attribute value that does not fit its declaration (the message says why)."""


@dataclass(frozen=True)
class Port:
    """A named input or output of an op.

    `differentiable=False` marks ports gradients never flow through (labels, integer ids).
    """

    name: str
    doc: str = ""
    differentiable: bool = True


@dataclass(frozen=True)
class Attr:
    """A typed attribute with its default and the doc shown in the inspector.

    Kinds: int, float, bool, choice (one of `choices`), shape (list of ints, -1 and "N"
    where allowed), axes (None, an int or a list of ints), tensor (a number or nested lists).
    """

    name: str
    kind: str
    default: Any
    doc: str = ""
    choices: tuple = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    allow_batch: bool = False
    allow_infer: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ATTR_KINDS:
            raise ValueError(f"attribute {self.name}: unknown kind {self.kind!r}")

    def check(self, value: Any) -> Any:
        """Return `value` normalized to this attribute's kind, or raise AttrError."""
        checker = getattr(self, "_check_" + self.kind)
        value = checker(value)
        if self.minimum is not None and isinstance(value, (int, float)) and value < self.minimum:
            raise AttrError(f"must be at least {self.minimum}, got {value}")
        if self.maximum is not None and isinstance(value, (int, float)) and value > self.maximum:
            raise AttrError(f"must be at most {self.maximum}, got {value}")
        return value

    def _check_int(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise AttrError(f"must be an integer, got {quoted(value)}")
        if abs(value) > MAX_INT:
            raise AttrError(f"must lie within +-2**62, got {quoted(value)}")
        return value

    def _check_float(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AttrError(f"must be a number, got {quoted(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise AttrError(f"must be finite, got {quoted(value)}") from None
        if not math.isfinite(value):
            raise AttrError(f"must be finite, got {quoted(value)}")
        return float(value)

    def _check_bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise AttrError(f"must be true or false, got {quoted(value)}")
        return value

    def _check_choice(self, value: Any) -> Any:
        if isinstance(value, (list, dict)) or value not in self.choices:
            raise AttrError(f"must be one of {', '.join(map(str, self.choices))}; got {quoted(value)}")
        return value

    def _check_shape(self, value: Any) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise AttrError(f"must be a list of dimensions, got {quoted(value)}")
        if len(value) > 8:
            raise AttrError("at most 8 dimensions are supported")
        out = []
        for d in value:
            if d == BATCH and isinstance(d, str):
                if not self.allow_batch:
                    raise AttrError("cannot use the batch dimension N here")
                out.append(BATCH)
            elif isinstance(d, int) and not isinstance(d, bool) and \
                    (0 < d <= MAX_DIM or (d == -1 and self.allow_infer)):
                out.append(d)
            else:
                raise AttrError(f"dimension {quoted(d)} must be a positive integer up to 2**31"
                                + (', -1' if self.allow_infer else '')
                                + (' or "N"' if self.allow_batch else ''))
        if out.count(BATCH) > 1 or out.count(-1) > 1:
            raise AttrError("at most one N and one -1 are allowed")
        return tuple(out)

    def _check_axes(self, value: Any) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(a, int) and not isinstance(a, bool) and -8 <= a < 8 for a in items):
            raise AttrError(f"must be empty (all axes), an axis or a list of axes; got {quoted(value)}")
        return tuple(items) if isinstance(value, (list, tuple)) else value

    def _check_tensor(self, value: Any) -> Any:
        import numpy as np  # local: numpy is only needed to validate literal tensors

        if not _only_numbers(value):
            raise AttrError(f"must be a number or nested lists of numbers (no strings, true/false or null); "
                            f"got {quoted(value)}")
        try:
            array = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            raise AttrError("must be a number or a rectangular list of numbers, each within float64 range") from None
        if array.size > MAX_TENSOR or array.ndim > 8 or not np.all(np.isfinite(array)):
            raise AttrError("must hold at most a million finite numbers in at most 8 dimensions")
        return value


def _only_numbers(value: Any) -> bool:
    """Whether every leaf of nested lists is an int or a float (not a bool, a string or None)."""
    import numpy as np

    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > 2 * MAX_TENSOR:
            return False
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
            return False
    return True


@dataclass(frozen=True)
class ParamDecl:
    """A trainable array an op owns: its shape, dtype and how to initialize it."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    init: str = "zeros"
    scale: float = 0.1
    trainable: bool = True

    @property
    def fans(self) -> tuple[int, int]:
        """(fan_in, fan_out): (in, out) for matrices, (out, in, kh, kw) kernels as in PyTorch."""
        shape = self.shape
        if len(shape) == 0:
            return 1, 1
        if len(shape) == 1:
            return shape[0], shape[0]
        if len(shape) == 2:
            return shape[0], shape[1]
        field = math.prod(shape[2:])
        return shape[1] * field, shape[0] * field


InferFn = Callable[[Sequence[TensorType], dict], Sequence[TensorType]]


@dataclass(frozen=True)
class OpSpec:
    """One op, declared once: everything the palette, inspector, compiler and exporters need.

    infer(types, attrs) -> output types (raise ShapeError on a mismatch).
    forward(ctx, arrays, attrs) -> one array or a tuple: the NumPy reference implementation.
    grad(g, *inputs, y, **attrs) -> one cotangent Var (or None) per input, built as graph nodes;
        None for ops that are not differentiable. Attribute values are passed by name to the
        rule's keyword parameters.
    expr: for elementwise ops, the scalar expression over the input port names and attrs.
    params(attrs, types) -> {name: ParamDecl} for ops that own trainable arrays.
    expand(builder, inputs, attrs, node_id) -> output Vars: a layer's primitive form.
    ports(attrs) -> input ports, for ops whose inputs depend on an attribute (Concat).
    """

    name: str
    category: str
    doc: str
    inputs: tuple[Port, ...]
    infer: InferFn
    forward: Callable
    attrs: tuple[Attr, ...] = ()
    outputs: tuple[Port, ...] = (Port("y"),)
    grad: Optional[Callable] = None
    expr: Optional[str] = None
    params: Optional[Callable] = None
    expand: Optional[Callable] = None
    ports: Optional[Callable] = None
    hidden: bool = False
    stochastic: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def differentiable(self) -> bool:
        return self.grad is not None or self.expand is not None

    @property
    def is_elementwise(self) -> bool:
        return self.expr is not None

    def attr(self, name: str) -> Attr:
        for a in self.attrs:
            if a.name == name:
                return a
        raise KeyError(name)

    def default_attrs(self) -> dict:
        return {a.name: a.default for a in self.attrs}

    def input_ports(self, attrs: dict) -> tuple[Port, ...]:
        return tuple(self.ports(attrs)) if self.ports else self.inputs

    def input_names(self, attrs: dict) -> tuple[str, ...]:
        return tuple(p.name for p in self.input_ports(attrs))

    def output_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.outputs)


def dtype_attr(default: str = "float32", doc: str = "element type") -> Attr:
    """The dtype attribute shared by sources."""
    return Attr("dtype", "choice", default, doc, choices=DTYPES)
