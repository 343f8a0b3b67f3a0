"""Type inference and diagnostics for a whole graph, and the check behind every new wire."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import networkx as nx

from .errors import ShapeError, quoted
from .registry import call_rule
from .spec import ParamDecl
from .types import TensorType

MAX_PARAM_SIZE = 1 << 28

if TYPE_CHECKING:
    from .graph import Graph


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a graph, tied to a node (and port) where it has one."""

    node: Optional[str]
    port: Optional[str]
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        where = f"{self.node}.{self.port}" if self.port else (self.node or "graph")
        return f"{self.severity}: {where}: {self.message}"


@dataclass
class Analysis:
    """What analyze() learned: types per output port, owned parameters, diagnostics."""

    types: dict[tuple[str, str], TensorType] = field(default_factory=dict)
    params: dict[str, tuple[str, str, ParamDecl]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def copy(self) -> "Analysis":
        return Analysis(dict(self.types), dict(self.params), list(self.diagnostics))


def param_key(node_id: str, name: str) -> str:
    """The weights-file key of a parameter: the node id, or node_name for an owned array."""
    return f"{node_id}_{name}" if name else node_id


def input_types(graph: "Graph", node_id: str, types: dict) -> tuple[list, list[Diagnostic]]:
    """The types arriving at each input port (None where unknown) and wiring problems."""
    spec = graph.spec(node_id)
    names = spec.input_names(graph.attrs(node_id))
    fed = graph.in_edges(node_id)
    problems = [Diagnostic(node_id, port, "error", f"{spec.name} has no input '{port}'; remove this wire")
                for port in fed if port not in names]
    result = []
    for port in names:
        edge = fed.get(port)
        if edge is None:
            problems.append(Diagnostic(node_id, port, "error", f"input '{port}' is not connected"))
            result.append(None)
        else:
            result.append(types.get((edge.src, edge.src_port)))
    return result, problems


def infer_node(graph: "Graph", node_id: str, in_types: list) -> list[TensorType]:
    """Run the op's shape rule on known input types; raises ShapeError naming the node."""
    spec = graph.spec(node_id)
    try:
        return list(call_rule(spec.infer, (in_types,), graph.attrs(node_id)))
    except ShapeError as e:
        raise ShapeError(e.message, node=node_id, port=e.port) from None


def analyze(graph: "Graph") -> Analysis:
    """Infer every type and collect every diagnostic; never raises on a bad user graph."""
    result = Analysis()
    if not nx.is_directed_acyclic_graph(graph.nx):
        cycle = nx.find_cycle(graph.nx)
        result.diagnostics.append(Diagnostic(cycle[0][0], None, "error", "the graph has a cycle through "
                                             + " -> ".join(e[0] for e in cycle)))
        return result
    for node_id in graph.topological_order():
        spec = graph.spec(node_id)
        in_types, problems = input_types(graph, node_id, result.types)
        result.diagnostics += problems
        for edge in graph.out_edges(node_id):
            if edge.src_port not in spec.output_names():
                result.diagnostics.append(Diagnostic(edge.dst, edge.dst_port, "error",
                                                     f"{node_id} has no output '{edge.src_port}'"))
        if any(t is None for t in in_types):
            continue
        try:
            outs = infer_node(graph, node_id, in_types)
        except ShapeError as e:
            result.diagnostics.append(Diagnostic(node_id, e.port, "error", e.message))
            continue
        for port, t in zip(spec.output_names(), outs):
            result.types[(node_id, port)] = t
        if spec.params:
            _collect_params(graph, node_id, in_types, result)
    return result


def extend_analysis(graph: "Graph", analysis: Analysis, node_id: str, in_types: list,
                    out_types: list) -> Analysis:
    """`analysis` with one new, fully wired sink node added (see Graph.keep_analysis)."""
    spec = graph.spec(node_id)
    for port, t in zip(spec.output_names(), out_types):
        analysis.types[(node_id, port)] = t
    if spec.params:
        _collect_params(graph, node_id, in_types, analysis)
    return analysis


def _collect_params(graph: "Graph", node_id: str, in_types: list, result: Analysis) -> None:
    spec = graph.spec(node_id)
    for name, decl in call_rule(spec.params, (graph.attrs(node_id), in_types), {}).items():
        key = param_key(node_id, name)
        size = 1
        for d in decl.shape:
            size *= d
        if size > MAX_PARAM_SIZE:
            result.diagnostics.append(Diagnostic(node_id, None, "error", f"parameter '{key}' would hold "
                                                 f"{size:,} numbers; the limit is {MAX_PARAM_SIZE:,}"))
        if key in result.params or (name and key in graph):
            result.diagnostics.append(Diagnostic(node_id, None, "error",
                                                 f"parameter name '{key}' is already used"))
        result.params[key] = (node_id, name, decl)


def check_wire(graph: "Graph", src: str, src_port: str, dst: str, dst_port: str, *,
               typed: bool = True) -> tuple[bool, str]:
    """Whether src.src_port may feed dst.dst_port; the reason in words when it may not."""
    for node_id in (src, dst):
        if node_id not in graph:
            return False, f"there is no node {quoted(node_id)}"
    if src_port not in graph.spec(src).output_names():
        return False, f"{src} has no output {quoted(src_port)}"
    names = graph.spec(dst).input_names(graph.attrs(dst))
    if dst_port not in names:
        return False, f"{dst} has no input {quoted(dst_port)}"
    if src == dst:
        return False, "a node cannot feed itself"
    fed = graph.in_edges(dst).get(dst_port)
    if fed is not None:
        return False, f"input '{dst_port}' of {dst} is already fed by {fed.src}"
    if nx.has_path(graph.nx, dst, src):
        return False, f"wiring {src} into {dst} would make a cycle"
    if not typed:
        return True, ""
    types = graph.types()
    src_type = types.get((src, src_port))
    if src_type is None:
        return True, ""
    trial = []
    for port in names:
        if port == dst_port:
            trial.append(src_type)
        else:
            source = graph.source(dst, port)
            trial.append(types.get(source) if source else None)
    if any(t is None for t in trial):
        return True, ""
    try:
        infer_node(graph, dst, trial)
    except ShapeError as e:
        return False, f"{e.message} ({src} gives {src_type})"
    return True, ""
