"""Seeing inside: "Run one batch" evaluates every node on one training batch with the current weights
(in the worker thread) and summarizes each output — shape, min, mean, max and a small histogram.

`InspectPanel` lists the summaries, the node where a NaN or Inf first appeared, and the gradient flow
per wire (the numbers the canvas overlay colours edges by).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import networkx as nx
import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QLabel, QPushButton, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from core.graph import evaluate
from core.training import Run

BINS = 12
BARS = " ▁▂▃▄▅▆▇█"
BAD = QColor("#fde2e1")


@dataclass(frozen=True)
class NodeSummary:
    """What one node's output held on the batch."""

    node: str
    op: str
    shape: tuple
    dtype: str
    minimum: float
    mean: float
    maximum: float
    counts: tuple[int, ...]
    nonfinite: int

    def sparkline(self) -> str:
        """The histogram as block characters."""
        top = max(self.counts) if self.counts and max(self.counts) else 1
        return "".join(BARS[round(c / top * (len(BARS) - 1))] for c in self.counts)

    def text(self) -> str:
        """A tooltip: shape, min/mean/max and the histogram."""
        lines = [f"{self.op} → {self.dtype}{list(self.shape)}",
                 f"min {self.minimum:.4g} · mean {self.mean:.4g} · max {self.maximum:.4g}",
                 self.sparkline()]
        if self.nonfinite:
            lines.append(f"{self.nonfinite} NaN/Inf values")
        return "\n".join(lines)


def summarize(node: str, op: str, value: np.ndarray) -> NodeSummary:
    """Summarize one array; NaN/Inf values are counted, min and max show an Inf, the mean and histogram skip them."""
    value = np.asarray(value)
    flat = value.astype(np.float64, copy=False).ravel()
    finite = flat[np.isfinite(flat)]
    numbered = flat[~np.isnan(flat)]      # min and max show an Inf; the mean and histogram use finite values
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        counts, _ = np.histogram(finite, bins=BINS, range=(low, high if high > low else low + 1.0))
    else:
        counts = np.zeros(BINS, dtype=int)
    if numbered.size:
        numbers = (float(numbered.min()), float(finite.mean()) if finite.size else float("nan"),
                   float(numbered.max()))
    else:
        numbers = (float("nan"),) * 3
    return NodeSummary(node, op, tuple(value.shape), str(value.dtype), *numbers,
                       tuple(int(c) for c in counts), int(flat.size - finite.size))


def summarize_batch(run: Run) -> dict[str, NodeSummary]:
    """Evaluate every node the training data can feed on the first training batch, with current weights."""
    cfg = run.config
    rows = slice(0, min(cfg.batch_size, len(run.data.x_train)))
    feeds = {cfg.features: run.data.x_train[rows]}
    if cfg.labels:
        feeds[cfg.labels] = run.data.y_train[rows]
    graph = run.graph
    inputs = {n for n in graph.nodes if graph.op_name(n) == "Input"}
    missing = inputs - set(feeds)
    wanted = [n for n in graph.nodes
              if n not in missing and not (nx.ancestors(graph.nx, n) & missing)]
    ev = evaluate(graph, feeds, run.weights(), wanted, training=False)
    return {n: summarize(n, graph.op_name(n), ev[n]) for n in ev.order}


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
