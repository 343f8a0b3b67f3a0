"""A Parameter's shape read from the wire it feeds, so a user need not compute it by hand.

Into a MatMul's second input: (features in, units), the units taken from the bias added to the product or
from the Parameter's own second dimension. Into an Add, Sub or Mul: the other operand's shape without its
batch dimension (a bias). Into a Conv's kernel: (filters, channels in, k, k), keeping filters and k.
"""
from __future__ import annotations

from typing import Optional

from .graph import Graph

DEFAULT_SHAPE = (1,)
ELEMENTWISE = ("Add", "Sub", "Mul")


def wired_shape(graph: Graph, node_id: str) -> Optional[list[int]]:
    """The shape the Parameter `node_id` should have for the wires it feeds (None when they do not say)."""
    if graph.op_name(node_id) != "Parameter":
        return None
    types = graph.types()
    own = list(graph.attrs(node_id)["shape"])
    for edge in graph.out_edges(node_id):
        op = graph.op_name(edge.dst)
        attrs = graph.attrs(edge.dst)
        if op == "MatMul" and edge.dst_port == "b" and not attrs["transpose_b"]:
            a = _type_of(graph, types, edge.dst, "a")
            units = _bias_units(graph, types, edge.dst) or (own[1] if len(own) == 2 else None)
            if a is not None and a.ndim >= 1 and isinstance(a.shape[-1], int) and units:
                return [a.shape[-1], units]
        elif op in ELEMENTWISE:
            other = _type_of(graph, types, edge.dst, "b" if edge.dst_port == "a" else "a")
            if other is not None:
                dims = list(other.shape)
                while dims and not isinstance(dims[0], int):
                    dims.pop(0)
                if dims and all(isinstance(d, int) for d in dims):
                    return dims[-1:] if len(dims) > 1 else dims
        elif op == "Conv" and edge.dst_port == "w":
            x = _type_of(graph, types, edge.dst, "x")
            if x is not None and x.ndim == 4 and len(own) == 4:
                return [own[0], x.shape[1], own[2], own[3]]
    return None


def has_default_shape(graph: Graph, node_id: str) -> bool:
    """Whether a Parameter still has the shape it was created with (nobody set it)."""
    return tuple(graph.attrs(node_id)["shape"]) == DEFAULT_SHAPE


def _type_of(graph: Graph, types: dict, node_id: str, port: str):
    source = graph.source(node_id, port)
    return types.get(source) if source else None


def _bias_units(graph: Graph, types: dict, product: str) -> Optional[int]:
    """The width of a set bias Parameter added to the product's output, if there is one."""
    for edge in graph.out_edges(product):
        if graph.op_name(edge.dst) not in ELEMENTWISE:
            continue
        source = graph.source(edge.dst, "b" if edge.dst_port == "a" else "a")
        if source and graph.op_name(source[0]) == "Parameter" and not has_default_shape(graph, source[0]):
            shape = graph.attrs(source[0])["shape"]
            if len(shape) == 1:
                return shape[0]
    return None
