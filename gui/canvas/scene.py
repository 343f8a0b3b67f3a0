"""The canvas scene: it follows a Graph through its events and turns gestures into commands.

`set_graph` builds the items once and connects the graph's events to `_on_node_added`,
`_on_edge_removed`, ...; `set_graph(None)` (or another graph) disconnects them. Items never
edit the Graph; every change goes through the undo stack. Live training's overlays (culprit,
value summaries, gradient flow, fused kernels) live in `CanvasOverlays`; they survive edits and
rebuilds of the same graph and go when another graph is shown.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from PySide6.QtCore import QPointF, QRectF, QTimer, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from core.graph import Edge, Graph
from core.training.references import all_diagnostics

from .commands import MoveNodeCommand
from .interactions import EdgeDrag, Interaction, RubberBandSelect
from .items.edge_item import EdgeItem
from .items.node_item import NodeItem, format_value
from .items.port_item import PortItem
from .layout import auto_layout
from .overlays import CanvasOverlays

SPREADS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
GAP_X, GAP_Y = 60.0, 16.0


def choose_spread(items: list) -> float:
    """The smallest scale of the stored positions at which no two nodes overlap.

    Files written for smaller nodes (or by hand) still open readably; positions in the
    model stay as they are (the scene multiplies them).
    """
    if len(items) < 2 or len(items) > 3000:
        return 1.0
    pos = np.array([[i.pos().x(), i.pos().y()] for i in items])
    size = np.array([[i.width, i.height] for i in items])
    dx = np.abs(pos[:, None, 0] - pos[None, :, 0])
    dy = np.abs(pos[:, None, 1] - pos[None, :, 1])
    need_x = np.maximum(size[:, None, 0], size[None, :, 0]) + GAP_X
    need_y = np.maximum(size[:, None, 1], size[None, :, 1]) + GAP_Y
    np.fill_diagonal(dx, np.inf)
    for k in SPREADS:
        if not np.any((dx * k < need_x) & (dy * k < need_y)):
            return k
    return SPREADS[-1]


EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed", "ui_changed",
          "training_changed")


class GraphScene(QGraphicsScene):
    """Items for every node and edge of one Graph, kept in step with it."""

    sig_status = Signal(str)
    sig_wire_dropped = Signal(str, str, bool, QPointF)   # node, port, is_output, scene position
    sig_refreshed = Signal()
    sig_summaries_changed = Signal()

    def __init__(self, undo_stack: QUndoStack, parent=None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.graph: Optional[Graph] = None
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.snap_to_grid = True
        self.dragging_nodes = False
        self.spread = 1.0
        self._interaction: Optional[Interaction] = None
        self._drag_id = 0
        self._auto_pos: dict[str, tuple[float, float]] = {}
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.overlays = CanvasOverlays(self)
        self.setItemIndexMethod(QGraphicsScene.BspTreeIndex)

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        """Show `graph` (None: nothing), following its events from now on."""
        if self.graph is not None:
            for name in EVENTS:
                getattr(self.graph.events, name).disconnect(getattr(self, f"_on_{name}"))
        self.cancel_interaction()
        self.overlays.forget_items()
        had_selection = self._clear_quietly()
        if graph is not self.graph:
            self.overlays.reset()
        self.graph = graph
        if graph is not None:
            self._build(graph)
        if had_selection:
            self.selectionChanged.emit()     # once, now that the scene is whole again

    def rebuild(self) -> None:
        """Recreate every item (after the presentation scale changed)."""
        selected = self.selected_nodes()
        self.set_graph(self.graph)
        self.select_nodes(selected)

    def refresh(self) -> None:
        """Write inferred shapes on edges and ports and mark nodes that have diagnostics."""
        self._refresh_timer.stop()
        if self.graph is None:
            return
        types = self.graph.types()
        by_node: dict[str, list[tuple[str, str]]] = {}
        by_port: dict[tuple[str, str], str] = {}
        for d in all_diagnostics(self.graph):
            if d.node in self.nodes:
                by_node.setdefault(d.node, []).append((d.severity, d.message))
                if d.port:
                    by_port.setdefault((d.node, d.port), d.message)
        sources = {(e.dst, e.dst_port): (e.src, e.src_port) for e in self.graph.edges()}
        for node_id, item in self.nodes.items():
            item.set_problems(by_node.get(node_id, []))
            item.refresh_types(types)
            for name, port in item.inputs.items():
                source = sources.get((node_id, name))
                t = types.get(source) if source else None
                port.set_state(str(t) if t else "", by_port.get((node_id, name)))
            for name, port in item.outputs.items():
                t = types.get((node_id, name))
                port.set_state(format_value(tuple(t.shape)) if t else "", None)
                port.setToolTip(f"output '{name}'" + (f": {t}" if t else ""))
        for edge, item in self.edges.items():
            t = types.get((edge.src, edge.src_port))
            item.set_label(format_value(tuple(t.shape)) if t else "", by_port.get((edge.dst, edge.dst_port)))
        self.sig_refreshed.emit()

    def schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def to_scene(self, pos) -> QPointF:
        """A model position (ui "pos") in scene coordinates."""
        return QPointF(float(pos[0]) * self.spread, float(pos[1]) * self.spread)

    def to_model(self, point: QPointF) -> list[float]:
        """A scene point as a model position (what ui "pos" stores)."""
        return [round(point.x() / self.spread, 2), round(point.y() / self.spread, 2)]

    def selected_nodes(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    # ---- Overlays (live training; presentation only)

    def highlight_node(self, node_id: Optional[str], message: str = "") -> None:
        """Paint `node_id` as the culprit with `message` as its tooltip and centre the views on it;
        None (or a node not on the canvas) clears the highlight."""
        item = self.overlays.set_highlight(node_id, message)
        if item is not None:
            for view in self.views():
                view.centerOn(item.mapRectToScene(QRectF(0, 0, item.width, item.height)).center())

    def clear_highlight(self) -> None:
        self.highlight_node(None, "")

    def highlighted_node(self) -> Optional[str]:
        return self.overlays.highlight[0] if self.overlays.highlight else None

    def set_node_summary(self, node_id: Optional[str], text: str) -> None:
        """Show what `node_id` computed in its tooltip and under it; "" clears it, None clears all."""
        if node_id is None:
            self.overlays.clear_summaries()
        else:
            self.overlays.set_summary(node_id, text)
        self.sig_summaries_changed.emit()

    def node_summary(self, node_id: str) -> str:
        """What `node_id` computed on the last inspected batch ("" when nothing was)."""
        return self.overlays.summaries.get(node_id, "")

    def set_edge_overlay(self, mapping: Optional[Mapping[Any, float]]) -> None:
        """Colour and thicken wires by gradient magnitude: {(src, dst, dst_port): RMS} (Edge keys work
        too); wires not in the mapping, or all of them for None, are drawn normally."""
        self.overlays.set_edge_values(mapping)

    def set_kernel_groups(self, groups: Any) -> None:
        """Outline each fused kernel behind the nodes it covers: {name: node ids} or [(name, node ids)];
        None clears."""
        self.overlays.set_groups(groups)

    def node_moved(self, node_id: str) -> None:
        """A node item moved: kernel outlines around it follow."""
        self.overlays.node_moved(node_id)

    def port_at(self, pos: QPointF, exclude: Optional[PortItem] = None) -> Optional[PortItem]:
        """The port nearest to `pos` within a few pixels, if any."""
        reach = 10.0
        ports = [i for i in self.items(QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach))
                 if isinstance(i, PortItem) and i is not exclude]
        if not ports:
            return None
        return min(ports, key=lambda p: (p.scenePos() - pos).manhattanLength())

    def nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def cancel_interaction(self) -> None:
        if self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None

    # ---- Graph events

    def _on_node_added(self, node_id: str) -> None:
        self._add_node_item(node_id)
        self.schedule_refresh()

    def _on_node_removed(self, node_id: str) -> None:
        self.overlays.node_removed(node_id)
        item = self.nodes.pop(node_id, None)
        if item is not None:
            for edge_item in list(item.edges):
                self._remove_edge_item(edge_item.edge)
            self.removeItem(item)
        self.schedule_refresh()

    def _on_edge_added(self, edge: Edge) -> None:
        self._add_edge_item(edge)
        self.schedule_refresh()

    def _on_edge_removed(self, edge: Edge) -> None:
        self.overlays.edge_removed(edge)
        self._remove_edge_item(edge)
        self.schedule_refresh()

    def _on_attr_changed(self, node_id: str, name: str, old, new) -> None:
        item = self.nodes[node_id]
        for edge_item in list(item.edges):
            self._remove_edge_item(edge_item.edge)
        item.sync(self.graph)
        for edge in self.graph.edges():
            if node_id in (edge.src, edge.dst) and edge not in self.edges:
                self._add_edge_item(edge)
        self.schedule_refresh()

    def _on_training_changed(self, old: dict, new: dict) -> None:
        self.schedule_refresh()       # the training configuration's problems paint the nodes they name

    def _on_ui_changed(self, node_id: str, key: str, old, new) -> None:
        item = self.nodes.get(node_id)
        if item is None:
            return
        if key == "pos":
            pos = self.to_scene(new or self._auto_pos.get(node_id) or (0.0, 0.0))
            if item.pos() != pos:
                item.setPos(pos)
        else:
            item.sync(self.graph)

    # ---- Items

    def _clear_quietly(self) -> bool:
        """Delete every item without a selectionChanged per deleted item (listeners would read a
        half-torn-down scene: items already deleted, maps not yet emptied); True if any was selected."""
        had_selection = bool(self.selectedItems())
        self.nodes, self.edges = {}, {}
        blocked = self.blockSignals(True)
        self.clear()
        self.blockSignals(blocked)
        return had_selection

    def _build(self, graph: Graph) -> None:
        """Items for every node and wire of `graph`, which the scene follows from now on."""
        self._auto_pos = auto_layout(graph)
        self.spread = 1.0
        for node_id in graph.nodes:
            self._add_node_item(node_id)
        self.spread = choose_spread(list(self.nodes.values()))
        if self.spread != 1.0:
            for item in self.nodes.values():
                item.setPos(item.pos() * self.spread)
        for edge in graph.edges():
            self._add_edge_item(edge)
        self.overlays.build_groups()
        for name in EVENTS:
            getattr(graph.events, name).connect(getattr(self, f"_on_{name}"))
        self.refresh()

    def _add_node_item(self, node_id: str) -> None:
        item = NodeItem(self.graph, node_id)
        pos = self.graph.ui(node_id).get("pos")
        if not pos:
            pos = self._auto_pos.get(node_id)
        if not pos:
            rect = self.nodes_rect()
            pos = self.to_model(QPointF(rect.left(), rect.bottom() + 60.0)) if not rect.isNull() else (0.0, 0.0)
            self._auto_pos[node_id] = tuple(pos)
        item.setPos(self.to_scene(pos))
        self.nodes[node_id] = item
        self.addItem(item)
        self.overlays.apply_node(item)

    def _add_edge_item(self, edge: Edge) -> None:
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        source = src.port(edge.src_port, True) if src else None
        target = dst.port(edge.dst_port, False) if dst else None
        if source is None or target is None:
            return  # a wire on a port that no longer exists: validate() reports it
        item = EdgeItem(edge, source, target)
        self.edges[edge] = item
        self.addItem(item)
        self.overlays.apply_edge(item)

    def _remove_edge_item(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is not None:
            item.detach()
            self.removeItem(item)

    # ---- Gestures

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() != Qt.LeftButton or self.graph is None:
            super().mousePressEvent(event)
            return
        pos = event.scenePos()
        port = self.port_at(pos)
        if port is not None:
            fed = None if port.is_output else self.graph.in_edges(port.node_id).get(port.name)
            source = self.nodes[fed.src].port(fed.src_port, True) if fed is not None else None
            self._interaction = EdgeDrag(self, source, detach=fed) if source is not None else EdgeDrag(self, port)
        elif not self.overlays.items_under(self.items(pos)):
            self._interaction = RubberBandSelect(self, add=bool(event.modifiers() & Qt.ControlModifier))
        if self._interaction is not None:
            self._interaction.start(pos)
            event.accept()
            return
        super().mousePressEvent(event)
        grabbed = self.mouseGrabberItem()
        if isinstance(grabbed, NodeItem):
            self.dragging_nodes = True
            self._drag_id += 1

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._interaction is not None:
            self._interaction.update(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self.dragging_nodes:
            self._push_moves()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._interaction is not None:
            interaction, self._interaction = self._interaction, None
            interaction.finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self.dragging_nodes:
            self._push_moves()
            self.dragging_nodes = False

    def _push_moves(self) -> None:
        moves = {}
        for node_id in self.selected_nodes():
            item = self.nodes[node_id]
            new = self.to_model(item.pos())
            old = self.graph.ui(node_id).get("pos")
            if old is None or [float(v) for v in old] != new:
                if old is None and tuple(new) == tuple(self._auto_pos.get(node_id, ())):
                    continue
                moves[node_id] = (old, new)
        if moves:
            self.undo_stack.push(MoveNodeCommand(self.graph, moves, self._drag_id))
