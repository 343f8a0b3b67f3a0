"""Algebraic simplification: identities that remove work without changing any value."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import Ref, Rewriter, rewrite


def _is(rw: Rewriter, ref: Ref, number: float) -> bool:
    value = rw.constant(ref)
    if value is None:
        return False
    array = np.asarray(value, dtype=np.float64)
    return bool(array.size) and bool(np.all(array == number))


def _same_type(rw: Rewriter, ref: Ref, node: str) -> bool:
    return rw.type(ref) == rw.type((node, "y"))


def _keep_operand(rw: Rewriter, node: str, neutral: float, sides: tuple[str, ...]) -> Optional[Ref]:
    """The operand left when the other side is the neutral element (and the type is unchanged)."""
    a, b = rw.src(node, "a"), rw.src(node, "b")
    if "b" in sides and _is(rw, b, neutral) and _same_type(rw, a, node):
        return a
    if "a" in sides and _is(rw, a, neutral) and _same_type(rw, b, node):
        return b
    return None


@rewrite("simplify", matches=("Mul",))
def remove_multiply_by_one(rw: Rewriter, node: str) -> Optional[Ref]:
    """x * 1 -> x"""
    return _keep_operand(rw, node, 1.0, ("a", "b"))


@rewrite("simplify", matches=("Div",))
def remove_divide_by_one(rw: Rewriter, node: str) -> Optional[Ref]:
    """x / 1 -> x"""
    return _keep_operand(rw, node, 1.0, ("b",))


@rewrite("simplify", matches=("Add",))
def remove_add_zero(rw: Rewriter, node: str) -> Optional[Ref]:
    """x + 0 -> x"""
    return _keep_operand(rw, node, 0.0, ("a", "b"))


@rewrite("simplify", matches=("Sub",))
def remove_subtract_zero(rw: Rewriter, node: str) -> Optional[Ref]:
    """x - 0 -> x"""
    return _keep_operand(rw, node, 0.0, ("b",))


@rewrite("simplify", matches=("Neg",))
def remove_double_negation(rw: Rewriter, node: str) -> Optional[Ref]:
    """--x -> x"""
    inner = rw.src(node, "x")
    return rw.src(inner[0], "x") if rw.op(inner[0]) == "Neg" else None


@rewrite("simplify", matches=("Exp", "Log"))
def cancel_exp_log(rw: Rewriter, node: str) -> Optional[Ref]:
    """exp(log(x)) -> x, log(exp(x)) -> x"""
    inner = rw.src(node, "x")
    partner = {"Exp": "Log", "Log": "Exp"}[rw.op(node)]
    return rw.src(inner[0], "x") if rw.op(inner[0]) == partner else None


@rewrite("simplify", matches=("Greater",))
def relu_mask_from_output(rw: Rewriter, node: str) -> Optional[Ref]:
    """x > 0 -> relu(x) > 0 where relu(x) is computed anyway (x may then fuse into the relu)"""
    x, zero = rw.src(node, "a"), rw.src(node, "b")
    if not _is(rw, zero, 0.0) or rw.type(zero).shape != ():
        return None
    relus = [e.dst for e in rw.consumers(x) if rw.op(e.dst) == "ReLU"]
    if not relus:
        return None
    return rw.add("Greater", [(relus[0], "y"), zero], like=node)
