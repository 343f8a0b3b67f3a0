"""Edits apply fully or refuse and change nothing: clipboard text through the file door, Expand Layer on
a wrongly typed input, a macro that fails half-way; and pastes land beside their originals, cascading."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from core.graph import Graph
from gui.canvas import edits
from gui.canvas.commands import AddNodeCommand
from gui_helpers import show


def _press(qtbot, window, key, modifier=Qt.ControlModifier):
    window.activateWindow()
    window.view.setFocus()
    qtbot.keyClick(window.view, key, modifier)


def _fragment(pos) -> str:
    nodes = [{"id": "a", "op": "Tanh", "ui": {"pos": [0, 0]}}, {"id": "b", "op": "Tanh", "ui": {"pos": pos}}]
    edges = [{"src": "a", "src_port": "y", "dst": "b", "dst_port": "x"}]
    return json.dumps({"format": "loom-graph", "version": 1, "nodes": nodes, "edges": edges})


@pytest.mark.parametrize("text", [_fragment("200,0"), _fragment([200]), _fragment([None, None]),
                                  _fragment({"x": 1}), '{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", '
                                  '"op": "Tanh", "ui": {"layer": [1]}}]}', "[1, 2, 3]", "plain words"])
def test_pasting_text_that_is_no_valid_fragment_changes_nothing(qtbot, window, text):
    graph, stack = window.document.graph, window.undo_stack
    before, count = graph.to_dict(), stack.count()
    QApplication.clipboard().setText(text)
    _press(qtbot, window, Qt.Key_V)
    assert graph.to_dict() == before and stack.count() == count
    assert window.statusBar().currentMessage().startswith("Nothing to paste: clipboard")


def test_a_valid_fragment_pastes_as_one_undo_step(qtbot, window):
    graph, stack = window.document.graph, window.undo_stack
    before = graph.to_dict()
    QApplication.clipboard().setText(_fragment([100, 40]))
    _press(qtbot, window, Qt.Key_V)
    new = window.scene.selected_nodes()
    assert sorted(graph.op_name(n) for n in new) == ["Tanh", "Tanh"] and stack.undoText() == "paste 2 nodes"
    _press(qtbot, window, Qt.Key_Z)
    assert graph.to_dict() == before


def test_repeated_pastes_cascade_from_the_originals_and_are_selected(qtbot, window):
    graph = window.document.graph
    window.scene.select_nodes(["h1", "W2x"])
    _press(qtbot, window, Qt.Key_C)
    origin = {n: graph.ui(n)["pos"] for n in ("h1", "W2x")}
    placed = []
    for k in (1, 2, 3):
        _press(qtbot, window, Qt.Key_V)
        new = sorted(window.scene.selected_nodes(), key=lambda n: graph.op_name(n))
        assert len(new) == 2 and not set(new) & {"h1", "W2x"}
        by_op = {graph.op_name(n): graph.ui(n)["pos"] for n in new}
        for original in ("h1", "W2x"):
            x, y = origin[original]
            assert by_op[graph.op_name(original)] == [x + 40.0 * k, y + 40.0 * k]
        placed.append(tuple(new))
    assert len(set(placed)) == 3


def test_expand_layer_on_a_wrongly_typed_input_says_why_and_changes_nothing(qtbot, window):
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 4], "dtype": "int64"}, node_id="x", ui={"pos": [0, 0]})
    graph.add_node("Dense", {"units": 3}, node_id="d", ui={"pos": [200, 0]})
    graph.connect("x", "y", "d", "x", typed=False)
    show(window, graph)
    before, count = graph.to_dict(), window.undo_stack.count()
    window.scene.select_nodes(["d"])
    _press(qtbot, window, Qt.Key_E)
    assert graph.to_dict() == before and window.undo_stack.count() == count
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot expand: node 'd'") and "fix this layer's inputs" in message


def test_a_macro_that_fails_half_way_is_taken_back_whole(window):
    graph, stack = Graph(), QUndoStack()
    graph.add_node("Tanh", node_id="t")
    stack.push(AddNodeCommand(graph, "Tanh", node_id="u"))
    before, count = graph.to_dict(), stack.count()
    with pytest.raises(TypeError):
        with edits.macro(stack, "two nodes"):
            stack.push(AddNodeCommand(graph, "Tanh", node_id="v"))
            stack.push(AddNodeCommand(graph, "Tanh", node_id="w"))
            [200][0] + None    # what a half-validated paste used to hit between its pushes
    assert graph.to_dict() == before and stack.count() == count and not stack.canRedo()
    assert stack.index() == count
