"""File ▸ Export (Python/NumPy script, PyTorch module, ONNX model) and File ▸ Import ONNX for the main window.

The dialogs go through the module-level functions `ask_save_file`, `ask_open_file` and
`show_error`, so tests replace them and never block on a modal dialog. An export is written into
a scratch folder beside the target and moved into place only when it succeeded: a failed export
shows its message and leaves the disk as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from core.graph import LoomError
from core.graph.fileformat import weights_path

from .document import Document

if TYPE_CHECKING:
    from .main_window import MainWindow

LAST_FOLDER_KEY = "export/last_folder"
# target -> (menu text, dialog title, file filter, suffix, file name ending)
EXPORT_TARGETS = {
    "numpy": ("Python/&NumPy Script…", "Export as a Python/NumPy script", "Python scripts (*.py)", ".py", "_numpy"),
    "torch": ("Py&Torch Module…", "Export as a PyTorch module", "Python scripts (*.py)", ".py", "_torch"),
    "onnx": ("&ONNX Model…", "Export as an ONNX model", "ONNX models (*.onnx)", ".onnx", ""),
}
ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


# ---- Dialogs (replaced in tests)


def ask_save_file(parent, title: str, suggested: str, file_filter: str) -> str:
    """The path the user chose to write ("" when cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    return path


def ask_open_file(parent, title: str, folder: str, file_filter: str) -> str:
    """The file the user chose to read ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, file_filter)
    return path


def show_error(parent, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def error_text(error: BaseException) -> str:
    """What the user reads about a failure: the message, never a traceback."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return where + (error.strerror or str(error))
    if isinstance(error, LoomError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class ExportActions(QObject):
    """Moves the window's graph out to other tools and brings ONNX models in."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window

    # ---- Public API

    def fill_export_menu(self, menu: QMenu) -> dict:
        """Add one action per export target; returns {target: QAction}."""
        actions = {}
        for target, (text, title, *_) in EXPORT_TARGETS.items():
            action = menu.addAction(text)
            action.setStatusTip(title)
            action.triggered.connect(lambda checked=False, t=target: self.export(t))
            actions[target] = action
        return actions

    def export(self, target: str, path: Optional[str | Path] = None) -> Optional[Path]:
        """Export the document's graph and weights as `target`; returns the written file, None when
        cancelled or failed (the failure is shown and nothing is written)."""
        _, title, file_filter, suffix, ending = EXPORT_TARGETS[target]
        document = self.window.document
        if path is None:
            stem = document.path.stem if document.path else (document.template or "model").split(".")[0]
            suggested = str(Path(self.last_folder()) / f"{stem}{ending}{suffix}")
            path = ask_save_file(self.window, title, suggested, f"{file_filter};;All files (*)")
            if not path:
                return None
        path = Path(path)
        if path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        remember_folder(path.parent)
        try:
            written = self._export_atomically(document, target, path)
        except Exception as e:  # noqa: BLE001 (every failure becomes a message; nothing was written)
            show_error(self.window, "Cannot export the graph", error_text(e))
            return None
        self.window.statusBar().showMessage(f"Exported {written}", 5000)
        return written

    def import_onnx(self, path: Optional[str | Path] = None) -> bool:
        """Open an ONNX model as a new untitled graph with its weights (after the unsaved-changes prompt)."""
        if not self.window.files.maybe_save():
            return False
        if path is None:
            path = ask_open_file(self.window, "Import an ONNX model", self.last_folder(), ONNX_FILTER)
            if not path:
                return False
        remember_folder(Path(path).parent)
        try:
            from core.export import import_onnx

            graph, weights = import_onnx(path)
        except Exception as e:  # noqa: BLE001 (a bad file is a message; the open graph stays)
            show_error(self.window, "Cannot import the ONNX model", error_text(e))
            return False
        self.window.set_document(Document(graph, weights))
        self.window.statusBar().showMessage(f"Imported {Path(path).name}: {len(graph.nodes)} nodes", 5000)
        return True

    def last_folder(self) -> str:
        """Where the last export or import went; else the graph file's folder; else the working folder."""
        folder = QSettings().value(LAST_FOLDER_KEY, "")
        if isinstance(folder, str) and folder and Path(folder).is_dir():
            return folder
        document = self.window.document
        return str(document.path.parent) if document.path else str(Path.cwd())

    # ---- Internals

    def _export_atomically(self, document: Document, target: str, path: Path) -> Path:
        """Write into a scratch folder next to `path`; move the files into place once all were written."""
        from core.export import export_graph
        from core.training.preflight import check_export

        base_dir = document.path.parent if document.path else None
        check_export(document.graph, target, base_dir)
        protected = {p.resolve() for p in (document.path, weights_path(document.path)) if p} \
            if document.path else set()
        companions = (path,) if target == "onnx" else \
            (path, path.with_suffix(".npz"), path.with_name(path.stem + "_data.npz"))   # the scripts' state and data
        _refuse_overwriting([p.name for p in companions if p.resolve() in protected], path)
        scratch = Path(tempfile.mkdtemp(prefix=".loom-export-", dir=path.parent))
        try:
            try:
                export_graph(document.graph, document.matching_weights(), target, scratch / path.name,
                             base_dir=base_dir)
            except OSError as e:
                raise OSError(e.errno, e.strerror or str(e), str(path)) from None
            except LoomError as e:
                if e.file and str(scratch) in str(e.file):
                    e.file = str(path)
                raise
            produced = sorted(p for p in scratch.iterdir() if p.is_file())
            _refuse_overwriting([p.name for p in produced if (path.parent / p.name).resolve() in protected], path)
            for p in produced:
                os.replace(p, path.parent / p.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return path


def _refuse_overwriting(clashes: list[str], path: Path) -> None:
    if clashes:
        raise LoomError(f"the export would overwrite the graph's own file {clashes[0]}; choose another name",
                        file=str(path))


def remember_folder(folder: Path) -> None:
    QSettings().setValue(LAST_FOLDER_KEY, str(folder))
