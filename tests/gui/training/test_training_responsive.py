"""The UI thread keeps its timers on time while the worker trains (a responsiveness property, not speed)."""
from __future__ import annotations

import copy
import gc
import time

from PySide6.QtCore import QTimer

from training_helpers import example, steps, wait_state

MAX_GAP_S = 0.25


def test_a_ui_timer_keeps_firing_on_time_during_training(qtbot, make_feature):
    graph = example("seed_mlp")             # digits: the worker also runs the confusion and gradient probes
    config = copy.deepcopy(graph.training)
    config["epochs"] = 1000
    graph.set_training(config)
    window, feature = make_feature(graph)
    gc.collect()                            # earlier tests' garbage is not this test's business
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    feature.panel.start()
    wait_state(qtbot, feature, "running", 60000)
    timer.start()
    qtbot.wait(3000)
    timer.stop()
    assert steps(feature) > 10, "training made no progress while the UI was measured"
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 50
    assert max(gaps) < MAX_GAP_S, f"the UI thread stalled for {max(gaps):.3f} s"
    assert feature.curves.series.steps.size > 0, "the curves did not follow the run"
