"""A fused kernel drawn behind the nodes it covers: a translucent rounded rectangle with the kernel's name."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ... import theme
from .node_item import NodeItem

GROUP_COLOURS = ("#3182bd", "#31a354", "#e6550d", "#756bb1", "#d6616b", "#17becf", "#8c6d31", "#636363")


class KernelGroupItem(QGraphicsItem):
    """One kernel's outline. It follows its nodes (`update_rect`) and takes no clicks."""

    is_overlay = True   # the scene and view look through it for gestures

    def __init__(self, name: str, nodes: list[NodeItem], colour: QColor, inset: int = 0) -> None:
        super().__init__()
        self.name = name
        self.node_items = list(nodes)
        self.colour = QColor(colour)
        self.inset = inset            # how many earlier groups share a node: each one sits a little wider
        self._rect = QRectF()
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.NoButton)
        self.setAcceptHoverEvents(False)
        self.setToolTip(f"kernel {name}: " + ", ".join(i.node_id for i in self.node_items))
        self.update_rect()

    def node_ids(self) -> list[str]:
        return [item.node_id for item in self.node_items]

    def drop_node(self, node_id: str) -> None:
        """Forget a node that left the graph."""
        self.node_items = [i for i in self.node_items if i.node_id != node_id]
        self.update_rect()

    def rect(self) -> QRectF:
        """The outline, in scene coordinates."""
        return QRectF(self._rect)

    def update_rect(self) -> None:
        """Wrap the member nodes (after one of them moved)."""
        self.prepareGeometryChange()
        s = theme.Scale.factor
        rect = QRectF()
        for item in self.node_items:
            below = len(item.overlay_lines()) * item.line_h    # a value summary under the node counts too
            rect = rect.united(item.mapRectToScene(QRectF(0, 0, item.width, item.height + below)))
        if not rect.isNull():
            pad = (14.0 + 8.0 * self.inset) * s
            rect = rect.adjusted(-pad, -pad - self._title_height(), pad, pad)
        self._rect = rect
        self.update()

    def _title_height(self) -> float:
        return QFontMetricsF(theme.font(8.5, bold=True)).height() + 4.0 * theme.Scale.factor

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: Optional[QWidget] = None) -> None:
        if self._rect.isNull():
            return
        s = theme.Scale.factor
        painter.setRenderHint(QPainter.Antialiasing, True)
        fill = QColor(self.colour)
        fill.setAlpha(38)
        border = QColor(self.colour)
        border.setAlpha(170)
        painter.setPen(QPen(border, 1.5 * s, Qt.DashLine))
        painter.setBrush(fill)
        radius = 12.0 * s
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setFont(theme.font(8.5, bold=True))
        painter.setPen(self.colour.darker(130))
        title = QRectF(self._rect.left() + 10 * s, self._rect.top() + 2 * s,
                       self._rect.width() - 20 * s, self._title_height())
        text = QFontMetricsF(theme.font(8.5, bold=True)).elidedText(self.name, Qt.ElideRight, title.width())
        painter.drawText(title, Qt.AlignLeft | Qt.AlignVCenter, text)
