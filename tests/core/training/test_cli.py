"""`python main.py train`: exit codes, the JSON-lines log, the summary, and weights in and out."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.graph import evaluate, load_graph, load_weights
from core.training import load_dataset
from main import main

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


@pytest.fixture
def xor_file(tmp_path) -> Path:
    return Path(shutil.copy(EXAMPLES / "xor.json", tmp_path / "xor.json"))


def test_train_writes_a_log_a_summary_and_weights(xor_file, tmp_path, capsys):
    code = main(["train", str(xor_file), "--steps", "15", "--log", str(tmp_path / "log.jsonl"),
                 "--save-weights", str(tmp_path / "w.npz")])
    out = capsys.readouterr().out
    assert code == 0
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    steps = [line for line in lines if "loss" in line]
    epochs = [line for line in lines if "val_loss" in line]
    assert [s["step"] for s in steps] == list(range(1, 16))
    assert {"step", "epoch", "loss", "accuracy"} == set(steps[0])
    assert [(e["epoch"], e["step"]) for e in epochs] == [(1, 10), (2, 15)]
    assert "trained 15 steps (2 epochs) in " in out and "steps/s" in out and "final validation loss" in out
    assert f"validation accuracy {epochs[-1]['val_accuracy']:.4f}" in out
    graph = load_graph(xor_file)[0]
    assert set(load_weights(tmp_path / "w.npz", graph)) == {"hidden_W", "hidden_b", "logits_W", "logits_b"}


def test_init_weights_set_the_starting_point(xor_file, tmp_path):
    graph = load_graph(xor_file)[0]
    rng = np.random.default_rng(5)
    weights = {"hidden_W": rng.normal(size=(2, 8)), "hidden_b": rng.normal(size=8),
               "logits_W": rng.normal(size=(8, 2)), "logits_b": rng.normal(size=2)}
    np.savez(tmp_path / "init.npz", **weights)
    code = main(["train", str(xor_file), "--steps", "1", "--seed", "3", "--quiet", "--init-weights",
                 str(tmp_path / "init.npz"), "--log", str(tmp_path / "log.jsonl")])
    assert code == 0
    first = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])
    data = load_dataset(graph.training["dataset"])
    rows = np.random.default_rng([3, 0]).permutation(len(data.x_train))[:graph.training["batch_size"]]
    truth = evaluate(graph, {"x": data.x_train[rows], "y": data.y_train[rows]}, weights, ["cost"])
    assert first["loss"] == pytest.approx(float(truth["cost"]), rel=1e-5)


def test_epochs_option_sets_the_length(xor_file, tmp_path, capsys):
    assert main(["train", str(xor_file), "--epochs", "2", "--quiet"]) == 0
    assert "trained 20 steps (2 epochs)" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["", "{not json", '{"format": "loom-graph", "version": 99, "nodes": []}'])
def test_an_unreadable_graph_exits_2(tmp_path, capsys, content):
    (tmp_path / "bad.json").write_text(content)
    assert main(["train", str(tmp_path / "bad.json")]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_a_missing_graph_or_weights_file_exits_2(xor_file, tmp_path, capsys):
    assert main(["train", str(tmp_path / "nowhere.json")]) == 2
    assert main(["train", str(xor_file), "--init-weights", str(tmp_path / "none.npz")]) == 2
    np.savez(tmp_path / "wrong.npz", hidden_W=np.zeros((3, 3)))
    assert main(["train", str(xor_file), "--init-weights", str(tmp_path / "wrong.npz")]) == 2
    assert "hidden_W" in capsys.readouterr().err


def test_a_diverging_run_exits_1_naming_the_node(capsys):
    assert main(["train", str(EXAMPLES / "nan_demo.json"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "node 'log_h'" in err and "Log produced -inf" in err and "Traceback" not in err


def test_bad_configuration_and_bad_data_exit_1(xor_file, capsys):
    doc = json.loads(xor_file.read_text())
    doc["training"]["optimizer"]["lr"] = "fast"
    xor_file.write_text(json.dumps(doc))
    assert main(["train", str(xor_file)]) == 1
    assert "training.optimizer.lr" in capsys.readouterr().err
    doc["training"]["optimizer"]["lr"] = 0.1
    doc["training"]["dataset"] = {"name": "csv", "path": "points.csv", "label": "y"}
    xor_file.write_text(json.dumps(doc))
    assert main(["train", str(xor_file)]) == 1
    assert "points.csv: file not found" in capsys.readouterr().err
