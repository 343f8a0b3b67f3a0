"""Which nodes training uses: features and labels (pickers over the batch Inputs), the loss (over float
scalar nodes) and the metrics (checkable scalar nodes). Each change is handed to `on_edit(key, value)`.
A graph with several candidate feature Inputs gets a checkable list instead of one picker: a data set
such as conll with casing as its own Input feeds them in the order they are ticked.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from core.graph import Graph
from core.training.propose import float_scalar_nodes, input_candidates, scalar_nodes

NO_LABELS = "(none)"


class SetupForm(QGroupBox):
    """The Model group of the training panel: one picker per node reference of graph.training."""

    def __init__(self, on_edit: Callable[[str, Any], None]) -> None:
        super().__init__("Model")
        self.on_edit = on_edit
        self.features_box = QComboBox()
        self.features_box.setToolTip("The Input that receives the features (its shape starts with N)")
        self.features_list = QListWidget()
        self.features_list.setToolTip("The Inputs that receive the data set's feature arrays, in the order they "
                                      "are listed (ticked ones first, in the data set's order)")
        self.features_list.setMaximumHeight(90)
        features = QWidget()
        stack = QVBoxLayout(features)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addWidget(self.features_box)
        stack.addWidget(self.features_list)
        self.labels_box = QComboBox()
        self.labels_box.setToolTip("The Input that receives the labels (int64 classes) or targets (float)")
        self.loss_box = QComboBox()
        self.loss_box.setToolTip("The node whose float scalar output training minimizes")
        self.metrics_list = QListWidget()
        self.metrics_list.setToolTip("Scalar nodes reported per step and per epoch (e.g. an Accuracy)")
        self.metrics_list.setMaximumHeight(90)
        self.empty_note = QLabel("")
        self.empty_note.setWordWrap(True)
        self.empty_note.setObjectName("Placeholder")
        form = QFormLayout(self)
        form.addRow("Features", features)
        form.addRow("Labels", self.labels_box)
        form.addRow("Loss", self.loss_box)
        form.addRow("Metrics", self.metrics_list)
        form.addRow(self.empty_note)
        self.features_box.activated.connect(lambda i: self._picked("features", self.features_box))
        self.labels_box.activated.connect(lambda i: self._picked("labels", self.labels_box))
        self.loss_box.activated.connect(lambda i: self._picked("loss", self.loss_box))
        self.metrics_list.itemChanged.connect(self._metrics_changed)
        self.features_list.itemChanged.connect(self._features_changed)

    def show_config(self, graph: Optional[Graph], config: dict) -> None:
        """Offer the graph's nodes and select what `config` names (a name the graph lacks is shown as missing)."""
        inputs = input_candidates(graph) if graph is not None else []
        features = config.get("features")
        several = isinstance(features, list) or len(inputs) > 2   # more than one Input besides the labels
        self.features_box.setVisible(not several)
        self.features_list.setVisible(several)
        if several:
            chosen = features if isinstance(features, list) else [features] if isinstance(features, str) else []
            offered = [n for n in inputs if n not in chosen and n != config.get("labels")]
            _fill_checks(self.features_list, [str(n) for n in chosen] + offered, chosen, inputs)
        else:
            _fill(self.features_box, inputs, features)
        _fill(self.labels_box, [NO_LABELS] + inputs, config.get("labels") or NO_LABELS)
        _fill(self.loss_box, float_scalar_nodes(graph) if graph is not None else [], config.get("loss"))
        chosen = config.get("metrics") if isinstance(config.get("metrics"), list) else []
        names = scalar_nodes(graph) if graph is not None else []
        _fill_checks(self.metrics_list, names + [m for m in chosen if m not in names], chosen, names)
        self.empty_note.setText("" if names else "No scalar node yet: add a loss (e.g. SoftmaxCrossEntropy) and "
                                "wire it; it will be offered here.")
        self.empty_note.setVisible(not names)

    def checked_metrics(self) -> list[str]:
        return _checked(self.metrics_list)

    def _picked(self, key: str, box: QComboBox) -> None:
        value = box.currentData()
        self.on_edit(key, None if value == NO_LABELS else value)

    def _metrics_changed(self, item: QListWidgetItem) -> None:
        self.on_edit("metrics", self.checked_metrics())

    def _features_changed(self, item: QListWidgetItem) -> None:
        """One ticked Input is stored as its name (as the picker does), several as a list, none as unset."""
        chosen = _checked(self.features_list)
        self.on_edit("features", chosen[0] if len(chosen) == 1 else chosen or None)


def _fill_checks(items: QListWidget, names: list[str], chosen: list[str], known: list[str]) -> None:
    """List `names` as checkable entries, ticking `chosen`; a name not in `known` is marked missing."""
    with QSignalBlocker(items):
        items.clear()
        for name in names:
            item = QListWidgetItem(name if name in known else f"{name} (missing)")
            item.setData(Qt.UserRole, name)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in chosen else Qt.Unchecked)
            items.addItem(item)


def _checked(items: QListWidget) -> list[str]:
    return [items.item(i).data(Qt.UserRole) for i in range(items.count())
            if items.item(i).checkState() == Qt.Checked]


def _fill(box: QComboBox, names: list[str], current: Optional[str]) -> None:
    """Offer `names` and select `current`; a current name the graph lacks is kept, marked missing."""
    with QSignalBlocker(box):
        box.clear()
        for name in names:
            box.addItem(name, name)
        if current and current not in names:
            box.addItem(f"{current} (missing)", current)
        if not current:
            box.addItem("(choose)", None)
        box.setCurrentIndex(max(0, box.findData(current) if current else box.count() - 1))
