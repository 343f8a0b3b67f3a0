"""Word vectors in word2vec/GloVe text format: read (plain or gzip), matched to a vocabulary, written.

A file is data: each line is a word and its numbers, parsed as floats and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from core.graph.fileformat import atomic_write
from core.training.config import ConfigError
from core.training.data_files import DatasetError
from core.training.text_data import PAD, Vocabulary, normalize, read_lines


@dataclass(frozen=True)
class WordVectors:
    """Words and their vectors, one row per word in file order."""

    words: tuple[str, ...]
    table: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])


def read_vectors(path: Path, shown: str) -> WordVectors:
    """Read `word v1 ... vd` lines; a first line `count dim` (word2vec's header) is skipped.

    Raises DatasetError naming the file and line on a short line, a non-number or a changing width.
    """
    words: list[str] = []
    rows: list[list[float]] = []
    dim = None
    for number, line in read_lines(path, shown):
        cells = line.rstrip("\r\n").split(" ")
        cells = [c for c in cells if c]
        if not cells:
            continue
        if number == 1 and len(cells) == 2 and all(c.isdigit() for c in cells):
            continue
        try:
            values = [float(c) for c in cells[1:]]
        except ValueError:
            raise DatasetError(f"{shown}, line {number}: the numbers after the word are not all numbers",
                               file=str(path), line=number) from None
        if not values or (dim is not None and len(values) != dim):
            raise DatasetError(f"{shown}, line {number}: {len(values)} numbers, expected {dim or 'at least 1'}",
                               file=str(path), line=number)
        dim = len(values)
        words.append(cells[0])
        rows.append(values)
    if not words:
        raise DatasetError(f"{shown}: holds no word vectors", file=str(path))
    table = np.asarray(rows, dtype=np.float32)
    if not np.isfinite(table).all():
        line = int(np.argwhere(~np.isfinite(table))[0][0]) + 1
        raise DatasetError(f"{shown}: vector {line} has a value that is not finite", file=str(path))
    return WordVectors(tuple(words), table)


def match_vectors(vectors: WordVectors, vocab: Vocabulary, scale: float, seed: int) -> tuple[np.ndarray, float]:
    """A (len(vocab), dim) table: each word's vector from the file (exact, then normalized, then lower case),
    PAD zeros, and words not found drawn uniformly from [-scale, scale]. Returns it and the share found."""
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    for i, word in enumerate(vectors.words):
        exact.setdefault(word, i)
        folded.setdefault(normalize(word, True), i)
    rng = np.random.default_rng([seed, 7])
    table = rng.uniform(-scale, scale, size=(len(vocab), vectors.dim)).astype(np.float32)
    table[0] = 0.0
    found = 0
    for i, word in enumerate(vocab.words[2:], 2):
        row = exact.get(word, folded.get(normalize(word, True)))
        if row is not None:
            table[i] = vectors.table[row]
            found += 1
    return table, found / max(len(vocab) - 2, 1)


def write_vectors(path: str | Path, words: Sequence[str], table: np.ndarray) -> None:
    """Write word2vec's text format (a `count dim` header, then `word v1 ... vd`), atomically; PAD is left out."""
    keep = [i for i, w in enumerate(words) if w != PAD and " " not in w]
    lines = [f"{len(keep)} {table.shape[1]}"]
    lines += [words[i] + " " + " ".join(f"{v:.6g}" for v in table[i]) for i in keep]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    atomic_write(Path(path), lambda f: f.write(data))


def vocab_embedding(run: Any) -> tuple[str, np.ndarray]:
    """The run's first Embedding with a row for every word of its data set's vocabulary: its id and those rows.

    Raises ConfigError when the data set has no vocabulary or no Embedding matches it.
    """
    vocab = getattr(run.data.text, "vocab", None)
    if vocab is None:
        raise ConfigError("word vectors need a text data set (conll or skipgram) with a vocabulary")
    for node in run.graph.nodes:
        if run.graph.op_name(node) == "Embedding" and run.graph.attrs(node)["num_embeddings"] >= len(vocab):
            return node, run.weights()[f"{node}_table"][:len(vocab)]
    raise ConfigError(f"no Embedding has a row for each of the vocabulary's {len(vocab)} words")


def save_vectors(run: Any, path: str | Path) -> str:
    """Write the run's word table (see `vocab_embedding`) in word2vec text format; returns its node id."""
    node, table = vocab_embedding(run)
    write_vectors(path, run.data.text.vocab.words, table)
    return node
