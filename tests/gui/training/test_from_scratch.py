"""The issue's path: an empty canvas -> the lecture's MLP by quick-add, wires and the inspector -> training set
up in the Training tab alone -> Start -> above 90 % on the digits -> Save and reopen give the same graph."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor

from core.graph import evaluate
from core.training import Run, load_dataset
from gui.file_actions import FileActions

from gui_helpers import click_node, drag_wire, type_into
from training_helpers import ask, wait_state

# op, where on the canvas (viewport pixels), shape typed in the inspector
NODES = [("Input", 60, 80, "N, 64"), ("Parameter", 60, 220, "64, 100"), ("MatMul", 260, 120, None),
         ("Parameter", 260, 260, None), ("Add", 440, 160, None), ("Tanh", 600, 160, None),
         ("Parameter", 600, 300, "100, 10"), ("MatMul", 760, 200, None), ("Parameter", 760, 340, None),
         ("Add", 920, 240, None), ("SoftmaxCrossEntropy", 1080, 260, None), ("Input", 920, 420, "N"),
         ("Accuracy", 1080, 420, None)]


def quick_add(qtbot, window, op: str, x: int, y: int) -> str:
    """Tab on the canvas with the cursor at (x, y), type the op, Enter; returns the new node's id."""
    view = window.view
    before = set(window.graph.nodes)
    QCursor.setPos(view.viewport().mapToGlobal(QPoint(x, y)))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Tab)
    qtbot.keyClicks(view.quick_add.search, op)
    qtbot.keyClick(view.quick_add.search, Qt.Key_Return)
    (new,) = set(window.graph.nodes) - before
    return new


def build_lecture_mlp(qtbot, window) -> list[str]:
    """The digits MLP (one tanh hidden layer of 100) from an empty canvas; returns the node ids in order."""
    qtbot.keyClick(window, Qt.Key_N, Qt.ControlModifier)                 # File > New
    assert len(window.graph) == 0
    ids = []
    for op, x, y, shape in NODES:
        node = quick_add(qtbot, window, op, x, y)
        if shape is not None:
            click_node(qtbot, window, node)
            type_into(qtbot, window.inspector.editors["shape"].edit, shape)
        ids.append(node)
    click_node(qtbot, window, ids[11])
    combo = window.inspector.editors["dtype"].combo
    combo.setFocus()
    while combo.currentData() != "int64":
        qtbot.keyClick(combo, Qt.Key_Down)
    # by place in the order: a wire renames the default-named nodes it makes clear (parameter -> W1)
    x, w1, mm1, b1, add1, act, w2, mm2, b2, add2, cost, y, acc = range(len(ids))
    for src, dst, port in ((x, mm1, "a"), (w1, mm1, "b"), (mm1, add1, "a"), (b1, add1, "b"), (add1, act, "x"),
                           (act, mm2, "a"), (w2, mm2, "b"), (mm2, add2, "a"), (b2, add2, "b"),
                           (add2, cost, "logits"), (y, cost, "labels"), (add2, acc, "scores"), (y, acc, "labels")):
        drag_wire(qtbot, window, window.graph.nodes[src], window.graph.nodes[dst], port)
    return window.graph.nodes


def test_from_an_empty_canvas_to_a_trained_digits_mlp(qtbot, window, tmp_path, monkeypatch):
    window.resize(1920, 1080)     # the canvas wide enough for the seven columns below, beside the docks
    nodes = build_lecture_mlp(qtbot, window)
    graph = window.graph
    assert nodes == ["x", "W1", "matmul", "b1", "add", "hidden1", "W2", "matmul_2", "b2", "add_2", "cost", "y",
                     "accuracy"]
    assert tuple(graph.attrs("b1")["shape"]) == (100,) and tuple(graph.attrs("b2")["shape"]) == (10,)  # the wires
    assert not graph.validate() and len(graph.edges()) == 13

    feature = window.training
    feature.confirm_stop = lambda parent: False
    panel = feature.panel
    feature.panel_dock.raise_()
    assert not panel.buttons["Start"].isEnabled()
    qtbot.wait(50)                        # the panel follows the graph's edits once the event loop runs
    qtbot.mouseClick(panel.readiness_box.use_button, Qt.LeftButton)
    assert (graph.training["features"], graph.training["labels"], graph.training["loss"],
            graph.training["metrics"], graph.training["dataset"]["name"]) == ("x", "y", "cost", ["accuracy"], "digits")
    type_into(qtbot, panel.epochs_box.lineEdit(), "6")
    assert graph.training["epochs"] == 6
    qtbot.mouseClick(panel.buttons["Start"], Qt.LeftButton)
    wait_state(qtbot, feature, ("finished", "failed"))
    assert feature.controller.state == "finished", panel.message.text()
    qtbot.waitUntil(lambda: "accuracy" in feature.curves.series.val_metrics, timeout=5000)
    assert feature.curves.series.val_metrics["accuracy"].values[-1] > 0.9
    # independent truth: the trained weights, run through the reference executor on the validation split
    data = load_dataset(graph.training["dataset"])
    logits = evaluate(graph, {"x": data.x_val}, ask(qtbot, feature, Run.weights), ["add_2"])["add_2"]
    assert np.mean(logits.argmax(axis=1) == data.y_val) > 0.9

    saved = tmp_path / "mlp.json"
    monkeypatch.setattr(FileActions, "ask_save_path", lambda self: str(saved))
    monkeypatch.setattr(FileActions, "ask_open_path", lambda self: str(saved))
    before = graph.to_dict()
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert saved.exists() and not window.document.modified, window.errors
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    assert window.graph is not graph and window.graph.to_dict() == before
    assert window.training.panel.readiness.ready
