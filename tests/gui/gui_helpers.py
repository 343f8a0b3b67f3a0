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


def drag_wire(qtbot, window, src: str, dst: str, dst_port: str, src_port: str = "y") -> None:
    """Drag a wire with the mouse from an output port to an input port (the view fitted first)."""
    from PySide6.QtCore import Qt

    window.view.fit_to_view()
    start = port_point(window, src, src_port, True)
    end = port_point(window, dst, dst_port, False)
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=(start + end) / 2)
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)


def click_node(qtbot, window, node_id: str) -> None:
    """Select a node by clicking the middle of its title."""
    from PySide6.QtCore import QPointF, Qt

    rect = window.scene.nodes[node_id].sceneBoundingRect()
    pos = window.view.mapFromScene(QPointF(rect.center().x(), rect.top() + 8))
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=pos)


def type_into(qtbot, edit, text: str) -> None:
    """Click a line edit, replace its text by typing, press Enter."""
    from PySide6.QtCore import Qt

    qtbot.mouseClick(edit, Qt.LeftButton)
    qtbot.keyClick(edit, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key_Return)
