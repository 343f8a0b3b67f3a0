"""The lecture's second exercise: one layer, tanh(x W + b), with W and b given.

    python examples/lecture/tanh_layer.py
"""
import numpy as np

import loom
import loom.tensor as T

X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
W = np.array([[1.0, -1.0, 0.5], [0.5, 2.0, -1.0]])
B = np.array([0.0, 0.5, -0.5])


def build() -> loom.Function:
    x = T.dmatrix("x", shape=(None, 2))      # None: the batch size, as many rows as fed
    w = T.dmatrix("W", shape=(2, 3))
    b = T.dvector("b", shape=(3,))
    y = T.tanh(T.dot(x, w) + b)
    return loom.function([x, w, b], y)


if __name__ == "__main__":
    print(build()(X, W, B))
