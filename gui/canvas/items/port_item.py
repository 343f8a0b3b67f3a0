"""A port: the small circle on a node's side where wires start and end."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ... import theme

if TYPE_CHECKING:
    from .node_item import NodeItem


class PortItem(QGraphicsItem):
    """One input (left side) or output (right side) of a node; reports hover, never edits."""

    def __init__(self, node: "NodeItem", name: str, is_output: bool) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.is_output = is_output
        self.type_text = ""
        self.problem: Optional[str] = None
        self.highlight: Optional[QColor] = None
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        self.setFlag(QGraphicsItem.ItemHasNoContents, True)  # the node paints the dot; this only the highlight

    @property
    def node_id(self) -> str:
        return self.node.node_id

    @property
    def radius(self) -> float:
        return theme.Scale.px(5.5)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        r = self.radius + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def scene_anchor(self) -> QPointF:
        """Where a wire attaches, in scene coordinates."""
        return self.scenePos()

    def set_state(self, type_text: str, problem: Optional[str]) -> None:
        """Show the port's inferred type and its diagnostic (if any) in the tooltip and colour."""
        if (type_text, problem) == (self.type_text, self.problem):
            return
        self.type_text, self.problem = type_text, problem
        direction = "output" if self.is_output else "input"
        tip = f"{direction} '{self.name}'" + (f": {type_text}" if type_text else "")
        self.setToolTip(tip + (f"\n{problem}" if problem else ""))
        self.node.update()

    def set_highlight(self, colour: Optional[QColor]) -> None:
        self.highlight = colour
        self.setFlag(QGraphicsItem.ItemHasNoContents, colour is None)
        self.update()

    def fill_colour(self) -> QColor:
        return theme.ERROR if self.problem else theme.category_colour(self.node.category)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: Optional[QWidget] = None) -> None:
        if self.highlight is None:
            return
        r = self.radius
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(QPen(self.highlight, theme.Scale.px(2.5)))
        painter.setBrush(QBrush(self.highlight.lighter(160)))
        painter.drawEllipse(QPointF(0, 0), r + 2, r + 2)
        painter.setPen(QPen(QColor("#ffffff"), theme.Scale.px(1.5)))
        painter.setBrush(QBrush(self.fill_colour()))
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.set_highlight(QColor(theme.SELECTED))
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.set_highlight(None)
        super().hoverLeaveEvent(event)
