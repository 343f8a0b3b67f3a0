"""The lecture's MLP (784-50-10 on MNIST), here 64-50-10 on the shipped 8x8 digits: tanh hidden layer
with Glorot-uniform weights, a softmax layer starting at zero, the lecture's negative log-likelihood
with L2 regularization, plain SGD by `updates`, learning rate 0.01, minibatches of 20.

The homework variations are arguments: `hidden` units (a tuple for more hidden layers),
`activation` ("tanh" or "sigmoid"), `lr`, `batch`, and `decay` (the learning rate becomes a symbolic
input, lr / (1 + decay * epoch), fed at each step).

    python examples/lecture/mlp.py
"""
from __future__ import annotations

import numpy as np

import loom
import loom.tensor as T
from core.training.datasets import load_dataset


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and validation digits: 64 features in [0, 1], labels 0..9."""
    data = load_dataset({"name": "digits", "seed": 0})
    return (data.x_train.astype(np.float64), data.y_train, data.x_val.astype(np.float64), data.y_val)


def hidden_layer(rng: np.random.Generator, x, n_in: int, n_out: int, activation: str, name: str):
    """activation(x W + b) with the lecture's Glorot-uniform W (four times wider for the sigmoid)."""
    limit = np.sqrt(6.0 / (n_in + n_out)) * (4 if activation == "sigmoid" else 1)
    W = loom.shared(rng.uniform(-limit, limit, (n_in, n_out)), name=f"W_{name}")
    b = loom.shared(np.zeros(n_out), name=f"b_{name}")
    act = T.tanh if activation == "tanh" else T.sigmoid
    return act(T.dot(x, W) + b), [W, b]


def build(hidden=(50,), activation="tanh", lr=0.01, decay=0.0, l2=1e-4, n_in=64, n_out=10, seed=1234):
    """The model, its cost and gradients, and the compiled train and test functions."""
    rng = np.random.default_rng(seed)
    x = T.dmatrix("x", shape=(None, n_in))
    y = T.lvector("y")
    h, params, width = x, [], n_in
    for i, units in enumerate(hidden):
        h, layer_params = hidden_layer(rng, h, width, units, activation, f"h{i}")
        params += layer_params
        width = units
    W = loom.shared(np.zeros((width, n_out)), name="W_out")       # zero softmax weights, as in the lecture
    b = loom.shared(np.zeros(n_out), name="b_out")
    params += [W, b]
    p_y_given_x = T.softmax(T.dot(h, W) + b)
    y_pred = T.argmax(p_y_given_x, axis=1)
    nll = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
    l2_sqr = sum(T.sum(w ** 2) for w in params[0::2])               # the weights, not the biases
    cost = nll + l2 * l2_sqr
    gparams = loom.grad(cost, params)
    rate = T.dscalar("lr") if decay else lr
    updates = [(p, p - rate * g) for p, g in zip(params, gparams)]
    inputs = [x, y, rate] if decay else [x, y]
    train = loom.function(inputs, cost, updates=updates)
    errors = loom.function([x, y], T.mean(T.neq(y_pred, y)))
    return train, errors


def run(hidden=(50,), activation="tanh", lr=0.01, batch=20, epochs=30, decay=0.0) -> float:
    """Train and return the validation accuracy."""
    x_train, y_train, x_val, y_val = digits()
    train, errors = build(tuple(hidden), activation, lr, decay)
    for epoch in range(epochs):
        for start in range(0, len(x_train) - batch + 1, batch):
            args = [x_train[start:start + batch], y_train[start:start + batch]]
            if decay:
                args.append(lr / (1.0 + decay * epoch))
            train(*args)
    return 1.0 - float(errors(x_val, y_val))


if __name__ == "__main__":
    print(f"64-50-10, tanh, lr 0.01, batch 20: validation accuracy {run():.3f}")
