"""Compound edits as undo macros: delete, paste, duplicate, expand a layer and collapse it back, arrange.

Each is a sequence of the one-method commands of commands.py inside one QUndoStack macro,
so one Ctrl+Z takes back the whole edit.
"""
from __future__ import annotations

import copy
import functools
import json
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional, TypeVar

from PySide6.QtGui import QUndoStack

from core.graph import Edge, Graph, GraphError, expand_node, get_op, graph_from_text
from core.graph.arrange import arrange

from .commands import (AddNodeCommand, ConnectCommand, DisconnectCommand, MoveNodeCommand,
                       RemoveNodeCommand)

CLIPBOARD_MIME = "application/x-loom-graph"
FILE_HEADER = {"format": "loom-graph", "version": 1}
PASTE_STEP = 40.0      # how far a paste lands from its originals (and each repeat from the last)
T = TypeVar("T")


@contextmanager
def macro(stack: QUndoStack, text: str) -> Iterator[None]:
    """Group the commands pushed inside into one undo entry; if the edit fails half-way, take it back.

    An edit applies fully or not at all: when code between the pushes raises, the half-done macro
    is undone and removed from the stack. (The commands themselves are rehearsed on a copy of the
    graph first, see `rehearsed`, so their own redo does not fail.)
    """
    stack.beginMacro(text)
    try:
        yield
    except BaseException:
        stack.endMacro()
        command = stack.command(stack.count() - 1)
        command.undo()
        command.setObsolete(True)   # an obsolete command is dropped by the undo() below, not run again
        stack.undo()
        raise
    stack.endMacro()


def rehearsed(edit: Callable[..., T]) -> Callable[..., T]:
    """Run a compound edit on a copy of the graph first: a GraphError (or any LoomError) is raised
    there, before the real graph or its undo stack is touched."""

    @functools.wraps(edit)
    def checked(stack: QUndoStack, graph: Graph, *args, **kwargs) -> T:
        edit(QUndoStack(), graph.copy(), *args, **kwargs)
        return edit(stack, graph, *args, **kwargs)

    return checked


class PasteOffsets:
    """Where pastes land: each repeated paste of the same text one step further from the originals."""

    def __init__(self) -> None:
        self.text: Optional[str] = None
        self.count = 0

    def next(self, text: str) -> tuple[float, float]:
        self.count = self.count + 1 if text == self.text else 1
        self.text = text
        return PASTE_STEP * self.count, PASTE_STEP * self.count


def arrange_graph(stack: QUndoStack, graph: Graph) -> bool:
    """Lay the whole graph out left to right by data flow (core.graph.arrange) as one undo step;
    False when every node already stands where the layout puts it."""
    moves = {}
    for node_id, (x, y) in arrange(graph).items():
        old = graph.ui(node_id).get("pos")
        if old is None or [float(v) for v in old] != [x, y]:
            moves[node_id] = (copy.deepcopy(old), [x, y])
    if not moves:
        return False
    with macro(stack, "arrange graph"):
        stack.push(MoveNodeCommand(graph, moves, drag_id=-2))
    return True


def delete_items(stack: QUndoStack, graph: Graph, nodes: Iterable[str],
                 edges: Iterable[Edge] = ()) -> None:
    """Delete wires, then nodes (with their wires), as one undo step."""
    nodes = [n for n in graph.nodes if n in set(nodes)]
    doomed = {Edge(*e) for e in edges}
    doomed |= {e for e in graph.edges() if e.src in nodes or e.dst in nodes}
    if not nodes and not doomed:
        return
    what = f"'{nodes[0]}'" if len(nodes) == 1 and len(doomed) <= 4 else \
        f"{len(nodes)} nodes" if nodes else f"{len(doomed)} wires" if len(doomed) > 1 else "a wire"
    with macro(stack, f"delete {what}"):
        for edge in sorted(doomed):
            stack.push(DisconnectCommand(graph, edge))
        for node_id in nodes:
            stack.push(RemoveNodeCommand(graph, node_id))


def copy_document(graph: Graph, nodes: Iterable[str]) -> str:
    """The selected nodes and the wires between them, as graph-file JSON (for the clipboard)."""
    keep = set(nodes)
    body = graph.to_dict()
    document = dict(FILE_HEADER, meta={}, training={},
                    nodes=[n for n in body["nodes"] if n["id"] in keep],
                    edges=[e for e in body["edges"] if e["src"] in keep and e["dst"] in keep])
    return json.dumps(document, indent=1)


@rehearsed
def paste_document(stack: QUndoStack, graph: Graph, text: str,
                   offset: tuple[float, float] = (PASTE_STEP, PASTE_STEP),
                   anchor: Optional[tuple[float, float]] = None) -> list[str]:
    """Paste graph-file JSON as new nodes (fresh ids), then their wires; returns the new ids.

    The text is parsed by core.graph's strict reader, the door files go through (GraphFileError
    when it is no graph), and rehearsed on a copy: text that cannot be pasted changes nothing.
    With `anchor`, the pasted block's top-left lands there; otherwise it is shifted by `offset`.
    """
    piece = graph_from_text(text, source="clipboard")
    if not len(piece):
        return []
    positions = [piece.ui(n).get("pos") for n in piece.nodes]
    known = [p for p in positions if p]
    if anchor is not None and known:
        left, top = min(p[0] for p in known), min(p[1] for p in known)
        offset = (anchor[0] - left, anchor[1] - top)
    renamed: dict[str, str] = {}
    with macro(stack, f"paste {len(piece)} node{'s' if len(piece) > 1 else ''}"):
        for i, node_id in enumerate(piece.nodes):
            ui = piece.ui(node_id)
            pos = ui.get("pos") or [20.0 * i, 20.0 * i]
            ui["pos"] = [pos[0] + offset[0], pos[1] + offset[1]]
            new_id = graph.unique_id(node_id)
            stack.push(AddNodeCommand(graph, piece.op_name(node_id), piece.attrs(node_id),
                                      node_id=new_id, ui=ui, role=piece.role(node_id)))
            renamed[node_id] = new_id
        for edge in piece.edges():
            stack.push(ConnectCommand(graph, Edge(renamed[edge.src], edge.src_port,
                                                  renamed[edge.dst], edge.dst_port), typed=False))
    return [renamed[n] for n in piece.nodes]


@rehearsed
def expand_layer(stack: QUndoStack, graph: Graph, node_id: str) -> list[str]:
    """Replace a layer node by its primitive ops, as one undo step; returns the new ids.

    Every new node records the layer in ui["layer"] so collapse_layer can put it back.
    Raises GraphError when the node is no layer or is not wired and typed yet.
    """
    trial = graph.copy()
    new_nodes = expand_node(trial, node_id)
    layer_ui = graph.ui(node_id)
    origin = layer_ui.get("pos") or [0.0, 0.0]
    spec = graph.spec(node_id)
    inputs = {}
    for port in spec.input_names(graph.attrs(node_id)):
        src = graph.source(node_id, port)
        inputs[port] = [[e.dst, e.dst_port] for e in trial.edges()
                        if (e.src, e.src_port) == src and e.dst in new_nodes]
    record = {"id": node_id, "op": spec.name, "attrs": _plain(graph.attrs(node_id)),
              "pos": list(origin), "inputs": inputs}
    offsets = _grid_offsets(trial, new_nodes)
    extra = max(dx for dx, _ in offsets.values())
    record["shift"] = extra
    with macro(stack, f"expand {spec.name} '{node_id}'"):
        _shift_right_of(stack, graph, origin[0], extra, skip={node_id})
        for edge in sorted(graph.in_edges(node_id).values()) + sorted(graph.out_edges(node_id)):
            stack.push(DisconnectCommand(graph, edge))
        stack.push(RemoveNodeCommand(graph, node_id))
        for new_id in new_nodes:
            dx, dy = offsets[new_id]
            ui = {"pos": [origin[0] + dx, origin[1] + dy], "layer": record}
            stack.push(AddNodeCommand(graph, trial.op_name(new_id), trial.attrs(new_id),
                                      node_id=new_id, ui=ui, role=trial.role(new_id)))
        for edge in trial.edges():
            if edge.src in new_nodes or edge.dst in new_nodes:
                stack.push(ConnectCommand(graph, edge, typed=False))
    return new_nodes


def layer_group(graph: Graph, node_id: str) -> list[str]:
    """The nodes that came from expanding the same layer as `node_id` (empty if none)."""
    record = graph.ui(node_id).get("layer")
    if not isinstance(record, dict) or "id" not in record:
        return []
    return [n for n in graph.nodes if (graph.ui(n).get("layer") or {}).get("id") == record["id"]]


@rehearsed
def collapse_layer(stack: QUndoStack, graph: Graph, node_id: str) -> str:
    """Put back the layer that `node_id` was expanded from, as one undo step; returns its id.

    Raises GraphError when the expanded nodes were edited so the layer cannot stand for them.
    """
    group = layer_group(graph, node_id)
    if not group:
        raise GraphError("this node does not come from an expanded layer", node=node_id)
    record = graph.ui(node_id)["layer"]
    members = set(group)
    internal_out = {(e.src, e.src_port) for e in graph.edges() if e.src in members and e.dst in members}
    leaving = [e for e in graph.edges() if e.src in members and e.dst not in members]
    sinks = {(e.src, e.src_port) for e in leaving} or \
        {(n, "y") for n in group if not any((n, p) in internal_out for p in graph.spec(n).output_names())}
    if len(sinks) != 1:
        raise GraphError("the expanded layer was rewired inside; it no longer has one output",
                         node=node_id)
    entering = [e for e in graph.edges() if e.dst in members and e.src not in members]
    feeds: dict[str, tuple[str, str]] = {}
    for port, targets in record.get("inputs", {}).items():
        for dst, dst_port in targets:
            source = graph.source(dst, dst_port) if dst in members else None
            if source is not None and source[0] not in members:
                feeds.setdefault(port, source)
    layer_id = record["id"] if record["id"] not in graph or record["id"] in members else \
        graph.unique_id(record["id"])
    out_port = get_op(record["op"]).output_names()[0]
    with macro(stack, f"collapse into {record['op']} '{layer_id}'"):
        for edge in sorted(entering) + sorted(leaving):
            stack.push(DisconnectCommand(graph, edge))
        for member in reversed(graph.topological_order(group)):
            stack.push(RemoveNodeCommand(graph, member))
        origin = record.get("pos") or [0.0, 0.0]
        _shift_right_of(stack, graph, origin[0] + float(record.get("shift", 0.0)),
                        -float(record.get("shift", 0.0)), skip=set())
        stack.push(AddNodeCommand(graph, record["op"], record.get("attrs"), node_id=layer_id,
                                  ui={"pos": record.get("pos") or [0.0, 0.0]}))
        for port, (src, src_port) in feeds.items():
            stack.push(ConnectCommand(graph, Edge(src, src_port, layer_id, port), typed=False))
        for edge in leaving:
            stack.push(ConnectCommand(graph, Edge(layer_id, out_port, edge.dst, edge.dst_port),
                                      typed=False))
    return layer_id


def _shift_right_of(stack: QUndoStack, graph: Graph, x: float, dx: float, skip: set) -> None:
    """Move every node placed right of `x` by `dx` (room for an expansion, or closing it)."""
    if not dx:
        return
    moves = {}
    for node_id in graph.nodes:
        pos = graph.ui(node_id).get("pos")
        if node_id not in skip and pos and pos[0] > x + 1.0:
            moves[node_id] = (list(pos), [pos[0] + dx, pos[1]])
    if moves:
        stack.push(MoveNodeCommand(graph, moves, drag_id=-1))


def _grid_offsets(graph: Graph, nodes: list[str]) -> dict[str, tuple[float, float]]:
    """Lay out the primitives of an expansion by depth (columns) around the layer's place."""
    depth: dict[str, int] = {}
    for n in graph.topological_order(nodes):
        preds = [e.src for e in graph.in_edges(n).values() if e.src in depth]
        depth[n] = 1 + max((depth[p] for p in preds), default=-1)
    rows: dict[int, int] = {}
    offsets = {}
    for n in nodes:
        col = depth[n]
        offsets[n] = (col * 200.0, rows.get(col, 0) * 110.0 - 60.0)
        rows[col] = rows.get(col, 0) + 1
    return offsets


def _plain(attrs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else copy.deepcopy(v) for k, v in attrs.items()}
