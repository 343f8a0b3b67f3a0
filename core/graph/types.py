"""Tensor types: a dtype and a shape whose dimensions are ints or the symbolic batch size "N"."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from .errors import ShapeError

Dim = Union[int, str]
BATCH = "N"
FLOAT_DTYPES = ("float32", "float64")
DTYPES = ("float32", "float64", "int64")


@dataclass(frozen=True)
class TensorType:
    """What flows along an edge: dtype plus shape, e.g. TensorType("float32", ("N", 64))."""

    dtype: str
    shape: tuple[Dim, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES

    def __str__(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        return f"{self.dtype}[{dims}]"

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "shape": list(self.shape)}


def shape_str(shape: Sequence[Dim]) -> str:
    """Shape as a user reads it: (N, 64)."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def broadcast_shapes(*shapes: Sequence[Dim]) -> tuple[Dim, ...]:
    """NumPy broadcasting over symbolic shapes; a symbol only matches itself or 1."""
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Dim] = []
    for axis in range(ndim):
        dims = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ShapeError("shapes " + " and ".join(shape_str(s) for s in shapes)
                             + " do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def promote_dtypes(*dtypes: str) -> str:
    """The dtype of an elementwise result: the widest float, else int64."""
    floats = [d for d in dtypes if d in FLOAT_DTYPES]
    if not floats:
        return "int64"
    return "float64" if "float64" in floats else "float32"


def normalize_axes(axes: int | Iterable[int] | None, ndim: int) -> tuple[int, ...]:
    """Axes as sorted non-negative ints; None means every axis."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, int):
        axes = [axes]
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"axes {list(axes)} repeat an axis")
    return tuple(sorted(out))


def reduce_shape(shape: Sequence[Dim], axes: tuple[int, ...], keepdims: bool) -> tuple[Dim, ...]:
    """The shape left after reducing `axes`."""
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def static_size(shape: Sequence[Dim]) -> int:
    """Product of the integer dimensions (symbols count as 1)."""
    size = 1
    for d in shape:
        if isinstance(d, int):
            size *= d
    return size


def bind(shape: Sequence[Dim], dims: dict[str, int]) -> tuple[int, ...]:
    """A concrete shape: each symbol replaced by its value in `dims`."""
    return tuple(dims[d] if isinstance(d, str) else d for d in shape)
