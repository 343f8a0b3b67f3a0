"""File handling for the main window: New, Open, Save, Save As, recent files, examples, autosave.

Dialogs go through small methods (`ask_save_changes`, `show_error`, `ask_open_path`, ...) so
tests can replace them and never block on a modal dialog.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMenu, QMessageBox

from core.graph import LoomError

from .document import (Document, add_recent_file, clear_recovery, load_recovered, pending_recovery,
                       recent_files, recovery_dir, write_recovery)
from .theme import EXAMPLES

if TYPE_CHECKING:
    from .main_window import MainWindow

FILE_FILTER = "Loom graphs (*.json);;All files (*)"
AUTOSAVE_MS = 30_000


class FileActions(QObject):
    """Everything that moves a graph between the window and the disk."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.wrote_recovery = False
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.write_autosave)
        self.autosave.start()

    @property
    def document(self) -> Document:
        return self.window.document

    # ---- Dialogs (replaced in tests)

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self.window, "Unsaved changes", f"Save the changes to {self.document.title}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)

    def ask_open_path(self) -> Optional[str]:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open graph", self._folder(), FILE_FILTER)
        return path or None

    def ask_save_path(self) -> Optional[str]:
        suggested = str(Path(self._folder()) / self.document.title.split(" ")[0])
        path, _ = QFileDialog.getSaveFileName(self.window, "Save graph as", suggested, FILE_FILTER)
        return path or None

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.window, title, message)

    def show_warning(self, title: str, message: str) -> None:
        QMessageBox.warning(self.window, title, message)

    def ask_recover(self, origin: Optional[Path]) -> bool:
        """Recover (True) or discard (False) the autosaved graph: discarding deletes it."""
        box, recover = self.recover_box(origin)
        box.exec()
        return box.clickedButton() is recover

    def recover_box(self, origin: Optional[Path]) -> tuple[QMessageBox, QAbstractButton]:
        """The question asked after a crash, with its Recover button."""
        where = f" (from {origin.name})" if origin else ""
        box = QMessageBox(QMessageBox.Question, "Recover unsaved work",
                          f"Loom did not close properly last time. Recover the unsaved graph{where}?\n"
                          "Discard deletes the autosaved copy.", parent=self.window)
        recover = box.addButton("Recover", QMessageBox.AcceptRole)
        box.addButton("Discard", QMessageBox.DestructiveRole)
        box.setDefaultButton(recover)
        return box, recover

    # ---- Actions

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes; False when the user cancels."""
        if not self.document.modified:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.window.set_document(Document())
        return True

    def open(self, path: Optional[str | Path] = None) -> bool:
        """Open a graph file; a bad file shows its error and leaves the current graph as it was."""
        if not self.maybe_save():
            return False
        path = path or self.ask_open_path()
        if not path:
            return False
        if not self._show(Document.load, path, "Cannot open the graph"):
            return False
        self.window.recent_menu_changed(add_recent_file(Path(path)))
        return True

    def open_example(self, path: Path) -> bool:
        """Open an example as an untitled copy, so saving never overwrites it."""
        return self.maybe_save() and self._show(Document.load_template, path, "Cannot open the example")

    def _show(self, load, path, failure: str) -> bool:
        """Show the document `load(path)` gives; on a LoomError say why and keep the current one."""
        try:
            document = load(path)
        except LoomError as e:
            self.show_error(failure, str(e))
            return False
        self.window.set_document(document)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: Optional[str | Path] = None) -> bool:
        path = path or self.ask_save_path()
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != ".json":
            path = path.with_suffix(".json")
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except (OSError, LoomError, ValueError) as e:
            self.show_error("Cannot save the graph", f"{path}: {e}")
            return False
        self.discard_recovery()
        self.window.recent_menu_changed(add_recent_file(path))
        self.window.update_title()
        self.window.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def write_autosave(self) -> None:
        """Write the recovery file when there are unsaved changes."""
        if self.document.modified:
            try:
                write_recovery(self.document)
                self.wrote_recovery = True
            except (OSError, LoomError, ValueError) as e:
                self.window.statusBar().showMessage(f"Autosave failed: {e}", 5000)

    def offer_recovery(self) -> bool:
        """After a crash, offer the autosaved graph; returns whether it was recovered."""
        pending = pending_recovery()
        if pending is None:
            return False
        target, origin = pending
        if not self.ask_recover(origin):
            clear_recovery()  # the user chose Discard
            return False
        try:
            document, note = load_recovered(target)
        except LoomError as e:
            self.show_error("Cannot recover the graph", f"{e}\n\nThe autosaved files are kept in {recovery_dir()}.")
            return False
        if note:
            self.show_warning("Recovered without weights", note)
        document.path = origin
        self.window.set_document(document)
        self.document.undo_stack.resetClean()
        self.wrote_recovery = True  # it is ours now: a save or a clean exit removes it
        self.window.update_title()
        return True

    def discard_recovery(self) -> None:
        """Remove the recovery file this window wrote (another window's stays)."""
        if self.wrote_recovery:
            clear_recovery()
            self.wrote_recovery = False

    # ---- Menus

    def fill_examples(self, menu: QMenu) -> None:
        for path in sorted(EXAMPLES.glob("*.json")):
            action = menu.addAction(path.stem.replace("_", " "))
            action.setToolTip(str(path))
            action.triggered.connect(lambda checked=False, p=path: self.open_example(p))

    def fill_recent(self, menu: QMenu, files: Optional[list[str]] = None) -> None:
        menu.clear()
        files = recent_files() if files is None else files
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open(p))
        menu.setEnabled(bool(files))

    def _folder(self) -> str:
        return str(self.document.path.parent) if self.document.path else str(Path.cwd())
