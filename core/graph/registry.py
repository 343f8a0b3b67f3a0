"""The op registry: one dict name -> OpSpec, filled by importing core.graph.ops.

Also the helpers that name the common shapes of an op (as JAX's defjvp/deflinear do):
`elementwise` derives ports, shape rule and reference from a scalar expression.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from .errors import ShapeError, quoted
from .spec import Attr, OpSpec, Port
from .types import TensorType, broadcast_shapes, promote_dtypes

REGISTRY: dict[str, OpSpec] = {}
CATEGORIES = ("Sources", "Elementwise", "Tensor", "Reduce", "Network", "Loss")
INTERNAL = "Internal"


def register(spec: OpSpec) -> OpSpec:
    """Add an op to the registry; a second op with the same name is a bug."""
    if spec.name in REGISTRY:
        raise RuntimeError(f"op {spec.name!r} is declared twice")
    if spec.category not in CATEGORIES + (INTERNAL,):
        raise RuntimeError(f"op {spec.name!r}: unknown category {spec.category!r}")
    REGISTRY[spec.name] = spec
    return spec


def get_op(name: str) -> OpSpec:
    """The spec of `name`; KeyError names the op when it is unknown."""
    from . import ops  # noqa: F401  (importing the package fills the registry)

    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {quoted(name)}") from None


def all_ops() -> list[OpSpec]:
    """Every registered op, in declaration order."""
    from . import ops  # noqa: F401

    return list(REGISTRY.values())


def call_rule(fn: Callable, args: Sequence[Any], attrs: dict, **extra: Any) -> Any:
    """Call an op's function with positional `args` plus the named values it asks for.

    Parameters not filled by `args` are filled by name from `attrs` and `extra` (such as
    `ctx`), so each rule takes only what it uses: `lambda g, x, y, alpha: ...`; a parameter
    named `attrs` receives the whole dict.
    """
    positional, keyword, takes_all = _parameters(fn)
    pool = {**attrs, **extra}
    if not takes_all:
        pool.setdefault("attrs", attrs)
    if takes_all:
        return fn(*args, **pool)
    wanted = positional[len(args):] + keyword
    return fn(*args, **{k: pool[k] for k in wanted if k in pool})


_PARAMETERS: dict[Callable, tuple[tuple[str, ...], tuple[str, ...], bool]] = {}


def _parameters(fn: Callable) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    if fn not in _PARAMETERS:
        params = list(inspect.signature(fn).parameters.values())
        _PARAMETERS[fn] = (tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD),
                           tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY),
                           any(p.kind is p.VAR_KEYWORD for p in params))
    return _PARAMETERS[fn]


def elementwise(name: str, expr: str, ref: Callable, grad: Callable | None = None, *,
                doc: str, inputs: Sequence[str] = ("x",), attrs: Sequence[Attr] = (),
                float_only: bool = True, hidden: bool = False,
                nondiff: Sequence[str] = ()) -> OpSpec:
    """Declare and register an elementwise op from its scalar expression.

    `ref` is the NumPy reference; `grad(g, *inputs, y, *, attr...)` returns one cotangent per
    input. Inputs broadcast as in NumPy; the result has the promoted dtype.
    """

    def infer(types: Sequence[TensorType], attrs: dict) -> list[TensorType]:
        for port, t in zip(inputs, types):
            if float_only and not t.is_float:
                raise ShapeError(f"{name} needs a float input, got {t.dtype}", port=port)
        shape = broadcast_shapes(*(t.shape for t in types))
        return [TensorType(promote_dtypes(*(t.dtype for t in types)), shape)]

    def forward(*arrays: Any, **attrs: Any) -> Any:
        dtype = promote_dtypes(*(str(a.dtype) for a in arrays))
        return call_rule(ref, arrays, attrs).astype(dtype, copy=False)

    ports = tuple(Port(p, differentiable=p not in nondiff) for p in inputs)
    category = "Internal" if hidden else "Elementwise"
    return register(OpSpec(name, category, doc, ports, infer, forward, attrs=tuple(attrs),
                           grad=grad, expr=expr, hidden=hidden))
