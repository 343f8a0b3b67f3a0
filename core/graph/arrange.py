"""Graph ▸ Arrange: a left-to-right layered layout of a graph by its data flow, as plain positions.

Columns by longest path from the sources (inputs on the left, losses on the right), rows ordered by
barycentre sweeps to cut crossings, each Parameter stacked just above the node it feeds. The node
sizes are the canvas's own (gui/canvas/items/node_item.py reads them from here), so nothing overlaps.
"""
from __future__ import annotations

from statistics import mean

from .graph import Graph

# How the canvas draws a node (model units at scale 1): width, and the rows that make its height.
NODE_WIDTH = 150.0
TITLE_H, OP_H, ROW_H, LINE_H, BOTTOM_PAD = 24.0, 17.0, 20.0, 15.0, 6.0
MAX_SUMMARY_LINES = 2

COLUMN_GAP = 110.0     # room for a wire's shape label between two columns
ROW_GAP = 40.0         # room for a value summary under a node and a culprit badge above the next
PARAM_SHIFT = 60.0     # a Parameter sits this far left of the node it feeds, so its wire reads forwards
SWEEPS = 4


def node_size(graph: Graph, node_id: str) -> tuple[float, float]:
    """(width, height) of the node as the canvas draws it at scale 1 (summary lines at their most)."""
    spec = graph.spec(node_id)
    attrs = graph.attrs(node_id)
    rows = max(len(spec.input_names(attrs)), len(spec.output_names()), 1)
    lines = min(MAX_SUMMARY_LINES, len(attrs))
    return NODE_WIDTH, TITLE_H + OP_H + rows * ROW_H + lines * LINE_H + BOTTOM_PAD


def arrange(graph: Graph) -> dict[str, tuple[float, float]]:
    """Top-left positions for every node of `graph`, laid out left to right by data flow.

    A pure function of the graph (stored positions are ignored): the same graph always gets the same
    layout. Every wire between nodes other than Parameters runs from one column to a later one.
    """
    if not len(graph):
        return {}
    order = {n: i for i, n in enumerate(_order(graph))}
    owner = _parameter_owners(graph, order)
    main = [n for n in order if n not in owner]
    preds = {n: sorted({e.src for e in graph.in_edges(n).values() if e.src not in owner}, key=order.get)
             for n in main}
    layer: dict[str, int] = {}
    for n in main:
        layer[n] = 1 + max((layer[p] for p in preds[n]), default=-1)
    columns = [[n for n in main if layer[n] == k] for k in range(max(layer.values()) + 1)]
    _reduce_crossings(columns, preds)
    params = {n: sorted((p for p, o in owner.items() if o == n),
                        key=lambda p: _port_index(graph, n, p)) for n in main}
    size = {n: node_size(graph, n) for n in graph.nodes}
    return _place(columns, preds, params, size)


# ---- Steps

def _order(graph: Graph) -> list[str]:
    """Nodes in topological order (insertion order for a graph that has a cycle)."""
    try:
        return graph.topological_order()
    except Exception:  # noqa: BLE001 (a cyclic graph, refused elsewhere, still gets a layout)
        return graph.nodes


def _parameter_owners(graph: Graph, order: dict[str, int]) -> dict[str, str]:
    """{Parameter: the first node it feeds} for every Parameter that feeds something."""
    owners = {}
    for node in graph.nodes:
        if graph.op_name(node) != "Parameter":
            continue
        consumers = [e.dst for e in graph.out_edges(node) if graph.op_name(e.dst) != "Parameter"]
        if consumers:
            owners[node] = min(consumers, key=order.get)
    return owners


def _port_index(graph: Graph, node: str, param: str) -> int:
    ports = list(graph.spec(node).input_names(graph.attrs(node)))
    fed = [p for p, e in graph.in_edges(node).items() if e.src == param]
    return min((ports.index(p) for p in fed if p in ports), default=len(ports))


def _reduce_crossings(columns: list[list[str]], preds: dict[str, list[str]]) -> None:
    """Reorder each column by the mean row of its neighbours, sweeping right then left."""
    succs: dict[str, list[str]] = {n: [] for column in columns for n in column}
    for n, ps in preds.items():
        for p in ps:
            succs[p].append(n)
    for sweep in range(SWEEPS):
        rank = {n: i / max(1, len(c)) for c in columns for i, n in enumerate(c)}
        forward = sweep % 2 == 0
        for column in (columns[1:] if forward else columns[-2::-1]):
            neighbours = preds if forward else succs
            keyed = {n: mean(rank[m] for m in neighbours[n]) if neighbours[n] else rank[n] for n in column}
            column.sort(key=lambda n: keyed[n])
            rank.update({n: i / max(1, len(column)) for i, n in enumerate(column)})


def _place(columns: list[list[str]], preds: dict[str, list[str]], params: dict[str, list[str]],
           size: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Columns left to right; in each, blocks (Parameters above their node) in order, each node as
    level with its inputs as the blocks above allow, the column then shifted to sit on its inputs."""
    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    for column in columns:
        lifts = {n: sum(size[p][1] + ROW_GAP for p in params[n]) for n in column}
        wanted = {n: mean(pos[p][1] for p in preds[n]) for n in column if preds[n]}
        ys, bottom = {}, None
        for n in column:
            y = wanted.get(n, bottom + lifts[n] if bottom is not None else lifts[n])
            if bottom is not None:
                y = max(y, bottom + lifts[n])
            ys[n] = y
            bottom = y + size[n][1] + ROW_GAP
        if wanted:
            shift = mean(wanted[n] - ys[n] for n in wanted)
            ys = {n: y + shift for n, y in ys.items()}
        for n in column:
            pos[n] = (x, ys[n])
            top = ys[n]
            for p in reversed(params[n]):
                top -= size[p][1] + ROW_GAP
                pos[p] = (x - PARAM_SHIFT, top)
        x += max(size[n][0] for n in column) + COLUMN_GAP
    left = min(p[0] for p in pos.values())
    high = min(p[1] for p in pos.values())
    return {n: (float(round(px - left)), float(round(py - high))) for n, (px, py) in pos.items()}
