"""What the Embeddings and Tagger views ask of the training process: nearest neighbours and a PCA map of
word vectors, and the tags of a typed sentence, with the run's current weights.

Qt-free on purpose: these run in the training process as tasks (`controller.submit`); a view sends
`functools.partial(neighbours_task, word=..., chosen=...)`, which travels by name with its arguments.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.compiler import compile
from core.training import Run
from core.training.tag_report import scores_source
from core.training.text_data import Sentence
from core.training.word_vectors import vocab_embedding

NEIGHBOURS = 10
TOKEN = re.compile(r"\w+(?:[-.]\w+)*|[^\w\s]")
_FORWARD: "weakref.WeakKeyDictionary[Run, Any]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class EmbeddingResult:
    """A word's nearest neighbours (word, cosine) and 2-D PCA coordinates of the chosen words."""

    step: int
    node: str
    word: str
    known: bool
    neighbours: list[tuple[str, float]]
    map_words: list[str]
    coords: np.ndarray


@dataclass(frozen=True)
class TagResult:
    """The tokens of a typed sentence and the tag the run's tagger gives each."""

    step: int
    tokens: list[str]
    tags: list[str]


def neighbours_task(run: Run, word: str, chosen: tuple[str, ...] = ()) -> EmbeddingResult:
    """Cosine neighbours of `word` in the run's word table, and a PCA map of `chosen` (known ones only)."""
    vocab = run.data.text.vocab
    node, table = vocab_embedding(run)
    index = vocab.index
    norms = np.linalg.norm(table, axis=1)
    unit = table / np.maximum(norms, 1e-12)[:, None]
    key = vocab.ids([word])[0] if word.strip() else 1
    known = bool(word.strip()) and bool(key != 1)
    neighbours: list[tuple[str, float]] = []
    if known:
        cosine = unit @ unit[key]
        cosine[[0, 1, key]] = -np.inf
        best = np.argsort(-cosine)[:NEIGHBOURS]
        neighbours = [(vocab.words[i], float(cosine[i])) for i in best]
    ids = [index[w] for w in dict.fromkeys(vocab.words[i] for i in vocab.ids(chosen)) if w in index and index[w] > 1]
    coords = np.zeros((len(ids), 2), dtype=np.float64)
    if len(ids) >= 2:
        centred = table[ids].astype(np.float64) - table[ids].mean(axis=0)
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ axes[:2].T
        if coords.shape[1] == 1:
            coords = np.concatenate([coords, np.zeros_like(coords)], axis=1)
    return EmbeddingResult(run.step_count, node, word, known, neighbours, [vocab.words[i] for i in ids], coords)


def tokenize(sentence: str) -> list[str]:
    """Words, numbers and punctuation marks of a typed sentence (GermEval's tokens look like this)."""
    return TOKEN.findall(sentence)


def tag_task(run: Run, sentence: str) -> TagResult:
    """The tagger's tag for every token of `sentence`, with the run's current weights."""
    text = run.data.text
    tokens = tokenize(sentence)
    if not tokens or text is None or not text.tags:
        return TagResult(run.step_count, tokens, [])
    x = text.features([Sentence(tuple(tokens), ("O",) * len(tokens), ())])
    forward = _FORWARD.get(run)
    if forward is None:
        ref = scores_source(run.graph, run.config.metrics)
        if ref is None:
            raise LookupError("the graph has no SpanF1 metric naming the tag scores")
        forward = _FORWARD[run] = compile(run.graph, [*run.config.feature_inputs], [ref], weights=run.weights(),
                                          training=False)
    else:
        forward.set_weights(run.weights())
    scores = np.asarray(forward(**dict(zip(run.config.feature_inputs, x)))[0])
    return TagResult(run.step_count, tokens, [text.tags[k] for k in scores.argmax(axis=1)])
