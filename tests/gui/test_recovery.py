"""Recovery never discards work: stale or mismatched autosaved weights cost the weights, never the
graph, and the autosaved files go only after a restore was saved or on the user's Discard."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.graph import init_params
from gui.document import Document, pending_recovery, recovery_dir, recovery_file
from gui.file_actions import FileActions


def _delete_with_the_keyboard(qtbot, window, nodes):
    window.activateWindow()
    window.view.setFocus()
    window.scene.select_nodes(nodes)
    qtbot.keyClick(window.view, Qt.Key_Delete)
    assert not set(nodes) & set(window.document.graph.nodes)


def _restart_and_recover(window, monkeypatch, warnings):
    window.set_document(Document())   # as if Loom had died and started again
    monkeypatch.setattr(FileActions, "ask_recover", lambda self, origin: True)
    monkeypatch.setattr(FileActions, "show_warning", lambda self, title, message: warnings.append(message))
    return window.files.offer_recovery()


def test_autosave_after_deleting_the_weighted_layer_recovers_the_edited_graph(qtbot, window, monkeypatch, tmp_path):
    weights = init_params(window.document.graph, seed=2)
    window.document.weights = {"W2": weights["W2"], "b2": weights["b2"]}
    assert window.files.save_as(tmp_path / "model.json")
    _delete_with_the_keyboard(qtbot, window, ["h1"])
    window.files.write_autosave()
    assert recovery_file().with_suffix(".npz").exists()
    _delete_with_the_keyboard(qtbot, window, ["W2", "b2"])
    edited = window.document.graph.to_dict()
    window.files.write_autosave()
    warnings: list[str] = []
    assert _restart_and_recover(window, monkeypatch, warnings)
    assert window.errors == [] and warnings == []
    assert window.document.graph.to_dict() == edited
    assert window.document.weights == {}
    assert window.document.path == tmp_path / "model.json" and window.document.modified


def test_weights_that_do_not_match_are_dropped_and_the_graph_recovered(qtbot, window, monkeypatch):
    _delete_with_the_keyboard(qtbot, window, ["h2"])
    edited = window.document.graph.to_dict()
    window.files.write_autosave()
    np.savez(recovery_file().with_suffix(".npz"), W1=np.zeros((3, 3), np.float32))  # left by an older Loom
    warnings: list[str] = []
    assert _restart_and_recover(window, monkeypatch, warnings)
    assert window.errors == []
    assert len(warnings) == 1 and "recovered.npz" in warnings[0] and "'W1' has shape (3, 3)" in warnings[0]
    assert "without these weights" in warnings[0]
    assert window.document.graph.to_dict() == edited and window.document.weights == {}
    assert pending_recovery() is not None, "kept until the recovered graph is saved"


def test_an_unreadable_autosave_is_kept_not_deleted(window, monkeypatch):
    window.files.write_autosave()
    recovery_dir().mkdir(parents=True, exist_ok=True)
    recovery_file().write_text('{"format": "loom-graph", "version": 1, "nodes": [{"id": 5}]}')
    assert not _restart_and_recover(window, monkeypatch, [])
    assert window.errors and "recovered.json" in window.errors[0][1] and "kept in" in window.errors[0][1]
    assert pending_recovery() is not None and recovery_file().exists()
    assert len(window.document.graph) == 0, "the window keeps the graph it had"


def test_start_cleans_temporaries_an_interrupted_autosave_left(qtbot, window):
    _delete_with_the_keyboard(qtbot, window, ["h2"])
    window.files.write_autosave()
    stale = [recovery_dir() / ".recovered.json.abc123.tmp", recovery_dir() / ".recovered.new.npz",
             recovery_dir() / ".recovered.0123456789abcdef.npz"]
    for path in stale:
        path.write_bytes(b"half")
    assert pending_recovery() is not None
    assert not any(p.exists() for p in stale)
    assert recovery_file().exists()
