"""Indexing a Variable: basic (ints and slices, as Slice and Reshape nodes), rows of a table by
integer ids (Gather), and the lecture's `p[arange(n), y]`, each row's label (PickLabels)."""
from __future__ import annotations

from typing import Any, Union

from core.graph.builder import Var
from core.graph.types import BATCH

from .session import FrontEndTypeError, user_frame
from .variable import Variable, binary


class RowIndex:
    """`arange(n)`: the row numbers 0..n-1, for `p[arange(n), y]` (n may be the batch size N)."""

    def __init__(self, n: Union[int, str]) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"arange({self.n})"


def arange(n: Union[int, str]) -> RowIndex:
    """Row numbers for advanced indexing: `p[arange(y.shape[0]), y]` picks each row's label."""
    if not (n == BATCH or (isinstance(n, int) and n > 0)):
        _refuse(f"arange needs a positive length or the batch size N (y.shape[0]), got {n!r}")
    return RowIndex(n)


def getitem(x: Variable, key: Any) -> Variable:
    """x[key] for the indexing the front-end supports; anything else is refused naming x's type."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) == 2 and isinstance(key[0], RowIndex):
        return _pick(x, key[0], key[1])
    if len(key) == 1 and isinstance(key[0], Var):
        return binary("Gather", x, key[0])
    if len(key) > x.ndim:
        _refuse(f"too many indices ({len(key)}) for {x.node}: {x.type}")
    out, axis, dropped = x, 0, []
    for k in key:
        dim = out.shape[axis]
        if isinstance(k, slice):
            if k.step not in (None, 1):
                _refuse(f"{x.node}: {x.type}: slices with a step are not supported")
            if k != slice(None):
                start, stop = _bounds(x, dim, k.start, k.stop)
                out = binary("Slice", out, axis=axis, start=start, stop=stop)
        elif isinstance(k, int) and not isinstance(k, bool):
            size = _static(x, dim)
            if not -size <= k < size:
                _refuse(f"index {k} is out of range for axis {axis} of {x.node}: {x.type}")
            out = binary("Slice", out, axis=axis, start=k % size, stop=k % size + 1)
            dropped.append(axis)
        else:
            _refuse(f"cannot index {x.node}: {x.type} with {k!r}; use ints, slices, an int64 Variable "
                    "of ids, or [arange(n), labels]")
        axis += 1
    if dropped:
        out = binary("Reshape", out, shape=[d for i, d in enumerate(out.shape) if i not in dropped])
    return out


def _pick(x: Variable, rows: RowIndex, labels: Any) -> Variable:
    if not isinstance(labels, Var):
        _refuse(f"{x.node}[{rows!r}, ...] needs an int64 Variable of labels, got {labels!r}")
    if x.ndim != 2 or rows.n != x.shape[0]:
        _refuse(f"{x.node}: {x.type}[{rows!r}, {labels.node}: {labels.type}]: the rows must number "
                f"the first axis of a matrix ({x.shape[0] if x.ndim else 'no axis'})")
    return binary("PickLabels", x, labels)


def _static(x: Variable, dim: Any) -> int:
    if not isinstance(dim, int):
        _refuse(f"cannot index the batch axis N of {x.node}: {x.type}; its length is known only when fed")
    return dim


def _bounds(x: Variable, dim: Any, start: Any, stop: Any) -> tuple[int, int]:
    size = _static(x, dim)
    if any(b is not None and not isinstance(b, int) for b in (start, stop)):
        _refuse(f"{x.node}: {x.type}: slice bounds must be ints (a symbolic slice has no op yet)")
    lo, hi, _ = slice(start, stop).indices(size)
    if lo >= hi:
        _refuse(f"the slice {start}:{stop} of {x.node}: {x.type} is empty")
    return lo, hi


def _refuse(message: str) -> None:
    file, line = user_frame()
    raise FrontEndTypeError(message, file=file, line=line)

