"""A wire let go on empty canvas opens quick-add over the ops that can take it; the chosen node comes wired.
Palette and quick-add find ops by the words users say ("linear", "fully connected", "cross entropy")."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from core.graph import Edge
from core.graph.registry import REGISTRY
from core.graph.search import SYNONYMS, search_ops
from gui_helpers import port_point, show, two_node_graph


def _drag_wire(qtbot, window, start: QPoint, end: QPoint) -> None:
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(viewport, pos=start + (end - start) * (k / 5))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)


def test_wire_released_on_canvas_adds_a_wired_node(qtbot, window):
    graph = two_node_graph(("N", 2))
    show(window, graph)
    start = port_point(window, "x", "y", True)
    end = start + QPoint(0, 160)                       # empty canvas under the input
    _drag_wire(qtbot, window, start, end)
    popup = window.view.quick_add
    assert popup.isVisible()
    listed = {popup.list.item(i).data(Qt.UserRole) for i in range(popup.list.count())}
    assert "Dense" in listed and "Tanh" in listed
    assert "Input" not in listed and "Conv2D" not in listed     # no input to take it / wrong rank
    qtbot.keyClicks(popup.search, "fully connected")
    qtbot.keyClick(popup.search, Qt.Key_Return)
    new = [n for n in graph.nodes if n not in ("x", "t")]
    assert [graph.op_name(n) for n in new] == ["Dense"]
    assert Edge("x", "y", new[0], "x") in graph.edges()
    window.undo_stack.undo()                                   # node and wire: one step
    assert sorted(graph.nodes) == ["t", "x"]


def test_a_picked_up_wire_dropped_on_canvas_is_still_removed(qtbot, window):
    graph = two_node_graph(("N", 2))
    graph.connect("x", "y", "t", "x")
    show(window, graph)
    start = port_point(window, "t", "x", False)
    _drag_wire(qtbot, window, start, start + QPoint(0, 160))
    assert graph.edges() == [] and not window.view.quick_add.isVisible()


def test_synonyms_find_the_ops_people_mean(qtbot, window):
    assert set(SYNONYMS) <= set(REGISTRY)                      # the table names real ops only
    assert search_ops("linear")[0].name == "Dense"
    assert search_ops("fully connected")[0].name == "Dense"
    assert {s.name for s in search_ops("cross entropy")} >= {"SoftmaxCrossEntropy", "BinaryCrossEntropy"}
    assert search_ops("relu")[0].name == "ReLU"
    assert {s.name for s in search_ops("conv")} >= {"Conv", "Conv2D"}
    palette = window.palette
    qtbot.keyClicks(palette.search, "linear")
    assert not palette.op_item("Dense").isHidden() and palette.op_item("Tanh").isHidden()
    palette.search.clear()
    qtbot.keyClicks(palette.search, "cross entropy")
    assert not palette.op_item("SoftmaxCrossEntropy").isHidden()
    assert not palette.op_item("BinaryCrossEntropy").isHidden() and palette.op_item("MSE").isHidden()


def test_training_menu_actions_raise_the_view_they_fill(qtbot, window):
    feature = window.training
    window.problems_dock.raise_()                              # the views dock behind Problems
    qtbot.wait(20)
    assert feature.views_dock.visibleRegion().isEmpty()
    menu = feature.menu
    action = next(a for a in menu.actions() if a.text() == "Compile the training step")
    menu.popup(window.mapToGlobal(QPoint(300, 30)))            # the menu as a user opens it
    qtbot.waitUntil(menu.isVisible)
    menu.setActiveAction(action)
    qtbot.keyClick(menu, Qt.Key_Return)
    qtbot.waitUntil(lambda: not feature.views_dock.visibleRegion().isEmpty(), timeout=2000)
    assert feature.views.currentWidget() is feature.compiled
    feature.controller.shutdown(20000)
