"""The window NER tagger beats the most-frequent-tag baseline in a short run, and prints its F1 headless."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.graph import load_graph
from core.training import Run
from core.training.cli import train_command
from core.training.tag_report import baseline_scores, predict, span_scores

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "ner_window.json"


def short_config(sentences: int, epochs: int) -> dict:
    graph = load_graph(EXAMPLE)[0]
    config = dict(graph.training)
    config["dataset"] = {**config["dataset"], "max_sentences": sentences}
    return {**config, "epochs": epochs}


def test_the_tagger_beats_the_most_frequent_tag_baseline():
    graph = load_graph(EXAMPLE)[0]
    run = Run(graph, short_config(2000, 6), base_dir=EXAMPLE.parent)     # ~13 s: 2,000 sentences, 6 epochs
    last = list(run.start())[-1]
    baseline = baseline_scores(run.data).f1
    ours = span_scores(predict(run, run.data.x_val), run.data.y_val, run.data.class_names)
    assert last.val_metrics["f1"] == pytest.approx(ours.f1, rel=1e-6)   # the logged metric is the whole split's span F1
    assert ours.f1 > baseline + 0.02, (ours.f1, baseline)
    assert 0.1 < baseline < 0.5


def test_main_train_prints_f1_per_type_and_the_baseline(tmp_path, capsys):
    graph, _ = load_graph(EXAMPLE)
    graph.set_training(short_config(200, 1))
    for key in ("path", "eval_path"):
        graph.training["dataset"][key] = str(EXAMPLE.parent / graph.training["dataset"][key])
    from core.graph import save_graph
    save_graph(tmp_path / "ner.json", graph)
    assert train_command([str(tmp_path / "ner.json"), "--steps", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "validation f1" in out and "most-frequent-tag baseline F1" in out and "PER" in out
    assert "data: NER-de-test.tsv.gz: 25 tags" in out
