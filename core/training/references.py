"""The nodes a training configuration names (features, labels, loss, metrics): their checks and renames.

The editor lists `reference_diagnostics` with the graph's own diagnostics, so a configuration that names a
missing or wrongly typed node is a Problem before Start; `read_config` raises the first one as a ConfigError.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

from core.graph import Graph
from core.graph.errors import quoted
from core.graph.validate import Diagnostic

REFERENCE_KEYS = ("features", "labels", "loss", "metrics")


def reference_diagnostics(graph: Graph, config: Optional[dict] = None) -> list[Diagnostic]:
    """One error per node reference of `config` (default: graph.training) that does not fit the graph.

    An empty configuration has none (a new graph is not wrong, only not set up yet).
    """
    config = graph.training if config is None else config
    if not isinstance(config, dict) or not config:
        return []
    types = graph.types()
    found: list[Diagnostic] = []

    def problem(key: str, message: str, node: Any = None) -> None:
        node = node if isinstance(node, str) and node in graph else None
        found.append(Diagnostic(node, None, "error", f"training.{key}: {message}"))

    for key, value in _input_references(config):
        message = _input_problem(graph, value)
        if message:
            problem(key, message, value)
    features = config.get("features")
    if isinstance(features, list):
        repeated = [i for i, name in enumerate(features) if name in features[:i]]
        if repeated:
            problem(f"features[{repeated[0]}]", f"Input {quoted(features[repeated[0]])} is named twice")
    loss = config.get("loss")
    message = _node_problem(graph, loss)
    if message is None:
        loss_type = types.get((loss, "y"))
        if loss_type is None or loss_type.shape != () or not loss_type.is_float:
            message = f"node '{loss}' must give a float scalar, it gives {loss_type}"
    if message:
        problem("loss", message, loss)
    metrics = config.get("metrics", [])
    if not isinstance(metrics, list):
        problem("metrics", "must be a list of node ids")
        return found
    for i, metric in enumerate(metrics):
        message = _node_problem(graph, metric)
        if message is None:
            metric_type = types.get((metric, "y"))
            if metric_type is None or metric_type.shape != ():
                message = f"node '{metric}' must give a scalar, it gives {metric_type}"
        if message:
            problem(f"metrics[{i}]", message, metric)
    return found


def rename_references(config: dict, old: str, new: str) -> dict:
    """A copy of `config` whose node references to `old` name `new` instead."""
    out = copy.deepcopy(config)
    if isinstance(out.get("features"), list):
        out["features"] = [new if f == old else f for f in out["features"]]
    for key in ("features", "labels", "loss"):
        if out.get(key) == old:
            out[key] = new
    if isinstance(out.get("metrics"), list):
        out["metrics"] = [new if m == old else m for m in out["metrics"]]
    return out


def _input_references(config: dict) -> list[tuple[str, Any]]:
    """(key, value) of each Input the configuration names: `features` (one name or a list), then `labels`."""
    features = config.get("features")
    if isinstance(features, list) and features:
        found = [(f"features[{i}]", name) for i, name in enumerate(features)]
    else:
        found = [("features", features)]
    if config.get("labels") is not None:
        found.append(("labels", config["labels"]))
    return found


def _node_problem(graph: Graph, node: Any) -> Optional[str]:
    if not isinstance(node, str) or not node:
        return f"must name a node of the graph, got {quoted(node)}"
    if node not in graph:
        return f"the graph has no node {quoted(node)}"
    return None


def _input_problem(graph: Graph, node: Any) -> Optional[str]:
    message = _node_problem(graph, node)
    if message:
        return message
    if graph.op_name(node) != "Input":
        return f"node '{node}' is a {graph.op_name(node)}, not an Input"
    shape = graph.attrs(node)["shape"]
    if not shape or shape[0] != "N":
        return f"Input '{node}' must have the batch size N as its first dimension, its shape is {list(shape)}"
    return None


def all_diagnostics(graph: Graph) -> list[Diagnostic]:
    """The graph's own diagnostics, then the problems of its training configuration (what the editor lists)."""
    return graph.validate() + reference_diagnostics(graph)
