"""Rebuild the examples (xor, spirals, digits_cnn, logistic_regression, autoencoder, nan_demo, and the
values-by-hand graphs f_xy and tanh_layer, which carry typed input values and no training).

Each example is a small graph with its training configuration, saved in Graph ▸ Arrange's layout
(core/graph/arrange.py); the hand-written lecture graphs (seed_*.json) are re-laid in the same way,
nothing else of them changed. docs/examples.md records what each reaches. Run from the repository root:

    PYTHONPATH=. python resources/examples/make_examples.py
"""
from __future__ import annotations

import json

from pathlib import Path
from typing import Optional

from core.graph import Graph, load_graph, save_graph
from core.graph.arrange import arrange

HERE = Path(__file__).resolve().parent
COLUMN, ROW = 200, 140


class Sketch:
    """A Graph plus a grid position for each node: `add(op, id, col, row, ...)` and `wire(a, b, port)`."""

    def __init__(self, title: str, description: str) -> None:
        self.graph = Graph()
        self.graph.meta = {"title": title, "description": description}

    def add(self, op: str, node_id: str, col: float, row: float, **attrs) -> str:
        return self.graph.add_node(op, attrs, node_id=node_id, ui={"pos": [col * COLUMN, row * ROW]})

    def wire(self, src: str, dst: str, port: str) -> None:
        self.graph.connect(src, "y", dst, port)

    def chain(self, *nodes: str) -> None:
        """Wire each node's output to the next node's input x."""
        for src, dst in zip(nodes, nodes[1:]):
            self.wire(src, dst, "x")

    def classifier_head(self, logits: str, labels: str, col: float, probs: Optional[str] = "probs") -> None:
        """Softmax probabilities, the cross-entropy cost and the accuracy of class scores `logits`."""
        if probs:
            self.add("Softmax", probs, col, -1)
            self.wire(logits, probs, "x")
        self.add("SoftmaxCrossEntropy", "cost", col, 0)
        self.wire(logits, "cost", "logits")
        self.wire(labels, "cost", "labels")
        self.add("Accuracy", "accuracy", col, 1)
        self.wire(logits, "accuracy", "scores")
        self.wire(labels, "accuracy", "labels")

    def save(self, name: str, training: dict) -> None:
        self.graph.set_training(training)
        errors = [d for d in self.graph.validate() if d.severity == "error"]
        if errors:
            raise SystemExit(f"{name}: {errors[0]}")
        for node_id, pos in arrange(self.graph).items():
            self.graph.set_ui(node_id, "pos", list(pos))
        save_graph(HERE / f"{name}.json", self.graph)


def relayout(name: str) -> None:
    """Rewrite only the "pos" of every node of a hand-written example to the arranged layout."""
    path = HERE / f"{name}.json"
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    positions = arrange(load_graph(path)[0])
    for node in document["nodes"]:
        node.setdefault("ui", {})["pos"] = [int(v) for v in positions[node["id"]]]
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n" * text.endswith("\n"), encoding="utf-8")


def classification(dataset: dict, optimizer: dict, batch_size: int, epochs: int, **extra) -> dict:
    return {"dataset": dataset, "features": "x", "labels": "y", "loss": "cost", "metrics": ["accuracy"],
            "optimizer": optimizer, "batch_size": batch_size, "epochs": epochs, "seed": 0, "shuffle": True,
            **extra}


def xor() -> None:
    s = Sketch("XOR", "Four squares, opposite corners share a class: one hidden tanh layer of 8 units "
               "separates what no line can.")
    s.add("Input", "x", 0, 0, shape=["N", 2])
    s.add("Dense", "hidden", 1, 0, units=8, activation="tanh")
    s.add("Dense", "logits", 2, 0, units=2, activation="none")
    s.add("Input", "y", 2, 1.5, shape=["N"], dtype="int64")
    s.chain("x", "hidden", "logits")
    s.classifier_head("logits", "y", 3)
    s.save("xor", classification({"name": "xor", "seed": 0, "val_fraction": 0.2},
                                  {"name": "adam", "lr": 0.05}, 32, 40))


def spirals() -> None:
    s = Sketch("Two spirals", "The TensorFlow Playground's hard set: three ReLU layers of 32 units "
               "bend the plane around two interleaved spirals.")
    s.add("Input", "x", 0, 0, shape=["N", 2])
    s.add("Dense", "hidden1", 1, 0, units=32, activation="relu", init="he_normal")
    s.add("Dense", "hidden2", 2, 0, units=32, activation="relu", init="he_normal")
    s.add("Dense", "hidden3", 3, 0, units=32, activation="relu", init="he_normal")
    s.add("Dense", "logits", 4, 0, units=2, activation="none")
    s.add("Input", "y", 4, 1.5, shape=["N"], dtype="int64")
    s.chain("x", "hidden1", "hidden2", "hidden3", "logits")
    s.classifier_head("logits", "y", 5)
    s.save("spirals", classification({"name": "spirals", "seed": 0, "val_fraction": 0.2},
                                      {"name": "adam", "lr": 0.01}, 32, 150,
                                      schedule={"name": "cosine", "min_lr": 0.0005}))


def digits_cnn() -> None:
    s = Sketch("A small CNN on 8x8 digits", "Conv2D (16 filters 3x3, ReLU) -> MaxPool2D 2x2 -> Flatten -> "
               "Dense 64 ReLU -> Dense 10: convolution finds strokes anywhere in the image.")
    s.add("Input", "x", 0, 0, shape=["N", 1, 8, 8])
    s.add("Conv2D", "conv", 1, 0, filters=16, kernel_size=3, padding=1, activation="relu")
    s.add("MaxPool2D", "pool", 2, 0, size=2)
    s.add("Flatten", "flat", 3, 0)
    s.add("Dense", "hidden", 4, 0, units=64, activation="relu", init="he_normal")
    s.add("Dense", "logits", 5, 0, units=10, activation="none")
    s.add("Input", "y", 5, 1.5, shape=["N"], dtype="int64")
    s.chain("x", "conv", "pool", "flat", "hidden", "logits")
    s.classifier_head("logits", "y", 6)
    s.save("digits_cnn", classification({"name": "digits", "layout": "image", "seed": 0, "val_fraction": 0.2},
                                         {"name": "adam", "lr": 0.003}, 32, 15))


def logistic_regression() -> None:
    s = Sketch("Logistic regression", "softmax(x W + b) on three Gaussian blobs: the simplest classifier, "
               "one linear layer and the cross-entropy.")
    s.add("Input", "x", 0, 0, shape=["N", 2])
    s.add("Dense", "logits", 1, 0, units=3, activation="none")
    s.add("Input", "y", 1, 1.5, shape=["N"], dtype="int64")
    s.chain("x", "logits")
    s.classifier_head("logits", "y", 2)
    s.save("logistic_regression", classification({"name": "blobs", "classes": 3, "seed": 0, "val_fraction": 0.2},
                                                  {"name": "sgd", "lr": 0.5}, 32, 20))


def autoencoder() -> None:
    s = Sketch("Autoencoder on digits", "64 pixels squeezed through 16 tanh units and rebuilt with a "
               "sigmoid layer; the cost is the mean squared reconstruction error.")
    s.add("Input", "x", 0, 0, shape=["N", 64])
    s.add("Dense", "encode", 1, 0, units=32, activation="tanh")
    s.add("Dense", "code", 2, 0, units=16, activation="tanh")
    s.add("Dense", "decode", 3, 0, units=32, activation="tanh")
    s.add("Dense", "reconstruction", 4, 0, units=64, activation="sigmoid")
    s.add("Input", "target", 4, 1.5, shape=["N", 64])
    s.chain("x", "encode", "code", "decode", "reconstruction")
    s.add("MSE", "cost", 5, 0)
    s.wire("reconstruction", "cost", "pred")
    s.wire("target", "cost", "target")
    s.save("autoencoder", {"dataset": {"name": "digits", "layout": "flat", "target": "features", "seed": 0,
                                       "val_fraction": 0.2},
                           "features": "x", "labels": "target", "loss": "cost", "metrics": [],
                           "optimizer": {"name": "adam", "lr": 0.005}, "batch_size": 32, "epochs": 60,
                           "seed": 0, "shuffle": True})


def nan_demo() -> None:
    s = Sketch("A run that diverges", "Minimizing mean(log(relu(x W + b))) drives relu(...) to 0, where "
               "the log is -inf: training stops and names the Log node 'log_h'.")
    s.add("Input", "x", 0, 0, shape=["N", 64])
    s.add("Parameter", "W", 0, -1, shape=[64, 1], init="constant", scale=0.05)
    s.add("Parameter", "b", 1, -1, shape=[1], init="constant", scale=1.0)
    s.add("MatMul", "xW", 1, 0)
    s.wire("x", "xW", "a")
    s.wire("W", "xW", "b")
    s.add("Add", "z", 2, 0)
    s.wire("xW", "z", "a")
    s.wire("b", "z", "b")
    s.add("ReLU", "h", 3, 0)
    s.add("Log", "log_h", 4, 0)
    s.add("Mean", "cost", 5, 0)
    s.chain("z", "h", "log_h", "cost")
    s.save("nan_demo", {"dataset": {"name": "digits", "layout": "flat", "seed": 0, "val_fraction": 0.2},
                        "features": "x", "labels": None, "loss": "cost", "metrics": [],
                        "optimizer": {"name": "sgd", "lr": 0.1}, "batch_size": 64, "epochs": 5, "seed": 0,
                        "shuffle": True})


def by_hand(s: Sketch, values: dict) -> None:
    """Type each Input's value (what Inspector ▸ value stores), so Run shows numbers at once."""
    for node_id, text in values.items():
        s.graph.set_ui(node_id, "value", text)


def f_xy() -> None:
    s = Sketch("f(x, y) = 3x + xy + 3y", "The lecture's scalar function: type x and y, press Run, then "
               "Graph ▸ Show Gradient to see df/dx = 3 + y and df/dy = x + 3 as nodes.")
    s.add("Input", "x", 0, 0, shape=[], dtype="float64")
    s.add("Input", "y", 0, 2, shape=[], dtype="float64")
    s.add("Constant", "three", 0, 1, value=3.0, dtype="float64")
    s.add("Mul", "three_x", 1, 0)
    s.add("Mul", "xy", 1, 1)
    s.add("Mul", "three_y", 1, 2)
    s.add("Add", "sum", 2, 0.5)
    s.add("Add", "f", 3, 1)
    for src, dst, port in (("three", "three_x", "a"), ("x", "three_x", "b"), ("x", "xy", "a"), ("y", "xy", "b"),
                           ("three", "three_y", "a"), ("y", "three_y", "b"), ("three_x", "sum", "a"),
                           ("xy", "sum", "b"), ("sum", "f", "a"), ("three_y", "f", "b")):
        s.wire(src, dst, port)
    by_hand(s, {"x": "1", "y": "1"})
    s.save("f_xy", {})


def tanh_layer() -> None:
    s = Sketch("tanh(x W + b)", "The lecture's layer with its numbers: activation = tanh(inputX inputW + "
               "inputB) = [0.21, 0.07].")
    s.add("Input", "inputX", 0, 0, shape=[3], dtype="float64")
    s.add("Input", "inputW", 0, 1, shape=[3, 2], dtype="float64")
    s.add("Input", "inputB", 1, 1.5, shape=[2], dtype="float64")
    s.add("MatMul", "xW", 1, 0)
    s.add("Add", "preactivation", 2, 0.5)
    s.add("Tanh", "activation", 3, 0.5)
    s.wire("inputX", "xW", "a")
    s.wire("inputW", "xW", "b")
    s.wire("xW", "preactivation", "a")
    s.wire("inputB", "preactivation", "b")
    s.chain("preactivation", "activation")
    by_hand(s, {"inputX": "[0.1, 0.2, 0.3]", "inputW": "[[0.1, -0.2], [-0.4, 0.5], [0.6, -0.7]]",
                "inputB": "[0.1, 0.2]"})
    s.save("tanh_layer", {})


if __name__ == "__main__":
    for make in (xor, spirals, digits_cnn, logistic_regression, autoencoder, nan_demo, f_xy, tanh_layer):
        make()
        print("wrote", make.__name__)
    for name in ("seed_mlp", "seed_vectors", "ner_window", "word2vec_skipgram"):
        relayout(name)
        print("re-laid", name)
