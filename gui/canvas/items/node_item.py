"""A node on the canvas: a title coloured by category, named ports, a short summary of attributes.

Overlays set by live training (a culprit halo and badge, a value summary under the node) are
presentation only: the scene sets them, the node paints them and adds them to its tooltip.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from core.graph import Graph
from core.graph.arrange import BOTTOM_PAD, LINE_H, MAX_SUMMARY_LINES, NODE_WIDTH, OP_H, ROW_H, TITLE_H

from ... import theme
from .port_item import PortItem

if TYPE_CHECKING:
    from .edge_item import EdgeItem

MAX_OVERLAY_LINES = 2
CULPRIT = QColor("#e8590c")
SUMMARY_PT = 7.5
PORT_PT = 8.5          # the body text (port names): the size readability is judged by
NAME_PT = 10.0
VALUE_PT = 9.0          # the values under a node are read from the back of a lecture hall
BIG_LABEL_PX = 12.0    # zoomed out below readable text, the name alone is drawn about this tall on screen
DETAIL_PX = 6.0        # ... that is, once the body text would be smaller than this on screen


def node_text_px(dpi: float) -> float:
    """Pixels per em of a node's body text at zoom 1 on a screen of `dpi` (presentation scale included)."""
    return PORT_PT * theme.Scale.factor * dpi / 72.0


def format_value(value: Any) -> str:
    """An attribute value as a user reads it: (N, 64), 0.1, tanh; None (all axes) as "all"."""
    if value is None:
        return "all"
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        text = str(value)
        return text if len(text) <= 16 else text[:14] + "…]"
    return str(value)


class NodeItem(QGraphicsItem):
    """One graph node. It paints itself and reports moves; the scene turns gestures into commands."""

    def __init__(self, graph: Graph, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.edges: set["EdgeItem"] = set()
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.problems: list[str] = []
        self.severity: Optional[str] = None
        self.culprit: Optional[str] = None      # the message when live training blames this node
        self.value_summary = ""                 # what the node computed on one batch (tooltip + lines)
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.sync(graph)

    # ---- Public API

    def sync(self, graph: Graph) -> None:
        """Read op, attributes and ports from the graph (after an attribute changed)."""
        spec = graph.spec(self.node_id)
        self.op = spec.name
        self.category = spec.category
        self.doc = spec.doc
        self.role = graph.role(self.node_id)
        self.attrs = graph.attrs(self.node_id)
        self.from_layer = bool(graph.ui(self.node_id).get("layer"))
        origin = graph.ui(self.node_id).get("grad_of")     # the forward node a gradient node came from
        self.op_label = spec.name + (f" · {self.role}" if self.role else "") + \
            (f" of {origin}" if self.role == "grad" and isinstance(origin, str) else "") + \
            (" · from layer" if self.from_layer else "")
        in_names = spec.input_names(self.attrs)
        out_names = spec.output_names()
        if tuple(self.inputs) != in_names or tuple(self.outputs) != out_names:
            for port in list(self.inputs.values()) + list(self.outputs.values()):
                port.setParentItem(None)
                if port.scene():
                    port.scene().removeItem(port)
            self.inputs = {name: PortItem(self, name, False) for name in in_names}
            self.outputs = {name: PortItem(self, name, True) for name in out_names}
        self.prepareGeometryChange()
        self._layout()
        self._update_tooltip()
        self.update()

    def port(self, name: str, is_output: bool) -> Optional[PortItem]:
        return (self.outputs if is_output else self.inputs).get(name)

    def set_problems(self, problems: list[tuple[str, str]]) -> None:
        """Mark the node with its diagnostics: [(severity, message)]."""
        severity = "error" if any(s == "error" for s, _ in problems) else \
            ("warning" if problems else None)
        messages = [m for _, m in problems]
        if messages == self.problems and severity == self.severity:
            return
        self.problems, self.severity = messages, severity
        self._update_tooltip()
        self.update()

    def set_culprit(self, message: Optional[str]) -> None:
        """Paint the node as the culprit of a failure (None: back to normal); `message` goes in the tooltip."""
        if message == self.culprit:
            return
        self.prepareGeometryChange()
        self.culprit = message
        self.setZValue(2 if message is not None else 1)   # the badge stays above the neighbours
        self._update_tooltip()
        self.update()

    def set_value_summary(self, text: str) -> None:
        """Show what the node computed (tooltip and up to two small lines under the node); "" clears."""
        text = text or ""
        if text == self.value_summary:
            return
        self.prepareGeometryChange()
        self.value_summary = text
        self._update_tooltip()
        self.update()

    def overlay_lines(self) -> list[str]:
        """The summary lines painted under the node: the last two (the first repeats the node's type)."""
        lines = [line for line in self.value_summary.splitlines() if line.strip()]
        return lines[-MAX_OVERLAY_LINES:] if len(lines) > MAX_OVERLAY_LINES else lines

    def refresh_types(self, types: dict) -> None:
        """Show the inferred output types next to the output ports."""
        for name, port in self.outputs.items():
            t = types.get((self.node_id, name))
            text = format_value(tuple(t.shape)) if t is not None else ""
            if text != port.type_text:
                port.set_state(text, port.problem)
                self.update()

    # ---- Geometry

    def _layout(self) -> None:
        s = theme.Scale.factor
        self.width = NODE_WIDTH * s
        self.title_h = TITLE_H * s
        self.op_h = OP_H * s
        self.row_h = ROW_H * s
        self.line_h = LINE_H * s
        rows = max(len(self.inputs), len(self.outputs), 1)
        self.summary = self._summary_lines()
        self.height = self.title_h + self.op_h + rows * self.row_h + len(self.summary) * self.line_h + BOTTOM_PAD * s
        top = self.title_h + self.op_h
        for i, port in enumerate(self.inputs.values()):
            port.setPos(0.0, top + (i + 0.5) * self.row_h)
        for i, port in enumerate(self.outputs.values()):
            port.setPos(self.width, top + (i + 0.5) * self.row_h)

    def _summary_lines(self) -> list[str]:
        metrics = QFontMetricsF(theme.font(SUMMARY_PT))
        room = (NODE_WIDTH - 16.0) * theme.Scale.factor
        chunks = [f"{k} {format_value(v)}" for k, v in self.attrs.items()]
        lines: list[str] = []
        for chunk in chunks:
            if lines and metrics.horizontalAdvance(lines[-1] + " · " + chunk) <= room:
                lines[-1] += " · " + chunk
            elif len(lines) < MAX_SUMMARY_LINES:
                lines.append(chunk)
            else:
                lines[-1] += " · " + chunk
        return [metrics.elidedText(line, Qt.ElideRight, room) for line in lines]

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        s = theme.Scale.factor
        m = (12.0 if self.culprit is not None else 3.0) * s
        rect = QRectF(-m, -m, self.width + 2 * m, self.height + 2 * m + len(self.overlay_lines()) * self.line_h)
        if self.culprit is not None:
            rect = rect.united(self._badge_rect().adjusted(-2 * s, -2 * s, 2 * s, 0))
        return rect

    def _badge_text(self) -> str:
        return "⚠ " + ((self.culprit or "").splitlines() or ["the failure starts here"])[0]

    def _badge_rect(self) -> QRectF:
        """The culprit badge above the node: as wide as its text, up to twice the node, centred."""
        s = theme.Scale.factor
        wide = QFontMetricsF(theme.font(8.0, bold=True)).horizontalAdvance(self._badge_text()) + 16 * s
        width = min(max(wide, self.width * 0.6), self.width * 2)
        return QRectF((self.width - width) / 2, -24.0 * s, width, 19.0 * s)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, self.width, self.height), 6, 6)
        return path

    # ---- Painting

    def title_colour(self) -> QColor:
        if self.role in theme.ROLE_COLOURS:
            return QColor(theme.ROLE_COLOURS[self.role])
        return theme.category_colour(self.category)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: Optional[QWidget] = None) -> None:
        s = theme.Scale.factor
        rect = QRectF(0, 0, self.width, self.height)
        radius = 6.0 * s
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if self.culprit is not None:
            self._paint_halo(painter, rect, radius, s)
        border = theme.SELECTED if self.isSelected() else \
            theme.ERROR if self.severity == "error" else \
            theme.WARNING if self.severity == "warning" else theme.NODE_BORDER
        width = (2.8 if self.isSelected() or self.severity else 1.2) * s
        painter.setRenderHint(QPainter.Antialiasing, lod > 0.3)
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(theme.NODE_BG if self.severity != "error" else QColor("#fff5f5")))
        painter.drawRoundedRect(rect, radius, radius)
        title = QPainterPath()
        title.setFillRule(Qt.WindingFill)
        title.addRoundedRect(QRectF(0, 0, self.width, self.title_h), radius, radius)
        title.addRect(QRectF(0, self.title_h / 2, self.width, self.title_h / 2))
        painter.fillPath(title.simplified(), self.title_colour())
        if lod * node_text_px(painter.device().logicalDpiY()) < DETAIL_PX:
            self._paint_big_name(painter, lod)
            return
        self._paint_dots(painter, s)
        self._paint_title(painter, s)
        painter.setFont(theme.font(8.0, italic=True))
        painter.setPen(theme.MUTED)
        painter.drawText(QRectF(8 * s, self.title_h, self.width - 16 * s, self.op_h),
                         Qt.AlignLeft | Qt.AlignVCenter, self.op_label)
        self._paint_ports(painter, s)
        painter.setFont(theme.font(SUMMARY_PT))
        painter.setPen(theme.MUTED)
        y = self.height - 3 * s - len(self.summary) * self.line_h
        for line in self.summary:
            painter.drawText(QRectF(8 * s, y, self.width - 16 * s, self.line_h),
                             Qt.AlignLeft | Qt.AlignVCenter, line)
            y += self.line_h
        self._paint_overlays(painter, s)

    def _paint_big_name(self, painter: QPainter, lod: float) -> None:
        """Zoomed out: the node's name in one label as large as the node allows (BIG_LABEL_PX on screen)."""
        font = QFont(theme.font(NAME_PT, bold=True))
        size = min(BIG_LABEL_PX / max(lod, 1e-3), self.height * 0.42)
        font.setPixelSize(max(1, round(size)))
        room = self.width - 8 * theme.Scale.factor
        wide = QFontMetricsF(font).horizontalAdvance(self.node_id)
        if wide > room:                              # a long name: smaller, down to 60 %, then elided
            font.setPixelSize(max(1, round(size * max(0.6, room / wide))))
        painter.setFont(font)
        painter.setPen(theme.TEXT)
        body = QRectF(0, self.title_h, self.width, self.height - self.title_h)
        painter.drawText(body, Qt.AlignCenter, QFontMetricsF(font).elidedText(self.node_id, Qt.ElideRight, room))

    def _paint_halo(self, painter: QPainter, rect: QRectF, radius: float, s: float) -> None:
        """A glow of widening translucent strokes around the culprit."""
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        for width, alpha in ((20.0, 40), (13.0, 70), (7.0, 150)):
            colour = QColor(CULPRIT)
            colour.setAlpha(alpha)
            painter.setPen(QPen(colour, width * s))
            painter.drawRoundedRect(rect, radius, radius)

    def _paint_overlays(self, painter: QPainter, s: float) -> None:
        """The culprit badge above the node and the value summary under it."""
        if self.culprit is not None:
            badge = self._badge_rect()
            painter.setPen(Qt.NoPen)
            painter.setBrush(CULPRIT)
            painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
            painter.setFont(theme.font(8.0, bold=True))
            painter.setPen(QColor("#ffffff"))
            text = QFontMetricsF(theme.font(8.0, bold=True)).elidedText(
                self._badge_text(), Qt.ElideRight, badge.width() - 12 * s)
            painter.drawText(badge.adjusted(6 * s, 0, -6 * s, 0), Qt.AlignCenter, text)
        lines = self.overlay_lines()
        if lines:
            painter.setFont(theme.font(VALUE_PT, bold=True))
            painter.setPen(theme.TEXT)
            metrics = QFontMetricsF(theme.font(VALUE_PT, bold=True))
            y = self.height + 2 * s
            for line in lines:
                text = metrics.elidedText(line, Qt.ElideRight, self.width)
                painter.drawText(QRectF(0, y, self.width, self.line_h), Qt.AlignLeft | Qt.AlignVCenter, text)
                y += self.line_h

    def _paint_title(self, painter: QPainter, s: float) -> None:
        pad = 8.0 * s
        badge = 18.0 * s if self.severity else 0.0
        id_font = theme.font(NAME_PT, bold=True)
        room = self.width - 2 * pad - badge
        name = QFontMetricsF(id_font).elidedText(self.node_id, Qt.ElideRight, room)
        painter.setFont(id_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(pad, 0, room, self.title_h), Qt.AlignLeft | Qt.AlignVCenter, name)
        if self.severity:
            r = 7.0 * s
            centre = QPointF(self.width - pad - r + 2 * s, self.title_h / 2)
            painter.setPen(QPen(QColor("#ffffff"), 1.5 * s))
            painter.setBrush(theme.ERROR if self.severity == "error" else theme.WARNING)
            painter.drawEllipse(centre, r, r)
            painter.setFont(theme.font(8.0, bold=True))
            painter.drawText(QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r), Qt.AlignCenter, "!")

    def _paint_dots(self, painter: QPainter, s: float) -> None:
        painter.setPen(QPen(QColor("#ffffff"), 1.5 * s))
        for port in list(self.inputs.values()) + list(self.outputs.values()):
            painter.setBrush(port.fill_colour())
            painter.drawEllipse(port.pos(), port.radius, port.radius)

    def _paint_ports(self, painter: QPainter, s: float) -> None:
        port_font = theme.font(PORT_PT)
        metrics = QFontMetricsF(port_font)
        painter.setFont(port_font)
        half = self.width / 2 - 10 * s
        for port in self.inputs.values():
            y = port.pos().y() - self.row_h / 2
            painter.setPen(theme.ERROR if port.problem else theme.TEXT)
            text = metrics.elidedText(port.name, Qt.ElideRight, half)
            painter.drawText(QRectF(10 * s, y, half, self.row_h), Qt.AlignLeft | Qt.AlignVCenter, text)
        for port in self.outputs.values():
            y = port.pos().y() - self.row_h / 2
            name_w = metrics.horizontalAdvance(port.name)
            painter.setPen(theme.TEXT)
            painter.drawText(QRectF(self.width - 10 * s - name_w, y, name_w, self.row_h),
                             Qt.AlignRight | Qt.AlignVCenter, port.name)
            if port.type_text:
                left = self.width * 0.36 if self.inputs else 10 * s
                room = self.width - 10 * s - name_w - 6 * s - left
                painter.setPen(theme.MUTED)
                text = metrics.elidedText(port.type_text, Qt.ElideLeft, room)
                painter.drawText(QRectF(left, y, room, self.row_h), Qt.AlignRight | Qt.AlignVCenter, text)

    def _update_tooltip(self) -> None:
        lines = [f"⚠ {self.culprit}"] if self.culprit else []
        lines += [f"{self.node_id}: {self.op}", self.doc]
        if self.from_layer:
            lines.append("(part of an expanded layer: Graph ▸ Collapse layer puts it back)")
        lines += [f"⚠ {m}" for m in self.problems]
        if self.value_summary:
            lines += ["", self.value_summary]
        self.setToolTip("\n".join(line for line in lines if line))

    # ---- Qt events

    def itemChange(self, change, value):  # noqa: N802 (Qt override)
        if change == QGraphicsItem.ItemPositionChange and self.scene() is not None \
                and getattr(self.scene(), "snap_to_grid", False) \
                and getattr(self.scene(), "dragging_nodes", False):
            grid = theme.GRID
            return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)
        if change == QGraphicsItem.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
            moved = getattr(self.scene(), "node_moved", None)
            if moved is not None:
                moved(self.node_id)
        return super().itemChange(change, value)
