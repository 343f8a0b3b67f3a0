"""Gestures on the canvas, each a small class with start / update / finish / cancel.

EdgeDrag draws a wire from a port and asks the graph whether it may land; RubberBandSelect
selects what a dragged rectangle covers; PaletteDrop turns a dropped op into a new node.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from core.graph import Edge, GraphError
from core.graph.naming import new_node_name

from .. import theme
from .commands import AddNodeCommand, ConnectCommand, DisconnectCommand
from .edits import macro
from .items.edge_item import wire_path
from .items.port_item import PortItem
from .naming import check_named_wire, connect_named

if TYPE_CHECKING:
    from .scene import GraphScene

OP_MIME = "application/x-loom-op"


class Interaction:
    """A gesture in progress on a scene; the scene forwards mouse moves and the release."""

    def __init__(self, scene: "GraphScene") -> None:
        self.scene = scene

    def start(self, pos: QPointF) -> None:
        """Begin at scene position `pos`."""

    def update(self, pos: QPointF) -> None:
        """Follow the mouse."""

    def finish(self, pos: QPointF) -> None:
        """Complete the gesture (push its command, if any)."""
        self.cancel()

    def cancel(self) -> None:
        """Abandon the gesture, leaving the model untouched."""


class EdgeDrag(Interaction):
    """Drag a wire from a port; a refused connection shows its reason and is not made.

    Starting on an input that is already fed picks that wire up (`detach`): dropping it on
    another input moves it, dropping it on empty canvas removes it, both as one undo step. A new
    wire let go over empty canvas asks for a node to take it (the scene's `sig_wire_dropped`).
    """

    def __init__(self, scene: "GraphScene", port: PortItem, detach: Optional[Edge] = None) -> None:
        super().__init__(scene)
        self.port = port
        self.detach = detach
        self.check_graph = scene.graph
        if detach is not None:
            self.check_graph = scene.graph.copy()
            self.check_graph.disconnect(detach)
        self.target: Optional[PortItem] = None
        self.ok = False
        self.reason = ""
        self.wire = QGraphicsPathItem()
        self.wire.setZValue(5)
        self.note = QGraphicsSimpleTextItem()
        self.note.setZValue(6)
        self.note.setFont(theme.font(9.0, bold=True))

    def start(self, pos: QPointF) -> None:
        self.scene.addItem(self.wire)
        self.scene.addItem(self.note)
        self.update(pos)

    def edge_to(self, other: PortItem) -> Optional[Edge]:
        """The edge this drag would make ending on `other` (None for a port of the same side)."""
        if other.is_output == self.port.is_output:
            return None
        out, inp = (self.port, other) if self.port.is_output else (other, self.port)
        return Edge(out.node_id, out.name, inp.node_id, inp.name)

    def update(self, pos: QPointF) -> None:
        self.target = self.scene.port_at(pos, exclude=self.port)
        anchor = self.port.scene_anchor()
        end = self.target.scene_anchor() if self.target else pos
        start, stop = (anchor, end) if self.port.is_output else (end, anchor)
        self.wire.setPath(wire_path(start, stop))
        self.ok, self.reason = False, ""
        colour = QColor(theme.EDGE)
        if self.target is not None:
            edge = self.edge_to(self.target)
            if edge is None:
                self.reason = "connect an output (right side) to an input (left side)"
            else:
                self.ok, self.reason = check_named_wire(self.check_graph, edge)
            colour = QColor(theme.OK_WIRE if self.ok else theme.ERROR)
        pen = QPen(colour, 2.2 * theme.Scale.factor)
        if self.target is None:
            pen.setStyle(Qt.DashLine)
        self.wire.setPen(pen)
        self.note.setText(self.reason if not self.ok else "")
        self.note.setBrush(QBrush(theme.ERROR))
        self.note.setPos(pos + QPointF(14, 10))
        self.scene.sig_status.emit(f"Cannot connect: {self.reason}" if self.reason and not self.ok else "")

    def finish(self, pos: QPointF) -> None:
        self.update(pos)
        target, ok, reason = self.target, self.ok, self.reason
        self.cancel()
        if target is None:
            if not [i for i in self.scene.items(pos) if not getattr(i, "is_overlay", False)]:
                self.release_on_canvas(pos)
            return
        if not ok:
            self.scene.sig_status.emit(f"Cannot connect: {reason}")
            return
        edge = self.edge_to(target)
        if self.detach is None:
            connect_named(self.scene.undo_stack, self.scene.graph, edge)
        elif edge != self.detach:
            with macro(self.scene.undo_stack, f"move wire to {edge.dst}.{edge.dst_port}"):
                self.scene.undo_stack.push(DisconnectCommand(self.scene.graph, self.detach))
                self.scene.undo_stack.push(ConnectCommand(self.scene.graph, edge))

    def release_on_canvas(self, pos: QPointF) -> None:
        """A picked-up wire let go over empty canvas is removed; a new one offers the ops that take it."""
        if self.detach is not None:
            self.scene.undo_stack.push(DisconnectCommand(self.scene.graph, self.detach))
        else:
            self.scene.sig_wire_dropped.emit(self.port.node_id, self.port.name, self.port.is_output, pos)

    def cancel(self) -> None:
        for item in (self.wire, self.note):
            if item.scene() is not None:
                item.scene().removeItem(item)


class RubberBandSelect(Interaction):
    """Select every node and wire inside a dragged rectangle (Ctrl adds to the selection)."""

    def __init__(self, scene: "GraphScene", add: bool = False) -> None:
        super().__init__(scene)
        self.add = add
        self.origin = QPointF()
        self.rect = QGraphicsRectItem()
        self.rect.setZValue(10)
        colour = QColor(theme.SELECTED)
        self.rect.setPen(QPen(colour, 1.2))
        colour.setAlpha(40)
        self.rect.setBrush(QBrush(colour))
        self.before = []

    def start(self, pos: QPointF) -> None:
        self.origin = pos
        self.before = self.scene.selectedItems() if self.add else []
        self.scene.addItem(self.rect)
        self.update(pos)

    def update(self, pos: QPointF) -> None:
        area = QRectF(self.origin, pos).normalized()
        self.rect.setRect(area)
        path = QPainterPath()
        path.addRect(area)
        self.scene.setSelectionArea(path, Qt.ReplaceSelection, Qt.IntersectsItemShape)
        for item in self.before:
            item.setSelected(True)

    def finish(self, pos: QPointF) -> None:
        self.update(pos)
        self.cancel()

    def cancel(self) -> None:
        if self.rect.scene() is not None:
            self.rect.scene().removeItem(self.rect)


class PaletteDrop(Interaction):
    """An op dragged from the palette (or picked in the quick-add popup) becomes a node."""

    def drop(self, op: str, pos: QPointF) -> Optional[str]:
        """Add a node of `op` with its top-left at `pos`; returns its id (None if refused)."""
        graph = self.scene.graph
        if self.scene.snap_to_grid:
            pos = QPointF(round(pos.x() / theme.GRID) * theme.GRID, round(pos.y() / theme.GRID) * theme.GRID)
        try:
            command = AddNodeCommand(graph, op, ui={"pos": self.scene.to_model(pos)},
                                     node_id=new_node_name(graph, op))
        except (GraphError, KeyError) as e:
            self.scene.sig_status.emit(f"Cannot add {op}: {e}")
            return None
        self.scene.undo_stack.push(command)
        self.scene.select_nodes([command.node_id])
        return command.node_id

    def drop_wired(self, op: str, pos: QPointF, node: str, port: str, is_output: bool,
                   new_port: str) -> Optional[str]:
        """Add a node of `op` at `pos` wired to `node.port` through its `new_port`, as one undo step;
        placed so the wire runs left to right (right of an output, left of an input)."""
        if not is_output:
            pos = pos - QPointF(self.scene.nodes[node].width + 40.0, 0.0)
        stack = self.scene.undo_stack
        with macro(stack, f"add {op} wired to {node}.{port}"):
            new = self.drop(op, pos - QPointF(0.0, 50.0 * theme.Scale.factor))
            if new is None:
                return None
            edge = Edge(node, port, new, new_port) if is_output else Edge(new, new_port, node, port)
            ok, reason = self.scene.graph.check_wire(*edge)
            if ok:
                stack.push(ConnectCommand(self.scene.graph, edge))
            else:
                self.scene.sig_status.emit(f"Cannot connect: {reason}")
        return new
