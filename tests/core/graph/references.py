"""Independent reference implementations for the op table: plain loops and the math module.

Written without the ops' own code, so a wrong forward or a wrong shape rule shows up here.
"""
from __future__ import annotations

import math

import numpy as np


def _scalar(fn):
    return lambda *xs, **attrs: np.vectorize(lambda *v: fn(*v, **attrs), otypes=[float])(*xs)


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def conv(x, w, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + wd] = x
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            for k in range(f):
                out[:, k, i, j] = (patch * w[k]).sum(axis=(1, 2, 3))
    return out


def maxpool(x, size=2, stride=0):
    stride = stride or size
    n, c, h, w = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return out


ACTIVATIONS = {"none": lambda v: v, "relu": _scalar(lambda v: max(v, 0.0)), "tanh": _scalar(math.tanh),
               "sigmoid": _scalar(_sigmoid), "leaky_relu": _scalar(lambda v: v if v > 0 else 0.01 * v),
               "elu": _scalar(lambda v: v if v > 0 else math.exp(v) - 1),
               "softplus": _scalar(lambda v: math.log1p(math.exp(-abs(v))) + max(v, 0.0)),
               "softmax": _softmax}


def _dense(x, W, b=None, activation="tanh", **_):
    return ACTIVATIONS[activation](x @ W + (0 if b is None else b))


def _conv2d(x, W, b=None, stride=1, padding=1, activation="relu", **_):
    y = conv(x, W, stride, padding)
    return ACTIVATIONS[activation](y if b is None else y + b[None, :, None, None])


def _xent(logits, labels):
    logp = np.array([[math.log(p) for p in row] for row in _softmax(logits)])
    return -np.mean([logp[i, k] for i, k in enumerate(labels)])


def _accuracy(scores, labels):
    if scores.ndim == 2 and scores.shape[1] != 1:
        return np.mean([int(np.argmax(s)) == int(k) for s, k in zip(scores, labels)])
    return np.mean((scores.ravel() > 0) == (labels.ravel() > 0.5))


REFERENCES = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b, "Neg": lambda x: -x, "Pow": _scalar(math.pow),
    "Square": _scalar(lambda v: v * v), "Abs": _scalar(abs), "Exp": _scalar(math.exp),
    "Log": _scalar(math.log), "Sqrt": _scalar(math.sqrt), "Tanh": _scalar(math.tanh),
    "Sigmoid": _scalar(_sigmoid), "ReLU": ACTIVATIONS["relu"],
    "LeakyReLU": _scalar(lambda v, alpha: v if v > 0 else alpha * v),
    "ELU": _scalar(lambda v, alpha: v if v > 0 else alpha * (math.exp(v) - 1)),
    "Softplus": ACTIVATIONS["softplus"], "Maximum": _scalar(max), "Minimum": _scalar(min),
    "Clip": _scalar(lambda v, lo, hi: min(max(v, lo), hi)), "Log1p": _scalar(math.log1p),
    "Expm1": _scalar(math.expm1), "Where": lambda c, a, b: np.where(c != 0, a, b),
    "MatMul": lambda a, b, transpose_a=False, transpose_b=False: np.matmul(
        np.swapaxes(a, -1, -2) if transpose_a else a, np.swapaxes(b, -1, -2) if transpose_b else b),
    "Transpose": lambda x, axes=None: np.transpose(x, axes),
    "Flatten": lambda x: x.reshape(len(x), -1),
    "Sum": lambda x, axes=None, keepdims=False: np.sum(x, axis=None if axes is None else tuple(np.atleast_1d(axes)), keepdims=keepdims),
    "Mean": lambda x, axes=None, keepdims=False: np.mean(x, axis=None if axes is None else tuple(np.atleast_1d(axes)), keepdims=keepdims),
    "Max": lambda x, axes=None, keepdims=False: np.max(x, axis=None if axes is None else tuple(np.atleast_1d(axes)), keepdims=keepdims),
    "Softmax": lambda x, axis=-1: _softmax(x, axis),
    "LogSoftmax": lambda x, axis=-1: np.log(_softmax(x, axis)),
    "Conv": lambda x, w, stride=1, padding=0: conv(x, w, stride, padding),
    "MaxPool2D": lambda x, size=2, stride=0: maxpool(x, size, stride),
    "SoftmaxCrossEntropy": _xent,
    "BinaryCrossEntropy": lambda z, t: np.mean([-(ti * math.log(_sigmoid(zi)) + (1 - ti) * math.log(1 - _sigmoid(zi)))
                                                for zi, ti in zip(z.ravel(), t.ravel())]),
    "MSE": lambda p, t: np.mean((p - t) ** 2), "Accuracy": _accuracy,
    "Greater": lambda a, b: (a > b) * 1.0, "GreaterEqual": lambda a, b: (a >= b) * 1.0,
    "Equal": lambda a, b: (a == b) * 1.0, "Sign": np.sign,
    "Argmax": lambda x, axis=-1, keepdims=False: _argmax(x, axis, keepdims),
    "InRange": lambda x, lo, hi: ((x >= lo) & (x <= hi)) * 1.0,
    "PickLabels": lambda x, labels: np.array([row[k] for row, k in zip(x, labels)]),
    "SoftmaxXentGrad": lambda z, labels: _softmax(z) - np.eye(z.shape[1])[labels],
    "Fused": lambda *xs, expr, n, dtype: _FUSED[expr](*xs),
    "RowUpdate": lambda table, ids, rows, lr: table - lr * sum(
        np.outer(np.arange(len(table)) == i, row) for i, row in zip(ids.ravel(), rows.reshape(-1, table.shape[1]))),
    "SpanF1": lambda scores, labels: conlleval_f1([int(k) for k in scores.argmax(axis=1)], list(labels)),
}

def conlleval_chunks(tags: list[int]) -> set[tuple[int, int, int]]:
    """Chunks (start, end, type) of BIO classes (0 = O, 2t+1 = B-t, 2t+2 = I-t), walked as conlleval does."""
    found, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + [0]):
        prefix, t = ("O", None) if tag == 0 else ("B" if tag % 2 else "I", (tag - 1) // 2)
        if start is not None and (prefix != "I" or t != kind):
            found.add((start, i - 1, kind))
            start = None
        if prefix != "O" and start is None:
            start, kind = i, t
    return found


def conlleval_f1(predicted: list[int], gold: list[int]) -> float:
    guessed, wanted = conlleval_chunks(predicted), conlleval_chunks(gold)
    correct = len(guessed & wanted)
    p = correct / len(guessed) if guessed else 0.0
    r = correct / len(wanted) if wanted else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


# The fused cases' expressions, written out by hand.
_FUSED = {
    "tanh(x1) * x2 + 1.0": _scalar(lambda a, b: math.tanh(a) * b + 1.0),
    "where(x1 > x2, exp(-abs(x1)), x2 ** 2)": _scalar(lambda a, b: math.exp(-abs(a)) if a > b else b * b),
}

# Layers: reference(x, **params, **attrs) with params named as the layer owns them.
LAYER_REFERENCES = {
    "Dense": _dense, "Conv2D": _conv2d,
    "Embedding": lambda ids, table, **_: np.array([[table[i] for i in row] for row in ids]),
    "Dropout": lambda x, **_: x,
}


def _argmax(x, axis, keepdims):
    """The first index of the largest value, by a plain loop over the moved axis."""
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1], dtype=np.int64)
    for index in np.ndindex(out.shape):
        row = list(moved[index])
        out[index] = row.index(max(row))
    return np.expand_dims(out, axis) if keepdims else out
