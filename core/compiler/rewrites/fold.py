"""Constant folding: nodes whose inputs are all constants become one Constant node."""
from __future__ import annotations

import numpy as np

from core.graph.registry import _parameters, call_rule
from core.graph.types import DTYPES

from .base import Rewriter, graph_pass

MAX_FOLDED = 4096
SOURCES = ("Input", "Parameter", "Constant")


def _takes_context(fn) -> bool:
    positional, keyword, _ = _parameters(fn)
    return "ctx" in positional + keyword


@graph_pass("fold", tags=("fold",))
def fold_constants(rw: Rewriter) -> None:
    """op(constants) -> constant; Size of a static shape -> constant."""
    for node in rw.graph.topological_order():
        spec = rw.graph.spec(node)
        if spec.name in SOURCES or spec.stochastic or _takes_context(spec.forward):
            continue
        refs = rw.inputs(node)
        if spec.name == "Size":
            shape = rw.type(refs[0]).shape
            if any(isinstance(d, str) for d in shape):
                continue
            value = spec.forward(np.empty(shape, dtype=np.float32), **rw.attrs(node))
            value = np.asarray(value, dtype=rw.type((node, "y")).dtype)
        elif refs and all(rw.op(r[0]) == "Constant" for r in refs):
            arrays = [np.asarray(rw.constant(r), dtype=rw.type(r).dtype) for r in refs]
            try:
                with np.errstate(all="ignore"):
                    value = np.asarray(call_rule(spec.forward, arrays, rw.attrs(node)))
            except (ValueError, TypeError, IndexError, ArithmeticError):
                continue
        else:
            continue
        if value.size > MAX_FOLDED or str(value.dtype) not in DTYPES or not np.all(np.isfinite(value)):
            continue
        new = rw.add("Constant", [], {"value": value.tolist(), "dtype": str(value.dtype)}, like=node)
        rw.replace((node, "y"), new, reason=f"{spec.name} of constants folded", nodes=(node, new[0]))
