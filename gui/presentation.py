"""Presentation mode (F5): everything larger together for a room, and back exactly as it was.

Entering scales the canvas's nodes, strokes and text (theme.Scale), keeps the view's zoom so the graph
grows on screen, scales the panels' text (the style sheet) and the plots' fonts, axes, pens and markers,
and moves the training views beside the canvas, under the run's controls, at a good size. Leaving puts
the docks, the window geometry, the zoom and what the view was showing back as they were, and every
plot item back to its own sizes.
"""
from __future__ import annotations

from typing import Any, Optional

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QApplication, QDockWidget, QGraphicsSimpleTextItem, QGraphicsTextItem

from . import theme

PRESENTATION_SCALE = 1.5
VIEWS_SHARE = 0.42     # of the window's width for the curves and boundary while presenting ...
VIEWS_HEIGHT = 0.6     # ... and of its height, under the run's controls (their progress line still in view)
LESSON_SHARE = 0.28    # with a lesson open: of the width for its text (left) ...
RIGHT_SHARE = 0.24     # ... and for the Inspector/Training dock (right); the canvas keeps about half
BASE = "_loom_presentation_base"
RESCAN_MS = 1000       # plot items made while presenting (a new run's curves) are scaled within a second


def _font(font: Optional[QFont], factor: float) -> QFont:
    scaled = QFont(font) if font is not None else QFont()
    size = scaled.pointSizeF() if scaled.pointSizeF() > 0 else 9.0
    scaled.setPointSizeF(size * factor)
    return scaled


def _pen(pen: Any, factor: float) -> QPen:
    scaled = QPen(pg.mkPen(pen))
    scaled.setWidthF(max(1.0, scaled.widthF()) * factor)
    return scaled


def scale_plot_items(root, factor: float) -> None:
    """Scale every pyqtgraph item under the widget `root` from its own sizes by `factor` (1.0 restores).

    The items' sizes at factor 1 are kept on them, so scaling twice never compounds."""
    for view in root.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            _scale_item(item, factor)
        view.update()


def _scale_item(item, factor: float) -> None:
    if getattr(item, BASE + "_factor", 1.0) == factor:
        return                                     # already at this scale (or never scaled, at 1.0)
    base = getattr(item, BASE, None)
    if isinstance(item, pg.AxisItem):
        base = base or (item.style["tickFont"], QPen(item.pen()), item.label.font())
        item.setPen(_pen(base[1], factor))
        item.label.setFont(_font(base[2], factor))
        item.setStyle(tickFont=_font(base[0], factor))      # last: it re-measures the axis
    elif isinstance(item, pg.PlotDataItem):
        base = base or (item.opts.get("pen"), item.opts.get("symbolSize"))
        if base[0] is not None:
            item.setPen(_pen(base[0], factor))
        if base[1]:
            item.setSymbolSize(base[1] * factor)
    elif isinstance(item, pg.ScatterPlotItem) and not isinstance(item.parentItem(), pg.PlotDataItem):
        base = base or item.opts.get("size", 7)
        item.setSize(base * factor)
    elif isinstance(item, pg.LabelItem):
        base = base or item.opts.get("size") or "9pt"
        item.setText(item.text, size=f"{float(str(base).rstrip('pt')) * factor:g}pt")
    elif isinstance(item, (QGraphicsTextItem, QGraphicsSimpleTextItem)) and not isinstance(
            item.parentItem(), pg.AxisItem):
        base = base or item.font()
        item.setFont(_font(base, factor))
    else:
        return
    if factor == 1.0:
        for name in (BASE, BASE + "_factor"):
            if hasattr(item, name):
                delattr(item, name)
    else:
        setattr(item, BASE, base)
        setattr(item, BASE + "_factor", factor)


class Presentation:
    """F5's two states for one main window; `toggle(on)` switches between them."""

    def __init__(self, window) -> None:
        self.window = window
        self.saved: Optional[dict] = None
        self._rescan = QTimer(window, interval=RESCAN_MS)
        self._rescan.timeout.connect(lambda: scale_plot_items(self.window, theme.Scale.factor))

    @property
    def active(self) -> bool:
        return self.saved is not None

    def toggle(self, on: bool) -> None:
        if on and not self.active:
            self._enter()
        elif not on and self.active:
            self._leave()

    def _enter(self) -> None:
        window, view, scene = self.window, self.window.view, self.window.scene
        self.saved = {"state": window.saveState(), "geometry": window.geometry(),
                      "transform": view.transform(), "fitted": view._keep_fitted,
                      "centre": self._centre_in_model(), "left": self._left_in_model()}
        self._set_scale(PRESENTATION_SCALE)
        training = getattr(window, "training", None)
        window.palette_dock.hide()            # a room watches: palette and an empty Problems list go
        if not window.problems.tree.topLevelItemCount():   # until F5 again (the status bar says "valid")
            window.problems_dock.hide()
        lessons = getattr(getattr(window, "teaching", None), "lessons_dock", None)
        lesson_open = lessons is not None and lessons.isVisible()   # its text takes the left: the views stay
        if training is not None and not lesson_open:   # under the canvas (beside it, the canvas was a strip)
            views, panel = training.views_dock, training.panel_dock
            window.addDockWidget(Qt.RightDockWidgetArea, views, Qt.Vertical)
            views.show()
            panel.raise_()
            QApplication.processEvents()
            window.resizeDocks([panel], [round(VIEWS_SHARE * window.width())], Qt.Horizontal)
            window.resizeDocks([panel, views], [round((1 - VIEWS_HEIGHT) * window.height()),
                                                round(VIEWS_HEIGHT * window.height())], Qt.Vertical)
        elif training is not None:   # beside the lesson text the right dock keeps a readable width
            right = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
                     and window.dockWidgetArea(d) == Qt.RightDockWidgetArea]
            if right:
                QApplication.processEvents()
                window.resizeDocks([lessons, right[0]], [round(LESSON_SHARE * window.width()),
                                                         round(RIGHT_SHARE * window.width())], Qt.Horizontal)
        self._rescan.start()
        view.setTransform(self.saved["transform"])        # same zoom: the larger nodes are larger on screen
        view._keep_fitted = None
        QApplication.processEvents()                        # the docks take their new sizes first
        self._keep_left_edge(self.saved["left"])
        view.sig_zoom_changed.emit(view.zoom())

    def _leave(self) -> None:
        window, view, saved = self.window, self.window.view, self.saved
        self.saved = None
        self._rescan.stop()
        self._set_scale(1.0)
        if window.geometry() != saved["geometry"]:     # larger text may have made the window grow
            window.setGeometry(saved["geometry"])       # (restoreGeometry clamps to what it thinks the screen is)
        window.restoreState(saved["state"])
        view.setTransform(saved["transform"])
        self._centre_on_model(saved["centre"])
        view._keep_fitted = saved["fitted"]
        view.sig_zoom_changed.emit(view.zoom())

    def _set_scale(self, factor: float) -> None:
        window = self.window
        theme.Scale.factor = factor
        app = QApplication.instance()
        if app is not None:
            app.setStyleSheet(theme.stylesheet())
        window.scene.rebuild()
        window.toolbar.setIconSize(QSize(round(22 * factor), round(22 * factor)))
        scale_plot_items(window, factor)

    def _centre_in_model(self) -> QPointF:
        view = self.window.view
        return view.mapToScene(view.viewport().rect().center()) / self.window.scene.spread

    def _centre_on_model(self, point: QPointF) -> None:
        self.window.view.centerOn(point * self.window.scene.spread)

    def _left_in_model(self) -> QPointF:
        """The middle of the view's left edge, in model units: what was at the left stays in view."""
        view = self.window.view
        rect = view.viewport().rect()
        return view.mapToScene(rect.left(), rect.center().y()) / self.window.scene.spread

    def _keep_left_edge(self, point: QPointF) -> None:
        view = self.window.view
        half = view.viewport().width() / 2 / view.zoom()
        self._centre_on_model(point + QPointF(half / self.window.scene.spread, 0))
