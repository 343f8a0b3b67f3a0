"""Every example trains; shortened runs reach a meaningful share of their stated result (docs/examples.md)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.graph import load_graph
from core.training import ConfigError, NonFiniteError, Run, read_config

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"
TRAINED = sorted(p.stem for p in EXAMPLES.glob("*.json") if json.loads(p.read_text()).get("training"))


def final(name: str, **options):
    graph = load_graph(EXAMPLES / f"{name}.json")[0]
    run = Run(graph, **options)
    return run, list(run.start())[-1]


def test_the_examples_of_this_issue_carry_a_training_configuration():
    assert {"seed_mlp", "xor", "spirals", "digits_cnn", "logistic_regression", "autoencoder",
            "nan_demo"} <= set(TRAINED)


@pytest.mark.parametrize("name", TRAINED)
def test_example_loads_validates_and_trains_one_step(name):
    graph = load_graph(EXAMPLES / f"{name}.json")[0]
    assert not [d for d in graph.validate() if d.severity == "error"]
    assert all(len(graph.ui(n).get("pos", [])) == 2 for n in graph.nodes)
    read_config(graph)
    run = Run(graph, steps=1, base_dir=EXAMPLES)         # data set paths start at the graph file
    metrics = run.step()
    assert metrics.step == 1 and np.isfinite(metrics.loss) and metrics.val_loss is not None


def test_an_example_without_training_says_so():
    graph = load_graph(EXAMPLES / "seed_vectors.json")[0]
    with pytest.raises(ConfigError, match="no training configuration"):
        Run(graph)


def test_xor_reaches_full_accuracy():
    _, last = final("xor")
    assert last.val_metrics["accuracy"] == 1.0


def test_logistic_regression_separates_the_blobs():
    _, last = final("logistic_regression")
    assert last.val_metrics["accuracy"] >= 0.97


def test_seed_mlp_learns_the_digits():
    _, last = final("seed_mlp", epochs=8)
    assert last.val_metrics["accuracy"] >= 0.95


def test_spirals_are_untangled():
    _, last = final("spirals", epochs=60)
    assert last.val_metrics["accuracy"] >= 0.95


def test_digits_cnn_learns_the_digits():
    _, last = final("digits_cnn", epochs=4)
    assert last.val_metrics["accuracy"] >= 0.95


def test_autoencoder_reconstructs_far_better_than_the_mean_image():
    run, last = final("autoencoder", epochs=20)
    mean_image = run.data.x_train.mean(axis=0)
    baseline = float(np.mean((run.data.x_val - mean_image) ** 2))
    assert last.val_loss < 0.25 * baseline


def test_nan_demo_stops_at_the_log():
    graph = load_graph(EXAMPLES / "nan_demo.json")[0]
    with pytest.raises(NonFiniteError) as info:
        list(Run(graph).start())
    assert info.value.node == "log_h"
