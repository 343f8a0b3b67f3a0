"""The Graph: nodes (op, attrs, ui, role) and port-to-port edges over a networkx MultiDiGraph.

Every mutation goes through one method that emits one event and returns what its inverse
needs, so an undo command is one call each way.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Optional

import networkx as nx

from .errors import GraphError, quoted
from .events import GraphEvents
from .registry import get_op
from .spec import AttrError, OpSpec
from .types import TensorType

NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class Edge(NamedTuple):
    """A wire from an output port to an input port; an input port takes one wire."""

    src: str
    src_port: str
    dst: str
    dst_port: str


@dataclass
class RemovedNode:
    """What remove_node took away, so undo can put it back exactly."""

    node_id: str
    op: str
    attrs: dict
    ui: dict
    role: Optional[str]
    edges: list[Edge]
    index: int


class Graph:
    """A dataflow graph of registered ops; the model every part of Loom reads.

    Node ids are identifiers (letters, digits, underscore), unique, stable, and double as the
    names users see: an Input's id is its feed name, a Parameter's id its weight key.
    """

    def __init__(self) -> None:
        self.nx = nx.MultiDiGraph()
        self.events = GraphEvents()
        self.meta: dict[str, Any] = {}
        self.training: dict[str, Any] = {}
        self._order: dict[str, int] = {}
        self._counter = 0
        self._analysis = None

    # ---- Queries

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._order

    def __len__(self) -> int:
        return len(self._order)

    @property
    def nodes(self) -> list[str]:
        """Node ids in insertion order."""
        return sorted(self._order, key=self._order.__getitem__)

    def op_name(self, node_id: str) -> str:
        return self._data(node_id)["op"]

    def spec(self, node_id: str) -> OpSpec:
        return get_op(self._data(node_id)["op"])

    def attrs(self, node_id: str) -> dict:
        """The node's attributes, every declared one present (a copy)."""
        return dict(self._data(node_id)["attrs"])

    def ui(self, node_id: str) -> dict:
        return dict(self._data(node_id)["ui"])

    def role(self, node_id: str) -> Optional[str]:
        return self._data(node_id)["role"]

    def edges(self) -> list[Edge]:
        return [d["edge"] for _, _, d in self.nx.edges(data=True)]

    def in_edges(self, node_id: str) -> dict[str, Edge]:
        """The wires feeding `node_id`, keyed by input port."""
        self._data(node_id)
        return {d["edge"].dst_port: d["edge"] for _, _, d in self.nx.in_edges(node_id, data=True)}

    def out_edges(self, node_id: str) -> list[Edge]:
        self._data(node_id)
        return [d["edge"] for _, _, d in self.nx.out_edges(node_id, data=True)]

    def source(self, node_id: str, port: str) -> Optional[tuple[str, str]]:
        """The (node, output port) feeding an input port, or None."""
        edge = self.in_edges(node_id).get(port)
        return (edge.src, edge.src_port) if edge else None

    def topological_order(self, nodes: Optional[Iterable[str]] = None) -> list[str]:
        """Nodes ordered so every node follows its inputs; ties keep insertion order."""
        graph = self.nx if nodes is None else self.nx.subgraph(nodes)
        return list(nx.lexicographical_topological_sort(graph, key=self._order.__getitem__))

    def required(self, outputs: Iterable[str]) -> set[str]:
        """The nodes that the given output nodes depend on, themselves included."""
        needed: set[str] = set()
        for node_id in outputs:
            self._data(node_id)
            needed.add(node_id)
            needed |= nx.ancestors(self.nx, node_id)
        return needed

    def subgraph(self, outputs: Iterable[str]) -> "Graph":
        """A copy holding only what the given outputs need."""
        keep = self.required(outputs)
        sub = self.copy()
        for node_id in self.nodes:
            if node_id not in keep:
                sub._drop(node_id)
        return sub

    def unique_id(self, base: str) -> str:
        """A fresh node id starting with `base` (made an identifier first)."""
        base = re.sub(r"\W", "_", base)[:48] or "node"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "n_" + base
        if base not in self._order:
            return base
        i = 2
        while f"{base}_{i}" in self._order:
            i += 1
        return f"{base}_{i}"

    # ---- Mutations (each emits one event)

    def add_node(self, op: str, attrs: Optional[dict] = None, *, node_id: Optional[str] = None,
                 ui: Optional[dict] = None, role: Optional[str] = None,
                 index: Optional[int] = None) -> str:
        """Add a node of op `op`; missing attributes take their defaults. Returns its id."""
        try:
            spec = get_op(op)
        except KeyError as e:
            raise GraphError(str(e.args[0]), node=node_id) from None
        node_id = node_id if node_id is not None else self.unique_id(op.lower())
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            raise GraphError(f"node id {quoted(node_id)} must be a letter or _ followed by letters, "
                             "digits or _ (at most 64)")
        if node_id in self._order:
            raise GraphError("a node with this id already exists", node=node_id)
        full = spec.default_attrs()
        for name, value in (attrs or {}).items():
            full[name] = self._checked_attr(spec, node_id, name, value)
        if index is None:
            self._counter += 1
            index = self._counter
        self._order[node_id] = index
        self._counter = max(self._counter, index)
        self.nx.add_node(node_id, op=op, attrs=full, ui=copy.deepcopy(ui or {}), role=role)
        self._changed()
        self.events.emit("node_added", node_id)
        return node_id

    def remove_node(self, node_id: str) -> RemovedNode:
        """Remove a node and its wires; returns everything undo needs to restore them."""
        data = self._data(node_id)
        edges = [e for e in self.edges() if node_id in (e.src, e.dst)]
        for edge in edges:
            self.disconnect(edge)
        record = RemovedNode(node_id, data["op"], dict(data["attrs"]), copy.deepcopy(data["ui"]),
                             data["role"], edges, self._order[node_id])
        self._drop(node_id)
        self._changed()
        self.events.emit("node_removed", node_id)
        return record

    def restore_node(self, record: RemovedNode) -> None:
        """Put back a node removed by remove_node, with its wires and its place in the order."""
        self.add_node(record.op, record.attrs, node_id=record.node_id, ui=record.ui,
                      role=record.role, index=record.index)
        for edge in record.edges:
            self.connect(*edge, typed=False)

    def connect(self, src: str, src_port: str, dst: str, dst_port: str, *, typed: bool = True) -> Edge:
        """Wire an output port to an input port; refuses what check_wire refuses.

        `typed=False` skips the shape check (loading or restoring a graph that is allowed to
        be invalid); ports, single feeding and acyclicity are always enforced.
        """
        ok, reason = self.check_wire(src, src_port, dst, dst_port, typed=typed)
        if not ok:
            raise GraphError(reason, node=dst, port=dst_port)
        return self._wire(Edge(src, src_port, dst, dst_port))

    def feed_new_node(self, node_id: str, sources: list[tuple[str, str]]) -> None:
        """Wire existing outputs into the input ports of `node_id`, just added and not yet wired
        nor used, in port order (what Builder does). Such wires cannot make a cycle or feed a port
        twice, so only the sources are checked, not the whole of check_wire."""
        spec = self.spec(node_id)
        ports = spec.input_names(self.attrs(node_id))
        if self.nx.in_degree(node_id) or self.nx.out_degree(node_id) or len(sources) > len(ports):
            raise GraphError("feed_new_node needs a node without wires and a source per port", node=node_id)
        for (src, src_port), port in zip(sources, ports):
            if src not in self._order or src_port not in self.spec(src).output_names():
                raise GraphError(f"there is no output {src}.{src_port}", node=node_id, port=port)
            self._wire(Edge(src, src_port, node_id, port))

    def _wire(self, edge: Edge) -> Edge:
        self.nx.add_edge(edge.src, edge.dst, key=edge.dst_port, edge=edge)
        self._changed()
        self.events.emit("edge_added", edge)
        return edge

    def disconnect(self, edge: Edge) -> Edge:
        """Remove a wire; returns it (the inverse is connect(*edge))."""
        if not self.nx.has_edge(edge.src, edge.dst, key=edge.dst_port) or \
                self.nx.edges[edge.src, edge.dst, edge.dst_port]["edge"] != edge:
            raise GraphError(f"no wire from {quoted(edge.src)}.{quoted(edge.src_port)}", node=edge.dst,
                             port=edge.dst_port)
        self.nx.remove_edge(edge.src, edge.dst, key=edge.dst_port)
        self._changed()
        self.events.emit("edge_removed", edge)
        return edge

    def set_attr(self, node_id: str, name: str, value: Any) -> Any:
        """Change one attribute; returns the old value."""
        data = self._data(node_id)
        value = self._checked_attr(get_op(data["op"]), node_id, name, value)
        old = data["attrs"][name]
        data["attrs"][name] = value
        self._changed()
        self.events.emit("attr_changed", node_id, name, old, value)
        return old

    def set_ui(self, node_id: str, key: str, value: Any) -> Any:
        """Change one presentation value (position, colour...); the core never reads these."""
        data = self._data(node_id)
        old = data["ui"].get(key)
        if value is None:
            data["ui"].pop(key, None)
        else:
            data["ui"][key] = copy.deepcopy(value)
        self.events.emit("ui_changed", node_id, key, old, value)
        return old

    def set_training(self, config: dict) -> dict:
        """Replace the training configuration; returns the old one."""
        old, self.training = self.training, copy.deepcopy(config)
        self.events.emit("training_changed", old, self.training)
        return old

    # ---- Checks and analysis

    def check_wire(self, src: str, src_port: str, dst: str, dst_port: str, *,
                   typed: bool = True) -> tuple[bool, str]:
        """Whether a wire may be drawn, and if not, why (in words for the user)."""
        from .validate import check_wire

        return check_wire(self, src, src_port, dst, dst_port, typed=typed)

    def types(self) -> dict[tuple[str, str], TensorType]:
        """The inferred type of every output port that can be typed."""
        return self.analysis().types

    def validate(self) -> list:
        """Diagnostics for the whole graph (errors and warnings); never raises."""
        return list(self.analysis().diagnostics)

    def copy(self) -> "Graph":
        """An independent copy, without event listeners."""
        other = Graph()
        other.nx = self.nx.copy()
        for node_id in other.nx.nodes:
            data = other.nx.nodes[node_id]
            data["attrs"] = dict(data["attrs"])
            data["ui"] = copy.deepcopy(data["ui"])
        other.meta = copy.deepcopy(self.meta)
        other.training = copy.deepcopy(self.training)
        other._order = dict(self._order)
        other._counter = self._counter
        if self._analysis is not None:  # same structure, same analysis: a copy is not re-validated
            other._analysis = self._analysis.copy()
        return other

    def to_dict(self) -> dict:
        """The graph as plain JSON-ready data (the body of the file format)."""
        nodes = []
        for node_id in self.nodes:
            data = self._data(node_id)
            entry = {"id": node_id, "op": data["op"], "attrs": _jsonable(data["attrs"])}
            if data["ui"]:
                entry["ui"] = copy.deepcopy(data["ui"])
            if data["role"]:
                entry["role"] = data["role"]
            nodes.append(entry)
        edges = sorted(self.edges(), key=lambda e: (self._order[e.dst], e.dst_port))
        return {"meta": copy.deepcopy(self.meta), "nodes": nodes,
                "edges": [e._asdict() for e in edges], "training": copy.deepcopy(self.training)}

    # ---- Internals

    def _data(self, node_id: str) -> dict:
        try:
            return self.nx.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node {quoted(node_id)}") from None

    def _drop(self, node_id: str) -> None:
        self.nx.remove_node(node_id)
        del self._order[node_id]

    def _changed(self) -> None:
        self._analysis = None

    def analysis(self):
        """Types, parameters and diagnostics of the graph as it is now (cached until an edit)."""
        if self._analysis is None:
            from .validate import analyze

            self._analysis = analyze(self)
        return self._analysis

    def current_analysis(self):
        """The cached analysis, or None when an edit has made it stale (nothing is computed)."""
        return self._analysis

    def keep_analysis(self, analysis, node_id: str, in_types: list, out_types: list) -> None:
        """Reinstate `analysis` (the one before `node_id` was added) extended by that node.

        For a node added with every input wired and its types just inferred, with no outputs
        used yet (what Builder does): the whole-graph analysis would find the same, so
        differentiating a graph of n nodes does not re-analyze it n times.
        """
        from .validate import extend_analysis

        self._analysis = extend_analysis(self, analysis, node_id, in_types, out_types)

    @staticmethod
    def _checked_attr(spec: OpSpec, node_id: str, name: str, value: Any) -> Any:
        try:
            return spec.attr(name).check(value)
        except KeyError:
            raise GraphError(f"{spec.name} has no attribute {quoted(name)}", node=node_id) from None
        except AttrError as e:
            raise GraphError(f"attribute '{name}' {e}", node=node_id) from None


def _jsonable(attrs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}
