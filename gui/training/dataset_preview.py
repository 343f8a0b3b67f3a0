"""The data set preview: 2-D points as a scatter coloured by class, images (digits) as a grid of samples.

`preview_data` loads the set and prepares the arrays (in a background thread); `DatasetPreview` draws them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.training import load_dataset

from .probes import CLASS_COLOURS, image_side, mosaic

MAX_POINTS = 1500
GRID_ROWS, GRID_COLS = 5, 8
INK = np.repeat(np.linspace(255, 30, 256).astype(np.uint8)[:, None], 3, axis=1)  # 0 -> white paper, 1 -> ink


@dataclass(frozen=True)
class PreviewData:
    """What the preview shows: kind "points" (x, labels), "images" (a mosaic) or "text" only."""

    kind: str
    description: str
    points: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None
    mosaic: Optional[np.ndarray] = None



def preview_data(config: dict, base_dir: Optional[str] = None) -> PreviewData:
    """Load the data set `config` names and prepare its preview (call it off the UI thread)."""
    data = load_dataset(config, base_dir)
    if len(data.features()) > 1:            # several arrays for several Inputs: described, not drawn
        return PreviewData("text", data.description)
    if data.feature_shape == (2,) and data.num_classes:
        step = max(1, len(data.x_train) // MAX_POINTS)
        return PreviewData("points", data.description, data.x_train[::step], data.y_train[::step])
    side = image_side(data.feature_shape)
    if side is not None:
        return PreviewData("images", data.description,
                           mosaic=mosaic(data.x_train[:GRID_ROWS * GRID_COLS], side, GRID_COLS))
    return PreviewData("text", data.description)


def class_brushes(labels: np.ndarray, alpha: int = 220) -> list:
    """One brush per label, in the class colours."""
    brushes = [pg.mkBrush(*c, alpha) for c in CLASS_COLOURS]
    return [brushes[int(k) % len(brushes)] for k in labels]


class DatasetPreview(QWidget):
    """Shows a PreviewData: a scatter for 2-D points, a grid of images, or a line of text."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.stack = QStackedWidget(self)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setTextPen("#1f2933")
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.plot.addItem(self.scatter)
        self.images = pg.GraphicsLayoutWidget()
        self.images.setBackground("w")
        self.image_box = self.images.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(INK)
        self.image_box.addItem(self.image)
        self.text = QLabel("", wordWrap=True)
        for widget in (self.plot, self.images, self.text):
            self.stack.addWidget(widget)
        self.caption = QLabel("", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.caption)
        self.data: Optional[PreviewData] = None

    def show_preview(self, data: PreviewData) -> None:
        """Draw `data`."""
        self.data = data
        self.caption.setText(data.description)
        if data.kind == "points":
            self.scatter.setData(pos=data.points, brush=class_brushes(data.labels))
            self.plot.autoRange()
            self.stack.setCurrentWidget(self.plot)
        elif data.kind == "images":
            self.image.setImage(np.nan_to_num(data.mosaic, nan=0.0), levels=(0.0, 1.0))
            self.image_box.autoRange(padding=0.01)
            self.stack.setCurrentWidget(self.images)
        else:
            self.text.setText(data.description)
            self.stack.setCurrentWidget(self.text)

    def show_message(self, message: str) -> None:
        """Show why there is no preview (a data set that cannot be loaded)."""
        self.data = None
        self.caption.setText("")
        self.text.setText(message)
        self.stack.setCurrentWidget(self.text)
