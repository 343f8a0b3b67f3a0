"""Span-level BIO F1 (conlleval's definition) for taggers that score one token per row, in reading order.

Classes follow the BIO layout the `conll` data set gives: 0 is O, 2t+1 is B-type t, 2t+2 is I-type t.
A chunk starts at a B-, or at an I- after O or after a chunk of another type (conlleval), and runs
over the following I- of its type; a predicted chunk is correct when start, end and type all match.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..spec import OpSpec, Port
from ..types import TensorType, shape_str


def chunks(tags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, types) of the chunks of a BIO class sequence; ends are inclusive."""
    tags = np.asarray(tags, dtype=np.int64).reshape(-1)
    inside = tags > 0
    kind = (tags - 1) // 2
    before_inside = np.r_[False, inside[:-1]]
    before_kind = np.r_[-1, kind[:-1]]
    start = inside & ((tags % 2 == 1) | ~before_inside | (before_kind != kind))
    end = inside & np.r_[start[1:] | ~inside[1:], True]
    return np.flatnonzero(start), np.flatnonzero(end), kind[start]


def span_counts(predicted: np.ndarray, gold: np.ndarray, types: int) -> np.ndarray:
    """Per entity type: (correct, predicted, gold) chunk counts, as an int64 array (types, 3)."""
    n = len(np.asarray(gold).reshape(-1)) + 1
    keys = []
    for tags in (predicted, gold):
        starts, ends, kinds = chunks(tags)
        keys.append(((starts * n + ends) * types + kinds, kinds))
    (pred_keys, pred_kinds), (gold_keys, gold_kinds) = keys
    correct = np.intersect1d(pred_keys, gold_keys) % types
    return np.stack([np.bincount(correct, minlength=types), np.bincount(pred_kinds, minlength=types),
                     np.bincount(gold_kinds, minlength=types)], axis=1).astype(np.int64)


def f1_score(correct: int, predicted: int, gold: int) -> float:
    """conlleval's F1: 0 when nothing was predicted or nothing was to be found."""
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _span_f1_type(types, attrs):
    scores, labels = types
    classes = scores.shape[-1] if scores.ndim == 2 else None
    if not scores.is_float or scores.ndim != 2 or not isinstance(classes, int) or classes < 3 or classes % 2 == 0:
        raise ShapeError(f"SpanF1 needs float scores (N, 1 + 2 * types) over BIO classes, got {scores}",
                         port="scores")
    if labels.dtype != "int64" or labels.shape != scores.shape[:1]:
        raise ShapeError(f"SpanF1 needs int64 labels of shape {shape_str(scores.shape[:1])}, got {labels}",
                         port="labels")
    return [TensorType("float32", ())]


def _span_f1(scores, labels):
    types = (scores.shape[1] - 1) // 2
    totals = span_counts(scores.argmax(axis=1), labels, types).sum(axis=0)
    return np.asarray(f1_score(*totals), dtype=np.float32)


register(OpSpec(
    "SpanF1", "Loss", "Span-level micro F1 of BIO tags (conlleval): argmax of scores (N, 1 + 2 * types) "
    "against integer labels, rows in reading order; classes are O, then B- and I- of each type. "
    "Training reports it over the whole validation set at once. Not differentiable.",
    (Port("scores", differentiable=False), Port("labels", differentiable=False)),
    _span_f1_type, _span_f1, extra={"whole_split": True}))
