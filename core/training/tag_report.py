"""Span F1 per entity type for a tagging run, and the most-frequent-tag baseline to beat.

Both read a `conll` data set's validation part in reading order; the counting is SpanF1's own
(core.graph.ops.tagging), so the report and the logged metric always agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.compiler import compile
from core.graph import Graph
from core.graph.ops.tagging import f1_score, span_counts
from core.training.config import ConfigError
from core.training.datasets import Dataset
from core.training.loop import Run


@dataclass(frozen=True)
class SpanScores:
    """Micro F1 and per-type (precision, recall, F1, gold chunks) of predicted tags."""

    f1: float
    types: dict[str, tuple[float, float, float, int]]

    def lines(self) -> list[str]:
        """A small table, one line per entity type found in the gold tags or the predictions."""
        rows = [f"{'type':<10} {'precision':>9} {'recall':>7} {'F1':>7} {'chunks':>7}"]
        for name, (p, r, f, n) in self.types.items():
            rows.append(f"{name:<10} {p:>9.4f} {r:>7.4f} {f:>7.4f} {n:>7}")
        return rows + [f"{'micro':<10} {'':>9} {'':>7} {self.f1:>7.4f}"]


def span_scores(predicted: np.ndarray, gold: np.ndarray, class_names: tuple[str, ...]) -> SpanScores:
    """conlleval's scores of predicted class ids against gold ones (classes O, B-t, I-t, ...)."""
    types = [name[2:] for name in class_names[1::2]]
    counts = span_counts(predicted, gold, len(types))
    per_type = {}
    for name, (correct, guessed, wanted) in zip(types, counts):
        if guessed or wanted:
            per_type[name] = (correct / guessed if guessed else 0.0, correct / wanted if wanted else 0.0,
                              f1_score(correct, guessed, wanted), int(wanted))
    return SpanScores(f1_score(*counts.sum(axis=0)), per_type)


def most_frequent_tag(data: Dataset) -> np.ndarray:
    """Each validation token gets the tag its word (as written) had most often in training (ties: the
    tag first in class order); words never seen in training get O. Class ids, in reading order."""
    index = {name: k for k, name in enumerate(data.class_names)}
    counts: dict[str, np.ndarray] = {}
    for sentence in data.text.train_sentences:
        for token, tag in zip(sentence.tokens, sentence.tags):
            counts.setdefault(token, np.zeros(len(index), np.int64))[index[tag]] += 1
    best = {token: int(c.argmax()) for token, c in counts.items()}
    return np.array([best.get(t, 0) for s in data.text.val_sentences for t in s.tokens], dtype=np.int64)


def baseline_scores(data: Dataset) -> SpanScores:
    """Span F1 of the most-frequent-tag baseline on the validation part."""
    return span_scores(most_frequent_tag(data), data.y_val, data.class_names)


def scores_source(graph: Graph, metrics: tuple[str, ...]) -> tuple[str, str] | None:
    """The (node, port) whose scores the run's SpanF1 metric reads, or None without one."""
    for metric in metrics:
        if graph.op_name(metric) == "SpanF1":
            return graph.source(metric, "scores")
    return None


def predict(run: Run, x: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
    """Class ids the run's tagger gives to feature rows `x` (a tuple: one array per feature Input)."""
    ref = scores_source(run.graph, run.config.metrics)
    if ref is None:
        raise ConfigError("training.metrics: the run has no SpanF1 metric, so no scores to tag with")
    inputs = run.config.feature_inputs
    parts = x if isinstance(x, tuple) else (x,)
    forward = compile(run.graph, [*inputs], [ref], weights=run.weights(), training=False)
    count = len(parts[0])
    return np.concatenate([forward(**{n: p[i:i + 4096] for n, p in zip(inputs, parts)})[0].argmax(axis=1)
                           for i in range(0, count, 4096)]) if count else np.zeros(0, np.int64)


def report_lines(run: Run) -> list[str]:
    """The per-type table of the run's validation tags and the baseline's F1 next to the tagger's."""
    data = run.data
    if data.text is None or not data.text.tags or scores_source(run.graph, run.config.metrics) is None:
        return []
    ours = span_scores(predict(run, data.x_val), data.y_val, data.class_names)
    base = baseline_scores(data)
    return ours.lines() + [f"most-frequent-tag baseline F1 {base.f1:.4f}; this tagger {ours.f1:.4f} "
                           f"(margin {ours.f1 - base.f1:+.4f})"]
