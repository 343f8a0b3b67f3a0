"""Embedding tables: sparse SGD rows equal the dense reference, frozen tables stay, loaded vectors match."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from core.graph import Graph, GraphError
from core.training import Run
from core.training.datasets import Dataset, DatasetError, load_dataset
from core.training.text_data import Vocabulary
from core.training.word_vectors import match_vectors, read_vectors, write_vectors


def tagger(vocab: int = 12, trainable: bool = True) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": ["N", 3], "dtype": "int64"}, node_id="x")
    g.add_node("Embedding", {"num_embeddings": vocab, "dim": 4, "dtype": "float64", "trainable": trainable},
               node_id="words")
    g.add_node("Flatten", {}, node_id="flat")
    g.add_node("Dense", {"units": 3, "activation": "none"}, node_id="logits")
    g.add_node("Input", {"shape": ["N"], "dtype": "int64"}, node_id="y")
    g.add_node("SoftmaxCrossEntropy", {}, node_id="cost")
    for src, dst, port in (("x", "words", "ids"), ("words", "flat", "x"), ("flat", "logits", "x"),
                           ("logits", "cost", "logits"), ("y", "cost", "labels")):
        g.connect(src, "y", dst, port)
    return g


def data(n: int = 16, vocab: int = 12) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, vocab // 2, (n, 3))          # half the table never used; repeated ids in a batch
    y = rng.integers(0, 3, n)
    return Dataset("toy", x, y, x[:4], y[:4], 3, (3,), "toy")


def config(optimizer: dict) -> dict:
    return {"dataset": {"name": "xor"}, "features": "x", "labels": "y", "loss": "cost",
            "optimizer": optimizer, "batch_size": 16, "epochs": 1, "shuffle": False}


def dense_sgd_step(weights: dict, x: np.ndarray, y: np.ndarray, lr: float) -> np.ndarray:
    """One SGD step of the table written out in NumPy with a dense, vocabulary-sized gradient."""
    table, w, b = weights["words_table"], weights["logits_W"], weights["logits_b"]
    h = table[x].reshape(len(x), -1)
    z = h @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    dh = (p / len(y)) @ w.T
    grad = np.zeros_like(table)
    for row, ids in zip(dh.reshape(len(x), 3, -1), x):
        for d, i in zip(row, ids):
            grad[i] += d
    return table - lr * grad


def test_sparse_sgd_rows_equal_the_dense_reference():
    graph, d = tagger(), data()
    run = Run(graph, config({"name": "sgd", "lr": 0.5}), dataset=d)
    assert "row_update(" in run.train_function.source and "ScatterAdd" not in run.train_function.source
    before = run.weights()
    run.step()
    expected = dense_sgd_step(before, d.x_train, d.y_train, 0.5)
    np.testing.assert_allclose(run.weights()["words_table"], expected, rtol=1e-10, atol=1e-12)
    unused = np.setdiff1d(np.arange(12), d.x_train)
    assert np.array_equal(run.weights()["words_table"][unused], before["words_table"][unused])


def test_momentum_keeps_the_dense_gradient_and_agrees_at_the_first_step():
    d = data()
    run = Run(tagger(), config({"name": "sgd", "lr": 0.5, "momentum": 0.9}), dataset=d)
    assert "RowUpdate" not in run.train_function.source          # v decays on every row: dense by nature
    before = run.weights()
    run.step()                                      # v = g at the first step, so p - lr * g again
    np.testing.assert_allclose(run.weights()["words_table"], dense_sgd_step(before, d.x_train, d.y_train, 0.5),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "lr": 0.5}, {"name": "adam", "lr": 0.1}])
def test_frozen_embeddings_stay_unchanged(optimizer):
    run = Run(tagger(trainable=False), config(optimizer), dataset=data(), steps=5)
    before = run.weights()
    list(run.start())
    after = run.weights()
    assert np.array_equal(after["words_table"], before["words_table"])
    assert not np.array_equal(after["logits_W"], before["logits_W"])


VECTORS = "4 3\nberlin 0.5 -1 2\nBerlin 9 9 9\nParis 1e-1 0.25 3\n0000 1 2 3\n"


def test_vectors_loaded_match_the_file(tmp_path):
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(VECTORS.encode()))
    vectors = read_vectors(path, "v.txt.gz")
    assert vectors.words == ("berlin", "Berlin", "Paris", "0000") and vectors.dim == 3
    vocab = Vocabulary(("<PAD>", "<UNK>", "berlin", "paris", "0000", "rom"), lowercase=True)
    table, found = match_vectors(vectors, vocab, 0.05, seed=0)
    assert found == pytest.approx(3 / 4)
    np.testing.assert_array_equal(table[2], [0.5, -1, 2])          # exact match before the case-folded one
    np.testing.assert_array_equal(table[3], np.float32([0.1, 0.25, 3]))   # case-folded fallback
    np.testing.assert_array_equal(table[4], [1, 2, 3])
    assert np.all(table[0] == 0) and np.all(np.abs(table[[1, 5]]) <= 0.05) and np.any(table[5] != 0)
    out = tmp_path / "back.txt"
    write_vectors(out, vocab.words, table)
    again = read_vectors(out, "back.txt")
    assert again.words == vocab.words[1:]
    np.testing.assert_allclose(again.table, table[1:], rtol=1e-5)


@pytest.mark.parametrize("text, line, message", [
    ("a 1 2\nb 1\n", 2, "1 numbers, expected 2"),
    ("a 1 x\n", 1, "not all numbers"),
    ("a\n", 1, "0 numbers"),
])
def test_bad_vector_files_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "v.txt"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as error:
        read_vectors(path, "v.txt")
    assert error.value.line == line and f"v.txt, line {line}" in str(error.value)


def test_the_conll_set_hands_vectors_to_the_run(tmp_path):
    (tmp_path / "t.tsv").write_text("1\tBerlin\tB-LOC\tO\n2\tund\tO\tO\n3\tParis\tB-LOC\tO\n\n")
    (tmp_path / "v.txt").write_text(VECTORS)
    d = load_dataset({"name": "conll", "path": "t.tsv", "eval_path": "t.tsv", "window": 1, "casing": "no",
                      "vectors": "v.txt", "vectors_node": "words"}, tmp_path)
    assert d.text.vectors_found == pytest.approx(2 / 3) and "66.7 % of the words found in v.txt" in d.description
    graph = tagger(vocab=len(d.text.vocab))
    graph.set_attr("words", "dtype", "float32")
    with pytest.raises(GraphError, match="weights for 'words_table' have shape .5, 3., the graph needs .5, 4."):
        Run(graph, config({"name": "sgd", "lr": 0.1}), dataset=d)
    graph.set_attr("words", "dim", 3)
    run = Run(graph, {**config({"name": "sgd", "lr": 0.1}), "batch_size": 2}, dataset=d)
    table = run.weights()["words_table"]
    np.testing.assert_array_equal(table[d.text.vocab.index["berlin"]], [0.5, -1, 2])


def test_ids_beyond_an_embedding_are_refused_naming_it():
    graph = tagger(vocab=5)
    with pytest.raises(DatasetError, match="ids up to 5 .* Embedding 'words' has num_embeddings 5; set it to at "
                                           "least 6") as error:
        Run(graph, config({"name": "sgd", "lr": 0.1}), dataset=data())
    assert error.value.node == "words"


@pytest.mark.parametrize("rows", [8, 500])          # few rows, many repeats; many rows
def test_row_update_adds_repeated_ids_like_subtract_at(rows):
    from core.devices.numpy_device import row_update

    rng = np.random.default_rng(1)
    table = rng.normal(size=(rows, 6))
    ids = rng.integers(0, min(rows, 20), size=(40, 3))             # many repeats
    grads = rng.normal(size=(40, 3, 6))
    expected = table.copy()
    np.subtract.at(expected, ids.reshape(-1), 0.3 * grads.reshape(-1, 6))
    row_update(table, ids, grads, 0.3)
    np.testing.assert_allclose(table, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(IndexError, match="ids must lie in"):
        row_update(table, np.array([rows]), np.zeros((1, 6)), 0.3)
