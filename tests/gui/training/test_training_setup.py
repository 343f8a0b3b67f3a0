"""The Training tab edits every key of graph.training, each change one undo step that undoes exactly."""
from __future__ import annotations

import copy

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QListWidget

from training_helpers import example, wait_state


def setup(make_feature, name: str = "seed_mlp"):
    graph = example(name)
    window, feature = make_feature(graph, scene=False)
    feature.panel.undo_stack = QUndoStack()
    return graph, feature.panel


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick an entry with the keyboard (arrow keys, as a user would in a closed combo box)."""
    combo.setFocus()
    key = Qt.Key_Down if combo.findText(text) > combo.currentIndex() else Qt.Key_Up
    while combo.currentText() != text:
        qtbot.keyClick(combo, key)


def toggle(qtbot, items: QListWidget, text: str) -> None:
    """Tick or untick one entry of a checkable list with the keyboard."""
    items.setFocus()
    items.setCurrentItem(items.findItems(text, Qt.MatchExactly)[0])
    qtbot.keyClick(items.viewport(), Qt.Key_Space)


def test_each_picker_is_one_undo_step_that_undoes_exactly(qtbot, make_feature):
    graph, panel = setup(make_feature)
    original = copy.deepcopy(graph.training)
    form = panel.setup_form
    assert [form.features_box.itemText(i) for i in range(form.features_box.count())] == ["x", "y"]
    assert [form.loss_box.itemText(i) for i in range(form.loss_box.count())] == ["cost"]
    assert [form.metrics_list.item(i).text() for i in range(form.metrics_list.count())] == ["cost", "accuracy"]
    toggle(qtbot, form.metrics_list, "accuracy")
    assert graph.training["metrics"] == []
    toggle(qtbot, form.metrics_list, "cost")
    assert graph.training["metrics"] == ["cost"]
    choose(qtbot, form.labels_box, "(none)")
    assert graph.training["labels"] is None
    choose(qtbot, panel.schedule_box, "step")
    assert graph.training["schedule"] == {"name": "step"}
    gamma = panel.schedule_form.itemAt(1, QFormLayout.ItemRole.FieldRole).widget()
    gamma.setFocus()
    gamma.selectAll()
    qtbot.keyClicks(gamma, "0.5")
    qtbot.keyClick(gamma, Qt.Key_Return)
    assert graph.training["schedule"] == {"name": "step", "gamma": 0.5}
    panel.shuffle_box.setFocus()
    qtbot.keyClick(panel.shuffle_box, Qt.Key_Space)
    assert graph.training["shuffle"] is False
    assert panel.undo_stack.count() == 5           # the two ticks of the metrics in a row merged into one step
    while panel.undo_stack.canUndo():
        panel.undo_stack.undo()
    assert graph.training == original


def test_a_run_that_fails_says_why_above_the_settings(qtbot, make_feature):
    graph, panel = setup(make_feature)
    choose(qtbot, panel.setup_form.features_box, "y")     # an Input, but not one the digits fit
    assert panel.readiness.ready
    qtbot.mouseClick(panel.buttons["Start"], Qt.LeftButton)
    wait_state(qtbot, panel, ("failed", "finished"), 60000)
    assert "Input 'y'" in panel.message.text()
    assert panel.message.geometry().bottom() < panel.settings.geometry().top()


def test_browse_offers_the_files_columns_for_features_and_label(qtbot, make_feature, tmp_path, monkeypatch):
    data = tmp_path / "points.csv"
    data.write_text("a,b,colour\n0.1,0.2,red\n0.3,0.1,blue\n0.5,0.9,red\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(data), ""))
    graph, panel = setup(make_feature, "logistic_regression")
    choose(qtbot, panel.dataset_box, "csv")
    assert graph.training["dataset"] == {"name": "csv"}
    qtbot.mouseClick(panel.dataset_form.browse_button, Qt.LeftButton)
    assert graph.training["dataset"]["path"] == str(data.resolve())
    editors = panel.dataset_form.editors               # each edit rebuilds the rows from the file's header
    picker = editors["features"]
    assert isinstance(picker, QListWidget) and isinstance(editors["label"], QComboBox)
    assert [picker.item(i).text() for i in range(picker.count())] == ["a", "b", "colour"]
    toggle(qtbot, picker, "a")
    toggle(qtbot, panel.dataset_form.editors["features"], "b")
    label = panel.dataset_form.editors["label"]
    label.setFocus()
    qtbot.keyClick(label, Qt.Key_End)                  # the last column
    assert graph.training["dataset"] == {"name": "csv", "path": str(data.resolve()), "features": ["a", "b"],
                                         "label": "colour"}


def test_a_reference_to_a_gone_node_is_offered_the_proposed_one(qtbot, make_feature):
    from gui.training.commands import SetTrainingCommand

    graph, panel = setup(make_feature)
    panel.undo_stack.push(SetTrainingCommand(graph, {**graph.training, "loss": "gone"}, "loss"))
    assert not panel.buttons["Start"].isEnabled()
    assert "training.loss: the graph has no node 'gone'" in panel.readiness_box.text.text()
    assert panel.setup_form.loss_box.currentText() == "gone (missing)"
    qtbot.mouseClick(panel.readiness_box.use_button, Qt.LeftButton)
    assert graph.training["loss"] == "cost" and panel.buttons["Start"].isEnabled()


def test_a_column_left_to_its_format_says_so_and_stores_nothing_until_typed(qtbot, make_feature):
    graph, panel = setup(make_feature, "ner_window")
    original = copy.deepcopy(graph.training)
    assert "token_column" not in original["dataset"]
    box = panel.dataset_form.editors["token_column"]
    assert box.text() == "by format" and box.lineEdit().text() == "by format"
    assert graph.training == original                  # showing the default stored nothing
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "2")
    qtbot.keyClick(box, Qt.Key_Return)
    assert graph.training["dataset"]["token_column"] == 2
    box = panel.dataset_form.editors["token_column"]   # the rows are rebuilt from the stored configuration
    assert box.text() == "2"
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "-16")
    qtbot.keyClick(box, Qt.Key_Return)
    box = panel.dataset_form.editors["token_column"]
    qtbot.keyClick(box, Qt.Key_Down)                   # one step below the lowest column: back to the format's
    assert "token_column" not in graph.training["dataset"]
    assert panel.dataset_form.editors["token_column"].text() == "by format"
