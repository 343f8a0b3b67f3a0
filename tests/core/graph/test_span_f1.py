"""Span-level BIO F1 against cases counted by hand (conlleval's rules)."""
from __future__ import annotations

import numpy as np
import pytest

from core.graph.ops.tagging import chunks, f1_score, span_counts
from core.graph import get_op

NAMES = ("O", "B-LOC", "I-LOC", "B-PER", "I-PER")
C = {n: i for i, n in enumerate(NAMES)}


def ids(*tags: str) -> np.ndarray:
    return np.array([C[t] for t in tags])


def spans(*tags: str) -> list[tuple[int, int, str]]:
    starts, ends, kinds = chunks(ids(*tags))
    return [(int(s), int(e), ("LOC", "PER")[k]) for s, e, k in zip(starts, ends, kinds)]


def test_chunks_follow_conlleval():
    assert spans("B-PER", "I-PER", "O", "B-LOC") == [(0, 1, "PER"), (3, 3, "LOC")]
    # adjacent chunks of one type: a B- starts a new one
    assert spans("B-PER", "B-PER", "I-PER") == [(0, 0, "PER"), (1, 2, "PER")]
    # I- without B-: it starts a chunk, after O, at the start, or after another type
    assert spans("I-LOC", "I-LOC", "O", "I-PER") == [(0, 1, "LOC"), (3, 3, "PER")]
    assert spans("B-PER", "I-LOC", "I-PER") == [(0, 0, "PER"), (1, 1, "LOC"), (2, 2, "PER")]
    assert spans("O", "O") == []


def test_f1_by_hand():
    gold = ids("B-PER", "I-PER", "O", "B-LOC", "B-LOC", "O")
    # the PER chunk cut short (wrong end), both LOCs right, one extra PER predicted
    guess = ids("B-PER", "O", "B-PER", "B-LOC", "B-LOC", "O")
    counts = span_counts(guess, gold, 2)
    assert counts.tolist() == [[2, 2, 2], [0, 2, 1]]           # LOC: 2 of 2; PER: 0 of 2 predicted, 1 gold
    correct, predicted, wanted = counts.sum(axis=0)
    assert f1_score(correct, predicted, wanted) == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))
    assert f1_score(*span_counts(gold, gold, 2).sum(axis=0)) == 1.0
    assert f1_score(0, 0, 3) == 0.0 and f1_score(0, 0, 0) == 0.0


def test_nested_outer_span_with_an_inner_type_counts_as_three():
    # an outer PER chunk with an I-LOC inside (GermEval's nested names seen in one column)
    gold = ids("B-PER", "I-PER", "I-PER")
    guess = ids("B-PER", "I-LOC", "I-PER")
    assert span_counts(guess, gold, 2).tolist() == [[0, 1, 0], [0, 2, 1]]


def test_the_op_scores_argmax_against_labels():
    labels = ids("B-PER", "I-PER", "O", "I-LOC")
    scores = np.eye(5)[ids("B-PER", "I-PER", "O", "O")] * 3.0
    f1 = get_op("SpanF1").forward(scores, labels)
    assert f1.dtype == np.float32 and f1 == pytest.approx(2 * 1.0 * 0.5 / 1.5)
