"""`save` and `load`: a front-end graph as Loom's file format (the editor opens it; exports read it)."""
from __future__ import annotations

import os
from typing import Union

from core.graph import load_graph, save_graph
from core.graph.expand import expand_node, is_layer

from .display import Shown, graph_of
from .session import reset
from .shared import Container, _CONTAINERS
from .variable import Variable


def save(obj: Shown, path: Union[str, os.PathLike]) -> None:
    """Write `obj`'s graph, laid out, to `path` (JSON) and its shared values to the companion .npz."""
    graph, values = graph_of(obj)
    save_graph(path, graph, values)


def load(path: Union[str, os.PathLike]) -> dict[str, Variable]:
    """Read a graph file into a new session graph; returns a Variable per node, by node name.

    Layers are put in their primitive form (so `grad` reaches their weights); a layer's name gives
    the Variable that now computes its output. Values in the companion .npz become shared values.
    Raises GraphFileError naming the file when it cannot be read (the session is then unchanged).
    """
    graph, weights = load_graph(path)
    outputs = {}
    for node in graph.topological_order():
        if is_layer(graph, node):
            probe = graph.add_node("Neg", node_id=graph.unique_id("probe"))
            graph.connect(node, "y", probe, "x", typed=False)
            expand_node(graph, node)
            outputs[node] = graph.source(probe, "x")
            graph.remove_node(probe)
    reset(graph)
    from .session import builder

    target = builder()
    boxes = _CONTAINERS.setdefault(graph, {})
    for key, value in weights.items():
        if key in graph and graph.op_name(key) == "Parameter":
            boxes[key] = Container(value.astype(graph.attrs(key)["dtype"]))
            boxes[key].key = key
    result = {node: target.var(node) for node in graph.nodes if graph.op_name(node) != "Parameter"
              or node not in boxes}
    from .shared import SharedVariable

    for key in boxes:
        result[key] = SharedVariable(target, key, "y", target.var(key).type)
    for name, ref in outputs.items():
        result[name] = target.var(*ref)
    return result
