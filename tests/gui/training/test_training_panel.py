"""The training panel drives real runs: train XOR to 100 %, pause/step/stop, edits while training."""
from __future__ import annotations

import copy

import numpy as np
from PySide6.QtGui import QUndoStack

from core.graph import evaluate
from core.training import Run, load_dataset

from training_helpers import ask, example, steps, wait_state


def long_run(graph, epochs: int = 100000):
    """The graph with so many epochs that a run only ends when told to."""
    config = copy.deepcopy(graph.training)
    config["epochs"] = epochs
    graph.set_training(config)
    return graph


def test_train_xor_to_full_accuracy_with_one_point_per_step(qtbot, make_feature):
    graph = example("xor")
    window, feature = make_feature(graph)
    feature.panel.buttons["Start"].click()
    wait_state(qtbot, feature, ("finished", "failed"))
    assert feature.controller.state == "finished", feature.panel.message.text()
    total = feature.controller.status.total_steps
    qtbot.waitUntil(lambda: feature.curves.series.steps.size == total, timeout=5000)
    series = feature.curves.series
    np.testing.assert_array_equal(series.steps.values, np.arange(1, total + 1))
    assert series.loss.values[-1] < series.loss.values[0]
    # independent truth: the trained weights classify every validation point right
    data = load_dataset(graph.training["dataset"])
    ev = evaluate(graph, {"x": data.x_val}, ask(qtbot, feature, Run.weights), ["logits"])
    assert np.mean(ev["logits"].argmax(axis=1) == data.y_val) == 1.0
    assert series.val_metrics["accuracy"].values[-1] == 1.0
    assert "step 400/400" in feature.panel.progress_label.text()


def test_pause_step_resume_stop_do_what_they_say(qtbot, make_feature):
    window, feature = make_feature(long_run(example("xor")))
    panel = feature.panel
    panel.buttons["Start"].click()
    wait_state(qtbot, feature, "running", 30000)
    qtbot.waitUntil(lambda: steps(feature) >= 5, timeout=30000)
    panel.buttons["Pause"].click()
    wait_state(qtbot, feature, "paused")
    paused_at = steps(feature)
    qtbot.wait(300)
    assert steps(feature) == paused_at, "a paused run kept training"
    qtbot.waitUntil(lambda: feature.curves.series.steps.size == paused_at, timeout=3000)
    assert panel.buttons["Resume"].isEnabled() and not panel.buttons["Pause"].isEnabled()

    panel.buttons["Step"].click()
    qtbot.waitUntil(lambda: steps(feature) == paused_at + 1, timeout=10000)
    qtbot.wait(300)
    assert steps(feature) == paused_at + 1, "Step trained more than one batch"
    assert feature.controller.state == "paused"
    qtbot.waitUntil(lambda: feature.curves.series.steps.size == paused_at + 1, timeout=3000)

    panel.buttons["Resume"].click()
    qtbot.waitUntil(lambda: steps(feature) > paused_at + 5, timeout=30000)
    panel.buttons["Stop"].click()
    wait_state(qtbot, feature, "stopped")
    stopped_at = steps(feature)
    qtbot.wait(300)
    assert steps(feature) == stopped_at, "a stopped run kept training"
    assert panel.buttons["Start"].isEnabled() and not panel.buttons["Resume"].isEnabled()


def test_step_before_start_trains_exactly_one_batch(qtbot, make_feature):
    window, feature = make_feature(example("xor"))
    feature.panel.buttons["Step"].click()
    qtbot.waitUntil(lambda: steps(feature) == 1, timeout=30000)
    qtbot.wait(300)
    assert steps(feature) == 1
    assert feature.controller.state == "paused"


def test_editing_the_graph_while_training_asks_and_stops(qtbot, make_feature):
    graph = long_run(example("xor"))
    window, feature = make_feature(graph)
    asked = []
    feature.confirm_stop = lambda parent: asked.append(parent) or True
    feature.panel.start()
    wait_state(qtbot, feature, "running", 30000)
    graph.set_attr("hidden", "units", 4)
    graph.set_attr("hidden", "units", 5)
    wait_state(qtbot, feature, "stopped", 10000)
    assert len(asked) == 1, "one edit burst asks once"


def test_answering_no_keeps_training_and_moving_nodes_never_asks(qtbot, make_feature):
    graph = long_run(example("xor"))
    window, feature = make_feature(graph)
    asked = []
    feature.confirm_stop = lambda parent: asked.append(parent) and False
    feature.panel.start()
    wait_state(qtbot, feature, "running", 30000)
    graph.set_ui("hidden", "pos", [10, 10])
    qtbot.wait(100)
    assert asked == []
    graph.set_attr("hidden", "units", 4)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=5000)
    before = steps(feature)
    qtbot.waitUntil(lambda: steps(feature) > before + 3, timeout=10000)
    assert feature.controller.state == "running"


def test_settings_edit_graph_training_through_the_undo_stack(qtbot, make_feature):
    graph = example("xor")
    window, feature = make_feature(graph)
    stack = QUndoStack()
    feature.panel.undo_stack = stack
    before = copy.deepcopy(graph.training)
    feature.panel.epochs_box.setValue(7)
    feature.panel.epochs_box.setValue(9)
    assert graph.training["epochs"] == 9
    assert stack.count() == 1, "edits of one setting merge into one undo step"
    feature.panel.optimizer_box.setCurrentText("sgd")
    assert graph.training["optimizer"] == {"name": "sgd"}
    stack.undo()
    stack.undo()
    assert graph.training == before
    assert feature.panel.epochs_box.value() == before["epochs"]
    assert feature.panel.optimizer_box.currentText() == "adam"


def test_device_selector_says_why_it_fell_back(qtbot, make_feature):
    from gui.training.controller import available_device_names, resolve_device

    names, reason = available_device_names()
    device, note = resolve_device("CUDA")
    if "cuda" in names:
        assert (device, note) == ("cuda", "")
    else:
        assert device == "cpu" and note.startswith("Fell back to the CPU") and reason in note
    assert resolve_device("CPU") == ("cpu", "")
    window, feature = make_feature(example("xor"))
    feature.panel.device_box.setCurrentText("CUDA")
    assert feature.panel.device_note.text() == note


def test_a_training_process_that_dies_is_reported_and_start_works_again(qtbot, make_feature):
    window, feature = make_feature(long_run(example("xor")))
    feature.panel.start()
    wait_state(qtbot, feature, "running", 60000)
    feature.controller.host._process.kill()          # as a crash in a native library would end it
    wait_state(qtbot, feature, "failed", 10000)
    assert "ended unexpectedly" in feature.panel.message.text()
    assert feature.panel.buttons["Start"].isEnabled()
    feature.panel.start()
    wait_state(qtbot, feature, "running", 60000)
    qtbot.waitUntil(lambda: steps(feature) > 3, timeout=30000)
    feature.panel.stop()
    wait_state(qtbot, feature, "stopped")
