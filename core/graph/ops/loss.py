"""Losses (mean over the batch, scalar results) and metrics."""
from __future__ import annotations

import numpy as np

from ..builder import apply
from ..errors import ShapeError
from ..registry import INTERNAL, register
from ..spec import OpSpec, Port
from ..types import TensorType, broadcast_shapes, shape_str
from .network import _log_softmax


def _scalar(dtype: str) -> list[TensorType]:
    return [TensorType(dtype, ())]


def _class_scores(scores: TensorType, labels: TensorType, op: str) -> None:
    if not scores.is_float or scores.ndim != 2:
        raise ShapeError(f"{op} needs float scores (N, classes), got {scores}", port="logits")
    if labels.dtype != "int64" or labels.shape != scores.shape[:1]:
        raise ShapeError(f"{op} needs int64 labels of shape {shape_str(scores.shape[:1])}, "
                         f"got {labels}", port="labels")


def _check_labels(labels, classes):
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, got {labels.min()}..{labels.max()}")


def _softmax_xent(logits, labels):
    _check_labels(labels, logits.shape[1])
    picked = np.take_along_axis(_log_softmax(logits, -1), labels[:, None], axis=1)
    return np.asarray(-picked.mean(), dtype=logits.dtype)


def _one_hot(labels, like):
    _check_labels(labels, like.shape[-1])
    out = np.zeros(like.shape, dtype=like.dtype)
    np.put_along_axis(out, labels[:, None], 1, axis=-1)
    return out


register(OpSpec(
    "SoftmaxCrossEntropy", "Loss", "Mean of -log softmax(logits)[label]: the classification loss, "
    "computed stably from raw scores and integer labels.",
    (Port("logits"), Port("labels", differentiable=False)),
    lambda types, attrs: _class_scores(*types, "SoftmaxCrossEntropy") or _scalar(types[0].dtype),
    _softmax_xent,
    grad=lambda g, logits, labels, y: (
        (apply("Softmax", logits) - apply("OneHot", labels, logits)) * (g / apply("Size", labels)), None)))
def _one_hot_type(types, attrs):
    labels, like = types
    if labels.dtype != "int64" or not like.is_float or like.ndim < 1 or tuple(labels.shape) != tuple(like.shape[:-1]):
        raise ShapeError(f"OneHot needs int64 labels shaped like the float scores without their last axis; "
                         f"got {labels} and {like}", port="labels")
    return [like]


register(OpSpec(
    "OneHot", INTERNAL, "1 at each label's column of a zero tensor shaped like `like`.",
    (Port("labels", differentiable=False), Port("like", differentiable=False)),
    _one_hot_type, _one_hot, hidden=True))


def _same_shape(a: TensorType, b: TensorType, op: str, port: str) -> str:
    if not a.is_float:
        raise ShapeError(f"{op} needs float predictions, got {a.dtype}")
    if broadcast_shapes(a.shape, b.shape) != a.shape:
        raise ShapeError(f"{op}: targets {shape_str(b.shape)} do not match {shape_str(a.shape)}", port=port)
    return a.dtype


register(OpSpec(
    "BinaryCrossEntropy", "Loss", "Mean binary cross-entropy of raw scores (logits) against 0/1 "
    "targets, computed stably: mean(softplus(z) - t * z).",
    (Port("logits"), Port("targets", differentiable=False)),
    lambda types, attrs: _scalar(_same_shape(*types, "BinaryCrossEntropy", "targets")),
    lambda z, t: np.asarray(np.mean(np.logaddexp(0, z) - t * z), dtype=z.dtype),
    grad=lambda g, z, t, y: ((apply("Sigmoid", z) - t) * (g / apply("Size", z)), None)))
register(OpSpec(
    "MSE", "Loss", "Mean squared error mean((pred - target)^2).",
    (Port("pred"), Port("target", differentiable=False)),
    lambda types, attrs: _scalar(_same_shape(*types, "MSE", "target")),
    lambda p, t: np.asarray(np.mean((p - t) ** 2), dtype=p.dtype),
    grad=lambda g, p, t, y: ((p - t) * (2 * g / apply("Size", p)), None)))


def _accuracy_type(types, attrs):
    scores, labels = types
    if scores.ndim == 2 and scores.shape[1] != 1:
        _class_scores(scores, labels, "Accuracy")
    elif broadcast_shapes(scores.shape, labels.shape) != scores.shape:
        raise ShapeError(f"Accuracy: labels {shape_str(labels.shape)} do not match "
                         f"{shape_str(scores.shape)}", port="labels")
    return _scalar("float32")


def _accuracy(scores, labels):
    if scores.ndim == 2 and scores.shape[1] != 1:
        hits = scores.argmax(axis=1) == labels
    else:
        hits = (scores > 0) == (labels > 0.5)
    return np.asarray(hits.mean(), dtype=np.float32)


register(OpSpec(
    "Accuracy", "Loss", "Fraction of correct predictions: argmax of scores (N, classes) against "
    "integer labels, or scores > 0 against 0/1 labels for a single score. Not differentiable.",
    (Port("scores", differentiable=False), Port("labels", differentiable=False)),
    _accuracy_type, _accuracy))
