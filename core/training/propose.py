"""A training configuration proposed from a graph's structure, for graphs drawn without one.

The features are the one batch Input that is not the labels, the labels the Input feeding a loss's
second port, the loss the float scalar loss node, the metrics the Accuracy nodes; the data set is guessed
from the features' shape. What cannot be guessed is said in `missing`, in words a user can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from core.graph import Graph

METRIC_OPS = ("Accuracy",)
LECTURE_OPTIMIZER = {"name": "sgd", "lr": 0.1, "momentum": 0.9}


@dataclass
class Proposal:
    """A proposed configuration, what it guessed (`notes`) and what it could not (`missing`)."""

    config: dict
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def propose_training(graph: Graph) -> Proposal:
    """Propose graph.training from the graph alone (the graph is not changed)."""
    types = graph.types()
    losses = loss_candidates(graph)
    metrics = [n for n in graph.nodes if graph.op_name(n) in METRIC_OPS and _is_scalar(types, n)]
    labels = _labels_input(graph, losses + metrics)
    batch_inputs = [n for n in input_candidates(graph) if n != labels]
    proposal = Proposal({})
    config = proposal.config
    if len(batch_inputs) == 1:
        config["features"] = batch_inputs[0]
    elif batch_inputs:
        proposal.missing.append(f"several Inputs could hold the features ({', '.join(batch_inputs)}): "
                                "check the one (or, in the order the data set gives its arrays, the several) under Features")
    else:
        proposal.missing.append("add an Input whose shape starts with N (the batch), e.g. N, 64, for the features")
    config["labels"] = labels
    if len(losses) == 1:
        config["loss"] = losses[0]
    elif losses:
        proposal.missing.append(f"several nodes could be the loss ({', '.join(losses)}): pick one under Loss")
    else:
        proposal.missing.append("add a loss (e.g. SoftmaxCrossEntropy) that gives a float scalar")
    config["metrics"] = metrics
    config["dataset"] = _dataset_for(graph, config.get("features"), labels, proposal)
    config.update(optimizer=dict(LECTURE_OPTIMIZER), schedule={"name": "constant"}, batch_size=64, epochs=10,
                  seed=0, shuffle=True)
    return proposal


def input_candidates(graph: Graph) -> list[str]:
    """Inputs whose shape starts with the batch size N (what features and labels may name)."""
    return [n for n in graph.nodes if graph.op_name(n) == "Input" and _batch_shape(graph, n)]


def loss_candidates(graph: Graph) -> list[str]:
    """Float scalar nodes that can be minimized: the loss ops, else any float scalar that feeds nothing."""
    scalars = float_scalar_nodes(graph)
    losses = [n for n in scalars if graph.spec(n).category == "Loss"]
    return losses or [n for n in scalars if not graph.out_edges(n)]


def float_scalar_nodes(graph: Graph) -> list[str]:
    """Nodes that can be the loss: float scalars, the metric ops (no gradient) left out."""
    types = graph.types()
    return [n for n in graph.nodes if _is_scalar(types, n, float_only=True) and graph.op_name(n) not in METRIC_OPS]


def scalar_nodes(graph: Graph) -> list[str]:
    """Nodes with a scalar output (what metrics may name)."""
    types = graph.types()
    return [n for n in graph.nodes if _is_scalar(types, n)]


def _labels_input(graph: Graph, consumers: list[str]) -> Optional[str]:
    """The Input wired into a loss's (or metric's) second port, such as SoftmaxCrossEntropy.labels."""
    for node in consumers:
        ports = graph.spec(node).input_names(graph.attrs(node))
        for port in ports[1:]:
            source = graph.source(node, port)
            if source and graph.op_name(source[0]) == "Input" and _batch_shape(graph, source[0]):
                return source[0]
    return None


def _dataset_for(graph: Graph, features: Optional[str], labels: Optional[str], proposal: Proposal) -> dict:
    """digits for (N, 64) or (N, 1, 8, 8) features, moons for (N, 2), else a CSV file to choose."""
    shape = list(graph.attrs(features)["shape"][1:]) if features else []
    autoencoder = labels is not None and graph.attrs(labels)["dtype"].startswith("float") \
        and list(graph.attrs(labels)["shape"][1:]) == shape
    target = {"target": "features"} if autoencoder else {}
    if shape == [64]:
        proposal.notes.append("features of 64 numbers: the 8x8 digits")
        return {"name": "digits", "layout": "flat", **target}
    if shape == [1, 8, 8]:
        proposal.notes.append("features of 1x8x8: the digits as images")
        return {"name": "digits", "layout": "image", **target}
    if shape == [2]:
        proposal.notes.append("2-D points: the two moons")
        return {"name": "moons", **target}
    if features:
        proposal.missing.append(f"no built-in data set has features of shape {shape}: choose a CSV or NPZ file "
                                "under Data")
    return {"name": "csv", **target}


def _batch_shape(graph: Graph, node: str) -> bool:
    shape = graph.attrs(node).get("shape")
    return bool(shape) and shape[0] == "N"


def _is_scalar(types: dict, node: str, float_only: bool = False) -> bool:
    t = types.get((node, "y"))
    return t is not None and t.shape == () and (t.is_float or not float_only)
