"""View gestures and window actions: wheel zoom, panning, snapping, keys, expand and collapse."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from core.graph import Graph

from gui_helpers import show, two_node_graph


def centre_of_view(window) -> QPointF:
    return window.view.mapToScene(window.view.viewport().rect().center())


def test_wheel_zooms_around_the_cursor(window):
    view = window.view
    view.reset_zoom()
    where = QPointF(300, 200)
    under = view.mapToScene(where.toPoint())
    event = QWheelEvent(where, view.viewport().mapToGlobal(where), QPoint(0, 0), QPoint(0, 240),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert abs(view.zoom() - 1.15 ** 2) < 1e-6
    after = view.mapToScene(where.toPoint())
    assert abs(after.x() - under.x()) < 3 and abs(after.y() - under.y()) < 3
    assert window.zoom_label.text() == f"{round(view.zoom() * 100)}%"


def test_middle_drag_and_space_drag_pan(qtbot, window):
    view = window.view
    viewport = view.viewport()
    view.reset_zoom()
    before = centre_of_view(window)
    qtbot.mousePress(viewport, Qt.MiddleButton, pos=QPoint(400, 300))
    qtbot.mouseMove(viewport, pos=QPoint(300, 250))
    qtbot.mouseRelease(viewport, Qt.MiddleButton, pos=QPoint(300, 250))
    after = centre_of_view(window)
    assert abs((after.x() - before.x()) - 100) < 2 and abs((after.y() - before.y()) - 50) < 2
    graph_before = window.document.graph.to_dict()
    qtbot.keyPress(view, Qt.Key_Space)
    qtbot.mousePress(viewport, Qt.LeftButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, pos=QPoint(340, 300))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=QPoint(340, 300))
    qtbot.keyRelease(view, Qt.Key_Space)
    assert abs(centre_of_view(window).x() - (after.x() - 40)) < 2
    assert window.document.graph.to_dict() == graph_before  # panning edits nothing


def test_dragged_nodes_snap_to_the_grid(qtbot, window):
    show(window, two_node_graph())
    view = window.view
    view.reset_zoom()
    item = window.scene.nodes["t"]
    view.centerOn(item.sceneBoundingRect().center())
    start = view.mapFromScene(item.scenePos() + QPointF(70, 8))
    qtbot.mousePress(view.viewport(), Qt.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), pos=start + QPoint(33, 27))
    qtbot.mouseRelease(view.viewport(), Qt.LeftButton, pos=start + QPoint(33, 27))
    x, y = item.pos().x(), item.pos().y()
    assert x % 20 == 0 and y % 20 == 0 and (x, y) != (300, 0)
    assert window.document.graph.ui("t")["pos"] == window.scene.to_model(item.pos())


def test_tab_opens_quick_add_and_delete_key_deletes(qtbot, window):
    show(window, two_node_graph())
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_Tab)
    assert window.view.quick_add.isVisible()
    qtbot.keyClick(window.view.quick_add.search, Qt.Key_Escape)
    window.scene.select_nodes(["t"])
    window.act_delete.trigger()
    assert "t" not in window.document.graph
    assert window.act_undo.text() == "&Undo delete 't'"


def test_expand_and_collapse_from_the_graph_menu(window):
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 8]}, node_id="x", ui={"pos": [0, 0]})
    graph.add_node("Dense", {"units": 3}, node_id="dense", ui={"pos": [260, 0]})
    graph.connect("x", "y", "dense", "x")
    show(window, graph)
    window.scene.select_nodes(["dense"])
    assert window.act_expand.isEnabled() and not window.act_collapse.isEnabled()
    window.act_expand.trigger()
    assert "dense" not in graph and len(graph) > 2
    assert window.act_collapse.isEnabled()
    window.scene.refresh()
    assert all(e.label for e in window.scene.edges.values())
    window.act_collapse.trigger()
    assert sorted(graph.nodes) == ["dense", "x"]
    assert graph.attrs("dense")["units"] == 3
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert sorted(graph.nodes) == ["dense", "x"] and graph.source("dense", "x") == ("x", "y")


def test_closing_with_changes_asks_first(window):
    window.scene.select_nodes(["h1"])
    window.delete_selection()
    assert window.close()
    assert window.prompts == ["seed_mlp.json (example)"]


def test_typing_in_fields_does_not_trigger_canvas_shortcuts(qtbot, window):
    window.activateWindow()
    window.palette.search.setFocus()
    qtbot.keyClicks(window.palette.search, "fab")
    assert window.palette.search.text() == "fab"
    window.scene.select_nodes(["W1"])
    editor = window.inspector.editors["scale"].edit
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key_Backspace)
    qtbot.keyClick(editor, Qt.Key_Delete)
    assert "W1" in window.document.graph
    assert editor.text() == "0."


def test_delete_key_on_the_canvas_deletes_the_selection(qtbot, window):
    window.activateWindow()
    window.view.setFocus()
    window.scene.select_nodes(["W1"])
    qtbot.keyClick(window.view, Qt.Key_Delete)
    assert "W1" not in window.document.graph
