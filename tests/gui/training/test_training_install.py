"""install_training: the contract with the main window, curves export, graph replacement and close()."""
from __future__ import annotations

import csv

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow

from gui.training.install import install_training
from training_helpers import ask, example, wait_state


class ReplacingWindow(QMainWindow):
    """A window that can swap its graph, as the editor does when a file is opened."""

    sig_graph_replaced = Signal(object)


def test_install_on_the_real_main_window_then_close_removes_everything(qtbot, window):
    docks_before = set(window.findChildren(QDockWidget))
    menus_before = [a.text() for a in window.menuBar().actions()]
    feature = install_training(window)
    assert "&Training" in [a.text() for a in window.menuBar().actions()]
    assert feature.panel_dock in window.findChildren(QDockWidget)
    assert feature.panel.undo_stack is window.undo_stack
    feature.panel.step()
    qtbot.waitUntil(lambda: feature.controller.status is not None and feature.controller.status.step_count == 1,
                    timeout=60000)
    feature.panel.epochs_box.setValue(3)
    assert window.graph.training["epochs"] == 3
    window.undo_stack.undo()
    assert window.graph.training["epochs"] != 3
    feature.close()
    assert not feature.controller.alive
    assert [a.text() for a in window.menuBar().actions()] == menus_before
    qtbot.waitUntil(lambda: set(window.findChildren(QDockWidget)) == docks_before, timeout=3000)
    window.graph.set_attr("W1", "scale", 0.5)       # no listener is left behind to ask anything


def test_a_replaced_graph_is_followed_and_the_old_one_forgotten(qtbot):
    old, new = example("xor"), example("spirals")
    window = ReplacingWindow()
    window.graph = old
    qtbot.addWidget(window)          # closed and deleted by qtbot, never by the garbage collector
    feature = install_training(window)
    try:
        window.graph = new
        window.sig_graph_replaced.emit(new)
        assert feature.graph is new
        assert feature.panel.dataset_box.currentText() == "spirals"
        feature.confirm_stop = lambda parent: (_ for _ in ()).throw(AssertionError("asked about the old graph"))
        feature.panel.start()
        wait_state(qtbot, feature, ("running", "finished"), 60000)
        old.set_attr("hidden", "units", 3)
        qtbot.wait(100)
        assert "spiral" in feature.controller.info.dataset.lower()
    finally:
        feature.close()
    assert feature.graph is None


def test_curves_keep_earlier_runs_and_export_csv_and_png(qtbot, make_feature, tmp_path):
    window, feature = make_feature(example("xor"))
    for _ in range(2):
        feature.panel.start()
        wait_state(qtbot, feature, "finished")
        qtbot.waitUntil(lambda: feature.curves.series.steps.size == 400, timeout=5000)
    curves = feature.curves
    assert len(curves.earlier) == 1 and curves.earlier[0][0].label == "run 1"
    np.testing.assert_allclose(curves.earlier[0][1][0].getData()[1], curves.earlier[0][0].smooth.values)
    path = tmp_path / "numbers.csv"
    curves.export_csv(path)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    records = curves.series.records
    assert len(rows) == len(records) == 400
    assert [int(r["step"]) for r in rows] == list(range(1, 401))
    np.testing.assert_allclose([float(r["loss"]) for r in rows], [m.loss for m in records])
    epoch_rows = [r for r in rows if r["val_loss"]]
    assert len(epoch_rows) == 40 and float(epoch_rows[-1]["val_accuracy"]) == 1.0
    # the smoothed column is the debiased exponential moving average of the loss
    losses = np.array([m.loss for m in records])
    ema, expected = 0.0, []
    for k, value in enumerate(losses, start=1):
        ema = 0.9 * ema + 0.1 * value
        expected.append(ema / (1 - 0.9 ** k))
    np.testing.assert_allclose([float(r["loss_smoothed"]) for r in rows], expected, rtol=1e-12)
    png = tmp_path / "plot.png"
    curves.export_png(png)
    assert png.stat().st_size > 1000
    curves.set_log_scale(True)
    assert curves.loss_plot.ctrl.logYCheck.isChecked()
    curves.forget_earlier()
    assert curves.earlier == []


def test_a_graph_without_training_configuration_is_offered_one(qtbot, make_feature):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QUndoStack

    graph = example("xor")
    written = graph.training
    graph.set_training({})
    window, feature = make_feature(graph)
    panel = feature.panel
    panel.undo_stack = QUndoStack()
    box = panel.readiness_box
    assert "no training set-up" in box.text.text() and "loss cost" in box.text.text()
    assert not panel.buttons["Start"].isEnabled() and box.use_button.isVisibleTo(panel)
    panel.start()                                   # the menu's Start: it says why, and starts nothing
    assert "no training set-up" in panel.message.text() and feature.controller.state == "idle"
    qtbot.mouseClick(box.use_button, Qt.LeftButton)
    for key in ("features", "labels", "loss", "metrics"):
        assert graph.training[key] == written[key]
    assert panel.buttons["Start"].isEnabled() and box.text.text().startswith("Ready")
    assert panel.message.text() == ""                 # the reason Start waited no longer applies
    panel.undo_stack.undo()
    assert graph.training == {} and not panel.buttons["Start"].isEnabled()


def test_the_training_menu_starts_and_stops_a_run(qtbot, make_feature):
    graph = example("xor")
    config = dict(graph.training, epochs=100000)
    graph.set_training(config)
    window, feature = make_feature(graph)
    actions = {a.text(): a for a in feature.menu.actions()}
    actions["Start"].trigger()
    wait_state(qtbot, feature, "running", 30000)
    qtbot.waitUntil(lambda: feature.controller.status.step_count > 3, timeout=30000)
    actions["Stop"].trigger()
    wait_state(qtbot, feature, "stopped")


def test_closing_the_window_ends_the_worker(qtbot, make_feature):
    window, feature = make_feature(example("xor"))
    feature.panel.step()
    qtbot.waitUntil(lambda: feature.controller.alive, timeout=30000)
    window.close()
    assert not feature.controller.alive


def test_keep_trained_weights_puts_them_in_the_document_undoably_and_save_writes_them(qtbot, window, tmp_path):
    from core.graph import load_graph
    from core.training import Run

    feature = install_training(window)
    try:
        before = {k: v.copy() for k, v in window.weights.items()}
        graph = window.graph
        graph.set_training({**graph.training, "epochs": 1})
        window.undo_stack.clear()
        assert not feature.panel.keep_button.isEnabled()
        feature.panel.start()
        wait_state(qtbot, feature, "finished")
        assert feature.panel.keep_button.isEnabled()
        trained = ask(qtbot, feature, Run.weights)
        feature.panel.keep_button.click()
        qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10000)
        assert set(window.weights) == set(trained)
        for key, value in trained.items():
            np.testing.assert_array_equal(window.weights[key], value)
        assert window.document.modified and "step" in window.undo_stack.undoText()
        path = tmp_path / "trained.json"
        window.document.save(path)
        _, saved = load_graph(path)
        for key, value in trained.items():
            np.testing.assert_array_equal(saved[key], value)
        window.undo_stack.undo()
        assert set(window.weights) == set(before)
        for key, value in before.items():
            np.testing.assert_array_equal(window.weights[key], value)
    finally:
        feature.close()
