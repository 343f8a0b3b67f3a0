"""Files through the window: save and reopen, examples, corrupted files, autosave recovery."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter

from core.graph import init_params, load_graph
from gui.document import Document, pending_recovery
from gui.file_actions import FileActions
from gui.theme import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_save_through_the_gui_and_reopen(window, tmp_path):
    graph = window.document.graph
    window.scene.select_nodes(["h1"])
    window.duplicate_selection()
    window.document.weights = init_params(graph, seed=3)
    assert window.document.modified and window.isWindowModified()
    target = tmp_path / "model"
    assert window.files.save_as(target)
    saved = tmp_path / "model.json"
    assert window.document.path == saved and not window.document.modified
    assert window.windowTitle().startswith("model.json")
    reopened, weights = load_graph(saved)
    assert reopened.to_dict() == graph.to_dict()
    assert sorted(weights) == sorted(window.document.weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(value, window.document.weights[key])
    assert window.files.open(saved)
    assert window.document.graph.to_dict() == reopened.to_dict()
    assert sorted(window.document.weights) == sorted(weights)


def test_weights_of_deleted_parameters_are_not_saved(window, tmp_path):
    window.document.weights = init_params(window.document.graph, seed=1)
    window.scene.select_nodes(["W3"])
    window.delete_selection()
    assert window.files.save_as(tmp_path / "cut.json")
    _, weights = load_graph(tmp_path / "cut.json")
    assert "W3" not in weights and "W1" in weights


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_every_example_opens_and_renders(window, path):
    assert window.files.open_example(path)
    assert window.errors == []
    graph = window.document.graph
    assert sorted(window.scene.nodes) == sorted(graph.nodes)
    assert len(window.scene.edges) == len(graph.edges())
    window.scene.refresh()
    labelled = [e for e in window.scene.edges.values() if e.label]
    assert len(labelled) == len(graph.edges())
    image = QImage(window.view.viewport().size(), QImage.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    window.view.render(painter)
    painter.end()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 5  # something besides the background was drawn
    assert window.windowTitle().startswith(f"{path.name} (example)")


def test_a_corrupted_file_shows_the_error_and_keeps_the_graph(window, tmp_path):
    before = window.document.graph.to_dict()
    title = window.windowTitle()
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "loom-graph", "version": 1, "nodes": [{"id": "x", "op": "Nope"}]}')
    assert not window.files.open(bad)
    assert len(window.errors) == 1
    assert "broken.json" in window.errors[0][1] and "Nope" in window.errors[0][1]
    assert window.document.graph.to_dict() == before
    assert window.windowTitle() == title
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\x01not json")
    assert not window.files.open(garbage)
    assert "not valid JSON" in window.errors[-1][1]
    assert window.document.graph.to_dict() == before


def test_unsaved_changes_prompt_before_new(window):
    window.scene.select_nodes(["h1"])
    window.delete_selection()
    assert window.files.new()
    assert window.prompts == ["seed_mlp.json (example)"]
    assert len(window.document.graph) == 0 and not window.document.modified


def test_cancel_in_the_prompt_keeps_everything(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.scene.select_nodes(["h1"])
    window.delete_selection()
    before = window.document.graph.to_dict()
    monkeypatch.setattr(FileActions, "ask_save_changes", lambda self: QMessageBox.Cancel)
    assert not window.files.new()
    assert window.document.graph.to_dict() == before


def test_autosave_and_recovery(window, monkeypatch, tmp_path):
    window.scene.select_nodes(["h2"])
    window.delete_selection()
    edited = window.document.graph.to_dict()
    window.files.write_autosave()
    assert pending_recovery() is not None
    window.set_document(Document())  # as if the program had died and started again
    monkeypatch.setattr(FileActions, "ask_recover", lambda self, origin: True)
    assert window.files.offer_recovery()
    assert window.document.graph.to_dict() == edited
    assert window.document.modified
    assert window.files.save_as(tmp_path / "rescued.json")
    assert pending_recovery() is None


def test_declined_recovery_is_discarded(window, monkeypatch):
    window.scene.select_nodes(["h2"])
    window.delete_selection()
    window.files.write_autosave()
    monkeypatch.setattr(FileActions, "ask_recover", lambda self, origin: False)
    assert not window.files.offer_recovery()
    assert pending_recovery() is None


def test_recent_files_menu(window, tmp_path):
    window.files.save_as(tmp_path / "first.json")
    names = [a.text() for a in window.recent_menu.actions()]
    assert names[0] == "first.json"


def test_saving_without_weights_drops_a_stale_weights_file(window, tmp_path):
    window.document.weights = init_params(window.document.graph, seed=2)
    target = tmp_path / "m.json"
    assert window.files.save_as(target)
    assert target.with_suffix(".npz").exists()
    window.document.weights = {}
    window.scene.select_nodes(["W1"])
    window.delete_selection()
    assert window.files.save()
    graph, weights = load_graph(target)
    assert weights == {} and "W1" not in graph
