"""Per-layer weight and gradient histograms over time, and the gradient magnitude on every wire.

`GradientProbe` (probes.py, in the training process) differentiates a copy of the graph in which every
wire's value passes through `value + probe`, a zero Parameter: d(loss)/d(probe) is the gradient
flowing along that wire.
`HistogramsPanel` draws the last snapshots of a parameter's values and gradients, older ones fainter.
"""
from __future__ import annotations

from collections import deque
from typing import Optional

import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .curves import style_plot
from .probes import GradientSnapshot

KEEP = 8


class HistogramsPanel(QWidget):
    """Pick a parameter; see its value and gradient distributions at the last snapshots (newest darkest)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.selector = QComboBox()
        self.selector.currentTextChanged.connect(lambda _: self.redraw())
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.weight_plot = self.plots.addPlot(row=0, col=0, title="Weights")
        self.grad_plot = self.plots.addPlot(row=1, col=0, title="Gradients")
        for plot in (self.weight_plot, self.grad_plot):
            style_plot(plot)
            plot.setLabel("left", "count", color="#1f2933")
        self.weight_curves = [self.weight_plot.plot(stepMode="center") for _ in range(KEEP)]
        self.grad_curves = [self.grad_plot.plot(stepMode="center") for _ in range(KEEP)]
        self.caption = QLabel("Histograms appear while training runs (a snapshot about every second).")
        self.caption.setWordWrap(True)   # a long line would set the views dock's minimum width
        row = QHBoxLayout()
        row.addWidget(QLabel("Parameter"))
        row.addWidget(self.selector, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.caption)
        self.history: deque[GradientSnapshot] = deque(maxlen=KEEP)

    def clear(self) -> None:
        """Forget the snapshots of an earlier run."""
        self.history.clear()
        self.redraw()

    def add_snapshot(self, snapshot: GradientSnapshot) -> None:
        """Keep a snapshot and redraw."""
        if self.history and self.history[-1].step == snapshot.step:
            self.history.pop()
        self.history.append(snapshot)
        keys = list(snapshot.grads)
        if [self.selector.itemText(i) for i in range(self.selector.count())] != keys:
            current = self.selector.currentText()
            self.selector.blockSignals(True)
            self.selector.clear()
            self.selector.addItems(keys)
            if current in keys:
                self.selector.setCurrentText(current)
            self.selector.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the selected parameter's snapshots, oldest faintest."""
        key = self.selector.currentText()
        shots = [s for s in self.history if key in s.grads]
        for curves, pick in ((self.weight_curves, lambda s: s.weights.get(key)),
                             (self.grad_curves, lambda s: s.grads.get(key))):
            for i, curve in enumerate(curves):
                j = i - (len(curves) - len(shots))
                found = pick(shots[j]) if j >= 0 else None
                if found is None:
                    curve.setData([], [])
                    continue
                counts, edges = found
                alpha = int(40 + 215 * (j + 1) / len(shots))
                curve.setPen(pg.mkPen(31, 119, 180, alpha, width=2.5 if j == len(shots) - 1 else 1))
                curve.setData(edges, counts)
        if shots:
            last = shots[-1]
            self.caption.setText(f"{key} at step {last.step}: gradient RMS {last.grad_rms.get(key, 0):.3g}; "
                                 f"the {len(shots)} latest snapshots, older ones fainter.")
