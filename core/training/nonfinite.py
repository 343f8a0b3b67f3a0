"""Finding the node that first produced a NaN or Inf, by re-running a batch through the reference executor."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

from core.graph import Graph, LoomError, evaluate
from core.graph.executor import Ref


class NonFiniteError(LoomError):
    """Training produced a NaN or Inf; `.node` is the first node (in topological order) that did.

    Attributes: step and epoch (1-based) of the failing batch, `value` (the bad value) and
    `inputs` ({port: text describing what went in}).
    """

    def __init__(self, message: str, *, node: Optional[str] = None, step: int = 0, epoch: int = 0,
                 value: float = float("nan"), inputs: Optional[dict[str, str]] = None) -> None:
        super().__init__(message, node=node)
        self.step, self.epoch, self.value = step, epoch, value
        self.inputs = dict(inputs or {})


def first_nonfinite(graph: Graph, feeds: dict, weights: dict, outputs: Iterable[Ref], *,
                    training: bool = True, seed: int = 0) -> Optional[tuple[str, str, dict[str, str], float]]:
    """Evaluate `outputs` with the reference executor; describe the first non-finite output.

    Returns (node, port, {input port: description}, bad value), or None when every value is finite.
    """
    ev = evaluate(graph, feeds, weights, list(outputs), training=training, rng=np.random.default_rng(seed))
    for node in ev.order:
        spec = graph.spec(node)
        for port in spec.output_names():
            value = ev[(node, port)]
            if value.dtype.kind != "f" or np.all(np.isfinite(value)):
                continue
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
            inputs = {}
            for in_port in spec.input_names(graph.attrs(node)):
                source = graph.source(node, in_port)
                inputs[in_port] = _describe(source[0], ev[source], value.shape, index)
            return node, port, inputs, float(value[index])
    return None


def _describe(source: str, array: np.ndarray, out_shape: tuple, index: tuple) -> str:
    """What an input held: the element that met the bad output when shapes line up, else a summary."""
    text = f"from '{source}'"
    try:
        element = np.broadcast_to(array, out_shape)[index]
        text += f" = {float(element):.6g}" + (f" at {list(index)}" if index else "")
    except ValueError:  # the shapes do not line up (a MatMul, a reduction): give a summary only
        pass
    if array.size and array.dtype.kind == "f":
        finite = np.isfinite(array)
        if finite.any():
            text += f" (shape {array.shape}, min {float(array[finite].min()):.6g}, " \
                    f"max {float(array[finite].max()):.6g}"
        else:
            text += f" (shape {array.shape}, no finite value"
        bad = int(array.size - finite.sum())
        text += f", {bad} non-finite)" if bad else ")"
    elif array.size:
        text += f" (shape {array.shape}, min {array.min()}, max {array.max()})"
    return text
