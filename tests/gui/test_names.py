"""Names in the editor: F2 renames with the training configuration and weights following in one undo step;
bad names are refused with the reason; Escape cancels a half-typed value; a Parameter's shape from its wire;
a training reference to a missing or wrongly typed node is a Problem before Start."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gui.training.commands import SetTrainingCommand

from gui_helpers import click_node, type_into


def rename_with_f2(qtbot, window, node_id: str, new: str) -> None:
    click_node(qtbot, window, node_id)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_F2)
    edit = window.inspector.name_edit
    assert edit.hasFocus() and edit.selectedText() == node_id
    qtbot.keyClicks(edit, new)
    qtbot.keyClick(edit, Qt.Key_Return)


def test_f2_renames_and_the_training_configuration_follows_in_one_undo_step(qtbot, window):
    graph, stack = window.graph, window.undo_stack
    before, count = graph.to_dict(), stack.count()
    rename_with_f2(qtbot, window, "cost", "objective")
    assert "objective" in graph and "cost" not in graph
    assert graph.training["loss"] == "objective" and graph.source("objective", "logits") == ("z3", "y")
    assert window.scene.selected_nodes() == ["objective"] and window.inspector.node_id == "objective"
    assert stack.count() == count + 1 and stack.undoText() == "rename 'cost' to 'objective'"
    qtbot.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert graph.to_dict() == before                     # the node, its wires and graph.training, exactly
    stack.redo()
    assert graph.training["loss"] == "objective"


def test_a_renamed_parameter_keeps_its_weights(qtbot, window):
    value = np.arange(6400, dtype=np.float32).reshape(64, 100)
    window.document.weights["W1"] = value
    rename_with_f2(qtbot, window, "W1", "W_in")
    assert "W1" not in window.document.weights and window.document.weights["W_in"] is value
    assert list(window.document.matching_weights()) == ["W_in"]
    window.undo_stack.undo()
    assert window.document.weights["W1"] is value and "W_in" not in window.document.weights


def test_a_taken_or_invalid_name_is_refused_with_the_reason(qtbot, window):
    before, count = window.graph.to_dict(), window.undo_stack.count()
    rename_with_f2(qtbot, window, "h1", "h2")
    assert "already the name of another node" in window.inspector.name_error.text()
    assert window.inspector.name_error.isVisibleTo(window.inspector)
    type_into(qtbot, window.inspector.name_edit, "2nd layer")
    assert "letter or _" in window.inspector.name_error.text()
    assert window.graph.to_dict() == before and window.undo_stack.count() == count
    qtbot.keyClick(window.inspector.name_edit, Qt.Key_Escape)
    assert window.inspector.name_edit.text() == "h1"


def test_escape_gives_back_the_shown_value_and_pushes_nothing(qtbot, window):
    click_node(qtbot, window, "W1")
    edit = window.inspector.editors["shape"].edit
    count = window.undo_stack.count()
    qtbot.mouseClick(edit, Qt.LeftButton)
    qtbot.keyClick(edit, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(edit, "7, x")                        # half typed, and wrong
    assert window.inspector.editors["shape"].error.isVisibleTo(window.inspector)
    qtbot.keyClick(edit, Qt.Key_Escape)
    assert edit.text() == "64, 100" and not window.inspector.editors["shape"].error.isVisibleTo(window.inspector)
    window.view.setFocus()                               # leaving the field commits nothing either
    assert window.undo_stack.count() == count and tuple(window.graph.attrs("W1")["shape"]) == (64, 100)


def test_infer_shape_takes_a_parameters_shape_from_its_wires(qtbot, window):
    graph = window.graph
    click_node(qtbot, window, "W2")
    type_into(qtbot, window.inspector.editors["shape"].edit, "3, 100")
    assert any(d.node == "W2x" for d in graph.validate())
    count = window.undo_stack.count()
    qtbot.mouseClick(window.inspector.infer_button, Qt.LeftButton)
    assert tuple(graph.attrs("W2")["shape"]) == (100, 100) and not graph.validate()
    assert window.undo_stack.count() == count + 1
    window.undo_stack.undo()
    assert tuple(graph.attrs("W2")["shape"]) == (3, 100)


def test_a_dangling_training_reference_is_a_problem_before_start(qtbot, window):
    graph = window.graph
    click_node(qtbot, window, "cost")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_Delete)
    assert "cost" not in graph
    qtbot.wait(50)                                       # the panels follow the graph once the event loop runs
    rows = [window.problems.tree.topLevelItem(i).text(2) for i in range(window.problems.tree.topLevelItemCount())]
    assert "training.loss: the graph has no node 'cost'" in rows
    assert window.validity_label.text().startswith("✗")
    panel = window.training.panel
    assert not panel.buttons["Start"].isEnabled()
    assert "training.loss: the graph has no node 'cost'" in panel.readiness_box.text.text()
    assert "Model ▸ Loss" in panel.readiness_box.advice.text()
    window.undo_stack.undo()
    qtbot.wait(50)
    assert window.problems.tree.topLevelItemCount() == 0 and window.validity_label.text() == "✓ graph is valid"


def test_a_wrongly_typed_reference_paints_its_node(qtbot, window):
    graph = window.graph
    window.undo_stack.push(SetTrainingCommand(graph, {**graph.training, "metrics": ["accuracy", "h1"]}, "metrics"))
    qtbot.wait(50)
    item = window.scene.nodes["h1"]
    assert item.severity == "error" and any("training.metrics[1]" in m for m in item.problems)
