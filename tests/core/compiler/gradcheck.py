"""Finite differences of the reference executor: the truth gradients are checked against."""
from __future__ import annotations

import numpy as np

from core.graph import Graph, evaluate


def numeric_gradient(graph: Graph, feeds: dict, weights: dict, cost: str, key: str,
                     eps: float = 1e-6) -> np.ndarray:
    """Central differences of `cost` with respect to weights[key] (or feeds[key])."""
    values = weights if key in weights else feeds
    array = values[key]
    out = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        up = float(evaluate(graph, feeds, weights, [cost])[cost])
        array[index] = original - eps
        down = float(evaluate(graph, feeds, weights, [cost])[cost])
        array[index] = original
        out[index] = (up - down) / (2 * eps)
    return out


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(got, float) - want) / max(np.linalg.norm(want), 1e-3))
