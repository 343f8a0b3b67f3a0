"""word2vec skip-gram: the loss falls and a planted pair of words ends up nearest neighbours."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.graph import load_graph
from core.training import Run
from core.training.cli import train_command
from core.training.word_vectors import read_vectors

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "word2vec_skipgram.json"


def toy_corpus(path: Path) -> None:
    """Filler sentences; 'alpha' and 'beta' both (and only they) sit between 'red' and 'green'."""
    rng = np.random.default_rng(0)
    filler = [a + b for a in "klmnp" for b in "aeiouy"]          # 30 words without digits
    lines = []
    for i in range(400):
        words = list(rng.choice(filler, 6))
        if i % 2 == 0:
            words[2:2] = ["red", "alpha" if i % 4 == 0 else "beta", "green"]
        lines += [f"{k + 1}\t{w}\tO\tO" for k, w in enumerate(words)] + [""]
    path.write_text("\n".join(lines) + "\n")


def toy_run(tmp_path: Path, epochs: int) -> Run:
    toy_corpus(tmp_path / "toy.tsv")
    graph = load_graph(EXAMPLE)[0]
    config = dict(graph.training)
    config["dataset"] = {**config["dataset"], "path": "toy.tsv", "val_fraction": 0.1}
    config["epochs"] = epochs
    graph.set_attr("center", "num_embeddings", 36)
    graph.set_attr("context", "num_embeddings", 36)
    graph.set_training(config)
    return Run(graph, base_dir=tmp_path)


def test_loss_falls_and_the_planted_pair_become_neighbours(tmp_path):
    run = toy_run(tmp_path, epochs=15)
    first = run.evaluate()[0]
    history = list(run.start())
    assert history[-1].val_loss < 0.8 * first
    vocab = run.data.text.vocab
    table = run.weights()["center_table"]
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    cosine = unit @ unit[vocab.index["alpha"]]
    cosine[[0, 1, vocab.index["alpha"]]] = -2.0
    assert vocab.words[int(cosine.argmax())] == "beta"


def test_main_train_writes_vectors_the_reader_loads(tmp_path, capsys):
    toy_corpus(tmp_path / "toy.tsv")
    graph_path = tmp_path / "w2v.json"
    run = toy_run(tmp_path, epochs=1)
    from core.graph import save_graph
    save_graph(graph_path, run.graph)
    out = tmp_path / "vectors.txt"
    assert train_command([str(graph_path), "--steps", "3", "--quiet", "--save-vectors", str(out)]) == 0
    assert "wrote vectors of 'center'" in capsys.readouterr().out
    vectors = read_vectors(out, "vectors.txt")
    assert len(vectors.words) == 35 and vectors.dim == 50 and "alpha" in vectors.words
