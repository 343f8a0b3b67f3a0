"""Automatic placement for nodes that carry no position: columns by topological depth."""
from __future__ import annotations

from core.graph import Graph

COLUMN = 280.0
ROW = 150.0


def auto_layout(graph: Graph, nodes: list[str] | None = None) -> dict[str, tuple[float, float]]:
    """Positions for `nodes` (default: those without ui["pos"]), by depth from the sources.

    Placed below whatever already has a position, so nothing overlaps.
    """
    todo = [n for n in graph.nodes if not graph.ui(n).get("pos")] if nodes is None else list(nodes)
    if not todo:
        return {}
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        preds = [e.src for e in graph.in_edges(node_id).values()]
        depth[node_id] = 1 + max((depth[p] for p in preds if p in depth), default=-1)
    placed = [graph.ui(n)["pos"] for n in graph.nodes if graph.ui(n).get("pos") and n not in todo]
    top = max((p[1] for p in placed), default=-ROW - 100.0) + ROW + 100.0
    left = min((p[0] for p in placed), default=0.0)
    rows: dict[int, int] = {}
    result = {}
    for node_id in graph.topological_order(todo):
        col = depth.get(node_id, 0)
        row = rows.get(col, 0)
        rows[col] = row + 1
        result[node_id] = (left + col * COLUMN, top + row * ROW)
    return result
