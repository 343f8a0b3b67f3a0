"""The decision boundary of a 2-D classifier as a heat map under its data (TensorFlow Playground's view).

`BoundaryProbe` (probes.py) evaluates the forward graph on a grid in the training process and paints
the RGBA image there; `BoundaryView` only shows it.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .curves import style_plot
from .dataset_preview import class_brushes
from .probes import BoundaryResult

class BoundaryView(QWidget):
    """The heat map with the training points on top; follows BoundaryProbe results."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        style_plot(self.plot.getPlotItem())
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.scatter = pg.ScatterPlotItem(size=6, pen=pg.mkPen(255, 255, 255, 200, width=0.8))
        self.plot.addItem(self.image)
        self.plot.addItem(self.scatter)
        self.caption = QLabel("Start training a 2-D classifier to watch its decision boundary form.")
        self.caption.setWordWrap(True)   # a long line would set the views dock's minimum width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self._points: Optional[np.ndarray] = None
        self.result: Optional[BoundaryResult] = None

    def show_result(self, result: BoundaryResult) -> None:
        """Draw a new boundary image (and the points, when they changed)."""
        first = self.result is None
        self.result = result
        self.image.setImage(result.image, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(*result.rect))
        if self._points is None or not np.array_equal(result.points, self._points):
            self._points = result.points
            self.scatter.setData(pos=result.points, brush=class_brushes(result.labels))
        if first:
            self.plot.autoRange(padding=0.0)
        self.caption.setText(f"Decision boundary after step {result.step}: colour = likeliest class, "
                             "paler = less sure.")

    def clear(self) -> None:
        """Forget the last run's picture."""
        self.result = None
        self._points = None
        self.image.clear()
        self.scatter.clear()
