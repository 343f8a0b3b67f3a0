"""The gradient graph as the canvas shows it: the nodes `differentiate()` adds to the user's graph,
grouped by the forward node they came from (for growing it one node at a time), and the
finite-difference estimates their values are checked against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from core.graph import Edge, Graph, GraphError, evaluate
from core.graph.by_hand import hand_feeds
from core.graph.expand import is_layer

from .autodiff import GRAD_OF, add_gradients, trainable_parameters

SHOWN = "gradient_view"      # ui flag on shown gradient nodes: they are not saved unless kept
WRT = "gradient_wrt"         # ui key on the node holding d(cost)/d(that node)


@dataclass
class GradientNode:
    """One node differentiation adds: what to create, and the forward node it came from."""

    node_id: str
    op: str
    attrs: dict
    origin: str
    wrt: Optional[str] = None


@dataclass
class GradientView:
    """The gradient of `cost` as nodes to add: in creation order, with their wires."""

    cost: str
    wrt: list[str]
    nodes: list[GradientNode] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    grads: dict[str, str] = field(default_factory=dict)

    def growth_order(self) -> list[str]:
        """The forward nodes whose rules add nodes, in the order differentiation visits them."""
        order: list[str] = []
        for node in self.nodes:
            if node.origin not in order:
                order.append(node.origin)
        return order

    def nodes_of(self, origins: set[str]) -> list[GradientNode]:
        return [n for n in self.nodes if n.origin in origins]


def forward_part(graph: Graph) -> Graph:
    """A copy of `graph` without shown gradient nodes (what the gradient is taken of)."""
    forward = graph.copy()
    for node_id in shown_gradient_nodes(graph):
        forward.remove_node(node_id)
    return forward


def shown_gradient_nodes(graph: Graph) -> list[str]:
    return [n for n in graph.nodes if graph.ui(n).get(SHOWN)]


def scalar_costs(graph: Graph) -> list[str]:
    """Differentiable nodes with a float scalar output: the costs a gradient can be shown for
    (the training loss first, then nodes nothing reads)."""
    types = graph.types()
    found = [n for n in graph.nodes if not graph.ui(n).get(SHOWN) and graph.spec(n).grad is not None
             and (t := types.get((n, "y"))) is not None and t.shape == () and t.is_float]
    loss = graph.training.get("loss")
    return sorted(found, key=lambda n: (n != loss, bool(graph.out_edges(n))))


def default_wrt(graph: Graph, cost: str) -> list[str]:
    """What the gradient is taken with respect to: the trainable parameters, or, in a graph
    without any (f(x, y)), the float Inputs the cost depends on."""
    params = trainable_parameters(graph)
    if params:
        return params
    upstream = graph.required([cost])
    types = graph.types()
    return [n for n in graph.nodes if n in upstream and graph.op_name(n) == "Input"
            and types[(n, "y")].is_float]


def gradient_view(graph: Graph, cost: str, wrt: Optional[list[str]] = None) -> GradientView:
    """The nodes and wires `add_gradients` adds to the forward part of `graph`.

    Raises GraphError when the graph holds layer nodes (the canvas shows primitives: expand
    them first) or the cost is no float scalar.
    """
    forward = forward_part(graph)
    layers = [n for n in forward.nodes if is_layer(forward, n)]
    if layers:
        raise GraphError("expand this layer (Graph ▸ Expand Layer) to see its gradient", node=layers[0])
    wrt = default_wrt(forward, cost) if wrt is None else list(wrt)
    before = set(forward.nodes)
    result = add_gradients(forward, cost, wrt)
    view = GradientView(cost, wrt)
    holders = {node: p for p, (node, _) in result.grads.items()}
    for node_id in forward.nodes:
        if node_id in before:
            continue
        view.nodes.append(GradientNode(node_id, forward.op_name(node_id), forward.attrs(node_id),
                                       forward.ui(node_id).get(GRAD_OF, cost), holders.get(node_id)))
    added = {n.node_id for n in view.nodes}
    view.edges = [e for e in forward.edges() if e.dst in added]
    view.grads = {p: node for p, (node, _) in result.grads.items()}
    return view


def finite_differences(graph: Graph, cost: str, wrt: list[str], weights: dict, eps: Optional[float] = None,
                       max_entries: int = 24, stop: Optional[Callable[[], bool]] = None,
                       ) -> dict[str, tuple[list[tuple], np.ndarray]]:
    """d(cost)/d(each of `wrt`) by central differences on the reference executor: the independent
    truth the gradient nodes' values are checked against. Inputs take their typed values.

    Returns {name: (indices, estimates)}: every entry of a small array, an even sample of
    `max_entries` entries of a larger one (each entry costs two evaluations of the graph).
    When `stop()` turns true (its caller no longer wants them) it returns early, with the names done so far.
    """
    forward = forward_part(graph)
    feeds = {k: v.astype(np.float64) for k, v in hand_feeds(forward).items()}
    base = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    out = {}
    for name in wrt:
        is_input = name in feeds
        source = feeds if is_input else base
        if name not in source:
            raise GraphError("no value to differentiate with respect to", node=name)
        step = eps or (1e-6 if _declared_dtype(forward, name) == "float64" else 1e-3)
        x = source[name]
        every = list(np.ndindex(x.shape))
        picks = [every[i] for i in np.linspace(0, len(every) - 1, min(len(every), max_entries)).astype(int)]
        estimates = np.zeros(len(picks))
        for k, index in enumerate(picks):
            if stop is not None and stop():
                return out
            values = []
            for sign in (1.0, -1.0):
                moved = x.copy()
                moved[index] += sign * step
                trial = dict(source, **{name: moved})
                f, w = (trial, base) if is_input else (feeds, trial)
                values.append(float(evaluate(forward, f, w, [cost])[cost]))
            estimates[k] = (values[0] - values[1]) / (2 * step)
        out[name] = (picks, estimates)
    return out


def compare(gradient: np.ndarray, check: tuple[list[tuple], np.ndarray]) -> tuple[bool, float]:
    """(agrees, largest relative difference) of a gradient node's value with its estimate."""
    picks, estimates = check
    got = np.array([np.asarray(gradient, dtype=np.float64)[i] for i in picks])
    error = float(np.max(np.abs(got - estimates) / np.maximum(1.0, np.abs(estimates)))) if picks else 0.0
    return error < 1e-3, error


def _declared_dtype(graph: Graph, node_id: str) -> str:
    return graph.types()[(node_id, "y")].dtype
