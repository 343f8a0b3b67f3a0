"""The rewrite database: rewrites registered by phase and name, the Rewriter every change goes
through (`replace` records why), and the driver that runs one phase as a pure Graph -> Graph step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

from core.graph import Graph
from core.graph.validate import infer_node

Ref = tuple[str, str]


@dataclass(frozen=True)
class RewriteRecord:
    """One change: which phase and rewrite made it, why, and the nodes it touched."""

    phase: str
    rewrite: str
    reason: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        return f"[{self.phase}] {self.rewrite}: {self.reason} ({', '.join(self.nodes)})"


@dataclass(frozen=True)
class Rewrite:
    """A registered rewrite: local (called per node of the ops it matches) or a whole-graph pass."""

    name: str
    phase: str
    fn: Callable
    matches: Optional[tuple[str, ...]] = None
    tags: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        return self.matches is not None


REWRITES: dict[str, Rewrite] = {}


def rewrite(phase: str, matches: Sequence[str], tags: Sequence[str] = ()) -> Callable:
    """Register a local rewrite `fn(rw, node) -> Ref | None` for nodes of the ops in `matches`."""
    def register(fn: Callable) -> Callable:
        _register(Rewrite(fn.__name__, phase, fn, tuple(matches), tuple(tags)))
        return fn
    return register


def graph_pass(phase: str, tags: Sequence[str] = ()) -> Callable:
    """Register a whole-graph pass `fn(rw) -> None` that edits through the Rewriter."""
    def register(fn: Callable) -> Callable:
        _register(Rewrite(fn.__name__, phase, fn, None, tuple(tags)))
        return fn
    return register


def _register(entry: Rewrite) -> None:
    if entry.name in REWRITES:
        raise RuntimeError(f"rewrite {entry.name!r} is registered twice")
    REWRITES[entry.name] = entry


def selected(phase: str, exclude: Iterable[str] = ()) -> list[Rewrite]:
    """The rewrites of `phase` in registration order, minus those excluded by name, tag or phase."""
    exclude = set(exclude)
    if phase in exclude:
        return []
    return [r for r in REWRITES.values()
            if r.phase == phase and r.name not in exclude and not exclude & set(r.tags)]


class Rewriter:
    """A graph being rewritten: its protected outputs, known types and the record of changes."""

    def __init__(self, graph: Graph, outputs: Sequence[Ref], phase: str, options: Optional[dict] = None,
                 types: Optional[dict] = None) -> None:
        self.graph = graph
        self.outputs = list(outputs)
        self.phase = phase
        self.options = dict(options or {})
        self.records: list[RewriteRecord] = []
        self.types = dict(types) if types is not None else dict(graph.types())
        self.current = ""

    # ---- Queries

    def op(self, node: str) -> str:
        return self.graph.op_name(node)

    def attrs(self, node: str) -> dict:
        return self.graph.attrs(node)

    def type(self, ref: Ref):
        return self.types[ref]

    def src(self, node: str, port: str) -> Ref:
        """The (node, port) feeding an input port of `node`."""
        return self.graph.source(node, port)

    def inputs(self, node: str) -> list[Ref]:
        spec = self.graph.spec(node)
        return [self.graph.source(node, p) for p in spec.input_names(self.graph.attrs(node))]

    def consumers(self, ref: Ref) -> list:
        return [e for e in self.graph.out_edges(ref[0]) if e.src_port == ref[1]]

    def is_output(self, node: str) -> bool:
        return any(ref[0] == node for ref in self.outputs)

    def constant(self, ref: Ref) -> Any:
        """The value of a Constant node's output, or None when `ref` is not a constant."""
        if self.op(ref[0]) != "Constant":
            return None
        return self.attrs(ref[0])["value"]

    # ---- Changes

    def add(self, op: str, inputs: Sequence[Ref], attrs: Optional[dict] = None, *, like: str = "") -> Ref:
        """Add a node fed by `inputs`; it takes the role of node `like`. Returns its output."""
        role = self.graph.role(like) if like else None
        base = f"{like or op.lower()}_{op.lower()}" if like else op.lower()
        node = self.graph.add_node(op, attrs, node_id=self.graph.unique_id(base[:60]), role=role)
        spec = self.graph.spec(node)
        for port, ref in zip(spec.input_names(self.graph.attrs(node)), inputs):
            self.graph.connect(ref[0], ref[1], node, port, typed=False)
        outs = infer_node(self.graph, node, [self.types[r] for r in inputs])
        for port, t in zip(spec.output_names(), outs):
            self.types[(node, port)] = t
        return (node, spec.output_names()[0])

    def replace(self, old: Ref, new: Ref, reason: str, nodes: Sequence[str] = ()) -> None:
        """Reroute every consumer of `old` (and any output naming it) to `new`, and record it."""
        if old == new:
            return
        for edge in self.consumers(old):
            self.graph.disconnect(edge)
            self.graph.connect(new[0], new[1], edge.dst, edge.dst_port, typed=False)
        self.outputs = [new if ref == old else ref for ref in self.outputs]
        self.record(reason, tuple(nodes) or (old[0], new[0]))

    def record(self, reason: str, nodes: Sequence[str]) -> None:
        self.records.append(RewriteRecord(self.phase, self.current, reason, tuple(nodes)))


def run_phase(phase: str, graph: Graph, outputs: Sequence[Ref], exclude: Iterable[str] = (),
              options: Optional[dict] = None, types: Optional[dict] = None
              ) -> tuple[Graph, list[Ref], list[RewriteRecord]]:
    """Run every selected rewrite of `phase` on a copy of `graph`; the input is left untouched.

    Local rewrites are applied in topological order until none fires (at most a few sweeps);
    dead nodes are removed at the end. Returns (new graph, remapped outputs, records).
    `types` may carry the known types of `graph` (saves analysing it again); the Rewriter's
    table, updated as nodes are added, is left in `options["types"]` for the next phase.
    """
    rw = Rewriter(graph.copy(), outputs, phase, options, types)
    entries = selected(phase, exclude)
    local = [r for r in entries if r.local]
    by_op: dict[str, list[Rewrite]] = {}
    for entry in local:
        for op in entry.matches:
            by_op.setdefault(op, []).append(entry)
    for _ in range(8 if by_op else 0):
        fired = False
        for node in rw.graph.topological_order():
            if node not in rw.graph or not (rw.graph.out_edges(node) or rw.is_output(node)):
                continue
            for entry in by_op.get(rw.graph.op_name(node), ()):
                rw.current = entry.name
                new = entry.fn(rw, node)
                if new is not None:
                    rw.replace((node, "y"), new, reason=entry.fn.__doc__.strip().splitlines()[0])
                    fired = True
                    break
        remove_dead(rw)
        if not fired:
            break
    for entry in entries:
        if not entry.local:
            rw.current = entry.name
            entry.fn(rw)
    remove_dead(rw)
    if options is not None:
        options["types"] = rw.types
    return rw.graph, rw.outputs, rw.records


def remove_dead(rw: Rewriter) -> None:
    """Remove nodes no output needs (Inputs and Parameters stay: they are the interface)."""
    needed = rw.graph.required([ref[0] for ref in rw.outputs]) if rw.outputs else set()
    dead = [n for n in rw.graph.nodes
            if n not in needed and rw.op(n) not in ("Input", "Parameter")]
    if dead:
        for node in dead:
            rw.graph.remove_node(node)
        saved, rw.current = rw.current, "remove_dead_nodes"
        rw.record(f"removed {len(dead)} node(s) no output needs", dead)
        rw.current = saved
