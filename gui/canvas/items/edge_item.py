"""A wire between two ports: a curve with the inferred shape written at its middle.

Live training may tint and thicken it by the gradient flowing through it (`set_overlay`).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen,
                           QStaticText)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from core.graph import Edge

from ... import theme
from .port_item import PortItem


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve from an output (left) to an input (right)."""
    path = QPainterPath(start)
    dx = max(abs(end.x() - start.x()) * 0.5, 50.0 * theme.Scale.factor)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
    """One graph edge; selectable (to delete it), labelled with its shape, red when refused."""

    def __init__(self, edge: Edge, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.label = ""
        self.problem: Optional[str] = None
        self.overlay_pen: Optional[QPen] = None   # the gradient overlay's pen, None when off
        self.overlay_text = ""
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setZValue(0)
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._label_text = QStaticText()
        source.node.edges.add(self)
        target.node.edges.add(self)
        self.update_path()

    def detach(self) -> None:
        """Forget the nodes (the edge is leaving the scene)."""
        self.source.node.edges.discard(self)
        self.target.node.edges.discard(self)

    def set_label(self, label: str, problem: Optional[str] = None) -> None:
        """Show the shape flowing along the wire (and mark it when its input has a problem)."""
        if (label, problem) == (self.label, self.problem):
            return
        self.label, self.problem = label, problem
        self._update_tooltip()
        self.update_path()

    def set_overlay(self, colour: Optional[QColor], width: float = 0.0, text: str = "") -> None:
        """Paint the wire in `colour`, `width` pixels wide (None: back to normal); `text` joins the tooltip."""
        self.overlay_pen = None if colour is None else QPen(colour, width * theme.Scale.factor, Qt.SolidLine,
                                                            Qt.RoundCap)
        self.overlay_text = text if colour is not None else ""
        self._update_tooltip()
        self.update_path()

    def _update_tooltip(self) -> None:
        self.setToolTip(f"{self.edge.src}.{self.edge.src_port} → {self.edge.dst}.{self.edge.dst_port}"
                        + (f"\n{self.label}" if self.label else "") + (f"\n{self.problem}" if self.problem else "")
                        + (f"\n{self.overlay_text}" if self.overlay_text else ""))

    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(self.source.scene_anchor(), self.target.scene_anchor())
        if self.label:
            metrics = QFontMetricsF(theme.font(8.0))
            w = metrics.horizontalAdvance(self.label) + 12 * theme.Scale.factor
            h = metrics.height() + 4 * theme.Scale.factor
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
            self._label_text = QStaticText(self.label)
            self._label_text.prepare(font=theme.font(8.0))
        else:
            self._label_rect = QRectF()
        pad = 6.0 * theme.Scale.factor
        if self.overlay_pen is not None:
            pad = max(pad, self.overlay_pen.widthF() / 2 + 2.0)
        self._bounds = self._path.boundingRect().adjusted(-pad, -pad, pad, pad).united(self._label_rect)
        self.update()

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10.0 * theme.Scale.factor)
        path = stroker.createStroke(self._path)
        if not self._label_rect.isNull():
            path.addRect(self._label_rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: Optional[QWidget] = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.Antialiasing, lod > 0.3)
        state = "selected" if self.isSelected() else "problem" if self.problem else "normal"
        pen, label_pen = _pens(state)
        if state == "normal" and self.overlay_pen is not None:
            pen = self.overlay_pen
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._path)
        if not self.label or lod * theme.Scale.factor < 0.3:
            return
        s = theme.Scale.factor
        painter.setPen(label_pen)
        painter.setBrush(theme.EDGE_LABEL_BG)
        painter.drawRoundedRect(self._label_rect, 4 * s, 4 * s)
        painter.setFont(theme.font(8.0))
        painter.setPen(theme.TEXT)
        size = self._label_text.size()
        painter.drawStaticText(QPointF(self._label_rect.center().x() - size.width() / 2,
                                       self._label_rect.center().y() - size.height() / 2), self._label_text)


_PENS: dict[tuple, tuple[QPen, QPen]] = {}


def _pens(state: str) -> tuple[QPen, QPen]:
    """The wire and label pens for a state, made once per presentation scale."""
    key = (state, theme.Scale.factor)
    if key not in _PENS:
        colour = {"selected": theme.SELECTED, "problem": theme.ERROR}.get(state, theme.EDGE)
        width = (3.0 if state == "selected" else 1.8) * theme.Scale.factor
        _PENS[key] = (QPen(colour, width), QPen(QColor(colour).lighter(130), 1.0 * theme.Scale.factor))
    return _PENS[key]
