"""The Features picker: a graph with several candidate Inputs gets a checkable list whose ticks, in order,
become `features` (one name, or a list), each change one undo step; a graph with one keeps the combo box."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QListWidget

from training_helpers import example


def panel_for(make_feature, name: str):
    graph = example(name)
    _, feature = make_feature(graph, scene=False)
    feature.panel.undo_stack = QUndoStack()
    return graph, feature.panel


def texts(items: QListWidget) -> list[tuple[str, bool]]:
    return [(items.item(i).text(), items.item(i).checkState() == Qt.Checked) for i in range(items.count())]


def tick(qtbot, items: QListWidget, text: str) -> None:
    """Tick or untick one entry with the keyboard, as a user would."""
    items.setFocus()
    items.setCurrentItem(items.findItems(text, Qt.MatchExactly)[0])
    qtbot.keyClick(items.viewport(), Qt.Key_Space)


def test_two_inputs_are_a_checkable_list_in_the_data_sets_order(qtbot, make_feature):
    graph, panel = panel_for(make_feature, "ner_window")
    form = panel.setup_form
    assert form.features_box.isHidden() and not form.features_list.isHidden()
    assert texts(form.features_list) == [("word_ids", True), ("casing_ids", True)]     # labels `y` not offered
    tick(qtbot, form.features_list, "casing_ids")
    assert graph.training["features"] == "word_ids"                   # one ticked: stored as a single name
    assert texts(form.features_list) == [("word_ids", True), ("casing_ids", False)]
    tick(qtbot, form.features_list, "word_ids")
    assert "features" not in graph.training or graph.training["features"] is None
    tick(qtbot, form.features_list, "casing_ids")
    tick(qtbot, form.features_list, "word_ids")
    assert graph.training["features"] == ["casing_ids", "word_ids"]    # the order they were ticked in
    while panel.undo_stack.canUndo():
        panel.undo_stack.undo()
    assert graph.training["features"] == ["word_ids", "casing_ids"]
    assert texts(form.features_list) == [("word_ids", True), ("casing_ids", True)]


def test_one_candidate_keeps_the_combo_box(qtbot, make_feature):
    _, panel = panel_for(make_feature, "seed_mlp")
    assert not panel.setup_form.features_box.isHidden() and panel.setup_form.features_list.isHidden()


def test_the_preview_describes_both_arrays():
    from gui.training.dataset_preview import preview_data
    from training_helpers import EXAMPLES

    config = {**example("ner_window").training["dataset"], "max_sentences": 50}
    shown = preview_data(config, str(EXAMPLES))
    assert shown.kind == "text" and "windows of 5 (words) and their 5 casing ids (casing)" in shown.description
