"""Live training curves (pyqtgraph): loss per step, raw and smoothed; validation loss and metrics per
epoch; earlier runs kept as faded curves. Curves are created once and updated with setData.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QFileDialog, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from core.training import StepMetrics

from .flow_layout import FlowLayout

SMOOTHING = 0.9          # TensorBoard's exponential moving average weight, debiased
MAX_EARLIER_RUNS = 4
LOSS_PEN = pg.mkPen((31, 119, 180, 90), width=1)
SMOOTH_PEN = pg.mkPen((31, 119, 180), width=2)
VAL_PEN = pg.mkPen((214, 39, 40), width=2)
TEXT_COLOUR = "#1f2933"
AXIS_COLOUR = "#9aa5b1"
METRIC_COLOURS = [(44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]


def style_plot(plot: pg.PlotItem, title: str | None = None) -> None:
    """Dark text on the white background, a light grid."""
    plot.showGrid(x=True, y=True, alpha=0.25)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTextPen(TEXT_COLOUR)
        axis.setPen(AXIS_COLOUR)
    plot.setTitle(title or plot.titleLabel.text, color=TEXT_COLOUR, size="10pt")
    for name in ("left", "bottom", "top", "right"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.DeviceCoordinateCache)   # redraw text only on change


def legend(plot: pg.PlotItem) -> pg.LegendItem:
    """A legend in one row between the title and the plot area, so it never covers a curve (however short
    the plot) and is never wider than the plot; curves made with `name=` join it."""
    item = pg.LegendItem(labelTextColor=TEXT_COLOUR, colCount=4, verSpacing=-6, horSpacing=12)
    item.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)   # a narrow plot is never pushed aside
    plot.layout.removeItem(plot.getAxis("top"))           # hidden for good: the legend takes its cell
    plot.layout.addItem(item, 1, 1, Qt.AlignHCenter)
    plot.legend = item
    return item


class Column:
    """A growable float array (amortized doubling), so appending a point allocates rarely."""

    def __init__(self) -> None:
        self._data = np.empty(256)
        self.size = 0

    def append(self, value: float) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.empty(len(self._data))])
        self._data[self.size] = value
        self.size += 1

    @property
    def values(self) -> np.ndarray:
        """A view of the filled part."""
        return self._data[:self.size]


class RunSeries:
    """Every number of one run: per step and per epoch, plus the per-step metrics list for CSV."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.steps, self.loss, self.smooth = Column(), Column(), Column()
        self.epoch_steps, self.val_loss = Column(), Column()
        self.val_metrics: dict[str, Column] = {}
        self.records: list[StepMetrics] = []
        self._ema = 0.0

    def add(self, m: StepMetrics) -> None:
        self.records.append(m)
        self.steps.append(m.step)
        self.loss.append(m.loss)
        self._ema = SMOOTHING * self._ema + (1.0 - SMOOTHING) * m.loss
        self.smooth.append(self._ema / (1.0 - SMOOTHING ** len(self.records)))
        if m.val_loss is not None:
            self.epoch_steps.append(m.step)
            self.val_loss.append(m.val_loss)
            for name, value in (m.val_metrics or {}).items():
                self.val_metrics.setdefault(name, Column()).append(value)


class CurvesPanel(QWidget):
    """The loss plot above the metrics plot, with a log-scale toggle and PNG/CSV export."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.loss_plot = self.plots.addPlot(row=0, col=0, title="Loss")
        self.metric_plot = self.plots.addPlot(row=1, col=0, title="Validation metrics (per epoch)")
        self.metric_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.metric_plot):
            style_plot(plot)
            plot.setLabel("bottom", "step", color=TEXT_COLOUR)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
        self.loss_legend = legend(self.loss_plot)
        self.metric_legend = legend(self.metric_plot)
        self.raw_curve = self.loss_plot.plot(pen=LOSS_PEN, name="train (batch)")
        self.smooth_curve = self.loss_plot.plot(pen=SMOOTH_PEN, name="train (smoothed)")
        self.val_curve = self.loss_plot.plot(pen=VAL_PEN, symbol="o", symbolSize=5, symbolBrush=VAL_PEN.color(),
                                             name="validation")
        self.metric_curves: dict[str, pg.PlotDataItem] = {}
        self.earlier: list[tuple[RunSeries, list[pg.PlotDataItem]]] = []
        self.series: Optional[RunSeries] = None
        self._drawn_epochs = 0
        self._y_range: Optional[tuple[float, float]] = None
        self._y_shown: Optional[tuple[float, float]] = None
        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self.set_log_scale)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(lambda: self._ask_path("PNG image (*.png)", self.export_png))
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self._ask_path("CSV file (*.csv)", self.export_csv))
        self.forget_button = QPushButton("Forget earlier runs")
        self.forget_button.clicked.connect(self.forget_earlier)
        bar = FlowLayout()
        for widget in (self.log_box, self.png_button, self.csv_button, self.forget_button):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.plots, 1)
        self.side_by_side = False

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """A wide, low area (a dock under the canvas) puts the two plots side by side, not stacked
        into slivers; a tall one stacks them."""
        super().resizeEvent(event)
        wide = self.plots.width() > 1.6 * self.plots.height()
        if wide != self.side_by_side:
            self.side_by_side = wide
            self.plots.ci.removeItem(self.metric_plot)
            self.plots.ci.addItem(self.metric_plot, row=0 if wide else 1, col=1 if wide else 0)

    # ---- Public API

    def begin_run(self, label: str) -> None:
        """Fade the current run into the comparison curves and start empty curves for a new one."""
        if self.series is not None and self.series.records:
            self._archive(self.series)
        self.series = RunSeries(label)
        self._drawn_epochs = 0
        self._y_range = self._y_shown = None
        for curve in [self.raw_curve, self.smooth_curve, self.val_curve, *self.metric_curves.values()]:
            curve.setData([], [])

    def set_total_steps(self, total: int) -> None:
        """Fix the step axis to the run's length, so the axes are not redrawn on every delivery."""
        longest = max([total] + [int(s.steps.values[-1]) for s, _ in self.earlier if s.steps.size])
        self.loss_plot.setXRange(0, longest, padding=0.02)

    def add_metrics(self, items: list[StepMetrics]) -> None:
        """Append a burst of step metrics and redraw each curve once."""
        if self.series is None:
            self.begin_run("run 1")
        series = self.series
        low = high = None
        for m in items:
            series.add(m)
            if math.isfinite(m.loss):
                low = m.loss if low is None else min(low, m.loss)
                high = m.loss if high is None else max(high, m.loss)
        if low is not None:
            self._fit_loss_axis(low, high)
        self.raw_curve.setData(series.steps.values, series.loss.values, skipFiniteCheck=True)
        self.smooth_curve.setData(series.steps.values, series.smooth.values, skipFiniteCheck=True)
        if series.epoch_steps.size != self._drawn_epochs:      # the per-epoch curves change once an epoch
            self._drawn_epochs = series.epoch_steps.size
            self.val_curve.setData(series.epoch_steps.values, series.val_loss.values)
            for name, column in series.val_metrics.items():
                self._metric_curve(name).setData(series.epoch_steps.values, column.values)

    def set_log_scale(self, on: bool) -> None:
        """Show the loss on a log scale."""
        self.log_box.setChecked(on)
        self.loss_plot.setLogMode(x=False, y=on)
        if self._y_range is not None:
            low, high = self._y_range
            self._y_range = None
            self._fit_loss_axis(low, high)

    def forget_earlier(self) -> None:
        """Remove the faded curves of earlier runs."""
        for _, curves in self.earlier:
            for curve in curves:
                curve.getViewBox().removeItem(curve)
                for legend in (self.loss_legend, self.metric_legend):
                    legend.removeItem(curve)
        self.earlier.clear()

    def export_png(self, path: str | Path) -> None:
        """Save the plots as they look now."""
        self.plots.grab().save(str(path))

    def export_csv(self, path: str | Path) -> None:
        """Write one row per step of the current run (validation columns filled at epoch ends)."""
        records = self.series.records if self.series is not None else []
        train_names = sorted({k for m in records for k in m.metrics})
        val_names = sorted({k for m in records for k in (m.val_metrics or {})})
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "epoch", "batch", "lr", "loss", "loss_smoothed", *train_names,
                             "val_loss", *(f"val_{n}" for n in val_names)])
            for i, m in enumerate(records):
                val = [] if m.val_loss is None else [m.val_loss] + [m.val_metrics.get(n, "") for n in val_names]
                writer.writerow([m.step, m.epoch, m.batch, _num(m.lr), _num(m.loss),
                                 _num(self.series.smooth.values[i]), *(_num(m.metrics.get(n)) for n in train_names),
                                 *(val or [""] * (1 + len(val_names)))])

    # ---- Internals

    def _fit_loss_axis(self, low: float, high: float) -> None:
        """Widen the loss axis in coarse steps only when new points leave it (a loss >= 0 starts at 0;
        on a log scale, at a power of ten), so the axes seldom need redrawing."""
        if self._y_range is not None:
            low, high = min(low, self._y_range[0]), max(high, self._y_range[1])
            if (low, high) == self._y_range:
                return
        self._y_range = (low, high)
        if self.log_box.isChecked():
            positive = max(low, 1e-12)
            bottom, top = math.floor(math.log10(positive)), math.ceil(math.log10(max(high, positive * 10)))
        else:
            bottom = 0.0 if low >= 0 else low * 1.25
            top = high * 1.05 if high > 0 else 0.0
            if top <= bottom:
                top = bottom + 1.0
        if self._y_shown != (bottom, top):
            self._y_shown = (bottom, top)
            self.loss_plot.setYRange(bottom, top, padding=0)

    def _metric_curve(self, name: str) -> pg.PlotDataItem:
        curve = self.metric_curves.get(name)
        if curve is None:
            colour = METRIC_COLOURS[len(self.metric_curves) % len(METRIC_COLOURS)]
            curve = self.metric_plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                          symbolBrush=colour, name=f"validation {name}")
            self.metric_curves[name] = curve
        return curve

    def _archive(self, series: RunSeries) -> None:
        faded = pg.mkPen(120, 120, 120, 110, width=1.5, style=pg.QtCore.Qt.DashLine)
        curves = [self.loss_plot.plot(series.steps.values.copy(), series.smooth.values.copy(), pen=faded,
                                      name=f"{series.label} (earlier)")]
        for name, column in series.val_metrics.items():
            curves.append(self.metric_plot.plot(series.epoch_steps.values.copy(), column.values.copy(), pen=faded,
                                                name=f"{series.label}: {name}"))
        for curve in curves:
            curve.setZValue(-5)
        self.earlier.append((series, curves))
        while len(self.earlier) > MAX_EARLIER_RUNS:
            oldest, old_curves = self.earlier.pop(0)
            for curve in old_curves:
                curve.getViewBox().removeItem(curve)
                for legend in (self.loss_legend, self.metric_legend):
                    legend.removeItem(curve)

    def _ask_path(self, pattern: str, save) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", pattern)
        if path:
            save(path)


def _num(value: Optional[float]) -> str:
    """A number for CSV: repr precision, empty when missing."""
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(float(value)) else str(float(value))
