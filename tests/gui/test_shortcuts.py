"""Editor keys pressed for real: undo and both redo keys reach the undo stack, with no ambiguity."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction


@pytest.mark.parametrize("redo", [(Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier), (Qt.Key_Y, Qt.ControlModifier)],
                         ids=["ctrl-shift-z", "ctrl-y"])
def test_redo_keys(window, qtbot, redo):
    graph = window.document.graph
    before = graph.to_dict()
    window.view.setFocus()
    window.view.drop_op("Tanh", window.view.mapToScene(window.view.viewport().rect().center()))
    after = graph.to_dict()
    assert after != before
    qtbot.keyClick(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert graph.to_dict() == before
    qtbot.keyClick(window.view, *redo)
    assert graph.to_dict() == after


def test_no_key_is_bound_twice(window):
    """A key sequence held by two actions (or twice by one) is ambiguous: Qt then triggers neither."""
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen, f"{text}: {seen.get(text)} and {action.text()}"
            seen[text] = action.text()
    assert {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y"} <= set(seen)
