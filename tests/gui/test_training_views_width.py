"""The Training views dock can narrow (each page wraps its captions and buttons), so presentation mode with
a lesson open leaves the right dock room; the text views show only for a graph trained on a text data set."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget


def example_action(window, text: str):
    """The Examples menu's action, as a user clicks it."""
    return next(a for a in window.examples_menu.actions() if a.text() == text)


def tab_titles(window) -> list[str]:
    views = window.training.views
    return [views.tabText(i) for i in range(views.count())]


def test_f5_with_a_lesson_leaves_the_right_dock_room(qtbot, window):
    window.resize(1280, 800)
    panel = window.teaching.lessons
    panel.choice.setFocus()
    qtbot.keyClick(panel.choice, Qt.Key_Down)
    qtbot.keyClick(panel.choice, Qt.Key_Down)
    window.scene.select_nodes([])
    qtbot.wait(50)
    qtbot.keyClick(window.view, Qt.Key_F5)
    qtbot.wait(100)
    assert window.act_present.isChecked() and window.teaching.lessons_dock.isVisible()
    assert window.training.views_dock.minimumSizeHint().width() <= 420
    right = [d for d in window.findChildren(QDockWidget)
             if d.isVisible() and not d.isFloating() and window.dockWidgetArea(d) == Qt.RightDockWidgetArea]
    assert right and max(d.width() for d in right) >= 300
    qtbot.keyClick(window.view, Qt.Key_F5)
    qtbot.wait(50)


def test_text_views_only_for_a_text_data_set(qtbot, window):
    example_action(window, "seed mlp").trigger()
    assert "Embeddings" not in tab_titles(window) and "Tagger" not in tab_titles(window)
    example_action(window, "ner window").trigger()
    assert {"Embeddings", "Tagger"} <= set(tab_titles(window))
    training = dict(window.graph.training)
    window.graph.set_training({**training, "dataset": {"name": "xor"}})   # an edit of the data set
    assert "Embeddings" not in tab_titles(window) and "Tagger" not in tab_titles(window)
    window.document.undo_stack.setClean()
