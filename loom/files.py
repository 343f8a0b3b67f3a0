"""`save` and `load`: a front-end graph as Loom's file format (the editor opens it; exports read it)."""
from __future__ import annotations

import os
from typing import Union

from core.graph import Graph, load_graph, save_graph
from core.graph.expand import expand_node, is_layer

from .display import Shown, graph_of
from .session import builder, reset
from .shared import adopt
from .variable import Variable


def save(obj: Shown, path: Union[str, os.PathLike]) -> None:
    """Write `obj`'s graph, laid out, to `path` (JSON) and its shared values to the companion .npz."""
    graph, values = graph_of(obj)
    save_graph(path, graph, values)


def load(path: Union[str, os.PathLike]) -> dict[str, Variable]:
    """Read a graph file into a new session graph; returns a Variable per node, by node name.

    Layers are put in their primitive form (so `grad` reaches their weights); a layer's name gives
    the Variable that now computes its output. The weights in the companion .npz become shared
    values. Raises GraphFileError naming the file when it cannot be read (the session is unchanged).
    """
    graph, weights = load_graph(path)
    layer_outputs = _expand_layers(graph)
    reset(graph)
    target = builder()
    result: dict[str, Variable] = {node: target.var(node) for node in graph.nodes}
    for key, value in weights.items():
        if key in graph and graph.op_name(key) == "Parameter":
            result[key] = adopt(result[key], value)
    for name, ref in layer_outputs.items():
        result[name] = target.var(*ref)
    return result


def _expand_layers(graph: Graph) -> dict[str, tuple[str, str]]:
    """Expand every layer in place; returns each layer's name -> the port now computing its output."""
    outputs = {}
    for node in graph.topological_order():
        if is_layer(graph, node):
            probe = graph.add_node("Neg", node_id=graph.unique_id("probe"))
            graph.connect(node, "y", probe, "x", typed=False)
            expand_node(graph, node)
            outputs[node] = graph.source(probe, "x")
            graph.remove_node(probe)
    return outputs
