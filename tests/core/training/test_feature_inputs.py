"""Several feature Inputs: a conll set with casing as its own array trains word and casing ids through two
Inputs exactly as a NumPy reference does, in Loom and in both exports; rows stay aligned through shuffling;
a configuration naming a missing or surplus Input is refused; single-Input files keep their meaning."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from core.export.numpy_export import export_numpy
from core.graph import Graph
from core.training import Run
from core.training.config import ConfigError, read_config
from core.training.datasets import Dataset, load_dataset
from core.training.references import rename_references

LEXICON = [("Anna", "B-PER"), ("Berlin", "B-LOC"), ("UNO", "B-ORG"), ("kam", "O"), ("nach", "O"),
           ("1990", "O"), ("und", "O"), ("Peter", "B-PER"), ("Bonn", "B-LOC"), ("im", "O"), ("Jahr", "O")]
STEPS, BATCH, LR, SEED = 5, 8, 0.5, 3


def write_corpus(folder, sentences: int = 30) -> str:
    """A small CoNLL file (token and tag per line) of seeded sentences drawn from LEXICON."""
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(sentences):
        lines += [f"{token} {tag}" for token, tag in (LEXICON[i] for i in rng.integers(0, len(LEXICON), 5))]
        lines.append("")
    (folder / "toy.conll").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "toy.conll"


def dataset_config(path: str, casing: str = "input") -> dict:
    return {"name": "conll", "path": path, "format": "conll", "window": 1, "casing": casing,
            "val_fraction": 0.2, "seed": 0}


def two_input_graph(vocab: int, tags: int, dtype: str = "float64") -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": ["N", 3], "dtype": "int64"}, node_id="word_ids")
    g.add_node("Input", {"shape": ["N", 3], "dtype": "int64"}, node_id="casing_ids")
    g.add_node("Embedding", {"num_embeddings": vocab, "dim": 4, "dtype": dtype}, node_id="words")
    g.add_node("Embedding", {"num_embeddings": 8, "dim": 2, "dtype": dtype}, node_id="casing")
    g.add_node("Concat", {"axis": 2}, node_id="window")
    g.add_node("Flatten", {}, node_id="flat")
    g.add_node("Dense", {"units": tags, "activation": "none"}, node_id="logits")
    g.add_node("Input", {"shape": ["N"], "dtype": "int64"}, node_id="y")
    g.add_node("SoftmaxCrossEntropy", {}, node_id="cost")
    for src, dst, port in (("word_ids", "words", "ids"), ("casing_ids", "casing", "ids"), ("words", "window", "x1"),
                           ("casing", "window", "x2"), ("window", "flat", "x"), ("flat", "logits", "x"),
                           ("logits", "cost", "logits"), ("y", "cost", "labels")):
        g.connect(src, "y", dst, port)
    return g


def training(path: str, features=("word_ids", "casing_ids")) -> dict:
    return {"dataset": dataset_config(path), "features": list(features), "labels": "y", "loss": "cost",
            "optimizer": {"name": "sgd", "lr": LR}, "batch_size": BATCH, "epochs": 1, "seed": SEED,
            "shuffle": True}


def reference_losses(weights: dict, words: np.ndarray, casing: np.ndarray, y: np.ndarray) -> list[float]:
    """The loss per step of plain SGD on the window tagger, written out in NumPy (np.add.at for the tables),
    on Loom's batches: rows of the epoch's seeded permutation, the same rows from both arrays."""
    w = {k: np.array(v, dtype=np.float64) for k, v in weights.items()}
    order = np.random.default_rng([SEED, 0]).permutation(len(y))
    losses = []
    for k in range(STEPS):
        rows = order[k * BATCH:(k + 1) * BATCH]
        a, c, t, n = words[rows], casing[rows], y[rows], len(rows)
        h = np.concatenate([w["words_table"][a], w["casing_table"][c]], axis=2).reshape(n, -1)
        z = h @ w["logits_W"] + w["logits_b"]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        losses.append(float(-np.log(p[np.arange(n), t]).mean()))
        p[np.arange(n), t] -= 1
        p /= n
        dh = (p @ w["logits_W"].T).reshape(n, 3, -1)
        w["logits_W"] -= LR * (h.T @ p)
        w["logits_b"] -= LR * p.sum(axis=0)
        np.add.at(w["words_table"], a, -LR * dh[:, :, :4])
        np.add.at(w["casing_table"], c, -LR * dh[:, :, 4:])
    return losses


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    """The corpus, its two-array data set, the graph configured for it, the initial weights and the reference."""
    folder = tmp_path_factory.mktemp("corpus")
    path = write_corpus(folder)
    data = load_dataset(dataset_config(path), folder)
    graph = two_input_graph(len(data.text.vocab), data.num_classes)
    graph.set_training(training(path))
    weights = Run(graph, base_dir=folder, steps=STEPS).weights()
    words, casing = data.x_train
    return folder, data, graph, weights, reference_losses(weights, words, casing, data.y_train)


def test_casing_as_an_input_gives_the_columns_of_the_one_array_as_two_arrays(tagged):
    folder, data, _, _, _ = tagged
    joined = load_dataset(dataset_config("toy.conll", "yes"), folder)      # the older layout: extra columns
    assert data.feature_names == ("words", "casing") and joined.feature_names == ()
    for split in ("train", "val"):
        words, casing = data.features(split)
        (columns,) = joined.features(split)
        assert words.dtype == casing.dtype == np.int64 and words.shape == casing.shape == (data.size(split), 3)
        assert np.array_equal(words, columns[:, :3]) and np.array_equal(casing, columns[:, 3:])
    assert set(np.unique(data.x_train[1]).tolist()) <= set(range(8))


def test_two_inputs_train_as_the_numpy_reference(tagged):
    folder, _, graph, weights, want = tagged
    run = Run(graph, base_dir=folder, steps=STEPS)
    got = [m.loss for m in run.start()]
    assert got == pytest.approx(want, rel=1e-9)
    assert want[-1] < want[0]


def test_rows_of_both_arrays_stay_aligned_after_shuffling():
    n = 40
    words = np.arange(n, dtype=np.int64)[:, None] * np.ones(3, np.int64)      # row i holds i
    casing = words % 8                                                        # a function of the same row
    y = (np.arange(n) % 2).astype(np.int64)
    data = Dataset("aligned", (words, casing), y, (words[:8], casing[:8]), y[:8], 2, (3,), "aligned",
                   feature_names=("words", "casing"))
    graph = two_input_graph(n, 2)
    config = {**training("unused"), "batch_size": 16, "epochs": 2}
    run = Run(graph, config, dataset=data)
    seen = []
    for k in range(run.total_steps):
        feeds = run._feeds(k, LR)
        assert np.array_equal(feeds["casing_ids"], feeds["word_ids"] % 8)
        seen.append(feeds["word_ids"][:, 0].copy())
    epoch = np.concatenate(seen[:run.steps_per_epoch])
    assert sorted(epoch.tolist()) == list(range(n)) and epoch.tolist() != list(range(n))    # shuffled, all rows


def test_numpy_export_names_one_array_per_input_and_trains_as_the_reference(tagged, tmp_path):
    folder, _, graph, weights, want = tagged
    script = export_numpy(graph, weights, tmp_path / "tagger.py", base_dir=folder)
    with np.load(tmp_path / "tagger_data.npz") as archive:
        assert sorted(archive.files) == ["x_train.casing_ids", "x_train.word_ids", "x_val.casing_ids",
                                         "x_val.word_ids", "y_train", "y_val"]
    done = subprocess.run([sys.executable, "-I", str(script), "--steps", str(STEPS), "--every-step"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = [float(line.split("loss ")[1].split(",")[0]) for line in done.stdout.splitlines() if line.startswith("step")]
    assert got == pytest.approx(want, rel=1e-9)


def test_torch_export_feeds_both_inputs_and_trains_as_the_reference(tagged, tmp_path):
    pytest.importorskip("torch", reason="torch not installed")
    from core.export.torch_export import export_torch

    folder, data, _, _, _ = tagged
    graph = two_input_graph(len(data.text.vocab), data.num_classes, "float32")   # the export's float type
    graph.set_training(training("toy.conll"))
    weights = Run(graph, base_dir=folder, steps=STEPS).weights()
    want = reference_losses(weights, *data.x_train, data.y_train)
    path = export_torch(graph, weights, tmp_path / "tagger.py", base_dir=folder)
    spec = importlib.util.spec_from_file_location("exported_two_inputs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LOSS_INPUTS == ("word_ids", "casing_ids", "y")
    assert module.FEEDS == ("x_train.word_ids", "x_train.casing_ids", "y_train")
    model = module.Model()
    model.load_loom_weights(str(path.with_suffix(".npz")))
    arrays, validation = module.load_data(str(tmp_path / "tagger_data.npz"))
    assert validation is not None and len(validation) == 3
    got = module.train(model, arrays, steps=STEPS, say=lambda *_: None)
    assert got == pytest.approx(want, rel=1e-5)


def test_a_missing_second_input_is_refused_by_name(tagged):
    _, _, graph, _, _ = tagged
    with pytest.raises(ConfigError, match=r"training.features\[1\]: the graph has no node 'cases'") as error:
        read_config(graph, training("toy.conll", ("word_ids", "cases")))
    assert error.value.node is None
    with pytest.raises(ConfigError, match=r"training.features\[1\]: Input 'word_ids' is named twice"):
        read_config(graph, training("toy.conll", ("word_ids", "word_ids")))


def test_one_input_for_two_arrays_is_refused_naming_both(tagged):
    folder, _, graph, _, _ = tagged
    config = {**training("toy.conll"), "features": "word_ids"}
    with pytest.raises(ConfigError, match=r"training.features: names 1 Input \(word_ids\) but dataset "
                                          r"'toy.conll' gives 2 feature arrays \(words, casing\)"):
        Run(graph, config, base_dir=folder)


def test_a_single_name_keeps_its_meaning():
    graph = two_input_graph(12, 3)
    one = read_config(graph, {**training("toy.conll"), "features": "word_ids"})
    listed = read_config(graph, {**training("toy.conll"), "features": ["word_ids"]})
    assert one.features == listed.features == "word_ids" and one.feature_inputs == ("word_ids",)
    assert one.to_dict()["features"] == "word_ids"
    two = read_config(graph, training("toy.conll"))
    assert two.feature_inputs == ("word_ids", "casing_ids")
    assert two.to_dict()["features"] == ["word_ids", "casing_ids"]
    renamed = rename_references(training("toy.conll"), "casing_ids", "cases")
    assert renamed["features"] == ["word_ids", "cases"]
