"""Layer nodes (Dense, Conv2D, Embedding, Dropout) expanded into the primitive ops they stand for.

The expansion keeps the layer's weights keys (dense1_W stays dense1_W), so a trained layer
expands with its values; the compiler differentiates the expanded form.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .builder import Builder
from .errors import GraphError, ShapeError
from .registry import call_rule

if TYPE_CHECKING:
    from .graph import Graph


def is_layer(graph: "Graph", node_id: str) -> bool:
    return graph.spec(node_id).expand is not None


def expand_node(graph: "Graph", node_id: str) -> list[str]:
    """Replace a layer node, in place, by its primitive ops; returns the new node ids.

    Raises GraphError when the node is no layer or its inputs are not wired and typed yet, or
    typed so the layer cannot take them (the graph may then hold part of the expansion: callers
    expand a copy, as expand_layers and the editor do).
    """
    spec = graph.spec(node_id)
    if spec.expand is None:
        raise GraphError(f"{spec.name} is not a layer and has no expansion", node=node_id)
    builder = Builder(graph, role=graph.role(node_id), prefix=f"{node_id}_")
    inputs = []
    for port in spec.input_names(graph.attrs(node_id)):
        source = graph.source(node_id, port)
        if source is None or source not in builder.types:
            raise GraphError("wire and fix this layer's inputs before expanding it", node=node_id,
                             port=port)
        inputs.append(builder.var(*source))
    before = set(graph.nodes)
    try:
        outputs = call_rule(spec.expand, (builder, *inputs), graph.attrs(node_id), node_id=node_id)
    except ShapeError as e:
        raise GraphError(f"cannot expand: {e.message}; fix this layer's inputs first", node=node_id,
                         port=e.port) from None
    consumers = graph.out_edges(node_id)
    graph.remove_node(node_id)
    names = spec.output_names()
    for edge in consumers:
        out = outputs[names.index(edge.src_port)]
        graph.connect(out.node, out.port, edge.dst, edge.dst_port)
    return [n for n in graph.nodes if n not in before]


def expand_layers(graph: "Graph", nodes: Optional[list[str]] = None) -> "Graph":
    """A copy of `graph` with every layer node (or those in `nodes`) expanded."""
    result = graph.copy()
    for node_id in graph.topological_order():
        if is_layer(result, node_id) and (nodes is None or node_id in nodes):
            expand_node(result, node_id)
    return result
