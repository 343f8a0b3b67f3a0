"""The canvas view: zoom with the wheel, pan (middle drag or Space+drag), fit, drops, quick-add."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from core.graph.search import ops_accepting

from .. import theme
from .interactions import OP_MIME, PaletteDrop
from .items.node_item import node_text_px
from .quick_add import QuickAddPopup
from .scene import GraphScene

SCENE_EXTENT = 100_000.0
MIN_ZOOM, MAX_ZOOM = 0.08, 4.0
READABLE_PX = 9.0      # an opened graph is never shown with node text smaller than this on screen
MARGIN = 40.0


class GraphView(QGraphicsView):
    """Shows a GraphScene; turns wheel, pan, drop and quick-add gestures into view changes or nodes."""

    sig_zoom_changed = Signal(float)

    def __init__(self, scene: GraphScene, parent: Optional[QWidget] = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.quick_add = QuickAddPopup(self)
        self.quick_add.sig_chosen.connect(self._add_at_quick_pos)
        self._quick_pos = QPointF()
        self._quick_wire: Optional[tuple[str, str, bool, dict]] = None   # a dangling wire to connect
        scene.sig_wire_dropped.connect(self.open_wire_quick_add)
        self._pan_from: Optional[QPoint] = None
        self.context_actions: list = []  # QActions (None: separator) for the right-click menu
        self._space = False
        self._keep_fitted: Optional[bool] = None   # after a fit (its `readable`), until the user zooms or
                                                   # pans: a resize fits again

    # ---- Public API

    def zoom(self) -> float:
        return self.transform().m11()

    def text_px(self) -> float:
        """The on-screen size (pixels per em) of the node's body text at the current zoom."""
        return self.zoom() * node_text_px(self.logicalDpiY())

    def readable_zoom(self) -> float:
        """The smallest zoom at which node text is READABLE_PX tall on screen."""
        return READABLE_PX / node_text_px(self.logicalDpiY())

    def zoom_by(self, factor: float, anchor: Optional[QPoint] = None) -> None:
        """Scale the view by `factor` (within sane limits), keeping the point under `anchor` still."""
        self._keep_fitted = None
        factor = max(MIN_ZOOM / self.zoom(), min(MAX_ZOOM / self.zoom(), factor))
        if anchor is None:
            anchor = self.viewport().rect().center()
        fixed = self.mapToScene(anchor)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.scale(factor, factor)
        moved = self.mapFromScene(fixed)
        self.pan_by(anchor.x() - moved.x(), anchor.y() - moved.y())
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.sig_zoom_changed.emit(self.zoom())

    def fit_to_view(self, readable: bool = False) -> None:
        """Show every node, at most at 1:1; the view stays fitted while the window settles or is
        resized, until the user zooms or pans (a graph opened before the window shows fits its size).

        `readable` (opening a graph): never below the zoom where node text is READABLE_PX on screen;
        a graph too large for that shows its start (the leftmost column: the inputs) at that zoom.
        """
        rect = self.graph_scene.nodes_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
        else:
            self.fitInView(rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN), Qt.KeepAspectRatio)
            if self.zoom() > 1.0:
                self.resetTransform()
                self.centerOn(rect.center())
            elif readable and self.zoom() < self.readable_zoom():
                self._show_start(rect, min(1.0, self.readable_zoom()))
            elif self.zoom() < MIN_ZOOM:
                self.zoom_by(MIN_ZOOM / self.zoom())
        self._keep_fitted = readable
        self.sig_zoom_changed.emit(self.zoom())

    def _show_start(self, rect: QRectF, zoom: float) -> None:
        """At `zoom`, the graph's left edge a margin from the view's, centred on the leftmost nodes."""
        self.resetTransform()
        self.scale(zoom, zoom)
        first = QRectF()
        for item in self.graph_scene.nodes.values():
            box = item.sceneBoundingRect()
            if box.left() < rect.left() + box.width():
                first = first.united(box)
        visible = self.viewport().width() / zoom
        centre_y = first.center().y() if rect.height() * zoom > self.viewport().height() else rect.center().y()
        self.centerOn(rect.left() - MARGIN / zoom + visible / 2, centre_y)

    def reset_zoom(self) -> None:
        """Back to 1:1 around the current centre."""
        centre = self.mapToScene(self.viewport().rect().center())
        self._keep_fitted = None
        self.resetTransform()
        self.centerOn(centre)
        self.sig_zoom_changed.emit(self.zoom())

    def center_on_node(self, node_id: str) -> None:
        item = self.graph_scene.nodes.get(node_id)
        if item is not None:
            self.graph_scene.select_nodes([node_id])
            self.centerOn(item.sceneBoundingRect().center())

    def open_quick_add(self, view_pos: Optional[QPoint] = None) -> None:
        """Open the quick-add popup at the cursor; the chosen op lands where the cursor was."""
        if view_pos is None:
            view_pos = self.mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(view_pos):
                view_pos = self.viewport().rect().center()
        self._quick_pos = self.mapToScene(view_pos)
        self._quick_wire = None
        self.quick_add.popup(self.viewport().mapToGlobal(view_pos))

    def open_wire_quick_add(self, node: str, port: str, is_output: bool, scene_pos: QPointF) -> None:
        """Quick-add at a wire let go on empty canvas, listing only ops that can take it; the chosen
        node comes wired (one undo step)."""
        accepted = ops_accepting(self.graph_scene.graph, node, port, is_output)
        if not accepted:
            self.graph_scene.sig_status.emit(f"No op can take the wire from {node}.{port}")
            return
        self._quick_pos = scene_pos
        self._quick_wire = (node, port, is_output, accepted)
        where = "fed by" if is_output else "feeding"
        self.quick_add.popup(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)), set(accepted),
                             hint=f"Add a node {where} {node}.{port}…")

    def drop_op(self, op: str, scene_pos: QPointF) -> Optional[str]:
        """Add a node of `op` at `scene_pos` through PaletteDrop; returns its id."""
        return PaletteDrop(self.graph_scene).drop(op, scene_pos)

    def _add_at_quick_pos(self, op: str) -> None:
        wire, self._quick_wire = self._quick_wire, None
        if wire is None or op not in wire[3]:
            self.drop_op(op, self._quick_pos)
        else:
            PaletteDrop(self.graph_scene).drop_wired(op, self._quick_pos, *wire[:3], wire[3][op])
        self.setFocus()

    # ---- Painting

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._keep_fitted is not None:
            self.fit_to_view(self._keep_fitted)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt override)
        painter.fillRect(rect, theme.CANVAS_BG)
        grid = theme.GRID
        if self.zoom() < 0.5:
            grid *= 5
        left = int(rect.left() // grid) * grid
        top = int(rect.top() // grid) * grid
        lines_minor, lines_major = [], []
        x = left
        while x < rect.right():
            (lines_major if round(x / grid) % 5 == 0 else lines_minor).append(
                (QPointF(x, rect.top()), QPointF(x, rect.bottom())))
            x += grid
        y = top
        while y < rect.bottom():
            (lines_major if round(y / grid) % 5 == 0 else lines_minor).append(
                (QPointF(rect.left(), y), QPointF(rect.right(), y)))
            y += grid
        for colour, lines in ((theme.GRID_MINOR, lines_minor), (theme.GRID_MAJOR, lines_major)):
            pen = QPen(colour, 0)
            painter.setPen(pen)
            for a, b in lines:
                painter.drawLine(a, b)

    # ---- Qt events

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, event.position().toPoint())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key_Tab:
            self.open_quick_add()
            return
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        if event.key() == Qt.Key_Escape:
            self.graph_scene.cancel_interaction()
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 (Qt override)
        return False  # Tab opens quick-add instead of moving the focus

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view content by (dx, dy) screen pixels."""
        self._keep_fitted = None
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(dy))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.LeftButton and self._item_at(event.position().toPoint()) is None:
            self.open_quick_add(event.position().toPoint())
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.context_actions:
            super().contextMenuEvent(event)
            return
        item = self._item_at(event.pos())
        node = getattr(item, "node", item)
        if node is not None and hasattr(node, "node_id") and not node.isSelected():
            self.graph_scene.select_nodes([node.node_id])
        self._quick_pos = self.mapToScene(event.pos())
        menu = QMenu(self)
        for action in self.context_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.exec(event.globalPos())

    def _item_at(self, pos: QPoint):
        """The topmost item under `pos`, looking through overlay outlines (fused kernels)."""
        for item in self.items(pos):
            if not getattr(item, "is_overlay", False):
                return item
        return None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasFormat(OP_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasFormat(OP_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not event.mimeData().hasFormat(OP_MIME):
            super().dropEvent(event)
            return
        op = bytes(event.mimeData().data(OP_MIME)).decode("utf-8", "replace")
        self.drop_op(op, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()
