"""Common-subexpression merge: two nodes computing the same op of the same inputs become one."""
from __future__ import annotations

import json

from .base import Rewriter, graph_pass

NEVER = ("Input", "Parameter")


def _key(rw: Rewriter, node: str) -> str:
    spec = rw.graph.spec(node)
    attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in rw.attrs(node).items()}
    return json.dumps([spec.name, attrs, rw.inputs(node)], sort_keys=True, default=str)


@graph_pass("merge", tags=("merge",))
def merge_common_subexpressions(rw: Rewriter) -> None:
    """f(x) and f(x) -> one f(x), read by both."""
    seen: dict[str, str] = {}
    for node in rw.graph.topological_order():
        spec = rw.graph.spec(node)
        if spec.name in NEVER or spec.stochastic:
            continue
        key = _key(rw, node)
        first = seen.setdefault(key, node)
        if first != node:
            for port in spec.output_names():
                rw.replace((node, port), (first, port), reason=f"same {spec.name} as {first}",
                           nodes=(node, first))
