"""Node names: checking and applying a rename, and names from a node's role (W1, b1, hidden1, cost, y).

A node id is also the name users see (an Input's feed name, a Parameter's weight key), so new nodes are
named for what they do where that is clear, and only nodes still carrying their op's default name
(`parameter_2`) are ever renamed automatically.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from .graph import NODE_ID, Edge, Graph

LOSS_OPS = ("SoftmaxCrossEntropy", "BinaryCrossEntropy", "MSE")
ACTIVATIONS = ("Tanh", "Sigmoid", "ReLU", "LeakyReLU", "ELU", "Softplus")
WEIGHT_PORTS = {"MatMul": "b", "Conv": "w"}


def name_problem(graph: Graph, node_id: str, name: str) -> Optional[str]:
    """Why `node_id` may not be called `name` (None when it may)."""
    if name == node_id:
        return None
    if not NODE_ID.match(name):
        return "a name is a letter or _ followed by letters, digits or _ (at most 64)"
    if name in graph:
        return f"'{name}' is already the name of another node"
    owner = graph.analysis().params.get(name)
    if owner is not None and owner[0] != node_id:
        return f"'{name}' is the weight name of {owner[0]}'s {owner[1] or 'value'}"
    return None


def rename_node(graph: Graph, old: str, new: str) -> None:
    """Give node `old` the id `new`, keeping its op, attributes, place, wires and position in the order."""
    record = graph.remove_node(old)
    edges = [Edge(new if e.src == old else e.src, e.src_port, new if e.dst == old else e.dst, e.dst_port)
             for e in record.edges]
    graph.restore_node(replace(record, node_id=new, edges=edges))


def is_default_name(graph: Graph, node_id: str) -> bool:
    """Whether the node still has its op's default name (`parameter`, `parameter_2`)."""
    return re.fullmatch(re.escape(graph.op_name(node_id).lower()) + r"(_\d+)?", node_id) is not None


def new_node_name(graph: Graph, op: str) -> str:
    """The id for a new node of `op`: `x` for the first Input, `hidden<k>` for a Dense, `cost` for a loss."""
    if op == "Input" and "x" not in graph:
        return "x"
    if op == "Dense":
        return _numbered(graph, "hidden")
    if op in LOSS_OPS and "cost" not in graph:
        return "cost"
    return graph.unique_id(op.lower())


def names_after_wiring(graph: Graph, edge: Edge) -> dict[str, str]:
    """Renames (old -> new) that a new wire makes clear, for default-named nodes at or next to it.

    A Parameter into a MatMul's second input (a Conv's kernel) is W<k>; one added to such a product is b<k>;
    an activation of that sum is hidden<k>; an Input into a loss's or Accuracy's labels is y.
    """
    taken = set(graph.nodes)
    renames: dict[str, str] = {}
    near = {edge.src, edge.dst} | {e.dst for e in graph.out_edges(edge.dst)} | \
        {e.src for e in graph.in_edges(edge.dst).values()}
    for node in graph.topological_order(near):
        if not is_default_name(graph, node):
            continue
        name = _role_name(graph, node, renames)
        if name is not None and name not in taken:
            renames[node] = name
            taken.add(name)
    return renames


def _role_name(graph: Graph, node: str, renames: dict[str, str]) -> Optional[str]:
    op = graph.op_name(node)
    outs = graph.out_edges(node)
    if op == "Parameter":
        for e in outs:
            if WEIGHT_PORTS.get(graph.op_name(e.dst)) == e.dst_port:
                return _numbered(graph, "W", renames)
            if graph.op_name(e.dst) == "Add":
                product = _product_into(graph, e.dst)
                if product is not None:
                    k = _layer_index(graph, product, renames)
                    return f"b{k}" if k else _numbered(graph, "b", renames)
    if op == "Input":
        for e in outs:
            if e.dst_port in ("labels", "targets", "target") and graph.spec(e.dst).category == "Loss":
                return "y"
    if op in ACTIVATIONS:
        source = graph.source(node, "x")
        if source and graph.op_name(source[0]) == "Add":
            product = _product_into(graph, source[0])
            if product is not None:
                k = _layer_index(graph, product, renames)
                return f"hidden{k}" if k else _numbered(graph, "hidden", renames)
    return None


def _product_into(graph: Graph, add: str) -> Optional[str]:
    """The MatMul or Conv feeding an Add, if one does."""
    for e in graph.in_edges(add).values():
        if graph.op_name(e.src) in WEIGHT_PORTS:
            return e.src
    return None


def _layer_index(graph: Graph, product: str, renames: dict[str, str]) -> Optional[int]:
    """k when the product's weight is (being) named W<k>."""
    port = WEIGHT_PORTS[graph.op_name(product)]
    source = graph.source(product, port)
    if source is None:
        return None
    match = re.fullmatch(r"W(\d+)", renames.get(source[0], source[0]))
    return int(match.group(1)) if match else None


def _numbered(graph: Graph, stem: str, renames: Optional[dict[str, str]] = None) -> str:
    taken = set(graph.nodes) | set((renames or {}).values())
    k = 1
    while f"{stem}{k}" in taken:
        k += 1
    return f"{stem}{k}"
