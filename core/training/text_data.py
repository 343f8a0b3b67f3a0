"""Token-per-line text (GermEval TSV, CoNLL) read into sentences, a vocabulary, casing classes and windows.

A SENNA-style window tagger sees each token with k neighbours on each side; sentence boundaries are
padded with the PAD entry (id 0) and the casing class PADDING. Every problem with a file is a
`DatasetError` naming the file and the line.
"""
from __future__ import annotations

import functools
import gzip
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from core.training.data_files import DatasetError

PAD, UNK = "<PAD>", "<UNK>"
# The lecture's casing classes (Reimers' NER exercise), in its order.
CASINGS = ("numeric", "all_lower", "all_upper", "initial_upper", "other", "mainly_numeric",
           "contains_digit", "padding")
CASING_PAD = CASINGS.index("padding")
FORMATS = {"germeval": (1, 2), "conll": (0, -1)}   # default (token column, tag column)
_TAG = re.compile(r"^(O|[BI]-\S+)$")
_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True)
class Sentence:
    """One sentence: its tokens and tags, and the line each token came from."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    lines: tuple[int, ...]


def read_tagged(path: Path, shown: str, fmt: str = "germeval", token_column: int | None = None,
                tag_column: int | None = None) -> list[Sentence]:
    """Read a token-per-line file (plain or gzip), one sentence per blank-line-separated block.

    ``germeval``: tab-separated, lines starting with ``#`` are comments. ``conll``: whitespace-separated,
    ``-DOCSTART-`` lines are skipped. Columns are 0-based; negative ones count from the end.

    Raises
    ------
    DatasetError
        Naming the file and line: not UTF-8 or not gzip, a missing column, a tag that is not BIO, no sentences.
    """
    default_token, default_tag = FORMATS[fmt]
    token_column = default_token if token_column is None else token_column
    tag_column = default_tag if tag_column is None else tag_column
    sentences: list[Sentence] = []
    block: list[tuple[str, str, int]] = []
    for number, line in read_lines(path, shown):
        line = line.rstrip("\r\n")
        if not line.strip():
            _close(block, sentences)
            continue
        if (fmt == "germeval" and line.startswith("#")) or (fmt == "conll" and line.startswith("-DOCSTART-")):
            continue
        cells = line.split("\t") if fmt == "germeval" else line.split()
        try:
            token, tag = cells[token_column], cells[tag_column].strip()
        except IndexError:
            raise DatasetError(f"{shown}, line {number}: {len(cells)} column(s), but the token is read from "
                               f"column {token_column} and the tag from column {tag_column}",
                               file=str(path), line=number) from None
        if not token.strip():
            raise DatasetError(f"{shown}, line {number}: empty token", file=str(path), line=number)
        if not _TAG.match(tag):
            raise DatasetError(f"{shown}, line {number}: tag {tag!r} is not O, B-TYPE or I-TYPE",
                               file=str(path), line=number)
        block.append((token.strip(), tag, number))
    _close(block, sentences)
    if not sentences:
        raise DatasetError(f"{shown}: no tagged sentences found", file=str(path))
    return sentences


def read_lines(path: Path, shown: str) -> Iterable[tuple[int, str]]:
    """Numbered lines of a text file, gzip read directly when the file starts with gzip's magic bytes."""
    with open(path, "rb") as probe:
        zipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if zipped else open
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line
    except UnicodeDecodeError:
        raise DatasetError(f"{shown}, line {number + 1}: not UTF-8 text", file=str(path), line=number + 1) from None
    except (OSError, EOFError) as e:
        raise DatasetError(f"{shown}: cannot be read after line {number} ({e})", file=str(path),
                           line=number + 1) from None


def _close(block: list, sentences: list) -> None:
    if block:
        tokens, tags, lines = zip(*block)
        sentences.append(Sentence(tokens, tags, lines))
        block.clear()


# ---- words, casing and tags


def normalize(token: str, lowercase: bool) -> str:
    """The vocabulary's form of a token: every digit becomes 0, optionally lower case."""
    token = _DIGIT.sub("0", token)
    return token.lower() if lowercase else token


def casing(token: str) -> int:
    """The lecture's casing class of a token (an index into CASINGS)."""
    digits = sum(c.isdigit() for c in token)
    if token.isdigit():
        return 0
    if digits / max(len(token), 1) > 0.5:
        return 5
    if token.islower():
        return 1
    if token.isupper():
        return 2
    if token[:1].isupper():
        return 3
    return 6 if digits else 4


def tag_names(sentences: Iterable[Sentence]) -> tuple[str, ...]:
    """The tag classes in the order span F1 expects: O, then B-type and I-type for each type, sorted."""
    types = sorted({tag[2:] for s in sentences for tag in s.tags if tag != "O"})
    return ("O",) + tuple(f"{p}-{t}" for t in types for p in "BI")


@dataclass(frozen=True)
class Vocabulary:
    """Words to ids: PAD is 0, UNK is 1, then the words by falling count (ties alphabetically)."""

    words: tuple[str, ...]
    lowercase: bool

    @classmethod
    def build(cls, sentences: Sequence[Sentence], min_count: int = 1, max_size: int = 0,
              lowercase: bool = True) -> "Vocabulary":
        """Count normalized tokens of `sentences`; keep those seen `min_count` times, at most `max_size` words."""
        counts = Counter(normalize(t, lowercase) for s in sentences for t in s.tokens)
        kept = sorted((w for w, c in counts.items() if c >= min_count and w not in (PAD, UNK)),
                      key=lambda w: (-counts[w], w))
        if max_size:
            kept = kept[:max(max_size - 2, 0)]
        return cls((PAD, UNK, *kept), lowercase)

    def __len__(self) -> int:
        return len(self.words)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def ids(self, tokens: Iterable[str]) -> np.ndarray:
        """int64 ids of tokens; unknown ones get UNK (1)."""
        index = self.index
        return np.array([index.get(normalize(t, self.lowercase), 1) for t in tokens], dtype=np.int64)


def windows(sentences: Sequence[Sentence], vocab: Vocabulary, k: int, with_casing: bool) -> np.ndarray:
    """int64 features (N, 2k+1) of word ids around each token, or (N, 2(2k+1)) with casing ids appended.

    Positions beyond a sentence's ends hold PAD (0) and the casing class PADDING.
    """
    index = vocab.index
    words, cases, centers = [], [], []
    offset = 0
    for s in sentences:
        words += [0] * k + [index.get(normalize(t, vocab.lowercase), 1) for t in s.tokens] + [0] * k
        cases += [CASING_PAD] * k + [casing(t) for t in s.tokens] + [CASING_PAD] * k
        centers.append(np.arange(len(s.tokens)) + offset + k)
        offset += len(s.tokens) + 2 * k
    at = np.concatenate(centers)[:, None] + np.arange(-k, k + 1)[None, :]
    x = np.asarray(words, dtype=np.int64)[at]
    return np.concatenate([x, np.asarray(cases, dtype=np.int64)[at]], axis=1) if with_casing else x


def tag_ids(sentences: Sequence[Sentence], names: Sequence[str]) -> np.ndarray:
    """int64 class indices of every token's tag, in reading order."""
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[t] for s in sentences for t in s.tags], dtype=np.int64)
