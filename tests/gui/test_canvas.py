"""The canvas driven with the mouse and drops: nodes, wires, refusals, moves, quick-add."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from core.graph import Graph

from gui_helpers import port_point, show, two_node_graph


def drag_wire(qtbot, window, start: QPoint, end: QPoint) -> None:
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    middle = (start + end) / 2
    qtbot.mouseMove(viewport, pos=QPoint(int(middle.x()), int(middle.y())))
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)


def test_palette_drop_adds_the_node(window):
    show(window, Graph())
    view = window.view
    target = view.viewport().rect().center()
    mime = window.palette.mime_for("Dense")
    enter = QDragEnterEvent(target, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(target), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    graph = window.document.graph
    assert [graph.op_name(n) for n in graph.nodes] == ["Dense"]
    node_id = graph.nodes[0]
    where = window.scene.to_scene(graph.ui(node_id)["pos"])
    expected = view.mapToScene(target)
    assert abs(where.x() - expected.x()) <= 20 and abs(where.y() - expected.y()) <= 20
    assert node_id in window.scene.nodes
    assert window.inspector.node_id == node_id
    assert window.document.modified


def test_palette_double_click_and_search(window):
    show(window, Graph())
    window.palette.search.setText("cross")
    visible = [op for op, item in window.palette._items.items() if not item.isHidden()]
    assert "SoftmaxCrossEntropy" in visible and "Dense" not in visible
    window.palette._activated(window.palette.op_item("SoftmaxCrossEntropy"))
    assert [window.document.graph.op_name(n) for n in window.document.graph.nodes] == ["SoftmaxCrossEntropy"]


def test_wire_two_ports_with_the_mouse(qtbot, window):
    show(window, two_node_graph())
    drag_wire(qtbot, window, port_point(window, "x", "y", True), port_point(window, "t", "x", False))
    graph = window.document.graph
    assert [tuple(e) for e in graph.edges()] == [("x", "y", "t", "x")]
    window.scene.refresh()
    edge_item = next(iter(window.scene.edges.values()))
    assert edge_item.label == "(N, 4)"
    assert window.scene.nodes["t"].outputs["y"].type_text == "(N, 4)"
    window.undo_stack.undo()
    assert graph.edges() == [] and window.scene.edges == {}


def test_wire_dragged_from_an_input_port_also_connects(qtbot, window):
    show(window, two_node_graph())
    drag_wire(qtbot, window, port_point(window, "t", "x", False), port_point(window, "x", "y", True))
    assert [tuple(e) for e in window.document.graph.edges()] == [("x", "y", "t", "x")]


def test_invalid_wire_is_refused_with_its_reason(qtbot, window):
    show(window, two_node_graph(dtype="int64"))
    before = window.document.graph.to_dict()
    messages = []
    window.scene.sig_status.connect(messages.append)
    drag_wire(qtbot, window, port_point(window, "x", "y", True), port_point(window, "t", "x", False))
    assert window.document.graph.to_dict() == before
    assert window.undo_stack.count() == 0
    refusals = [m for m in messages if m.startswith("Cannot connect")]
    assert refusals and "float" in refusals[-1]


def test_wire_into_a_fed_input_is_refused(qtbot, window):
    graph = two_node_graph()
    graph.add_node("Input", {"shape": ["N", 4]}, node_id="z", ui={"pos": [0, 200]})
    graph.connect("x", "y", "t", "x")
    show(window, graph)
    before = graph.to_dict()
    drag_wire(qtbot, window, port_point(window, "z", "y", True), port_point(window, "t", "x", False))
    assert graph.to_dict() == before


def test_moving_a_node_is_one_undo_step(qtbot, window):
    show(window, two_node_graph())
    graph = window.document.graph
    item = window.scene.nodes["t"]
    view = window.view
    view.centerOn(item.sceneBoundingRect().center())
    start = view.mapFromScene(item.scenePos() + QPointF(60, 8))
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, pos=start + QPoint(20 * step, 10 * step))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=start + QPoint(100, 50))
    moved = graph.ui("t")["pos"]
    assert moved != [300, 0]
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert graph.ui("t")["pos"] == [300, 0]
    assert item.pos() == window.scene.to_scene([300, 0])


def test_rubber_band_selects_the_covered_nodes(qtbot, window):
    show(window, two_node_graph())
    view = window.view
    window.view.fit_to_view()
    rect = window.scene.nodes_rect()
    top_left = view.mapFromScene(rect.topLeft() - QPointF(30, 30))
    bottom_right = view.mapFromScene(rect.bottomRight() + QPointF(30, 30))
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=top_left)
    qtbot.mouseMove(viewport, pos=bottom_right)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=bottom_right)
    assert sorted(window.scene.selected_nodes()) == ["t", "x"]


def test_quick_add_popup_adds_at_the_cursor(qtbot, window):
    show(window, Graph())
    view = window.view
    view.open_quick_add(QPoint(200, 150))
    popup = view.quick_add
    assert popup.isVisible()
    qtbot.keyClicks(popup.search, "sigm")
    qtbot.keyClick(popup.search, Qt.Key_Return)
    graph = window.document.graph
    assert [graph.op_name(n) for n in graph.nodes] == ["Sigmoid"]
    pos = window.scene.to_scene(graph.ui(graph.nodes[0])["pos"])
    expected = view.mapToScene(QPoint(200, 150))
    assert abs(pos.x() - expected.x()) <= 20 and abs(pos.y() - expected.y()) <= 20


def test_zoom_and_fit(window):
    view = window.view
    view.resetTransform()
    view.zoom_by(2.0)
    assert abs(view.zoom() - 2.0) < 1e-9
    view.zoom_by(100.0)
    assert view.zoom() <= 4.0 + 1e-9
    view.fit_to_view()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.nodes_rect())
