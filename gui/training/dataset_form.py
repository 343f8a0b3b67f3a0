"""The data set's options: a form built from the set's declared options, with Browse… for a CSV or NPZ file
and the file's columns (or arrays) offered for the features and the label.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QWidget)

from core.training import DATASETS, DatasetError
from core.training.data_files import file_columns

from .option_editors import clear_form, option_editor

FILE_SETS = ("csv", "npz")
FILE_FILTERS = {"csv": "CSV files (*.csv);;All files (*)", "npz": "NumPy archives (*.npz);;All files (*)"}


class DatasetForm(QFormLayout):
    """Rows for the options of the chosen data set; edits go to `on_edit(option, value)`.

    `base_dir()` is the graph file's folder (None while unsaved): paths are stored relative to it.
    """

    def __init__(self, on_edit: Callable[[str, Any], None], base_dir: Callable[[], Optional[str]]) -> None:
        super().__init__()
        self.on_edit = on_edit
        self.base_dir = base_dir
        self.path_edit: Optional[QLineEdit] = None
        self.browse_button: Optional[QPushButton] = None
        self.columns: list[str] = []
        self.editors: dict[str, QWidget] = {}

    def show_dataset(self, dataset: dict) -> None:
        """Rebuild the rows for `dataset` (its name and option values)."""
        clear_form(self)
        self.editors = {}
        self.path_edit = self.browse_button = None
        name = dataset.get("name")
        info = DATASETS.get(name)
        if info is None:
            return
        self.columns = self._read_columns(dataset) if name in FILE_SETS else []
        for option in info.options:
            value = dataset.get(option.name, option.default)
            if option.name == "path" and name in FILE_SETS:
                editor = self._path_row(name, value)
            elif option.name in ("features", "label") and self.columns:
                editor = self._column_picker(option.name, option.kind, value)
            else:
                editor = option_editor(option.kind, value, option.choices, option.low, option.high,
                                       lambda v, n=option.name: self.on_edit(n, v), unset_text(option))
            editor.setToolTip(option.doc)
            self.editors[option.name] = editor
            self.addRow(option.name.replace("_", " "), editor)

    def browse(self, dataset_name: str) -> None:
        """Ask for the data file and store its path (relative to the graph file's folder when possible)."""
        start = self.base_dir() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.parentWidget(), "Choose the data file", start,
                                              FILE_FILTERS[dataset_name])
        if path:
            self.on_edit("path", _relative(path, self.base_dir()))

    # ---- Rows

    def _path_row(self, dataset_name: str, value: Any) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit("" if value is None else str(value))
        self.path_edit.setPlaceholderText(f"choose a .{dataset_name} file")
        self.path_edit.editingFinished.connect(lambda: self.on_edit("path", self.path_edit.text().strip() or None))
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(lambda: self.browse(dataset_name))
        layout.addWidget(self.path_edit, 1)
        layout.addWidget(self.browse_button)
        return row

    def _column_picker(self, option: str, kind: str, value: Any) -> QWidget:
        """Features of a CSV: a checkable list of its columns; otherwise one column (or array) to choose."""
        if option == "features" and kind == "columns":
            chosen = value if isinstance(value, list) else ([value] if value else [])
            picker = QListWidget()
            picker.setMaximumHeight(110)
            with QSignalBlocker(picker):
                for column in self.columns:
                    item = QListWidgetItem(column)
                    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
                    item.setCheckState(Qt.Checked if column in chosen else Qt.Unchecked)
                    picker.addItem(item)
            picker.itemChanged.connect(lambda item: self.on_edit("features", _checked(picker) or None))
            return picker
        box = QComboBox()
        if option == "label":
            box.addItem("(not set)", None)
        for column in self.columns:
            box.addItem(column, column)
        box.setCurrentIndex(max(0, box.findData(value)) if value is not None else 0)
        box.activated.connect(lambda i: self.on_edit(option, box.itemData(i)))
        return box

    def _read_columns(self, dataset: dict) -> list[str]:
        path = dataset.get("path")
        if not isinstance(path, str) or not path:
            return []
        try:
            return file_columns(path, self.base_dir())
        except DatasetError:
            return []            # the preview says what is wrong with the file


def _checked(picker: QListWidget) -> list[str]:
    return [picker.item(i).text() for i in range(picker.count()) if picker.item(i).checkState() == Qt.Checked]


def _relative(path: str, base_dir: Optional[str]) -> str:
    """`path` relative to `base_dir` when it lies inside it; otherwise absolute."""
    if base_dir:
        try:
            return Path(path).resolve().relative_to(Path(base_dir).resolve()).as_posix()
        except ValueError:
            pass
    return str(Path(path).resolve())


def unset_text(option) -> str | None:
    """What an option without a value and without a default shows: its doc's "default ..." words."""
    if option.default is not None or option.kind != "int":
        return None
    _, said, rest = option.doc.rpartition("default ")
    return rest.strip() if said and rest.strip() else "default"
