"""Elementwise fusion: maximal groups of elementwise nodes become one Fused kernel node.

A group grows from its root towards its inputs, taking a producer when every reader of the
producer is already in the group, its shape is the group's, and the group's distinct operands
stay within the device's limit (`options["max_operands"]`). Scalar constants become literals.
"""
from __future__ import annotations

from typing import Optional

from core.compiler import expr as X

from .base import Ref, Rewriter, graph_pass

DEFAULT_MAX_OPERANDS = 16


def fusible(rw: Rewriter, node: str) -> bool:
    """Elementwise, float-valued and not a comparison result of integers."""
    spec = rw.graph.spec(node)
    return spec.expr is not None and rw.type((node, "y")).is_float


def _literal(rw: Rewriter, ref: Ref) -> Optional[float]:
    value = rw.constant(ref)
    if value is None or rw.type(ref).shape != () or isinstance(value, list):
        return None
    return value


def _external(rw: Rewriter, members: set[str]) -> set[Ref]:
    refs = set()
    for m in members:
        for ref in rw.inputs(m):
            if ref[0] not in members and _literal(rw, ref) is None:
                refs.add(ref)
    return refs


def grow_group(rw: Rewriter, root: str, taken: set[str], limit: int) -> set[str]:
    """The largest group rooted at `root` the rules allow (nodes in `taken` are not free)."""
    members = {root}
    shape = rw.type((root, "y")).shape
    changed = True
    while changed:
        changed = False
        for m in sorted(members):
            for ref in rw.inputs(m):
                p = ref[0]
                if p in members or p in taken or not fusible(rw, p) or rw.is_output(p):
                    continue
                if rw.type(ref).shape != shape:
                    continue
                if any(e.dst not in members for e in rw.graph.out_edges(p)):
                    continue
                if len(_external(rw, members | {p})) > limit:
                    continue
                members.add(p)
                changed = True
    return members


def group_expr(rw: Rewriter, root: str, members: set[str]) -> tuple[X.Expr, list[Ref]]:
    """The group's scalar expression over operands x1..xn, and the refs feeding them."""
    operands: list[Ref] = []

    def build(ref: Ref) -> X.Expr:
        if ref[0] not in members:
            literal = _literal(rw, ref)
            if literal is not None:
                return X.const(literal)
            if ref not in operands:
                operands.append(ref)
            return X.var(f"x{operands.index(ref) + 1}")
        spec = rw.graph.spec(ref[0])
        attrs = rw.attrs(ref[0])
        ports = spec.input_names(attrs)
        return X.op_expr(spec.expr, ports, [build(rw.src(ref[0], p)) for p in ports], attrs)

    return build((root, "y")), operands


@graph_pass("fuse", tags=("fuse",))
def fuse_elementwise(rw: Rewriter) -> None:
    """elementwise chains -> one Fused kernel"""
    limit = rw.options.get("max_operands", DEFAULT_MAX_OPERANDS)
    taken: set[str] = set()
    for root in reversed(rw.graph.topological_order()):
        if root in taken or not fusible(rw, root):
            continue
        members = grow_group(rw, root, taken, limit)
        taken |= members
        if len(members) < 2:
            continue
        tree, operands = group_expr(rw, root, members)
        attrs = {"n": max(len(operands), 1), "expr": X.to_text(tree), "dtype": rw.type((root, "y")).dtype}
        if not operands:
            continue
        covers = [n for n in rw.graph.topological_order() if n in members]
        new = rw.add("Fused", operands, attrs, like=root)
        rw.graph.set_ui(new[0], "covers", covers)
        rw.replace((root, "y"), new, reason=f"fused {len(members)} elementwise ops into one kernel",
                   nodes=tuple(covers) + (new[0],))
