"""Tensor ops: matrix products and the ops that move elements without computing on them."""
from __future__ import annotations

import numpy as np

from ..builder import apply
from ..errors import ShapeError
from ..registry import INTERNAL, register
from ..spec import Attr, OpSpec, Port
from ..types import BATCH, TensorType, broadcast_shapes, promote_dtypes, shape_str, static_size

X = (Port("x"),)


def _float_type(*types: TensorType) -> str:
    for t in types:
        if not t.is_float:
            raise ShapeError(f"needs float inputs, got {t.dtype}")
    return promote_dtypes(*(t.dtype for t in types))


# ---- MatMul

def _matmul_type(types, transpose_a, transpose_b):
    a, b = types
    dtype = _float_type(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("MatMul needs vectors or matrices, not scalars")
    if 1 in (a.ndim, b.ndim):
        if transpose_a or transpose_b:
            raise ShapeError("a vector operand needs the other operand untransposed")
        inner = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner:
            raise ShapeError(f"cannot multiply {shape_str(a.shape)} by {shape_str(b.shape)}: "
                             f"{a.shape[-1]} != {inner}", port="b")
        return [TensorType(dtype, a.shape[:-1] if b.ndim == 1 else b.shape[:-2] + b.shape[-1:])]
    sa = a.shape[:-2] + ((a.shape[-1], a.shape[-2]) if transpose_a else a.shape[-2:])
    sb = b.shape[:-2] + ((b.shape[-1], b.shape[-2]) if transpose_b else b.shape[-2:])
    if sa[-1] != sb[-2]:
        raise ShapeError(f"cannot multiply {shape_str(sa)} by {shape_str(sb)}: "
                         f"inner dimensions {sa[-1]} and {sb[-2]} differ", port="b")
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    return [TensorType(dtype, batch + (sa[-2], sb[-1]))]


def _matmul(a, b, transpose_a, transpose_b):
    return np.matmul(a.swapaxes(-1, -2) if transpose_a else a, b.swapaxes(-1, -2) if transpose_b else b)


def _matmul_grad(g, a, b, y, transpose_a, transpose_b):
    """Cotangents of a @ b; vectors are handled by writing the outer product as a matrix product."""
    mm = lambda p, q, ta=False, tb=False: apply("MatMul", p, q, transpose_a=ta, transpose_b=tb)
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1 and b.ndim > 2:     # (k,) @ (..., k, n): g is (..., n)
        rows = apply("Reshape", g, shape=[*g.shape[:-1], 1, g.shape[-1]])
        column = apply("Reshape", a, shape=[a.shape[0], 1])
        return apply("SumLike", apply("Sum", b * rows, axes=-1), a), column * rows
    if b.ndim == 1 and a.ndim > 2:     # (..., m, k) @ (k,): g is (..., m)
        column = apply("Reshape", g, shape=[*g.shape, 1])
        return column * b, apply("SumLike", a * column, b)
    if a.ndim == 1:
        column = apply("Reshape", a, shape=[a.shape[0], 1])
        return mm(b, g), mm(column, apply("Reshape", g, shape=[1, g.shape[0]]))
    if b.ndim == 1:
        column = apply("Reshape", g, shape=[g.shape[0], 1])
        return mm(column, apply("Reshape", b, shape=[1, b.shape[0]])), mm(g, a)
    if not transpose_a and not transpose_b:
        return mm(g, b, tb=True), mm(a, g, ta=True)
    if not transpose_a:
        return mm(g, b), mm(g, a, ta=True)
    if not transpose_b:
        return mm(b, g, tb=True), mm(a, g)
    return mm(b, g, ta=True, tb=True), mm(g, a, ta=True, tb=True)


register(OpSpec(
    "MatMul", "Tensor",
    "Matrix product a @ b; leading dimensions broadcast (batched products), vectors as in NumPy.",
    (Port("a"), Port("b")), _matmul_type, _matmul,
    attrs=(Attr("transpose_a", "bool", False, "use a with its last two axes swapped"),
           Attr("transpose_b", "bool", False, "use b with its last two axes swapped")),
    grad=_matmul_grad))


# ---- Moving elements

def _transpose_axes(axes, ndim):
    perm = tuple(reversed(range(ndim))) if axes is None else tuple(a % ndim if -ndim <= a < ndim else a for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ShapeError(f"axes {list(axes)} are not a permutation of 0..{ndim - 1}")
    return perm


def _transpose_type(types, axes):
    (x,) = types
    perm = _transpose_axes(axes, x.ndim)
    return [TensorType(x.dtype, tuple(x.shape[i] for i in perm))]


register(OpSpec(
    "Transpose", "Tensor", "Permute the axes of x (empty axes: reverse them).", X,
    _transpose_type, lambda x, axes: np.transpose(x, None if axes is None else _transpose_axes(axes, x.ndim)),
    attrs=(Attr("axes", "axes", None, "the new order of the axes"),),
    grad=lambda g, x, y, axes: (apply("Transpose", g, axes=[int(a) for a in np.argsort(_transpose_axes(axes, x.ndim))]),)))


def _reshape_target(source, target):
    """The static output shape of a reshape, N kept symbolic; -1 is worked out."""
    if (BATCH in target) != (BATCH in source):
        raise ShapeError(f"cannot reshape {shape_str(source)} to {shape_str(target)}: "
                         "the batch dimension N must stay on both sides or neither")
    known = static_size([d for d in target if d != -1])
    total = static_size(source)
    if -1 in target:
        if total % known:
            raise ShapeError(f"cannot reshape {shape_str(source)} to {shape_str(target)}")
        target = tuple(total // known if d == -1 else d for d in target)
    elif known != total:
        raise ShapeError(f"cannot reshape {shape_str(source)} ({total} elements per sample) "
                         f"to {shape_str(target)} ({known})")
    return tuple(target)


def _reshape(x, shape, ctx):
    return x.reshape(tuple(ctx.dims.get(d, d) if isinstance(d, str) else d for d in shape))


register(OpSpec(
    "Reshape", "Tensor", "Same elements, new shape; -1 is worked out, N is the batch size.", X,
    lambda types, attrs: [TensorType(types[0].dtype, _reshape_target(types[0].shape, attrs["shape"]))],
    _reshape,
    attrs=(Attr("shape", "shape", ("N", -1), "the new dimensions", allow_batch=True, allow_infer=True),),
    grad=lambda g, x, y: (apply("ReshapeLike", g, x),)))


def _flatten_type(types, attrs):
    (x,) = types
    if x.ndim < 1:
        raise ShapeError("Flatten needs at least one dimension")
    if any(isinstance(d, str) for d in x.shape[1:]):
        raise ShapeError(f"only the first dimension of {shape_str(x.shape)} may be N")
    return [TensorType(x.dtype, (x.shape[0], static_size(x.shape[1:])))]


register(OpSpec(
    "Flatten", "Tensor", "Keep the first (batch) axis, merge the others: (N, C, H, W) -> (N, C*H*W).",
    X, _flatten_type, lambda x: x.reshape(x.shape[0], -1),
    grad=lambda g, x, y: (apply("ReshapeLike", g, x),)))


def _concat_ports(attrs):
    return tuple(Port(f"x{i + 1}") for i in range(attrs["n"]))


def _concat_type(types, axis):
    first = types[0]
    ax = axis % first.ndim if -first.ndim <= axis < first.ndim else None
    if ax is None:
        raise ShapeError(f"axis {axis} is out of range for rank {first.ndim}")
    total = 0
    for i, t in enumerate(types):
        rest = t.shape[:ax] + t.shape[ax + 1:]
        if t.ndim != first.ndim or rest != first.shape[:ax] + first.shape[ax + 1:]:
            raise ShapeError(f"{shape_str(t.shape)} does not match {shape_str(first.shape)} "
                             f"off axis {axis}", port=f"x{i + 1}")
        if isinstance(t.shape[ax], str):
            raise ShapeError("cannot concatenate along the batch axis", port=f"x{i + 1}")
        total += t.shape[ax]
    return [TensorType(promote_dtypes(*(t.dtype for t in types)),
                       first.shape[:ax] + (total,) + first.shape[ax + 1:])]


def _concat_grad(g, *inputs_and_y, axis):
    xs = inputs_and_y[:-1]
    ax = axis % g.ndim
    grads, start = [], 0
    for x in xs:
        grads.append(apply("Slice", g, axis=ax, start=start, stop=start + x.shape[ax]))
        start += x.shape[ax]
    return tuple(grads)


register(OpSpec(
    "Concat", "Tensor", "Join n tensors along an axis (their other dimensions must agree).",
    (Port("x1"), Port("x2")), _concat_type,
    lambda *xs, axis: np.concatenate(xs, axis=axis),
    attrs=(Attr("axis", "int", -1, "the axis to join along", minimum=-8, maximum=7),
           Attr("n", "int", 2, "how many inputs", minimum=2, maximum=16)),
    grad=_concat_grad, ports=_concat_ports))


# ---- Helpers that gradients produce (not in the palette)

def _like_type(types, attrs):
    return [TensorType(types[0].dtype, types[1].shape)]


def _sum_like_type(types, attrs):
    x, like = types
    if len(like.shape) > len(x.shape) or broadcast_shapes(x.shape, like.shape) != tuple(x.shape):
        raise ShapeError(f"SumLike sums x down to a shape it broadcasts from; {shape_str(like.shape)} does "
                         f"not broadcast to {shape_str(x.shape)}", port="like")
    return _like_type(types, attrs)


def _reshape_like_type(types, attrs):
    x, like = types
    same = [d for d in x.shape if d == BATCH] == [d for d in like.shape if d == BATCH]
    if not same or static_size(x.shape) != static_size(like.shape):
        raise ShapeError(f"ReshapeLike cannot reshape {shape_str(x.shape)} to {shape_str(like.shape)}",
                         port="like")
    return _like_type(types, attrs)


def _sum_like(x, like):
    """Sum x down to like's shape: the adjoint of NumPy broadcasting."""
    lead = x.ndim - like.ndim
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, d in enumerate(like.shape) if d == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


register(OpSpec(
    "SumLike", INTERNAL, "Sum x down to the shape of `like` (undoes broadcasting).",
    (Port("x"), Port("like", differentiable=False)), _sum_like_type, _sum_like,
    grad=lambda g, x, like, y: (apply("BroadcastLike", g, x, axes=None, keepdims=True), None),
    hidden=True))
register(OpSpec(
    "ReshapeLike", INTERNAL, "x reshaped to the shape of `like`.",
    (Port("x"), Port("like", differentiable=False)), _reshape_like_type,
    lambda x, like: x.reshape(like.shape),
    grad=lambda g, x, like, y: (apply("ReshapeLike", g, x), None), hidden=True))


def _slice_type(types, axis, start, stop):
    (x,) = types
    if not (0 <= axis < x.ndim) or isinstance(x.shape[axis], str) or not 0 <= start < stop <= x.shape[axis]:
        raise ShapeError(f"slice {start}:{stop} on axis {axis} does not fit {shape_str(x.shape)}")
    return [TensorType(x.dtype, x.shape[:axis] + (stop - start,) + x.shape[axis + 1:])]


SLICE_ATTRS = (Attr("axis", "int", 0), Attr("start", "int", 0, minimum=0), Attr("stop", "int", 1, minimum=1))


def _unslice_type(types, axis, start, stop):
    g, like = types
    _slice_type([like], axis, start, stop)
    want = like.shape[:axis] + (stop - start,) + like.shape[axis + 1:]
    if g.shape != want:
        raise ShapeError(f"{shape_str(g.shape)} does not fill slice {start}:{stop} on axis {axis} "
                         f"of {shape_str(like.shape)}", port="g")
    return [TensorType(g.dtype, like.shape)]


def _unslice(g, like, axis, start, stop):
    out = np.zeros(like.shape, dtype=g.dtype)
    out[(slice(None),) * axis + (slice(start, stop),)] = g
    return out


register(OpSpec(
    "Slice", INTERNAL, "x[start:stop] along one axis.", X, _slice_type,
    lambda x, axis, start, stop: x[(slice(None),) * axis + (slice(start, stop),)],
    attrs=SLICE_ATTRS, hidden=True,
    grad=lambda g, x, y, axis, start, stop: (apply("UnSlice", g, x, axis=axis, start=start, stop=stop),)))
register(OpSpec(
    "UnSlice", INTERNAL, "Zeros shaped like `like` with g written at start:stop along one axis (Slice's gradient).",
    (Port("g"), Port("like", differentiable=False)), _unslice_type, _unslice,
    attrs=SLICE_ATTRS, hidden=True,
    grad=lambda g, x, like, y, axis, start, stop: (apply("Slice", g, axis=axis, start=start, stop=stop), None)))


def _gather_type(types, attrs):
    table, ids = types
    if ids.dtype != "int64":
        raise ShapeError(f"ids must be int64, got {ids.dtype}", port="ids")
    if table.ndim != 2:
        raise ShapeError(f"the table must be a matrix, got {shape_str(table.shape)}", port="table")
    return [TensorType(table.dtype, ids.shape + table.shape[1:])]


def _gather(table, ids):
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise IndexError(f"ids must lie in 0..{table.shape[0] - 1}")
    return table[ids]


register(OpSpec(
    "Gather", INTERNAL, "Rows of `table` picked by integer `ids`.",
    (Port("table"), Port("ids", differentiable=False)), _gather_type, _gather,
    grad=lambda g, table, ids, y: (apply("ScatterAdd", g, ids, table), None), hidden=True))


def _scatter_add(g, ids, like):
    out = np.zeros(like.shape, dtype=g.dtype)
    np.add.at(out, ids.reshape(-1), g.reshape(-1, like.shape[1]))
    return out


register(OpSpec(
    "ScatterAdd", INTERNAL, "Add the rows of g into a zero table at rows `ids` (Gather's gradient).",
    (Port("g"), Port("ids", differentiable=False), Port("like", differentiable=False)),
    lambda types, attrs: [TensorType(types[0].dtype, types[2].shape)], _scatter_add, hidden=True,
    grad=lambda g, rows, ids, like, y: (apply("Gather", g, ids), None, None)))


def _row_update_type(types, attrs):
    table, ids, rows, lr = types
    if ids.dtype != "int64" or rows.dtype != table.dtype or table.ndim != 2 or lr.shape != ():
        raise ShapeError(f"RowUpdate needs a table, int64 ids, rows of the table's dtype and a scalar rate, got "
                         f"{table}, {ids}, {rows}, {lr}")
    if rows.shape != ids.shape + table.shape[1:]:
        raise ShapeError(f"RowUpdate: rows {shape_str(rows.shape)} do not match ids {shape_str(ids.shape)}",
                         port="rows")
    return [table]


def _row_update(table, ids, rows, lr):
    out = table.copy()
    np.subtract.at(out, ids.reshape(-1), rows.reshape(-1, table.shape[1]) * lr)
    return out


register(OpSpec(
    "RowUpdate", INTERNAL, "table with table[ids] -= lr * rows, repeated ids adding up: plain SGD on the "
    "rows a Gather used, so an Embedding's step touches only those rows (written in place).",
    (Port("table"), Port("ids", differentiable=False), Port("rows"), Port("lr")), _row_update_type, _row_update,
    hidden=True))   # no gradient rule: made after differentiation, so differentiate() refuses it by name
