"""What live training paints over the canvas: the culprit node, value summaries, gradient flow on wires
and fused kernels. Presentation only: it reads the scene's items and never touches the Graph.

The scene owns one `CanvasOverlays`; it keeps the state (so items made later, after an edit or a
rebuild, get their overlay too) and forgets it when another graph is shown.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from PySide6.QtGui import QColor

from core.graph import Edge

from .items.edge_item import EdgeItem
from .items.group_item import GROUP_COLOURS, KernelGroupItem
from .items.node_item import NodeItem

if TYPE_CHECKING:
    from .scene import GraphScene

EdgeKey = tuple[str, str, str]          # (source node, destination node, destination port)
RAMP = ((0.0, "#9ecae1"), (0.5, "#6a51a3"), (1.0, "#c51b8a"))
NONFINITE = QColor("#d62728")
MIN_WIDTH, MAX_WIDTH = 1.5, 7.0


def edge_key(key: Any) -> Optional[EdgeKey]:
    """(src, dst, dst_port) from an Edge, a (src, src_port, dst, dst_port) or a (src, dst, dst_port)."""
    if isinstance(key, Edge):
        return key.src, key.dst, key.dst_port
    if isinstance(key, tuple) and len(key) == 4:
        return str(key[0]), str(key[2]), str(key[3])
    if isinstance(key, tuple) and len(key) == 3:
        return str(key[0]), str(key[1]), str(key[2])
    return None


def ramp_colour(t: float) -> QColor:
    """The overlay colour at t in [0, 1]: pale blue (small gradient) through purple to magenta (large)."""
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(RAMP, RAMP[1:]):
        if t <= t1:
            a, b, f = QColor(c0), QColor(c1), (t - t0) / (t1 - t0)
            return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * f, a.greenF() + (b.greenF() - a.greenF()) * f,
                                   a.blueF() + (b.blueF() - a.blueF()) * f)
    return QColor(RAMP[-1][1])


def edge_styles(values: Mapping[EdgeKey, float]) -> dict[EdgeKey, tuple[QColor, float, str]]:
    """Colour, width and tooltip per wire; magnitudes are placed on a log scale between the smallest
    and the largest finite nonzero value; NaN/Inf wires are red and widest."""
    finite = [abs(v) for v in values.values() if math.isfinite(v) and v != 0.0]
    low = math.log10(min(finite)) if finite else 0.0
    high = math.log10(max(finite)) if finite else 0.0
    styles = {}
    for key, value in values.items():
        if not math.isfinite(value):
            styles[key] = (QColor(NONFINITE), MAX_WIDTH, f"gradient RMS: {value} (not finite)")
            continue
        if value == 0.0:
            t = 0.0
        elif high <= low:
            t = 0.5    # one magnitude only: nothing to compare it with
        else:
            t = (math.log10(abs(value)) - low) / (high - low)
        styles[key] = (ramp_colour(t), MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * t, f"gradient RMS: {value:.3g}")
    return styles


def group_pairs(groups: Any) -> list[tuple[str, list[str]]]:
    """[(kernel name, node ids)] from {name: nodes}, [(name, nodes)], [(name, nodes, colour)] or objects
    with .name and .users/.covers."""
    if groups is None:
        return []
    items = groups.items() if isinstance(groups, Mapping) else groups
    pairs = []
    for entry in items:
        if isinstance(entry, (tuple, list)) and len(entry) in (2, 3):
            name, nodes = entry[0], entry[1]
        else:
            name = getattr(entry, "name", "")
            nodes = getattr(entry, "users", None) or getattr(entry, "covers", None) or ()
        pairs.append((str(name), [str(n) for n in nodes]))
    return pairs


class CanvasOverlays:
    """The overlay state of one scene and the items that show it."""

    def __init__(self, scene: "GraphScene") -> None:
        self.scene = scene
        self.highlight: Optional[tuple[str, str]] = None
        self.summaries: dict[str, str] = {}
        self.edge_values: dict[EdgeKey, float] = {}
        self._edge_styles: dict[EdgeKey, tuple[QColor, float, str]] = {}
        self.groups: list[tuple[str, list[str]]] = []
        self.group_colours: dict[str, str] = {}     # a group's own colour (its part), when given
        self.group_items: list[KernelGroupItem] = []

    # ---- Setting

    def set_highlight(self, node_id: Optional[str], message: str) -> Optional[NodeItem]:
        """Mark one node as the culprit (None: no node); returns its item when it is on the canvas."""
        old = self.highlight[0] if self.highlight else None
        if old in self.scene.nodes:
            self.scene.nodes[old].set_culprit(None)
        item = self.scene.nodes.get(node_id) if node_id is not None else None
        self.highlight = (node_id, message or "") if item is not None else None
        if item is not None:
            item.set_culprit(message or "")
        return item

    def set_summary(self, node_id: str, text: str) -> None:
        if text:
            self.summaries[node_id] = text
        else:
            self.summaries.pop(node_id, None)
        if node_id in self.scene.nodes:
            self.scene.nodes[node_id].set_value_summary(text or "")

    def clear_summaries(self) -> None:
        for node_id in list(self.summaries):
            self.set_summary(node_id, "")

    def set_edge_values(self, mapping: Optional[Mapping[Any, float]]) -> None:
        values: dict[EdgeKey, float] = {}
        for key, value in (mapping or {}).items():
            k = edge_key(key)
            if k is not None:
                values[k] = float(value)
        self.edge_values = values
        self._edge_styles = edge_styles(values)
        for item in self.scene.edges.values():
            self.apply_edge(item)

    def set_groups(self, groups: Any) -> None:
        for item in self.group_items:
            if item.scene() is self.scene:
                self.scene.removeItem(item)
        self.group_items = []
        self.groups = [(name, nodes) for name, nodes in group_pairs(groups) if nodes]
        self.group_colours = {str(e[0]): str(e[2]) for e in (groups if isinstance(groups, list) else [])
                              if isinstance(e, (tuple, list)) and len(e) == 3}
        self.build_groups()

    # ---- Following the scene

    def build_groups(self) -> None:
        """Make the kernel outlines for the nodes on the canvas (the scene calls it after building items)."""
        seen: dict[str, int] = {}
        for index, (name, nodes) in enumerate(self.groups):
            members = [self.scene.nodes[n] for n in nodes if n in self.scene.nodes]
            if not members:
                continue
            inset = max((seen.get(n, 0) for n in nodes), default=0)
            for n in nodes:
                seen[n] = seen.get(n, 0) + 1
            colour = self.group_colours.get(name, GROUP_COLOURS[index % len(GROUP_COLOURS)])
            item = KernelGroupItem(name, members, QColor(colour), inset)
            self.scene.addItem(item)
            self.group_items.append(item)

    def forget_items(self) -> None:
        """The scene is about to clear its items: drop references to ours."""
        self.group_items = []

    def reset(self) -> None:
        """Another graph is shown: every overlay goes."""
        self.highlight = None
        self.summaries = {}
        self.edge_values, self._edge_styles = {}, {}
        self.groups, self.group_items = [], []

    def apply_node(self, item: NodeItem) -> None:
        if self.highlight is not None and self.highlight[0] == item.node_id:
            item.set_culprit(self.highlight[1])
        if item.node_id in self.summaries:
            item.set_value_summary(self.summaries[item.node_id])

    def apply_edge(self, item: EdgeItem) -> None:
        style = self._edge_styles.get(edge_key(item.edge))
        if style is None:
            item.set_overlay(None)
        else:
            item.set_overlay(*style)

    def node_moved(self, node_id: str) -> None:
        for item in self.group_items:
            if any(i.node_id == node_id for i in item.node_items):
                item.update_rect()

    def node_removed(self, node_id: str) -> None:
        """A node left the graph: its overlays go with it."""
        if self.highlight is not None and self.highlight[0] == node_id:
            self.highlight = None
        self.summaries.pop(node_id, None)
        for key in [k for k in self.edge_values if node_id in (k[0], k[1])]:
            self.edge_values.pop(key)
            self._edge_styles.pop(key, None)
        self.groups = [(name, [n for n in nodes if n != node_id]) for name, nodes in self.groups]
        for item in list(self.group_items):
            if node_id in item.node_ids():
                item.drop_node(node_id)
                if not item.node_items:
                    self.scene.removeItem(item)
                    self.group_items.remove(item)

    def edge_removed(self, edge: Edge) -> None:
        key = edge_key(edge)
        self.edge_values.pop(key, None)
        self._edge_styles.pop(key, None)

    def items_under(self, items: Iterable) -> list:
        """`items` without the overlay outlines (gestures look through them)."""
        return [i for i in items if not getattr(i, "is_overlay", False)]
