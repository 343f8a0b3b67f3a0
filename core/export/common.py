"""What every exporter shares: the export error, the outputs and inference graph, safe names, atomic writes."""
from __future__ import annotations

import builtins
import keyword
import re
from typing import Any, Hashable, Iterable, Optional

import numpy as np

from core.graph import Graph, GraphError, LoomError, expand_node, graph_document, graph_from_dict
from core.graph.expand import is_layer


class ExportError(LoomError):
    """A graph that cannot be written to the chosen target (the message says which node and why)."""


def default_outputs(graph: Graph) -> list[str]:
    """The nodes a model computes for its user: results no other op consumes, losses and metrics aside.

    A prediction that only feeds losses or metrics (an autoencoder's reconstruction) counts as a
    result; sources (inputs, weights, constants) never do.
    """
    def used(node_id: str) -> bool:
        return any(graph.spec(e.dst).category != "Loss" for e in graph.out_edges(node_id))

    return [n for n in graph.nodes if graph.spec(n).category not in ("Loss", "Sources") and not used(n)]


def resolve_outputs(graph: Graph, outputs: Optional[Iterable[str]]) -> list[str]:
    """The caller's outputs (checked) or the default ones; raises ExportError when there are none."""
    chosen = default_outputs(graph) if outputs is None else list(outputs)
    for node_id in chosen:
        if node_id not in graph:
            raise ExportError(f"there is no node '{node_id}' to export", node=node_id)
    if not chosen:
        raise ExportError("the graph has no output to export (every result is a loss or a metric)")
    return chosen


def checked(graph: Graph) -> Graph:
    """`graph` itself when it validates; otherwise GraphError naming the first problem."""
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        raise GraphError(errors[0].message, node=errors[0].node, port=errors[0].port)
    return graph


def inference_graph(graph: Graph, outputs: Optional[Iterable[str]] = None) -> tuple[Graph, list[str]]:
    """What the outputs need, Dropout removed (it is the identity at inference), layers expanded.

    Returns the expanded graph and the outputs; a layer that is an output lends its id to the
    last node of its expansion, so the outputs keep their names.
    """
    outputs = resolve_outputs(checked(graph), outputs)
    sub = graph.subgraph(outputs)
    for node_id in sub.topological_order():
        if sub.op_name(node_id) == "Dropout":
            if node_id in outputs:
                raise ExportError("a Dropout node cannot be an output; export what it feeds", node=node_id)
            src = sub.source(node_id, "x")
            consumers = sub.out_edges(node_id)
            sub.remove_node(node_id)
            for edge in consumers:
                sub.connect(src[0], src[1], edge.dst, edge.dst_port)
    sub = checked(sub)
    renames = {}
    for node_id in sub.topological_order():
        if is_layer(sub, node_id):
            added = expand_node(sub, node_id)
            if node_id in outputs:
                inner = set(added)
                ends = [n for n in added if sub.spec(n).category != "Sources"
                        and not any(e.dst in inner for e in sub.out_edges(n))]
                renames[ends[0]] = node_id
    return checked(_renamed(sub, renames) if renames else sub), outputs


def _renamed(graph: Graph, renames: dict[str, str]) -> Graph:
    """A copy of `graph` with some nodes given new (free) ids: a layer's last node takes the layer's."""
    document = graph_document(graph)
    for node in document["nodes"]:
        node["id"] = renames.get(node["id"], node["id"])
    for edge in document["edges"]:
        edge["src"] = renames.get(edge["src"], edge["src"])
        edge["dst"] = renames.get(edge["dst"], edge["dst"])
    return graph_from_dict(document)


def feature_arrays(inputs: tuple[str, ...], split: str = "train") -> list[str]:
    """The data file's array names for the feature Inputs: `x_train` for one, `x_train.<Input>` for each of several."""
    return [f"x_{split}"] if len(inputs) == 1 else [f"x_{split}.{name}" for name in inputs]


def data_arrays(dataset: Any, labels: bool, inputs: tuple[str, ...] = ("x",)) -> dict[str, np.ndarray]:
    """The data file both scripts read (`<name>_data.npz`): the feature arrays of each split, named by
    `feature_arrays`, and, with labels, y_train, y_val."""
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        arrays.update(zip(feature_arrays(inputs, split), dataset.features(split)))
    if labels:
        arrays.update(y_train=dataset.y_train, y_val=dataset.y_val)
    return arrays


class NameTable:
    """Maps graph names to safe, unique, non-keyword Python identifiers, the same one each time.

    Every name generated code uses goes through `name()`; `reserved` holds names the generated
    code itself needs (modules, helpers) so a node can never shadow them; `private=False` keeps
    names from starting with an underscore (attributes of a class that has private members).
    """

    def __init__(self, reserved: Iterable[str] = (), private: bool = True) -> None:
        self._taken = set(reserved)
        self._names: dict[str, str] = {}
        self._private = private

    def name(self, key: Hashable, hint: Optional[str] = None) -> str:
        """The identifier of `key`, made from `hint` (default: the key itself) on first use."""
        if key not in self._names:
            base = re.sub(r"[^A-Za-z0-9_]", "_", str(key if hint is None else hint))[:60] or "v"
            if not (base[0].isalpha() or (base[0] == "_" and self._private)):
                base = "v_" + base.lstrip("_")
            if keyword.iskeyword(base) or keyword.issoftkeyword(base) or hasattr(builtins, base):
                base += "_"
            candidate, i = base, 2
            while candidate in self._taken:
                candidate, i = f"{base}_{i}", i + 1
            self._taken.add(candidate)
            self._names[key] = candidate
        return self._names[key]
