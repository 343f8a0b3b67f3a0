"""For image classifiers (the digits): the confusion matrix on the validation set and a grid of the
validation samples the network gets wrong, each captioned "true → predicted".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel,
                               QVBoxLayout, QWidget)

from core.graph import Graph
from core.training import Run

from .boundary import probabilities_function, score_source
from .controller import Probe
from .curves import style_plot
from .dataset_preview import INK, image_side, mosaic

CHUNK = 1024
SHOWN = 24
COLS = 6


@dataclass(frozen=True)
class DigitsResult:
    """Confusion counts [true, predicted] and the first misclassified validation samples."""

    step: int
    confusion: np.ndarray
    mosaic: np.ndarray
    captions: list[str]
    side: tuple[int, int]
    accuracy: float


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs."""
    return np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)


class DigitsProbe(Probe):
    """Predicts the whole validation set and tabulates the confusion matrix."""

    name = "digits"
    interval = 2.0

    @staticmethod
    def applies(graph: Graph, config) -> bool:
        """Whether the features are images and something scores classes."""
        feature = graph.types().get((config.features, "y"))
        return (feature is not None and image_side(tuple(feature.shape[1:])) is not None
                and config.labels is not None and score_source(graph, config.labels, config.loss) is not None)

    def prepare(self, run: Run) -> None:
        self._side = image_side(run.data.feature_shape)
        if self._side is None or not run.data.num_classes:
            raise LookupError("the data are not class-labelled images")
        self._fn = probabilities_function(run)

    def compute(self, run: Run) -> DigitsResult:
        self._fn.set_weights(run.weights())
        x, y = run.data.x_val, run.data.y_val
        with np.errstate(all="ignore"):
            parts = [np.asarray(self._fn(x[i:i + CHUNK])[0]) for i in range(0, len(x), CHUNK)]
        probabilities = np.concatenate(parts)
        classes = max(run.data.num_classes, probabilities.shape[1])
        predicted = np.nan_to_num(probabilities).argmax(axis=1)
        wrong = np.flatnonzero(predicted != y)[:SHOWN]
        names = run.data.class_names or tuple(str(c) for c in range(classes))
        captions = [f"{_name(names, y[i])}→{_name(names, predicted[i])}" for i in wrong]
        tiles = mosaic(x[wrong], self._side, COLS, gap=2) if len(wrong) else np.zeros((1, 1), np.float32)
        return DigitsResult(run.step_count, confusion_matrix(y, predicted, classes), tiles, captions,
                            self._side, float(np.mean(predicted == y)))


def _name(names: tuple, k: int) -> str:
    return names[k] if 0 <= k < len(names) else str(k)


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
