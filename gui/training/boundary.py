"""The decision boundary of a 2-D classifier as a heat map under its data (TensorFlow Playground's view).

`BoundaryProbe` evaluates the forward graph on a grid in the worker thread and paints the RGBA image
there; `BoundaryView` only shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.compiler import compile
from core.graph import Graph
from core.training import Run

from .controller import Probe
from .curves import style_plot
from .dataset_preview import CLASS_COLOURS, class_brushes

GRID = 72
SCORE_PORTS = ("logits", "scores", "x")


def score_source(graph: Graph, labels: Optional[str], loss: str) -> Optional[tuple[str, str]]:
    """The (node, port) holding per-class scores: what the loss or a metric compares with the labels.

    Looks at the ops reading the labels Input for a (N, classes) float input; None when there is none.
    """
    types = graph.types()
    readers = [e.dst for e in graph.out_edges(labels)] if labels else []
    for node in [loss] + readers:
        for port in SCORE_PORTS:
            source = graph.source(node, port) if port in graph.in_edges(node) else None
            kind = types.get(source) if source else None
            if kind is not None and kind.is_float and len(kind.shape) == 2 and kind.shape[0] == "N":
                return source
    return None


def probabilities_function(run: Run):
    """Compile features -> class probabilities (a Softmax pinned on the score source of a graph copy)."""
    cfg = run.config
    source = score_source(run.graph, cfg.labels, cfg.loss)
    if source is None:
        raise LookupError("nothing in this graph scores classes")
    graph = run.graph.copy()
    pin = graph.add_node("Softmax", {"axis": -1}, node_id=graph.unique_id("loom_view_probabilities"))
    graph.connect(source[0], source[1], pin, "x")
    return compile(graph, [cfg.features], [pin], weights=run.weights(), training=False)


def paint_classes(probabilities: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An RGBA image: each pixel the colour of its likeliest class, paler the less sure the model is."""
    classes = probabilities.shape[1]
    best = probabilities.argmax(axis=1)
    confidence = (probabilities.max(axis=1) - 1.0 / classes) / (1.0 - 1.0 / classes)
    colours = np.array(CLASS_COLOURS, dtype=np.float32)[best % len(CLASS_COLOURS)]
    strength = 0.15 + 0.55 * np.clip(confidence, 0.0, 1.0)[:, None]
    rgb = 255.0 * (1.0 - strength) + colours * strength
    rgba = np.concatenate([rgb, np.full((len(rgb), 1), 255.0)], axis=1)
    return rgba.reshape(*shape, 4).astype(np.uint8)


@dataclass(frozen=True)
class BoundaryResult:
    """A painted grid over `rect` (x0, y0, width, height), the training points, and the step it shows."""

    image: np.ndarray
    rect: tuple[float, float, float, float]
    points: np.ndarray
    labels: np.ndarray
    step: int


class BoundaryProbe(Probe):
    """Evaluates the classifier's scores on a grid covering the training points."""

    name = "boundary"
    interval = 0.25

    def __init__(self, resolution: int = GRID) -> None:
        self.resolution = resolution
        self._fn = None

    @staticmethod
    def applies(graph: Graph, config) -> bool:
        """Whether the run's features are 2-D points and something scores classes."""
        feature = graph.types().get((config.features, "y"))
        return (feature is not None and tuple(feature.shape[1:]) == (2,)
                and score_source(graph, config.labels, config.loss) is not None)

    def prepare(self, run: Run) -> None:
        if tuple(run.data.feature_shape) != (2,):
            raise LookupError("the features are not 2-D points")
        self._fn = probabilities_function(run)
        x = run.data.x_train
        low, high = x.min(axis=0), x.max(axis=0)
        pad = 0.08 * (high - low) + 1e-6
        low, high = low - pad, high + pad
        n = self.resolution
        xs = np.linspace(low[0], high[0], n, dtype=np.float32)
        ys = np.linspace(low[1], high[1], n, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        self._grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        step = (high - low) / (n - 1)
        self._rect = (float(low[0] - step[0] / 2), float(low[1] - step[1] / 2),
                      float(high[0] - low[0] + step[0]), float(high[1] - low[1] + step[1]))

    def compute(self, run: Run) -> BoundaryResult:
        self._fn.set_weights(run.weights())
        with np.errstate(all="ignore"):
            probabilities = np.nan_to_num(np.asarray(self._fn(self._grid)[0], dtype=np.float64))
        image = paint_classes(probabilities, (self.resolution, self.resolution))
        return BoundaryResult(image, self._rect, run.data.x_train, run.data.y_train, run.step_count)


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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self._points_id: Optional[int] = None
        self.result: Optional[BoundaryResult] = None

    def show_result(self, result: BoundaryResult) -> None:
        """Draw a new boundary image (and the points, when they changed)."""
        first = self.result is None
        self.result = result
        self.image.setImage(result.image, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(*result.rect))
        if id(result.points) != self._points_id:
            self._points_id = id(result.points)
            self.scatter.setData(pos=result.points, brush=class_brushes(result.labels))
        if first:
            self.plot.autoRange(padding=0.0)
        self.caption.setText(f"Decision boundary after step {result.step}: colour = likeliest class, "
                             "paler = less sure.")

    def clear(self) -> None:
        """Forget the last run's picture."""
        self.result = None
        self._points_id = None
        self.image.clear()
        self.scatter.clear()
