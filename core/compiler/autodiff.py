"""Symbolic reverse-mode differentiation, Theano's `grad`: gradients become graph nodes.

Walks the nodes between the cost and the parameters in reverse topological order, calls each
op's gradient rule, sums fan-out with Add nodes and undoes broadcasting with SumLike. New
nodes carry role="grad" so the canvas can show the backward graph, and ui "grad_of" naming the
forward node whose rule (or fan-out sum) made them, so it can grow them one forward node at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from core.graph import Graph
from core.graph.builder import Builder, Var, apply
from core.graph.errors import GraphError
from core.graph.executor import Ref, as_port
from core.graph.expand import expand_layers, is_layer
from core.graph.registry import call_rule
from core.graph.validate import Diagnostic

GRAD_OF = "grad_of"


@dataclass
class Gradients:
    """Where each parameter's gradient lives in the graph, and what could not be differentiated."""

    cost: tuple[str, str]
    grads: dict[str, tuple[str, str]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def trainable_parameters(graph: Graph) -> list[str]:
    """The Parameter nodes training updates, in graph order."""
    return [n for n in graph.nodes
            if graph.op_name(n) == "Parameter" and graph.attrs(n)["trainable"]]


def differentiate(graph: Graph, cost: Ref, wrt: Optional[list[str]] = None) -> tuple[Graph, Gradients]:
    """A copy of `graph` with layers expanded and the gradient of `cost` added as nodes."""
    expanded = expand_layers(graph)
    return expanded, add_gradients(expanded, cost, wrt)


def add_gradients(graph: Graph, cost: Ref, wrt: Optional[list[str]] = None) -> Gradients:
    """Add d(cost)/d(p) for each Parameter p in `wrt` (default: all trainable) to `graph`.

    Raises GraphError if the graph is invalid, still has layer nodes, or the cost is not a
    float scalar. A parameter the cost does not depend on gets a warning diagnostic.
    """
    cost = as_port(cost)
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        raise GraphError(errors[0].message, node=errors[0].node, port=errors[0].port)
    layers = [n for n in graph.nodes if is_layer(graph, n)]
    if layers:
        raise GraphError("expand layer nodes before differentiating (use differentiate())", node=layers[0])
    cost_type = graph.types().get(cost)
    if cost_type is None or cost_type.shape != () or not cost_type.is_float:
        raise GraphError(f"the cost must be a float scalar, got {cost_type}", node=cost[0])
    wrt = trainable_parameters(graph) if wrt is None else list(wrt)
    result = Gradients(cost)
    upstream = nx.ancestors(graph.nx, cost[0]) | {cost[0]}
    for param in wrt:
        if param not in upstream:
            result.diagnostics.append(Diagnostic(param, None, "warning",
                                                 f"the cost '{cost[0]}' does not depend on this parameter"))
    targets = [p for p in wrt if p in upstream]
    between = set()
    for p in targets:
        between |= (nx.descendants(graph.nx, p) | {p}) & upstream
    builder = Builder(graph, role="grad", prefix="d_")
    builder.ui = {GRAD_OF: cost[0]}
    cotangents: dict[tuple[str, str], list[Var]] = {cost: [builder.const(1.0, cost_type.dtype)]}
    for node_id in reversed(graph.topological_order(between)):
        builder.ui = {GRAD_OF: node_id}
        _backprop_node(graph, builder, node_id, cotangents, between)
    for p in targets:
        parts = cotangents.get((p, "y"))
        builder.ui = {GRAD_OF: p}
        if parts:
            total = _sum(parts)
            result.grads[p] = (total.node, total.port)
    return result


def _backprop_node(graph: Graph, builder: Builder, node_id: str,
                   cotangents: dict, between: set) -> None:
    """Call one node's gradient rule and hand each input its share."""
    spec = graph.spec(node_id)
    if (node_id, "y") not in cotangents:
        return
    ports = spec.input_ports(graph.attrs(node_id))
    inputs = [builder.var(*graph.source(node_id, p.name)) for p in ports]
    if spec.grad is None:
        _refuse_if_needed(spec.name, node_id, ports, inputs, between)
        return
    parts = cotangents[(node_id, "y")]
    g = _sum(parts)
    cotangents[(node_id, "y")] = [g]
    grads = call_rule(spec.grad, (g, *inputs, builder.var(node_id)), graph.attrs(node_id))
    for port, x, gx in zip(ports, inputs, grads):
        if gx is None or not port.differentiable or x.node not in between or not x.type.is_float:
            continue
        if gx.shape != x.shape:
            gx = apply("SumLike", gx, x)
        cotangents.setdefault((x.node, x.port), []).append(gx)


def _refuse_if_needed(op: str, node_id: str, ports: tuple, inputs: list[Var], between: set) -> None:
    """A gradient that would have to pass an op with no rule is refused, never silently dropped."""
    for port, x in zip(ports, inputs):
        if port.differentiable and x.node in between and x.type.is_float:
            raise GraphError(f"{op} has no gradient rule, so the cost cannot be differentiated "
                             f"through its input '{port.name}'", node=node_id, port=port.name)


def _sum(parts: list[Var]) -> Var:
    """Fan-out accumulation: one Add node per extra contribution."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
