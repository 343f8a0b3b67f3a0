"""Seeing inside: "Run one batch" evaluates every node on one training batch with the current weights
(in the training process, batch_tasks.py) and summarizes each output — shape, min, mean, max and a small histogram.

`InspectPanel` lists the summaries, the node where a NaN or Inf first appeared, and the gradient flow
per wire (the numbers the canvas overlay colours edges by).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QLabel, QPushButton, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from .batch_tasks import NodeSummary

BAD = QColor("#fde2e1")



class InspectPanel(QWidget):
    """Node summaries from "Run one batch", the NaN/Inf report, and gradient magnitude per wire."""

    sig_run_batch = Signal()
    sig_node_activated = Signal(str)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.button = QPushButton("Run one batch")
        self.button.setToolTip("Evaluate every node on one training batch with the current weights")
        self.button.clicked.connect(self.sig_run_batch)
        self.alert = QLabel("", wordWrap=True)
        self.alert.setStyleSheet("color: #b42318; font-weight: bold;")
        self.alert.hide()
        self.nodes = QTreeWidget()
        self.nodes.setHeaderLabels(["Node", "Op", "Shape", "Min", "Mean", "Max", "Histogram"])
        self.nodes.setRootIsDecorated(False)
        self.nodes.itemActivated.connect(lambda item: self.sig_node_activated.emit(item.text(0)))
        self.nodes.itemClicked.connect(lambda item: self.sig_node_activated.emit(item.text(0)))
        self.flow = QTreeWidget()
        self.flow.setHeaderLabels(["Wire", "Gradient (RMS)", ""])
        self.flow.setRootIsDecorated(False)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.nodes)
        splitter.addWidget(self.flow)
        splitter.setSizes([300, 160])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.button)
        layout.addWidget(self.alert)
        layout.addWidget(splitter, 1)
        self.summaries: dict[str, NodeSummary] = {}
        self.bad_node: Optional[str] = None

    def show_summaries(self, summaries: dict[str, NodeSummary]) -> None:
        """List one row per node."""
        self.summaries = summaries
        self.nodes.clear()
        for s in summaries.values():
            item = QTreeWidgetItem([s.node, s.op, "×".join(map(str, s.shape)) or "scalar",
                                    f"{s.minimum:.4g}", f"{s.mean:.4g}", f"{s.maximum:.4g}", s.sparkline()])
            item.setToolTip(0, s.text())
            if s.nonfinite or s.node == self.bad_node:
                for column in range(7):
                    item.setBackground(column, QBrush(BAD))
            self.nodes.addTopLevelItem(item)
        for column in range(6):
            self.nodes.resizeColumnToContents(column)

    def show_nonfinite(self, node: Optional[str], message: str) -> None:
        """Say where a NaN or Inf first appeared (None clears it)."""
        self.bad_node = node
        self.alert.setText(message)
        self.alert.setVisible(bool(node))

    def show_flow(self, magnitudes: dict[tuple[str, str, str], float]) -> None:
        """List each wire's gradient magnitude, largest first, with a bar."""
        self.flow.clear()
        if not magnitudes:
            return
        top = max(magnitudes.values()) or 1.0
        for (src, dst, port), value in sorted(magnitudes.items(), key=lambda kv: -kv[1]):
            share = value / top
            item = QTreeWidgetItem([f"{src} → {dst}.{port}", f"{value:.3g}", "█" * max(1, round(12 * share))])
            self.flow.addTopLevelItem(item)
        self.flow.resizeColumnToContents(0)
