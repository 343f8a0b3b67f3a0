"""Helpers for the exporter tests: the example files, small graphs by hand, random feeds."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.graph import Graph

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "resources" / "examples").glob("*.json"))


def make_graph(nodes: list, edges: list) -> Graph:
    """nodes: (id, op, attrs); edges: (src, dst, dst_port) from each src's output y."""
    graph = Graph()
    for node_id, op, attrs in nodes:
        graph.add_node(op, attrs, node_id=node_id)
    for src, dst, port in edges:
        graph.connect(src, "y", dst, port)
    return graph


def random_feeds(graph: Graph, batch: int = 5, seed: int = 0, positive: bool = False) -> dict:
    """A value for every Input: normal floats (or uniform in [0.5, 2]), int64 ids and labels in {0, 1}."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for node_id in graph.nodes:
        if graph.op_name(node_id) != "Input":
            continue
        t = graph.types()[(node_id, "y")]
        shape = [batch if isinstance(d, str) else d for d in t.shape]
        if t.dtype == "int64":
            feeds[node_id] = rng.integers(0, 2, size=shape).astype(np.int64)
        elif positive:
            feeds[node_id] = rng.uniform(0.5, 2.0, size=shape).astype(t.dtype)
        else:
            feeds[node_id] = rng.normal(size=shape).astype(t.dtype)
    return feeds


# One small graph per family of mapped ops: (name, nodes, edges, positive inputs?)
X4 = ("x", "Input", {"shape": ["N", 4]})
Y4 = ("y", "Input", {"shape": ["N", 4]})
IMG = ("img", "Input", {"shape": ["N", 2, 7, 7]})
UNARY = ["Neg", "Abs", "Square", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "ReLU", "LeakyReLU", "ELU",
         "Softplus", "Log1p", "Expm1", "Sign", "Clip", "Softmax", "LogSoftmax", "Flatten"]
BINARY = ["Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Greater", "GreaterEqual", "Equal"]
CASES = [(op, [X4, ("out", op, {})], [("x", "out", "x")], True) for op in UNARY]
CASES += [(op, [X4, Y4, ("out", op, {})], [("x", "out", "a"), ("y", "out", "b")], True) for op in BINARY]
CASES += [
    ("Where", [X4, Y4, ("c", "Input", {"shape": [4]}), ("out", "Where", {})],
     [("c", "out", "c"), ("x", "out", "a"), ("y", "out", "b")], False),
    ("MatMulT", [("a", "Input", {"shape": [3, "N"]}), ("b", "Input", {"shape": [4, 3]}),
                 ("out", "MatMul", {"transpose_a": True, "transpose_b": True})],
     [("a", "out", "a"), ("b", "out", "b")], False),
    ("Constant", [X4, ("k", "Constant", {"value": [1.0, 2.0, 3.0, 4.0]}), ("out", "Mul", {})],
     [("x", "out", "a"), ("k", "out", "b")], False),
    ("IntPromotion", [X4, ("k", "Constant", {"value": 3, "dtype": "int64"}), ("out", "Add", {})],
     [("x", "out", "a"), ("k", "out", "b")], False),
    ("Transpose", [("x", "Input", {"shape": ["N", 2, 3]}), ("out", "Transpose", {"axes": [2, 0, 1]})],
     [("x", "out", "x")], False),
    ("Reshape", [("x", "Input", {"shape": ["N", 2, 6]}), ("out", "Reshape", {"shape": [3, "N", -1]})],
     [("x", "out", "x")], False),
    ("Concat", [X4, Y4, ("out", "Concat", {"axis": 1})], [("x", "out", "x1"), ("y", "out", "x2")], False),
    ("Slice", [X4, ("out", "Slice", {"axis": 1, "start": 1, "stop": 3})], [("x", "out", "x")], False),
    ("Reduce", [("x", "Input", {"shape": ["N", 3, 4]}), ("s", "Sum", {"axes": [1]}),
                ("m", "Mean", {"axes": 2, "keepdims": True}), ("mx", "Max", {}), ("out", "Add", {})],
     [("x", "s", "x"), ("x", "m", "x"), ("x", "mx", "x"), ("s", "out", "a"), ("mx", "out", "b")], False),
    ("Layers", [IMG, ("conv", "Conv2D", {"filters": 3, "kernel_size": 3, "stride": 2, "padding": 1}),
                ("pool", "MaxPool2D", {"size": 2}), ("drop", "Dropout", {"rate": 0.3}),
                ("flat", "Flatten", {}), ("out", "Dense", {"units": 5, "activation": "softmax"})],
     [("img", "conv", "x"), ("conv", "pool", "x"), ("pool", "drop", "x"), ("drop", "flat", "x"),
      ("flat", "out", "x")], False),
    ("Argmax", [("x", "Input", {"shape": ["N", 3, 4]}), ("out", "Argmax", {"axis": 1})], [("x", "out", "x")], False),
    ("PickLabels", [X4, ("labels", "Input", {"shape": ["N"], "dtype": "int64"}), ("out", "PickLabels", {})],
     [("x", "out", "x"), ("labels", "out", "labels")], False),
    ("Embedding", [("ids", "Input", {"shape": ["N", 3], "dtype": "int64"}),
                   ("out", "Embedding", {"num_embeddings": 4, "dim": 2})], [("ids", "out", "ids")], False),
]


def case_feeds(name: str, graph: Graph, positive: bool) -> dict:
    """Feeds for one of CASES: ties for the comparisons, a 0/1 condition for Where."""
    feeds = random_feeds(graph, 6, seed=1, positive=positive)
    if name == "Where":
        feeds["c"] = np.array([0.0, 1.0, 0.0, 2.0], dtype=np.float32)
    if name in ("Greater", "GreaterEqual", "Equal", "Maximum", "Minimum"):
        feeds["y"][:, :2] = feeds["x"][:, :2]  # ties, where the comparisons differ
    return feeds
