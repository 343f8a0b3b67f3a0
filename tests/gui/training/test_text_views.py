"""The Embeddings and Tagger views, driven with typed text, drawing answers of a real (small) run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.graph import load_graph
from core.training import Run
from gui.training.text_probes import neighbours_task, tag_task, tokenize
from gui.training.text_views import EmbeddingsView, TaggerView, entity_colour

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "ner_window.json"


@pytest.fixture(scope="module")
def run():
    graph = load_graph(EXAMPLE)[0]
    config = dict(graph.training)
    config["dataset"] = {**config["dataset"], "max_sentences": 300}
    run = Run(graph, config, base_dir=EXAMPLE.parent, steps=40)
    list(run.start())
    return run


def answer(view, asked: list, run):
    """Play the training process: answer each request in turn (a changed query asks again)."""
    result = None
    while asked:
        result = asked.pop(0)(run)
        view.show_result(result)
    return result


def test_tokenize_keeps_words_numbers_and_marks():
    assert tokenize("Frau Müller-Lüdenscheidt kam am 3.10. nach Berlin.") == [
        "Frau", "Müller-Lüdenscheidt", "kam", "am", "3.10", ".", "nach", "Berlin", "."]


def test_tagger_view_shows_each_token_with_its_tag(qtbot, run):
    view = TaggerView()
    qtbot.addWidget(view)
    asked = []
    view.sig_request.connect(asked.append)
    view.sentence.clear()
    qtbot.keyClicks(view.sentence, "Peter fuhr nach Hamburg")
    qtbot.keyClick(view.sentence, Qt.Key_Return)
    assert asked, "typing asks the training process"
    result = answer(view, asked, run)
    assert result.tokens == ["Peter", "fuhr", "nach", "Hamburg"] and len(result.tags) == 4
    assert set(result.tags) <= set(run.data.class_names)
    text = view.tags.text()
    assert all(token in text for token in result.tokens) and "Step 40" in view.caption.text()
    for tag in result.tags:
        assert tag in text
    view.resize(1280, 300)
    assert not view.grab().isNull()


def test_entity_colours():
    assert entity_colour("O") is None
    assert entity_colour("B-PER") == entity_colour("I-PERderiv") != entity_colour("B-LOC")


def test_embeddings_view_lists_neighbours_and_maps_words(qtbot, run):
    view = EmbeddingsView()
    qtbot.addWidget(view)
    asked = []
    view.sig_request.connect(asked.append)
    view.word.clear()
    qtbot.keyClicks(view.word, "der")
    view.chosen.setText("der, die, das, und, qwertzuiop")
    qtbot.keyClick(view.word, Qt.Key_Return)
    result = answer(view, asked, run)
    vocab = run.data.text.vocab
    table = run.weights()["words_table"][:len(vocab)]                  # the rows the vocabulary uses
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    cosine = unit @ unit[vocab.index["der"]]
    cosine[[0, 1, vocab.index["der"]]] = -2
    assert view.neighbours.count() == 10
    assert view.neighbours.item(0).text().endswith(vocab.words[int(cosine.argmax())])
    assert result.map_words == ["der", "die", "das", "und"] and result.coords.shape == (4, 2)
    view.resize(1280, 400)
    assert not view.grab().isNull()


def test_a_word_outside_the_vocabulary_is_said_so(run):
    result = neighbours_task(run, "qwertzuiop")
    assert not result.known and result.neighbours == []


def test_views_refresh_while_running_and_say_when_there_is_no_run(qtbot):
    view = TaggerView()
    qtbot.addWidget(view)
    asked = []
    view.sig_request.connect(asked.append)
    view.set_state("running")
    assert view.timer.isActive()
    qtbot.waitUntil(lambda: len(asked) >= 1, timeout=3000)
    view.no_run()
    assert "Start" in view.caption.text() and not view.waiting
    view.set_state("finished")
    assert not view.timer.isActive()
    assert tag_task.__module__ == "gui.training.text_probes"


def test_the_views_follow_a_run_in_the_training_process(qtbot, make_feature):
    from training_helpers import example, wait_state

    graph = example("ner_window")
    config = dict(graph.training)
    data = {**config["dataset"], "max_sentences": 150}
    for key in ("path", "eval_path"):
        data[key] = str(EXAMPLE.parent / data[key])
    graph.set_training({**config, "dataset": data, "epochs": 1})
    window, feature = make_feature(graph)
    titles = [feature.views.tabText(i) for i in range(feature.views.count())]
    assert "Embeddings" in titles and "Tagger" in titles
    feature.views.setCurrentWidget(feature.tagger)
    feature.embeddings.word.setText("der")
    feature.panel.start()
    wait_state(qtbot, feature, "finished")
    qtbot.waitUntil(lambda: feature.tagger.result is not None and feature.embeddings.result is not None,
                    timeout=60000)
    assert len(feature.tagger.result.tags) == len(feature.tagger.result.tokens) == 11      # the default sentence
    assert feature.tagger.result.step == feature.controller.status.step_count
    assert feature.embeddings.result.node == "words" and feature.embeddings.result.known is True
    assert len(feature.embeddings.result.neighbours) == 10
    qtbot.waitUntil(lambda: "f1" in feature.curves.metric_curves, timeout=10000)   # drawn per epoch in Curves
    xs, ys = feature.curves.metric_curves["f1"].getData()
    assert len(ys) == 1 and 0.0 <= ys[0] <= 1.0
    window.resize(1280, 800)
    assert not window.grab().isNull()
