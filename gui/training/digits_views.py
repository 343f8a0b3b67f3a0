"""For image classifiers (the digits): the confusion matrix on the validation set and a grid of the
validation samples the network gets wrong, each captioned "true → predicted".
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel,
                               QVBoxLayout, QWidget)

from .curves import style_plot
from .dataset_preview import INK
from .probes import DigitsResult

COLS = 6


class Label:
    """A text at a point of a plot that keeps its pixel size when zoomed; plain Qt items, cheap to make.

    `centred` labels are centred on their point, the others hang below-right of it.
    """

    def __init__(self, parent: QGraphicsItem, centred: bool, colour: str = "#1f2933", size: int = 8) -> None:
        self.anchor = QGraphicsRectItem(0, 0, 0, 0, parent)
        self.anchor.setPen(QColor(0, 0, 0, 0))
        self.anchor.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        self.text = QGraphicsSimpleTextItem("", self.anchor)
        font = QFont()
        font.setPointSize(size)
        self.text.setFont(font)
        self.centred = centred
        self.set_colour(colour)

    def set(self, x: float, y: float, text: str) -> None:
        self.anchor.setPos(x, y)
        self.text.setText(text)
        if self.centred:
            box = self.text.boundingRect()
            self.text.setPos(-box.width() / 2, -box.height() / 2)

    def set_colour(self, colour: str) -> None:
        self.text.setBrush(QBrush(QColor(colour)))


class DigitsView(QWidget):
    """The confusion matrix (counts written in the cells) beside the misclassified samples."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.matrix_plot = self.plots.addPlot(row=0, col=0, title="Confusion (rows: true, columns: predicted)")
        style_plot(self.matrix_plot)
        self.matrix_plot.showGrid(x=False, y=False)
        self.matrix_plot.invertY(True)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.setMenuEnabled(False)
        self.matrix = pg.ImageItem(axisOrder="row-major")
        self.matrix.setLookupTable(pg.colormap.get("CET-L12").getLookupTable(nPts=256))
        self.matrix_plot.addItem(self.matrix)
        self.wrong_box = self.plots.addViewBox(row=0, col=1, lockAspect=True, invertY=True, enableMouse=False)
        self.wrong = pg.ImageItem(axisOrder="row-major")
        self.wrong.setLookupTable(INK)
        self.wrong_box.addItem(self.wrong)
        self.cell_texts: list[Label] = []
        self.captions: list[Label] = []
        self.caption = QLabel("Train an image classifier (e.g. digits) to see what it confuses.")
        self.caption.setWordWrap(True)   # a long line would set the views dock's minimum width
        row = QHBoxLayout()
        row.addWidget(self.caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plots, 1)
        layout.addLayout(row)
        self.result: Optional[DigitsResult] = None

    def show_result(self, result: DigitsResult) -> None:
        """Draw a new confusion matrix and misclassified grid."""
        self.result = result
        counts = result.confusion
        shown = np.log1p(counts.astype(np.float64))
        self.matrix.setImage(shown, levels=(0.0, max(float(shown.max()), 1e-9)))
        n = counts.shape[0]
        while len(self.cell_texts) < n * n:
            self.cell_texts.append(Label(self.matrix, centred=True))
        for i in range(n):
            for j in range(n):
                label = self.cell_texts[i * n + j]
                value = int(counts[i, j])
                label.set(j + 0.5, i + 0.5, str(value) if value else "")
                label.set_colour("#ffffff" if shown[i, j] > 0.6 * shown.max() else "#1f2933")
        self.matrix_plot.getAxis("bottom").setTicks([[(k + 0.5, str(k)) for k in range(n)]])
        self.matrix_plot.getAxis("left").setTicks([[(k + 0.5, str(k)) for k in range(n)]])
        self.wrong.setImage(np.nan_to_num(result.mosaic, nan=0.0), levels=(0.0, 1.0))
        h, w = result.side
        while len(self.captions) < len(result.captions):
            self.captions.append(Label(self.wrong, centred=False, colour="#b42318", size=7))
        for k, label in enumerate(self.captions):
            r, c = divmod(k, COLS)
            label.set(c * (w + 2), r * (h + 2), result.captions[k] if k < len(result.captions) else "")
        self.wrong_box.autoRange(padding=0.02)
        self.caption.setText(f"Step {result.step}: validation accuracy {100 * result.accuracy:.1f} %; "
                             f"right: the first {len(result.captions)} misclassified samples, true→predicted.")
