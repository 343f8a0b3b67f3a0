"""The reference executor: evaluates a graph op by op with each op's NumPy forward.

Slow and plain on purpose: it is the ground truth the compiler is checked against, and the
tool that finds which node first produced a NaN.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional, Union

import numpy as np

from .errors import GraphError, LoomError
from .registry import call_rule
from .types import shape_str
from .validate import param_key

if TYPE_CHECKING:
    from .graph import Graph

Ref = Union[str, tuple[str, str]]


class RunContext:
    """What an op's forward may ask for: feeds, its own parameters, the batch size, randomness."""

    def __init__(self, feeds: dict, weights: dict, dims: dict, training: bool,
                 rng: np.random.Generator) -> None:
        self.feeds, self.weights, self.dims = feeds, weights, dims
        self.training, self.rng = training, rng
        self.node = ""

    def feed(self) -> np.ndarray:
        return self.feeds[self.node]

    def param(self, name: str) -> np.ndarray:
        key = param_key(self.node, name)
        if key not in self.weights:
            raise GraphError(f"no value for parameter '{key}'", node=self.node)
        return self.weights[key]


@dataclass
class Evaluation:
    """Every computed output, keyed by (node, port), in the order they were computed."""

    values: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def __getitem__(self, ref: Ref) -> np.ndarray:
        return self.values[as_port(ref)]


def as_port(ref: Ref) -> tuple[str, str]:
    """(node, port) for a node id (its first output, "y" by convention) or a pair."""
    return (ref, "y") if isinstance(ref, str) else tuple(ref)


def bind_feeds(graph: "Graph", feeds: dict) -> tuple[dict, dict]:
    """Check each fed Input against its declared type; returns (arrays, symbol values)."""
    arrays, dims = {}, {}
    types = graph.types()
    for node_id in graph.nodes:
        if graph.op_name(node_id) != "Input" or node_id not in feeds:
            continue
        declared = types[(node_id, "y")]
        array = np.asarray(feeds[node_id])
        if array.ndim != declared.ndim:
            raise GraphError(f"fed an array of shape {shape_str(array.shape)}, expected "
                             f"{shape_str(declared.shape)}", node=node_id)
        for want, got in zip(declared.shape, array.shape):
            if isinstance(want, str):
                if dims.setdefault(want, got) != got:
                    raise GraphError(f"batch size {got} differs from {dims[want]} given elsewhere",
                                     node=node_id)
            elif want != got:
                raise GraphError(f"fed an array of shape {shape_str(array.shape)}, expected "
                                 f"{shape_str(declared.shape)}", node=node_id)
        arrays[node_id] = array.astype(declared.dtype, copy=False)
    return arrays, dims


def evaluate(graph: "Graph", feeds: dict, weights: dict, outputs: Optional[Iterable[Ref]] = None, *,
             training: bool = False, rng: Optional[np.random.Generator] = None) -> Evaluation:
    """Evaluate what `outputs` need (everything if None) with NumPy, op by op.

    Raises GraphError on an invalid graph or a missing feed, and LoomError naming the node
    whose op failed on the given values.
    """
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        first = errors[0]
        raise GraphError(first.message, node=first.node, port=first.port)
    wanted = [as_port(r) for r in outputs] if outputs is not None else None
    nodes = graph.required([n for n, _ in wanted]) if wanted is not None else set(graph.nodes)
    arrays, dims = bind_feeds(graph, feeds)
    ctx = RunContext(arrays, weights, dims, training, rng or np.random.default_rng(0))
    result = Evaluation()
    for node_id in graph.topological_order(nodes):
        spec = graph.spec(node_id)
        if spec.name == "Input" and node_id not in arrays:
            raise GraphError("no value fed for this input", node=node_id)
        ins = [result.values[graph.source(node_id, p)] for p in spec.input_names(graph.attrs(node_id))]
        ctx.node = node_id
        try:
            with np.errstate(all="ignore"):
                out = call_rule(spec.forward, ins, graph.attrs(node_id), ctx=ctx)
        except LoomError:
            raise
        except (ValueError, IndexError, FloatingPointError) as e:
            raise LoomError(f"{spec.name} failed: {e}", node=node_id) from None
        for port, value in zip(spec.output_names(), out if isinstance(out, tuple) else (out,)):
            result.values[(node_id, port)] = np.asarray(value)
        result.order.append(node_id)
    return result
