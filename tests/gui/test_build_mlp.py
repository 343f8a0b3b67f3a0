"""The issue's "done when": build the lecture's network on an empty canvas, see every shape, save, reopen."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from core.graph import load_graph
from gui.canvas.commands import DisconnectCommand
from gui.document import Document

from gui_helpers import drag_wire, port_point


def drop(window, op: str, x: float, y: float) -> str:
    node_id = window.view.drop_op(op, window.scene.to_scene([x, y]))
    assert node_id is not None
    return node_id


def set_text(window, node_id: str, name: str, text: str) -> None:
    window.scene.select_nodes([node_id])
    editor = window.inspector.editors[name]
    editor.edit.setText(text)
    editor.edit.editingFinished.emit()


def set_choice(window, node_id: str, name: str, value: str) -> None:
    window.scene.select_nodes([node_id])
    combo = window.inspector.editors[name].combo
    combo.activated.emit(combo.findData(value))


def test_build_the_lecture_mlp_with_the_mouse(qtbot, window, tmp_path):
    window.set_document(Document())
    x = drop(window, "Input", 0, 0)
    set_text(window, x, "shape", "N, 64")
    layers = [drop(window, "Dense", 240 * (i + 1), 0) for i in range(3)]
    set_text(window, layers[0], "units", "100")
    set_text(window, layers[1], "units", "100")
    set_text(window, layers[2], "units", "10")
    set_choice(window, layers[2], "activation", "none")
    y = drop(window, "Input", 720, 200)
    set_text(window, y, "shape", "N")
    set_choice(window, y, "dtype", "int64")
    probs = drop(window, "Softmax", 960, -140)
    cost = drop(window, "SoftmaxCrossEntropy", 960, 60)
    drag_wire(qtbot, window, x, layers[0], "x")
    drag_wire(qtbot, window, layers[0], layers[1], "x")
    drag_wire(qtbot, window, layers[1], layers[2], "x")
    drag_wire(qtbot, window, layers[2], probs, "x")
    drag_wire(qtbot, window, layers[2], cost, "logits")
    drag_wire(qtbot, window, y, cost, "labels")
    graph = window.document.graph
    assert len(graph.edges()) == 6
    assert not graph.validate()
    window.scene.refresh()
    labels = sorted(e.label for e in window.scene.edges.values())
    assert labels == ["(N, 10)", "(N, 10)", "(N, 100)", "(N, 100)", "(N, 64)", "(N,)"]
    assert window.files.save_as(tmp_path / "mlp.json")
    reopened, _ = load_graph(tmp_path / "mlp.json")
    assert reopened.to_dict() == graph.to_dict()


def test_picking_up_a_wire_moves_or_removes_it(qtbot, window):
    graph = window.document.graph
    fed = graph.in_edges("h1")["x"]
    window.view.centerOn(window.scene.nodes_rect().center())
    viewport = window.view.viewport()
    start = port_point(window, "h1", "x", False)
    empty = QPoint(start.x(), viewport.height() - 5)
    assert not window.scene.items(window.view.mapToScene(empty))
    before = graph.to_dict()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=empty)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=empty)
    assert graph.source("h1", "x") is None
    window.undo_stack.undo()
    assert graph.to_dict() == before
    window.undo_stack.push(DisconnectCommand(graph, graph.in_edges("h2")["x"]))
    target = port_point(window, "h2", "x", False)
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=target)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=target)
    assert graph.source("h1", "x") is None and graph.source("h2", "x") == (fed.src, fed.src_port)
    assert window.undo_stack.undoText() == "move wire to h2.x"
    window.undo_stack.undo()
    assert graph.source("h1", "x") == (fed.src, fed.src_port) and graph.source("h2", "x") is None
