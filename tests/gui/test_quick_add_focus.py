"""After the quick-add popup closes (Enter, Escape, a click outside), the window is active again and
the canvas has the keyboard: window shortcuts (Ctrl+Z, Ctrl+S) work without clicking the window first."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from gui_helpers import show, two_node_graph


def press(qtbot, key, modifier=Qt.NoModifier) -> None:
    """A key press where a user's would go: the focused widget of the active window."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    qtbot.keyClick(target, key, modifier)


def open_popup(qtbot, window):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_Tab)
    popup = window.view.quick_add
    assert popup.isVisible()
    assert QApplication.activePopupWidget() is popup
    return popup


def assert_window_has_the_keyboard(qtbot, window) -> None:
    QApplication.processEvents()     # the window system's activations, queued since the popup opened
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    assert QApplication.focusWidget() is window.view


def test_after_enter_ctrl_z_undoes_the_add_and_ctrl_s_saves(qtbot, window, tmp_path):
    show(window, two_node_graph())
    before = set(window.graph.nodes)
    popup = open_popup(qtbot, window)
    qtbot.keyClicks(popup.search, "tanh")
    qtbot.keyClick(popup.search, Qt.Key_Return)
    (added,) = set(window.graph.nodes) - before
    assert window.graph.op_name(added) == "Tanh" and not popup.isVisible()
    assert_window_has_the_keyboard(qtbot, window)
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert set(window.graph.nodes) == before
    target = tmp_path / "after_quick_add.json"
    window.files.ask_save_path = lambda *a, **k: str(target)   # the dialog a Save of an untitled file opens
    press(qtbot, Qt.Key_S, Qt.ControlModifier)
    assert target.exists() and not window.document.modified, window.errors


def test_escape_gives_the_keyboard_back_to_the_canvas(qtbot, window):
    show(window, two_node_graph())
    popup = open_popup(qtbot, window)
    qtbot.keyClick(popup.search, Qt.Key_Escape)
    assert not popup.isVisible()
    assert_window_has_the_keyboard(qtbot, window)
    window.scene.select_nodes(["t"])
    press(qtbot, Qt.Key_Delete)
    assert "t" not in window.graph
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert "t" in window.graph


def test_a_click_outside_closes_it_and_the_window_keeps_the_keyboard(qtbot, window):
    show(window, two_node_graph())
    before = window.graph.to_dict()
    popup = open_popup(qtbot, window)
    outside = popup.mapFromGlobal(window.view.viewport().mapToGlobal(QPoint(5, 5)))
    qtbot.mouseClick(popup, Qt.LeftButton, pos=outside)     # a popup gets the click and closes itself
    assert not popup.isVisible()
    assert_window_has_the_keyboard(qtbot, window)
    assert window.graph.to_dict() == before
    window.scene.select_nodes(["t"])
    press(qtbot, Qt.Key_Delete)
    assert "t" not in window.graph
