"""A seeded generator of random float64 graphs: every differentiable op kind that takes plain
tensors, broadcasting operands, and fan-out (values are drawn again from the pool they join).

Shapes are checked here before a node is added, so every graph built is valid.
"""
from __future__ import annotations

import numpy as np

from core.graph import Graph
from core.graph.builder import Builder, Var, apply
from core.graph.types import broadcast_shapes

UNARY = ["Neg", "Square", "Abs", "Exp", "Tanh", "Sigmoid", "ReLU", "LeakyReLU", "ELU", "Softplus",
         "Log1p", "Expm1", "Clip"]
POSITIVE = ["Log", "Sqrt"]
BINARY = ["Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "Pow"]
OTHER = ["Sum", "Mean", "Max", "Transpose", "Reshape", "Flatten", "Concat", "Slice", "Softmax",
         "LogSoftmax", "MatMul", "Where", "Conv", "MaxPool2D"]
KINDS = UNARY + POSITIVE + BINARY + OTHER
SHAPES = [(3, 4), (4,), (3, 1), (1, 4), (4, 3)]


def _bounded(v: Var) -> Var:
    """Squash a value into (-1, 1) so exponentials and powers stay tame."""
    return apply("Tanh", v)


def _positive(v: Var) -> Var:
    return apply("Softplus", v) + 0.5


class RandomGraph:
    """Grows a graph one random op at a time from a pool of values."""

    def __init__(self, seed: int, size: int = 8) -> None:
        self.rng = np.random.default_rng(seed)
        self.graph = Graph()
        self.params: list[str] = []
        for i in range(2):
            shape = SHAPES[self.rng.integers(len(SHAPES))]
            name = f"p{i}"
            self.graph.add_node("Parameter", {"shape": list(shape), "dtype": "float64", "init": "normal",
                                              "scale": 1.0}, node_id=name)
            self.params.append(name)
        self.b = Builder(self.graph)
        self.pool: list[Var] = [self.b.var(p) for p in self.params]
        self.kinds: list[str] = []
        for _ in range(size):
            self._grow()
        last = [self.pool[-1], self.pool[int(self.rng.integers(len(self.pool)))]]
        total = apply("Sum", apply("Tanh", last[0])) + apply("Sum", apply("Square", last[1]) * 0.25)
        apply("Sum", total, name="cost")

    def pick(self) -> Var:
        return self.pool[int(self.rng.integers(len(self.pool)))]

    def _grow(self) -> None:
        for _ in range(20):                      # a kind whose shapes fit the pool
            kind = KINDS[int(self.rng.integers(len(KINDS)))]
            value = self._try(kind, self.pick(), self.pick())
            if value is not None:
                self.pool.append(value)
                self.kinds.append(kind)
                return

    def _try(self, kind: str, a: Var, b: Var) -> Var | None:
        r = self.rng
        if kind in UNARY:
            attrs = {"lo": -0.5, "hi": 0.7} if kind == "Clip" else {}
            x = _bounded(a) if kind in ("Exp", "Expm1") else (apply("Sigmoid", a) if kind == "Log1p" else a)
            return apply(kind, x, **attrs)
        if kind in POSITIVE:
            return apply(kind, _positive(a))
        if kind in BINARY or kind == "Where":
            try:
                broadcast_shapes(a.shape, b.shape)
            except Exception:
                return None
            if kind == "Div":
                return a / (apply("Square", b) + 1.0)
            if kind == "Pow":
                return apply("Pow", _positive(a), _bounded(b))
            if kind == "Where":
                return apply("Where", apply("Greater", a, 0.0), a, b)
            return apply(kind, a, b)
        if kind in ("Sum", "Mean", "Max"):
            axes = None if a.ndim <= 1 or r.random() < 0.3 else int(r.integers(a.ndim))
            return apply(kind, a, axes=axes, keepdims=bool(r.random() < 0.5))
        if a.ndim != 2:
            return None
        if kind == "Transpose":
            return apply("Transpose", a)
        if kind == "Reshape":
            return apply("Reshape", a, shape=[a.shape[1], a.shape[0]])
        if kind == "Flatten":
            return apply("Flatten", apply("Reshape", a, shape=[a.shape[0], 1, a.shape[1]]))
        if kind in ("Softmax", "LogSoftmax"):
            return apply(kind, a, axis=int(r.integers(2)))
        if kind == "Slice":
            axis = int(np.argmax(a.shape))
            if a.shape[axis] < 2:
                return None
            return apply("Slice", a, axis=axis, start=1, stop=a.shape[axis])
        if kind == "Concat":
            axis = int(r.integers(2))
            other = b if b.ndim == 2 and b.shape[1 - axis] == a.shape[1 - axis] else a   # a, a: fan-out
            return apply("Concat", a, other, axis=axis)
        if kind == "MatMul":
            if b.ndim == 2 and b.shape[0] == a.shape[1]:
                return apply("MatMul", a, b)
            if b.ndim == 1 and b.shape[0] == a.shape[1]:
                return apply("MatMul", a, b)
            return apply("MatMul", a, a, transpose_b=True)
        if min(a.shape) < 2:
            return None
        image = apply("Reshape", a, shape=[1, 1, *a.shape])
        if kind == "MaxPool2D":
            y = apply("MaxPool2D", image, size=2, stride=1)
        else:
            k = b if b.ndim == 2 and min(b.shape) >= 2 else a
            corner = apply("Slice", apply("Slice", k, axis=0, start=0, stop=2), axis=1, start=0, stop=2)
            y = apply("Conv", image, apply("Reshape", corner, shape=[1, 1, 2, 2]), padding=int(r.integers(2)))
        return apply("Reshape", y, shape=list(y.shape[2:]))
