"""Every undo command and macro: redo -> undo restores the exact model; redo again reproduces it."""
from __future__ import annotations

import json

import pytest
from PySide6.QtGui import QUndoStack

from core.graph import Edge, Graph, GraphError, graph_from_dict
from gui.canvas import edits
from gui.canvas.commands import (AddNodeCommand, ConnectCommand, DisconnectCommand, MoveNodeCommand,
                                 RemoveNodeCommand, SetAttrCommand, SetUiCommand)
from gui.theme import DEFAULT_EXAMPLE


@pytest.fixture
def graph() -> Graph:
    document = json.loads(DEFAULT_EXAMPLE.read_text())
    return graph_from_dict(document)


@pytest.fixture
def layered() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": ["N", 8]}, node_id="x", ui={"pos": [0, 0]})
    g.add_node("Dense", {"units": 5, "activation": "relu"}, node_id="dense1", ui={"pos": [250, 0]})
    g.add_node("Softmax", node_id="p", ui={"pos": [500, 0]})
    g.connect("x", "y", "dense1", "x")
    g.connect("dense1", "y", "p", "x")
    return g


def check_round_trip(stack: QUndoStack, graph: Graph, edit) -> dict:
    """Apply `edit` (pushes onto stack); check undo/redo restore exact dicts; return the edited dict."""
    before = graph.to_dict()
    start = stack.index()
    edit()
    after = graph.to_dict()
    assert after != before
    while stack.index() > start:
        stack.undo()
    assert graph.to_dict() == before
    while stack.canRedo():
        stack.redo()
    assert graph.to_dict() == after
    return after


def test_add_node(graph):
    stack = QUndoStack()
    check_round_trip(stack, graph, lambda: stack.push(
        AddNodeCommand(graph, "Sigmoid", ui={"pos": [5, 5]})))
    assert "sigmoid" in graph


def test_remove_node_with_its_wires(graph):
    stack = QUndoStack()
    check_round_trip(stack, graph, lambda: stack.push(RemoveNodeCommand(graph, "a1")))
    assert "a1" not in graph


def test_connect_and_disconnect(graph):
    stack = QUndoStack()
    edge = graph.in_edges("h1")["x"]
    check_round_trip(stack, graph, lambda: stack.push(DisconnectCommand(graph, edge)))
    stack.clear()
    check_round_trip(stack, graph, lambda: stack.push(ConnectCommand(graph, Edge(*edge))))
    assert graph.source("h1", "x") == ("a1", "y")


def test_set_attr(graph):
    stack = QUndoStack()
    check_round_trip(stack, graph, lambda: stack.push(SetAttrCommand(graph, "x", "shape", ["N", 32])))
    assert graph.attrs("x")["shape"] == ("N", 32)
    assert stack.undoText() == "set x.shape"


def test_set_ui(graph):
    stack = QUndoStack()
    check_round_trip(stack, graph, lambda: stack.push(SetUiCommand(graph, "x", "colour", "#ff0000")))


def test_moves_of_one_drag_merge(graph):
    stack = QUndoStack()
    start = graph.ui("x")["pos"]

    def drag():
        for step in range(1, 4):
            stack.push(MoveNodeCommand(graph, {"x": (graph.ui("x")["pos"], [10.0 * step, 0.0])}, drag_id=7))

    check_round_trip(stack, graph, drag)
    assert stack.count() == 1
    stack.undo()
    assert graph.ui("x")["pos"] == start
    stack.push(MoveNodeCommand(graph, {"x": (start, [1.0, 1.0])}, drag_id=8))
    stack.push(MoveNodeCommand(graph, {"x": ([1.0, 1.0], [2.0, 2.0])}, drag_id=9))
    assert stack.count() == 2


def test_delete_macro_is_one_step(graph):
    stack = QUndoStack()
    check_round_trip(stack, graph, lambda: edits.delete_items(stack, graph, ["a1", "W2"],
                                                               [graph.in_edges("cost")["labels"]]))
    assert stack.count() == 1
    assert "a1" not in graph and graph.source("cost", "labels") is None


def test_paste_macro(graph):
    stack = QUndoStack()
    text = edits.copy_document(graph, ["W1x", "a1", "h1"])
    check_round_trip(stack, graph, lambda: edits.paste_document(stack, graph, text))
    assert stack.count() == 1
    assert {"W1x_2", "a1_2", "h1_2"} <= set(graph.nodes)
    assert graph.source("h1_2", "x") == ("a1_2", "y")
    assert graph.source("W1x_2", "a") is None  # wires from outside the copy are not pasted


def test_paste_refuses_text_that_is_no_graph(graph):
    stack = QUndoStack()
    before = graph.to_dict()
    with pytest.raises(Exception) as info:
        edits.paste_document(stack, graph, '{"format": "something else"}')
    assert "Loom graph" in str(info.value)
    assert graph.to_dict() == before and stack.count() == 0


def test_expand_layer_macro(layered):
    stack = QUndoStack()
    after = check_round_trip(stack, layered, lambda: edits.expand_layer(stack, layered, "dense1"))
    assert stack.count() == 1
    assert "dense1" not in layered
    ops = sorted(layered.op_name(n) for n in layered.nodes)
    assert "MatMul" in ops and "Dense" not in ops
    assert not [d for d in layered.validate() if d.severity == "error"]
    assert after["nodes"][-1]["ui"]["layer"]["op"] == "Dense"


def test_collapse_restores_the_layer(layered):
    stack = QUndoStack()
    original = layered.to_dict()
    new = edits.expand_layer(stack, layered, "dense1")
    expanded = layered.to_dict()
    check_round_trip(stack, layered, lambda: edits.collapse_layer(stack, layered, new[0]))
    assert layered.to_dict() != expanded
    assert sorted(layered.nodes) == ["dense1", "p", "x"]
    assert layered.attrs("dense1") == graph_from_dict(
        {"format": "loom-graph", "version": 1, **original}).attrs("dense1")
    assert sorted(map(tuple, layered.edges())) == sorted(tuple(e.values()) for e in original["edges"])
    assert layered.types()[("p", "y")].shape == ("N", 5)


def test_collapse_refuses_plain_nodes(layered):
    with pytest.raises(GraphError):
        edits.collapse_layer(QUndoStack(), layered, "x")


def test_expand_refuses_an_unwired_layer():
    g = Graph()
    g.add_node("Dense", node_id="d")
    with pytest.raises(GraphError):
        edits.expand_layer(QUndoStack(), g, "d")
    assert list(g.nodes) == ["d"]


def test_window_edit_actions_undo_as_one(window):
    graph = window.document.graph
    stack = window.undo_stack
    window.scene.select_nodes(["W1x", "a1"])
    before = graph.to_dict()
    new = window.duplicate_selection()
    assert len(new) == 2 and stack.undoText() == "paste 2 nodes"
    assert window.act_undo.text() == "&Undo paste 2 nodes"
    window.scene.select_nodes(["W1x"])
    window.delete_selection()
    stack.undo()
    stack.undo()
    assert graph.to_dict() == before


def test_copy_paste_through_the_clipboard(window):
    graph = window.document.graph
    window.scene.select_nodes(["h1", "W2x"])
    assert window.copy_selection()
    new = window.paste()
    assert sorted(graph.op_name(n) for n in new) == ["MatMul", "Tanh"]
    assert graph.source(new[1], "a") == (new[0], "y") or graph.source(new[0], "a") == (new[1], "y")
    assert sorted(window.scene.selected_nodes()) == sorted(new)
