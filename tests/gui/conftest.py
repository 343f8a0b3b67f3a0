"""GUI tests run offscreen, with settings and recovery files in a throwaway place."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QStandardPaths  # noqa: E402

QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def window(qtbot, monkeypatch):
    """A main window on the lecture's MLP, whose dialogs never block."""
    from gui.app import make_application, open_window
    from gui.document import clear_recovery
    from PySide6.QtWidgets import QMessageBox

    from gui.file_actions import FileActions

    make_application([])
    clear_recovery()
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(FileActions, "show_error", lambda self, title, message: errors.append((title, message)))
    prompts: list[str] = []

    def ask_save_changes(self):
        prompts.append(self.document.title)
        return QMessageBox.Discard

    monkeypatch.setattr(FileActions, "ask_save_changes", ask_save_changes)
    win, error = open_window(None)
    assert error is None
    win.errors = errors
    win.prompts = prompts
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()
