"""Optimizers as graph updates (Theano's `updates`): SGD, momentum, Nesterov, Adam and RMSProp.

`add_updates` adds, for every trained parameter, the nodes computing its next value. The
optimizer's state (velocity, Adam's m and v, RMSProp's mean square) lives in new Parameter
nodes (trainable=False, zeros) and the learning rate comes in through a scalar Input, so a
schedule changes nothing in the graph. New nodes carry role="update".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.graph import Graph
from core.graph.builder import Builder, Var, apply

ROLE = "update"


@dataclass
class Updates:
    """What `add_updates` added: the update of each state key and the scalar inputs to feed.

    updates: state key (a Parameter id) -> (node, port) computing its next value.
    lr: the id of the learning-rate Input; bias: Adam's bias-correction Inputs (c1, c2) or None.
    slots: ids of the optimizer's own Parameters (velocities, moments).
    dtype: the scalar Inputs' float type, the widest of the trained parameters' (float64 graphs
        must not round their learning rate to float32).
    """

    optimizer: dict
    updates: dict[str, tuple[str, str]] = field(default_factory=dict)
    lr: str = ""
    bias: tuple[str, str] | None = None
    slots: list[str] = field(default_factory=list)
    dtype: str = "float32"

    @property
    def inputs(self) -> list[str]:
        """The scalar Inputs each step must feed, in order."""
        return [self.lr, *(self.bias or ())]

    def feeds(self, step: int, lr: float) -> dict[str, np.ndarray]:
        """Values of the scalar Inputs for 0-based global step `step` at learning rate `lr`."""
        values = {self.lr: np.asarray(lr, dtype=self.dtype)}
        if self.bias:
            t = step + 1
            values[self.bias[0]] = np.asarray(1.0 / (1.0 - self.optimizer["beta1"] ** t), dtype=self.dtype)
            values[self.bias[1]] = np.asarray(1.0 / (1.0 - self.optimizer["beta2"] ** t), dtype=self.dtype)
        return values


def add_updates(graph: Graph, grads: dict[str, tuple[str, str]], optimizer: dict) -> Updates:
    """Add the update of every parameter in `grads` to `graph` (in place).

    Parameters
    ----------
    graph: an expanded graph holding the gradient nodes (from `differentiate`).
    grads: parameter key -> (node, port) of its gradient.
    optimizer: a checked optimizer configuration (see config.OPTIMIZER_DEFAULTS).

    Returns
    -------
    Updates naming the new nodes. The rules, for gradient g (plus weight_decay * p when set):

    - sgd: p <- p - lr * g
    - sgd with momentum m: v <- m * v + g; p <- p - lr * v (Nesterov: p <- p - lr * (g + m * v))
    - adam: m <- b1 * m + (1 - b1) * g; v <- b2 * v + (1 - b2) * g^2;
      p <- p - lr * (m * c1) / (sqrt(v * c2) + eps), with c1 = 1 / (1 - b1^t), c2 = 1 / (1 - b2^t)
    - rmsprop: s <- rho * s + (1 - rho) * g^2; p <- p - lr * g / (sqrt(s) + eps)

    An Embedding's table under plain SGD is updated row by row (RowUpdate): only the rows in the batch.
    """
    builder = Builder(graph, role=ROLE, prefix="opt_")
    widest = [builder.var(key).dtype for key in grads]
    result = Updates(dict(optimizer), dtype="float64" if "float64" in widest else "float32")
    result.lr = _scalar_input(builder, "lr", result.dtype)
    lr = builder.var(result.lr)
    name = optimizer["name"]
    if name == "adam":
        result.bias = (_scalar_input(builder, "adam_c1", result.dtype), _scalar_input(builder, "adam_c2", result.dtype))
    for key, ref in grads.items():
        p = builder.var(key)
        rows = _gathered_rows(graph, key, ref)
        if rows is not None and name == "sgd" and not optimizer["momentum"] and not optimizer.get("weight_decay"):
            new = apply("RowUpdate", p, builder.var(*rows[0]), builder.var(*rows[1]), lr)
            result.updates[key] = (new.node, new.port)
            continue
        g = builder.var(*ref)
        if optimizer.get("weight_decay"):
            g = g + optimizer["weight_decay"] * p
        if name == "sgd":
            step = _sgd(builder, result, key, p, g, optimizer)
        elif name == "adam":
            step = _adam(builder, result, key, p, g, optimizer)
        else:
            step = _rmsprop(builder, result, key, p, g, optimizer)
        new = p - lr * step
        result.updates[key] = (new.node, new.port)
    return result


def _gathered_rows(graph: Graph, key: str, ref: tuple[str, str]) -> tuple | None:
    """(ids, rows) when a parameter's gradient is one ScatterAdd of the rows a Gather used (an Embedding).

    Plain SGD then updates only those rows, in place. Momentum, weight decay, Adam and RMSProp move every
    row each step (their state decays even where the gradient is zero), so they keep the dense gradient.
    """
    node = ref[0]
    if graph.op_name(node) != "ScatterAdd" or graph.source(node, "like") != (key, "y"):
        return None
    return graph.source(node, "ids"), graph.source(node, "g")


def _sgd(builder: Builder, result: Updates, key: str, p: Var, g: Var, opt: dict) -> Var:
    momentum = opt["momentum"]
    if not momentum:
        return g
    v = _slot(builder, result, key, "velocity", p)
    v_new = momentum * v + g
    result.updates[v.node] = (v_new.node, v_new.port)
    return g + momentum * v_new if opt["nesterov"] else v_new


def _adam(builder: Builder, result: Updates, key: str, p: Var, g: Var, opt: dict) -> Var:
    m = _slot(builder, result, key, "adam_m", p)
    v = _slot(builder, result, key, "adam_v", p)
    b1, b2 = opt["beta1"], opt["beta2"]
    m_new = b1 * m + (1 - b1) * g
    v_new = b2 * v + (1 - b2) * (g * g)
    result.updates[m.node] = (m_new.node, m_new.port)
    result.updates[v.node] = (v_new.node, v_new.port)
    c1, c2 = (builder.var(node) for node in result.bias)
    return (m_new * c1) / (apply("Sqrt", v_new * c2) + opt["eps"])


def _rmsprop(builder: Builder, result: Updates, key: str, p: Var, g: Var, opt: dict) -> Var:
    s = _slot(builder, result, key, "rms", p)
    rho = opt["rho"]
    s_new = rho * s + (1 - rho) * (g * g)
    result.updates[s.node] = (s_new.node, s_new.port)
    return g / (apply("Sqrt", s_new) + opt["eps"])


def _slot(builder: Builder, result: Updates, key: str, what: str, like: Var) -> Var:
    """A zero-initialized, untrained Parameter shaped like `like`: optimizer state for `key`."""
    attrs = {"shape": list(like.shape), "dtype": like.dtype, "init": "zeros", "trainable": False}
    var = builder.add("Parameter", [], attrs, name=f"{key}_{what}")[0]
    result.slots.append(var.node)
    return var


def _scalar_input(builder: Builder, name: str, dtype: str) -> str:
    return builder.add("Input", [], {"shape": [], "dtype": dtype}, name=f"opt_{name}")[0].node
