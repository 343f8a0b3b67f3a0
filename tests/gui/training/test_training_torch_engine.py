"""The Training tab's PyTorch engine, driven as a user drives it: choose it, Start, watch the curves, Stop, Keep."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("torch", reason="torch is not installed")

JOB_TIMEOUT_MS = 180_000   # torchrun and two ranks starting on a busy 2-core machine; a hang fails
SHOT = os.environ.get("LOOM_SHOT_DIR")   # set to write docs/images/torch-engine.png from this test


def choose_engine(qtbot, box, text):
    """Pick an item of the engine box with the keyboard, as a user would."""
    box.setFocus()
    for _ in range(box.count()):
        if box.currentText() == text:
            return
        qtbot.keyClick(box, Qt.Key_Down)
    assert box.currentText() == text


def points(curve) -> int:
    x = curve.getData()[0]
    return 0 if x is None else len(x)


def test_start_with_two_pytorch_processes_watch_stop_and_keep(qtbot, window):
    feature = window.training
    panel = feature.panel
    graph = window.graph
    # long enough to be stopped by hand (for the picture: 30 epochs, so that the curve fills the plot)
    graph.set_training({**graph.training, "epochs": 30 if SHOT else 500})
    window.undo_stack.clear()
    window.resize(1280, 800)
    before = {k: v.copy() for k, v in window.weights.items()}
    choose_engine(qtbot, panel.engine_box, "PyTorch, 2 processes")
    assert not panel.buttons["Step"].isEnabled()   # a PyTorch job runs to its end or to Stop
    qtbot.mouseClick(panel.buttons["Start"], Qt.LeftButton)
    host = feature.controller.host
    assert type(host).__name__ == "TorchHost"
    qtbot.waitUntil(lambda: points(feature.curves.raw_curve) >= 30, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: points(feature.curves.val_curve) >= 1, timeout=JOB_TIMEOUT_MS)
    series = feature.curves.series             # every step as delivered (the drawn curve may be downsampled)
    steps, losses = series.steps.values, series.loss.values
    assert list(steps[:5]) == [1, 2, 3, 4, 5] and np.all(np.isfinite(losses))
    assert "step" in panel.progress.label.text() and panel.progress.bar.value() > 0
    note = panel.device_note.text()        # the editor cannot know the device: the script picks it
    assert "PyTorch script picks the device" in note and "Training on CPU" not in note
    assert panel.buttons["Stop"].isEnabled() and not panel.buttons["Start"].isEnabled()
    if SHOT:   # what a user looks at: the Curves tab, the panel scrolled down to its run controls
        tabs = feature.views.tabBar()
        qtbot.mouseClick(tabs, Qt.LeftButton, pos=tabs.tabRect(feature.views.indexOf(feature.curves)).center())
        scroll = panel.parentWidget().parentWidget()
        scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
        window.resizeDocks([feature.views_dock], [340], Qt.Vertical)   # the splitter dragged up
        qtbot.waitUntil(lambda: points(feature.curves.raw_curve) >= 450, timeout=JOB_TIMEOUT_MS)
        qtbot.wait(500)
        window.grab().save(str(Path(SHOT) / "torch-engine.png"))
    pid = host._pid
    qtbot.mouseClick(panel.buttons["Stop"], Qt.LeftButton)
    qtbot.waitUntil(lambda: feature.controller.state == "stopped", timeout=JOB_TIMEOUT_MS)
    with pytest.raises(ProcessLookupError):   # the job's process group is gone: no orphans
        os.killpg(pid, 0)
    assert panel.keep_button.isEnabled()
    with np.load(host.job.weights_out) as saved:
        trained = {key: saved[key] for key in saved.files}
    qtbot.mouseClick(panel.keep_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10000)
    assert set(window.weights) == set(trained) == set(graph.analysis().params)
    for key, value in trained.items():
        np.testing.assert_array_equal(window.weights[key], value)
    with np.load(host.job.script.with_suffix(".npz")) as start:   # what the job started from: it trained
        assert any(not np.array_equal(start[k], trained[k]) for k in trained)
    window.undo_stack.undo()
    assert set(window.weights) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(window.weights[key], value)


def test_a_graph_that_cannot_be_exported_says_why(qtbot, window):
    """A data file that is gone: the PyTorch engine's failure is a message in the panel, not a crash."""
    feature = window.training
    training = window.graph.training
    window.graph.set_training({**training, "dataset": {"name": "csv", "path": "no_such_file.csv", "features": ["a"], "label": "b"}})
    choose_engine(qtbot, feature.panel.engine_box, "PyTorch, 1 process")
    feature.panel.start()
    qtbot.waitUntil(lambda: feature.controller.state == "failed", timeout=10000)
    assert "no_such_file.csv" in feature.panel.message.text()
