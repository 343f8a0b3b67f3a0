"""The text data sets: `conll` (windows of tagged tokens for a window tagger) and `skipgram` (word2vec pairs).

Both read token-per-line files (text_data.py), build the vocabulary from the training part only and
return a split `Dataset` whose `text` field keeps the vocabulary and tag names for the views, the
exporters and the word-vector writer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.training.data_files import DatasetError, resolve_path
from core.training.dataset_types import Dataset, DatasetInfo, Option
from core.training.text_data import (FORMATS, Sentence, Vocabulary, read_tagged, tag_ids, tag_names,
                                     windows)
from core.training.word_vectors import match_vectors, read_vectors


@dataclass(frozen=True)
class TextInfo:
    """What a text data set knows besides its arrays: vocabulary, window size, tags, loaded vectors."""

    vocab: Vocabulary
    window: int = 0
    casing: str = "no"                   # the conll option: "yes" (more columns), "input" (a second array), "no"
    tags: tuple[str, ...] = ()
    vectors_found: float | None = None
    val_sentences: tuple[Sentence, ...] = ()
    train_sentences: tuple[Sentence, ...] = ()
    init_weights: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def features(self, sentences: list[Sentence]) -> tuple[np.ndarray, ...]:
        """The feature arrays of `sentences`: the windows, or (words, casing) when casing is its own Input."""
        x = windows(sentences, self.vocab, self.window, self.casing != "no")
        if self.casing != "input":
            return (x,)
        width = 2 * self.window + 1
        return np.ascontiguousarray(x[:, :width]), np.ascontiguousarray(x[:, width:])


def _sentences(o: dict[str, Any], key: str, base_dir: Path | None) -> list[Sentence]:
    full = resolve_path(o[key], base_dir)
    sentences = read_tagged(full, o[key], o["format"], o["token_column"], o["tag_column"])
    return sentences[:o["max_sentences"]] if o["max_sentences"] else sentences


def _split_sentences(o: dict[str, Any], base_dir: Path | None) -> tuple[list[Sentence], list[Sentence]]:
    """Training and evaluation sentences: a separate file, or a seeded fraction of whole sentences."""
    train = _sentences(o, "path", base_dir)
    if o.get("eval_path"):
        return train, _sentences(o, "eval_path", base_dir)
    n_val = round(len(train) * o["val_fraction"])
    if not 0 < n_val < len(train):
        raise DatasetError(f"dataset '{o['path']}': val_fraction {o['val_fraction']} of {len(train)} sentences "
                           f"leaves {n_val} for validation; give more sentences or an eval_path")
    held = np.sort(np.random.default_rng([o["seed"], 1]).permutation(len(train))[:n_val])
    chosen = set(held.tolist())
    return [s for i, s in enumerate(train) if i not in chosen], [train[i] for i in held]


def _vocabulary(o: dict[str, Any], train: list[Sentence]) -> Vocabulary:
    return Vocabulary.build(train, o["min_count"], o["max_size"], o["lowercase"] == "yes")


def load_conll(o: dict[str, Any], base_dir: Path | None) -> Dataset:
    """Windows of ±k word ids (and casing ids) around each token, labelled with the token's tag."""
    train, val = _split_sentences(o, base_dir)
    vocab = _vocabulary(o, train)
    names = tag_names(train + val)
    k, with_casing = o["window"], o["casing"] != "no"
    weights, found = {}, None
    if o["vectors"]:
        full = resolve_path(o["vectors"], base_dir)
        table, found = match_vectors(read_vectors(full, o["vectors"]), vocab, o["vectors_scale"], o["seed"])
        weights[f"{o['vectors_node']}_table"] = table
    info = TextInfo(vocab, k, o["casing"], names, found, tuple(val), tuple(train), weights)
    width = 2 * k + 1
    what = f"{len(vocab)} words, windows of {width}" + (f" + {width} casing ids" if with_casing else "")
    if o["casing"] == "input":
        what = f"{len(vocab)} words, windows of {width} (words) and their {width} casing ids (casing)"
    if found is not None:
        what += f", {100 * found:.1f} % of the words found in {Path(o['vectors']).name}"
    x_train, x_val = info.features(train), info.features(val)
    y_train, y_val = tag_ids(train, names), tag_ids(val, names)
    description = _describe(o, f"{len(names)} tags, {what}", x_train[0], len(y_val))
    if len(x_train) == 2:
        return Dataset(o["path"], x_train, y_train, x_val, y_val, len(names), x_train[0].shape[1:], description,
                       names, info, feature_names=("words", "casing"))
    return Dataset(o["path"], x_train[0], y_train, x_val[0], y_val, len(names), x_train[0].shape[1:], description,
                   names, info)


def load_skipgram(o: dict[str, Any], base_dir: Path | None) -> Dataset:
    """(center, context, negatives...) id rows from a corpus: every pair within `window`, `negatives` noise
    words per pair drawn once (seeded) from the unigram distribution raised to 0.75."""
    sentences = _sentences(o, "path", base_dir)
    vocab = _vocabulary(o, sentences)
    ids = [vocab.ids(s.tokens) for s in sentences]
    centers, contexts = [], []
    for sentence in ids:
        for d in range(1, o["window"] + 1):
            centers += [sentence[d:], sentence[:-d]]
            contexts += [sentence[:-d], sentence[d:]]
    center, context = np.concatenate(centers), np.concatenate(contexts)
    counts = np.bincount(np.concatenate(ids), minlength=len(vocab)).astype(np.float64)
    counts[:2] = 0.0                          # PAD and UNK are never drawn as noise
    noise = counts ** 0.75
    rng = np.random.default_rng(o["seed"])
    negatives = rng.choice(len(vocab), size=(len(center), o["negatives"]), p=noise / noise.sum())
    x = np.concatenate([center[:, None], context[:, None], negatives], axis=1).astype(np.int64)
    x = x[rng.permutation(len(x))]
    n_val = max(1, round(len(x) * o["val_fraction"]))
    y = np.zeros(len(x), dtype=np.float32)
    info = TextInfo(vocab)
    what = f"{len(vocab)} words, (center, context, {o['negatives']} negatives) rows"
    return Dataset(o["path"], x[n_val:], y[n_val:], x[:n_val], y[:n_val], None, x.shape[1:],
                   _describe(o, what, x[n_val:], n_val), (), info)


def _describe(o: dict[str, Any], what: str, x_train: np.ndarray, n_val: int) -> str:
    return f"{Path(o['path']).name}: {what}, {len(x_train)} train / {n_val} val"


def _reading(k: int) -> tuple[Option, ...]:
    return (Option("path", None, "the token-per-line file (plain or .gz), relative to the graph file", "text",
                   required=True),
            Option("format", "germeval", "germeval: tab-separated, # comments; conll: whitespace-separated",
                   "choice", choices=tuple(FORMATS)),
            Option("token_column", None, "0-based column of the token (negative: from the end); default by format",
                   "int", low=-16),
            Option("tag_column", None, "0-based column of the BIO tag (negative: from the end); default by format",
                   "int", low=-16),
            Option("max_sentences", 0, "read only the first sentences of each file (0: all)", "int", low=0),
            Option("window", k, "k: tokens on each side of the center", "int", low=0),
            Option("min_count", 1, "keep words seen at least this often in the training part", "int", low=1),
            Option("max_size", 0, "most entries in the vocabulary, PAD and UNK included (0: no limit)", "int",
                   low=0),
            Option("lowercase", "yes", "lower-case words before looking them up", "choice", choices=("yes", "no")),
            Option("seed", 0, "seed of the split and of the random draws", "int", low=0),
            Option("val_fraction", 0.2, "share of the sentences (or pairs) held out when there is no eval_path",
                   "float", low=0.0, high=1.0, exclusive=True))


TEXT_DATASETS = (
    DatasetInfo("conll", "tagged tokens (GermEval TSV or CoNLL) as windows of word ids for a window tagger",
                _reading(2) + (
                    Option("eval_path", None, "a separate evaluation file (else val_fraction of the sentences)",
                           "text"),
                    Option("casing", "yes", "each window's casing classes (8): yes appends them as more columns; "
                           "input gives them as a second array for a second Input (features: [words, casing])",
                           "choice", choices=("yes", "input", "no")),
                    Option("vectors", None, "initial word vectors (word2vec/GloVe text, plain or .gz)", "text"),
                    Option("vectors_node", "words", "the Embedding node the vectors initialize", "text"),
                    Option("vectors_scale", 0.1, "words not in the vectors file are drawn from U(-scale, scale)",
                           "float", low=0.0)),
                load_conll, splits=True),
    DatasetInfo("skipgram", "(center, context, negatives) word id rows of a corpus for word2vec",
                _reading(2) + (Option("negatives", 5, "noise words per pair, drawn from unigram^0.75", "int",
                                      low=1),),
                load_skipgram, splits=True),
)




def check_ids(graph: Any, features: tuple[str, ...], data: Dataset) -> None:
    """Refuse ids an Embedding has no row for: each Embedding fed by (columns, through Slices, of) a feature
    Input must have more rows than the largest id in that Input's array. Raises DatasetError naming it."""
    arrays = dict(zip(features, zip(data.features("train"), data.features("val"))))
    for node in graph.nodes:
        if graph.op_name(node) != "Embedding":
            continue
        source, start, stop = graph.source(node, "ids")[0], 0, None
        while graph.op_name(source) == "Slice" and graph.attrs(source)["axis"] == 1:
            start, stop = start + graph.attrs(source)["start"], start + graph.attrs(source)["stop"]
            source = graph.source(source, "x")[0]
        if source not in arrays or arrays[source][0].dtype.kind not in "iu":
            continue
        largest = max(int(part[:, start:stop].max(initial=0)) for part in arrays[source])
        rows = graph.attrs(node)["num_embeddings"]
        if largest >= rows:
            size = f" (a vocabulary of {len(data.text.vocab)} words)" if data.text is not None else ""
            raise DatasetError(f"dataset '{data.name}' gives ids up to {largest}{size} but Embedding '{node}' has "
                               f"num_embeddings {rows}; set it to at least {largest + 1}", node=node)
