"""Per-op emitters: each turns one node into lines of the step source, calling the device's
kernels with out= buffers. Ops without an emitter run their NumPy reference ("fresh" values).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from core.graph import Graph
from core.graph.types import normalize_axes

from . import expr as X

if TYPE_CHECKING:
    from .codegen import Generator

Emitter = Callable[["Generator", str, list, str, dict], list]
EMITTERS: dict[str, Emitter] = {}
KINDS: dict[str, str] = {}


def emitter(*ops: str, kind: str = "buffer") -> Callable:
    """Register `fn(gen, node, args, out, attrs) -> lines` for `ops`, whose output is `kind`."""
    def register(fn: Emitter) -> Emitter:
        for op in ops:
            EMITTERS[op] = fn
            KINDS[op] = kind
        return fn
    return register


def kind_of(graph: Graph, node: str) -> str:
    """What a node's output is: elementwise/buffer (written with out=), view or fresh."""
    spec = graph.spec(node)
    if spec.expr is not None or spec.name == "Fused":
        return "elementwise"
    if spec.name == "MatMul":
        a = graph.types()[graph.source(node, "a")]
        b = graph.types()[graph.source(node, "b")]
        return "buffer" if a.ndim >= 2 and b.ndim >= 2 else "fresh"
    return KINDS.get(spec.name, "fresh")


def node_expr(graph: Graph, node: str, names: list[str]) -> X.Expr:
    """The scalar expression of an elementwise or Fused node over the given operand names."""
    spec = graph.spec(node)
    attrs = graph.attrs(node)
    if spec.name == "Fused":
        return X.parse(attrs["expr"], {f"x{i + 1}": X.var(n) for i, n in enumerate(names)})
    return X.op_expr(spec.expr, spec.input_names(attrs), [X.var(n) for n in names], attrs)


def emit_elementwise(gen: "Generator", node: str, args: list, out: str, attrs: dict) -> list:
    """One ufunc call inline; a longer chain becomes a kernel called with out=."""
    inline = node_expr(gen.graph, node, args)
    kernel = X.numpy_kernel(inline, 0, "inline")
    if kernel.temps == 0 and kernel.bool_temps == 0 and kernel.source.count("\n") == 2 \
            and "np.copyto" not in kernel.source:
        line = kernel.source.splitlines()[1].strip()
        return [line[:-len("out)")] + out + ")"]  # "..., out)" or "..., out=out)"
    name = gen.kernel(node, node_expr(gen.graph, node, [f"x{i + 1}" for i in range(len(args))]), len(args))
    return [f"{name}({', '.join(args + [out])})"]


def _axes(gen: "Generator", ref, axes) -> tuple:
    return normalize_axes(axes, gen.types[ref].ndim)


@emitter("MatMul")
def emit_matmul(gen, node, args, out, attrs):
    a, b = args
    if attrs["transpose_a"]:
        a = f"{a}.T" if gen.types[gen.source(node, "a")].ndim == 2 else f"{a}.swapaxes(-1, -2)"
    if attrs["transpose_b"]:
        b = f"{b}.T" if gen.types[gen.source(node, "b")].ndim == 2 else f"{b}.swapaxes(-1, -2)"
    return [f"matmul({a}, {b}, out={out})"]


def _column_sums(gen, ref, x: str, axes: tuple, out: str) -> list:
    """Sums over the rows of a float matrix as ones @ x: BLAS's matrix-vector product runs about
    twice as fast as NumPy's reduction over the first axis (bias gradients take this path)."""
    t = gen.types[ref]
    if axes != (0,) or t.ndim != 2 or t.dtype not in ("float32", "float64"):
        return []
    return [f"matmul({gen.ones(t.shape[0], t.dtype)}, {x}, out={out})"]


@emitter("Sum", "Mean", "Max")
def emit_reduce(gen, node, args, out, attrs):
    (x,) = args
    axes = _axes(gen, gen.source(node, "x"), attrs["axes"])
    call = "max_reduce" if gen.graph.op_name(node) == "Max" else "sum_reduce"
    sums = [] if call == "max_reduce" else _column_sums(gen, gen.source(node, "x"), x, axes,
                                                       f"{out}[0]" if attrs["keepdims"] else out)
    lines = sums or [f"{call}({x}, axis={axes!r}, keepdims={attrs['keepdims']}, out={out})"]
    if gen.graph.op_name(node) == "Mean":
        lines.append(f"np.divide({out}, {x}.size // {out}.size, {out})")
    return lines


@emitter("SumLike")
def emit_sum_like(gen, node, args, out, attrs):
    x, _ = args
    xt, lt = gen.types[gen.source(node, "x")], gen.types[gen.source(node, "like")]
    lead = xt.ndim - lt.ndim
    keep = tuple(i + lead for i, d in enumerate(lt.shape) if d == 1 and xt.shape[i + lead] != 1)
    axes = tuple(range(lead)) + keep
    if not keep:
        return _column_sums(gen, gen.source(node, "x"), x, axes, out) or [f"sum_reduce({x}, axis={axes!r}, out={out})"]
    view = gen.bound_shape((1,) * lead + lt.shape)
    return [f"sum_reduce({x}, axis={axes!r}, keepdims=True, out={out}.reshape({view}))"]


@emitter("BroadcastLike", kind="view")
def emit_broadcast_like(gen, node, args, out, attrs):
    x, like = args
    if attrs["keepdims"]:
        return [f"{out} = broadcast_to({x}, {like}.shape)"]
    axes = _axes(gen, gen.source(node, "like"), attrs["axes"])
    return [f"{out} = broadcast_to(expand_dims({x}, {axes!r}), {like}.shape)"]


@emitter("Reshape", "ReshapeLike", "Flatten", kind="view")
def emit_reshape(gen, node, args, out, attrs):
    shape = gen.bound_shape(gen.types[(node, "y")].shape)
    return [f"{out} = {args[0]}.reshape({shape})"]


@emitter("Transpose", kind="view")
def emit_transpose(gen, node, args, out, attrs):
    ndim = gen.types[(node, "y")].ndim
    perm = tuple(reversed(range(ndim))) if attrs["axes"] is None else tuple(a % ndim for a in attrs["axes"])
    return [f"{out} = {args[0]}.transpose({perm!r})"]


@emitter("Slice", kind="view")
def emit_slice(gen, node, args, out, attrs):
    index = ", ".join([":"] * attrs["axis"] + [f"{attrs['start']}:{attrs['stop']}"])
    return [f"{out} = {args[0]}[{index}]"]


@emitter("Concat")
def emit_concat(gen, node, args, out, attrs):
    return [f"concatenate(({', '.join(args)},), axis={attrs['axis']}, out={out})"]


@emitter("Gather")
def emit_gather(gen, node, args, out, attrs):
    table, ids = args
    return [f"take({table}, {ids}, axis=0, out={out})"]


@emitter("RowUpdate", kind="elementwise")
def emit_row_update(gen, node, args, out, attrs):
    """In place when the plan writes the update into the table's state (only the used rows change)."""
    table, ids, rows, lr = args
    return ([] if out == table else [f"np.copyto({out}, {table})"]) + [f"row_update({out}, {ids}, {rows}, {lr})"]


@emitter("ScatterAdd")
def emit_scatter_add(gen, node, args, out, attrs):
    g, ids, _ = args
    return [f"{out}.fill(0)", f"row_update({out}, {ids}, {g}, -1.0)"]


@emitter("Softmax")
def emit_softmax(gen, node, args, out, attrs):
    t = gen.types[(node, "y")]
    axis = attrs["axis"] % t.ndim
    if t.ndim == 2 and axis == 1:
        rows = (t.shape[0],)
        work = gen.scratch((t.shape[1], t.shape[0]), t.dtype)
        return [f"softmax_rows({args[0]}, {out}, {work}, {gen.scratch(rows, t.dtype)}, {gen.scratch(rows, t.dtype)})"]
    keep = gen.scratch(tuple(1 if i == axis else d for i, d in enumerate(t.shape)), t.dtype)
    return [f"softmax({args[0]}, {axis}, {out}, {keep})"]


@emitter("LogSoftmax")
def emit_log_softmax(gen, node, args, out, attrs):
    t = gen.types[(node, "y")]
    axis = attrs["axis"] % t.ndim
    keep = gen.scratch(tuple(1 if i == axis else d for i, d in enumerate(t.shape)), t.dtype)
    full = gen.scratch(t.shape, t.dtype)
    return [f"log_softmax({args[0]}, {axis}, {out}, {keep}, {full})"]


def _xent_scratch(gen, logits) -> tuple:
    t = gen.types[logits]
    n, classes = t.shape
    return (gen.scratch((classes, n), t.dtype), gen.scratch((n,), t.dtype), gen.scratch((n,), t.dtype),
            gen.scratch((n,), "int64"), gen.arange(n))


@emitter("SoftmaxCrossEntropy")
def emit_softmax_xent(gen, node, args, out, attrs):
    logits, labels = gen.source(node, "logits"), gen.source(node, "labels")
    work, m, s, index, rows = _xent_scratch(gen, logits)
    n = gen.types[logits].shape[0]
    picked = gen.scratch((n,), gen.types[logits].dtype)
    gen.shared[("xent", logits, labels)] = (work, s, index)
    return [f"softmax_xent({args[0]}, {args[1]}, {out}, {work}, {m}, {s}, {picked}, {index}, {rows})"]


@emitter("SoftmaxXentGrad")
def emit_softmax_xent_grad(gen, node, args, out, attrs):
    logits, labels = gen.source(node, "logits"), gen.source(node, "labels")
    shared = gen.shared.pop(("xent", logits, labels), None)  # xent_grad_from uses its scratch up
    if shared is not None:
        work, s, index = shared
        return [f"xent_grad_from({work}, {s}, {index}, {out})"]
    work, m, s, index, rows = _xent_scratch(gen, logits)
    return [f"softmax_xent_grad({args[0]}, {args[1]}, {out}, {work}, {m}, {s}, {index}, {rows})"]


@emitter("OneHot")
def emit_one_hot(gen, node, args, out, attrs):
    t = gen.types[(node, "y")]
    return [f"one_hot({args[0]}, {out}, {gen.arange(t.shape[0])})"]
