"""Fixtures for the live-training tests: a small stand-in main window with a recording canvas."""
from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from training_helpers import RecordingScene  # noqa: E402


@pytest.fixture
def make_feature(qtbot):
    """install_training on a bare QMainWindow holding `graph` (and a RecordingScene unless scene=False)."""
    from PySide6.QtWidgets import QMainWindow

    from gui.training.install import install_training

    made = []

    def make(graph, scene: bool = True):
        window = QMainWindow()
        window.graph = graph
        if scene:
            window.scene = RecordingScene()
        window.resize(1200, 800)
        qtbot.addWidget(window)
        feature = install_training(window)
        feature.confirm_stop = lambda parent: pytest.fail("asked to stop training unexpectedly")
        made.append(feature)
        return window, feature

    yield make
    for feature in made:
        assert feature.controller.shutdown(20000), "the worker thread did not end"
        feature.close()
    gc.collect()        # collect this test's Qt garbage now, not in the middle of the next test's timing
