"""Inspector, problems panel and status bar, driven through their widgets."""
from __future__ import annotations

from PySide6.QtCore import Qt

from core.graph import Graph
from gui.panels.attr_editors import BoolAttrEditor, ChoiceAttrEditor, TextAttrEditor, parse_text

from gui_helpers import show, two_node_graph


def test_inspector_validates_as_you_type_and_pushes_set_attr(qtbot, window):
    show(window, two_node_graph())
    window.scene.select_nodes(["x"])
    editor = window.inspector.editors["shape"]
    assert isinstance(editor, TextAttrEditor)
    assert editor.edit.text() == "N, 4"
    editor.edit.clear()
    qtbot.keyClicks(editor.edit, "N, banana")
    assert editor.error.isVisibleTo(window.inspector) and "banana" in editor.error.text()
    editor.edit.editingFinished.emit()
    assert window.document.graph.attrs("x")["shape"] == ("N", 4)
    editor.edit.clear()
    qtbot.keyClicks(editor.edit, "N, N")
    assert "at most one N" in editor.error.text()
    editor.edit.clear()
    qtbot.keyClicks(editor.edit, "N, 7")
    assert not editor.error.isVisibleTo(window.inspector)
    qtbot.keyClick(editor.edit, Qt.Key_Return)
    assert window.document.graph.attrs("x")["shape"] == ("N", 7)
    assert window.undo_stack.undoText() == "set x.shape"
    window.undo_stack.undo()
    assert window.inspector.editors["shape"].edit.text() == "N, 4"


def test_each_attribute_kind_gets_its_editor(window):
    graph = Graph()
    graph.add_node("Dense", node_id="d", ui={"pos": [0, 0]})
    show(window, graph)
    window.scene.select_nodes(["d"])
    editors = window.inspector.editors
    assert isinstance(editors["units"], TextAttrEditor)
    assert isinstance(editors["activation"], ChoiceAttrEditor)
    assert isinstance(editors["use_bias"], BoolAttrEditor)
    editors["use_bias"].box.setChecked(False)
    assert graph.attrs("d")["use_bias"] is False
    combo = editors["activation"].combo
    combo.activated.emit(combo.findData("relu"))
    assert graph.attrs("d")["activation"] == "relu"
    editors["units"].edit.setText("0")
    editors["units"].edit.editingFinished.emit()
    assert graph.attrs("d")["units"] == 16 and "at least 1" in editors["units"].error.text()
    window.undo_stack.undo()
    assert graph.attrs("d")["activation"] == "tanh"


def test_parse_text_never_evaluates():
    assert parse_text("axes", "") is None
    assert parse_text("axes", "1") == 1
    assert parse_text("axes", "0, 1") == [0, 1]
    assert parse_text("tensor", "[[1, 2], [3, 4]]") == [[1, 2], [3, 4]]
    for bad in ("__import__('os')", "NaN", "[1, 2"):
        try:
            parse_text("tensor", bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_problems_panel_lists_diagnostics_and_centres_the_node(qtbot, window):
    show(window, two_node_graph())
    window.problems.refresh()
    tree = window.problems.tree
    rows = [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(2)) for i in range(tree.topLevelItemCount())]
    assert ("t", "input 'x' is not connected") in rows
    assert window.validity_label.text().startswith("✗")
    window.view.centerOn(-5000, -5000)
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "t")
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert window.scene.selected_nodes() == ["t"]
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.nodes["t"].sceneBoundingRect().center())
    node = window.scene.nodes["t"]
    assert node.severity == "error" and "not connected" in node.toolTip()
    window.document.graph.connect("x", "y", "t", "x")
    window.problems.refresh()
    window.scene.refresh()
    assert tree.topLevelItemCount() == 0 and window.validity_label.text() == "✓ graph is valid"
    assert node.severity is None


def test_edge_label_follows_attribute_changes(window):
    graph = two_node_graph()
    graph.connect("x", "y", "t", "x")
    show(window, graph)
    window.scene.select_nodes(["x"])
    editor = window.inspector.editors["shape"]
    editor.edit.setText("N, 9")
    editor.edit.editingFinished.emit()
    window.scene.refresh()
    (edge_item,) = window.scene.edges.values()
    assert edge_item.label == "(N, 9)"


def test_status_bar_shows_the_device(window):
    assert "CPU" in window.device_label.text()


def test_presentation_mode_scales_nodes(window):
    width = window.scene.nodes["x"].width
    window.act_present.trigger()
    try:
        assert window.scene.nodes["x"].width > width * 1.3
    finally:
        window.act_present.trigger()
    assert window.scene.nodes["x"].width == width


def test_ports_follow_an_attribute_that_changes_them(window, qtbot):
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 2]}, node_id="a", ui={"pos": [0, 0]})
    graph.add_node("Concat", node_id="c", ui={"pos": [300, 0]})
    graph.connect("a", "y", "c", "x1")
    show(window, graph)
    window.scene.select_nodes(["c"])
    editor = window.inspector.editors["n"]
    editor.edit.setText("3")
    editor.edit.editingFinished.emit()
    item = window.scene.nodes["c"]
    assert list(item.inputs) == ["x1", "x2", "x3"]
    assert len(window.scene.edges) == 1 and next(iter(window.scene.edges.values())).target is item.inputs["x1"]
    qtbot.waitUntil(lambda: "n" in window.inspector.editors and window.inspector.editors["n"].edit.text() == "3")
    window.undo_stack.undo()
    assert list(window.scene.nodes["c"].inputs) == ["x1", "x2"]
