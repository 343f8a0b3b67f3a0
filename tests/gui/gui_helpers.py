"""Small helpers shared by the GUI tests: build graphs, find ports on screen."""
from __future__ import annotations

from PySide6.QtCore import QPoint

from core.graph import Graph
from gui.document import Document


def two_node_graph(input_shape=("N", 4), dtype="float32") -> Graph:
    """An Input x of the given shape and an unwired Tanh t, placed side by side."""
    graph = Graph()
    graph.add_node("Input", {"shape": list(input_shape), "dtype": dtype}, node_id="x", ui={"pos": [0, 0]})
    graph.add_node("Tanh", node_id="t", ui={"pos": [300, 0]})
    return graph


def show(window, graph: Graph) -> None:
    window.set_document(Document(graph))
    window.scene.refresh()
    window.view.fit_to_view()


def port_point(window, node_id: str, port: str, is_output: bool) -> QPoint:
    """Where a port is on the view's viewport, in pixels."""
    item = window.scene.nodes[node_id].port(port, is_output)
    return window.view.mapFromScene(item.scenePos())
