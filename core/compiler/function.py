"""compile(): Theano's `function` — a graph, its inputs, outputs and updates, made callable.

This first version runs the reference executor; the optimizing pipeline replaces the body
of `Function.__call__` without changing this interface.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Optional

import numpy as np

from core.graph import Graph, GraphError, evaluate, expand_layers, init_params
from core.graph.executor import Ref, as_port


class Function:
    """A compiled step: call it with feeds, get outputs; updates are applied to its state.

    State holds every Parameter value (weights and optimizer slots), keyed by weights key.
    """

    def __init__(self, graph: Graph, inputs: list[str], outputs: list[tuple[str, str]],
                 updates: dict[str, tuple[str, str]], weights: dict, training: bool, seed: int) -> None:
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.updates = updates
        self.training = training
        self.state = init_params(graph, seed, weights)
        self._rng = np.random.default_rng(seed)

    def __call__(self, *args: np.ndarray, **feeds: np.ndarray) -> list[np.ndarray]:
        """Run one step: positional arrays follow `inputs`; keywords name inputs."""
        feeds = {**dict(zip(self.inputs, args)), **feeds}
        missing = [name for name in self.inputs if name not in feeds]
        if missing:
            raise GraphError("no value fed for this input", node=missing[0])
        wanted = list(self.outputs) + list(self.updates.values())
        result = evaluate(self.graph, feeds, self.state, wanted, training=self.training, rng=self._rng)
        for key, ref in self.updates.items():
            self.state[key] = result[ref].astype(self.state[key].dtype, copy=False)
        return [result[ref] for ref in self.outputs]

    def get_weights(self) -> dict[str, np.ndarray]:
        """Host copies of every state array."""
        return {k: np.array(v) for k, v in self.state.items()}

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Replace state arrays by key (shapes are checked)."""
        self.state = init_params(self.graph, 0, {**self.state, **weights})


def compile(graph: Graph, inputs: Iterable[str], outputs: Iterable[Ref],
            updates: Optional[Mapping[str, Ref]] = None, *, weights: Optional[dict] = None,
            training: bool = False, seed: int = 0, device: str = "cpu") -> Function:
    """Make a callable step from `graph`.

    Parameters
    ----------
    inputs: Input node ids fed on each call, in positional order.
    outputs: nodes (or (node, port) pairs) whose values each call returns.
    updates: state key (a Parameter node id) -> the node computing its new value.
    weights: initial values by key; missing ones are drawn with `seed`.
    training: run stochastic ops (Dropout) in training mode.
    """
    expanded = expand_layers(graph)
    return Function(expanded, list(inputs), [as_port(r) for r in outputs],
                    {k: as_port(v) for k, v in (updates or {}).items()}, dict(weights or {}), training, seed)
