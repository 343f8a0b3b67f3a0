"""Seeing inside: NaN highlighting, the compiled view, one-batch summaries, gradient flow, boundary, digits."""
from __future__ import annotations

import copy

import numpy as np

from core.graph import evaluate, graph_from_dict
from core.training import NonFiniteError, Run, read_config
from gui.training.probes import CLASS_COLOURS, BoundaryProbe, DigitsProbe, GradientProbe, confusion_matrix
from training_helpers import ask, example, first_batch, steps, train_graph_document, wait_state


def test_nan_stops_training_and_highlights_the_node_that_produced_it(qtbot, make_feature):
    window, feature = make_feature(example("nan_demo"))
    feature.panel.start()
    wait_state(qtbot, feature, "failed")
    qtbot.waitUntil(lambda: bool(window.scene.highlighted) and window.scene.highlighted[-1][0] is not None,
                    timeout=5000)
    node, message = window.scene.highlighted[-1]
    assert node == "log_h"
    assert "log_h" in message and "inf" in message.lower()
    assert "log_h" in feature.panel.message.text()
    assert feature.inspect.bad_node == "log_h"
    assert feature.controller.status.state == "failed"


def test_nan_without_canvas_support_is_named_in_the_panels(qtbot, make_feature):
    window, feature = make_feature(example("nan_demo"), scene=False)
    feature.panel.start()
    wait_state(qtbot, feature, "failed")
    assert "node 'log_h'" in feature.panel.message.text()
    assert feature.inspect.alert.isVisibleTo(feature.inspect)


def test_the_nonfinite_node_really_is_the_first_to_go_nonfinite():
    """Independent check of what the view reports: replay with the reference executor."""
    graph = example("nan_demo")
    run = Run(graph)
    error = None
    try:
        for _ in run.start():
            pass
    except NonFiniteError as e:
        error = e
    assert error is not None and error.node == "log_h"


def test_compiled_view_lists_kernels_with_sources_over_the_right_nodes(qtbot, make_feature):
    graph = example("xor")
    window, feature = make_feature(graph)
    feature.show_compiled()
    qtbot.waitUntil(lambda: feature.compiled.info is not None, timeout=60000)
    info = feature.compiled.info
    assert info.kernels and feature.compiled.kernels.topLevelItemCount() == len(info.kernels)
    train_graph = graph_from_dict(ask(qtbot, feature, train_graph_document))
    for kernel in info.kernels:
        assert kernel.cpu_source.strip() and kernel.cuda_source.strip()
        assert "__global__" in kernel.cuda_source or "ElementwiseKernel" in kernel.cuda_source
        assert kernel.covers and kernel.user_nodes, kernel.name
        for node in kernel.covers:       # every covered node is an elementwise op of the training graph
            assert node in train_graph and train_graph.spec(node).expr is not None
        assert set(kernel.user_nodes) <= set(graph.nodes)
    # the Dense layer 'hidden' has a tanh activation: its fused kernel computes a tanh
    hidden = [k for k in info.kernels if k.user_nodes == ["hidden"] and k.part == "forward"]
    assert hidden and "tanh" in hidden[0].cpu_source and "tanh" in hidden[0].cuda_source
    assert info.step_source.strip()
    assert info.rewrites
    assert all(k.seconds is not None and k.seconds > 0 for k in info.kernels), "every kernel is timed"
    feature.compiled.kernels.setCurrentItem(feature.compiled.kernels.topLevelItem(0))
    shown = feature.compiled.cpu_code.toPlainText().splitlines()   # each op line names its node after "  # "
    assert "\n".join(line.split("  # ")[0] for line in shown) == info.kernels[0].cpu_source.rstrip("\n")


def test_run_one_batch_summarizes_every_node(qtbot, make_feature):
    graph = example("xor")
    window, feature = make_feature(graph)
    feature.run_one_batch()
    qtbot.waitUntil(lambda: bool(feature.inspect.summaries), timeout=60000)
    summaries = feature.inspect.summaries
    assert set(summaries) == set(graph.nodes)
    weights, x = ask(qtbot, feature, first_batch)
    hidden = np.tanh(x @ weights["hidden_W"] + weights["hidden_b"])     # NumPy reference
    s = summaries["hidden"]
    assert s.shape == (32, 8)
    np.testing.assert_allclose([s.minimum, s.mean, s.maximum], [hidden.min(), hidden.mean(), hidden.max()],
                               rtol=1e-5, atol=1e-6)
    assert sum(s.counts) == hidden.size
    assert summaries["cost"].shape == ()
    assert "min" in window.scene.summaries["hidden"] and "[32, 8]" in window.scene.summaries["hidden"]
    assert feature.inspect.nodes.topLevelItemCount() == len(graph.nodes)


def test_gradient_flow_matches_a_numpy_backward_pass():
    graph = example("xor")
    run = Run(graph)
    probe = GradientProbe()
    probe.prepare(run)
    snap = probe.compute(run)
    w = run.weights()
    x, y = run.data.x_train[:32].astype(np.float64), run.data.y_train[:32]
    h = np.tanh(x @ w["hidden_W"] + w["hidden_b"])
    logits = h @ w["logits_W"] + w["logits_b"]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d_logits = (p - np.eye(2)[y]) / len(y)                        # mean softmax cross-entropy
    d_h = d_logits @ w["logits_W"].T
    d_w2 = h.T @ d_logits
    rms = lambda a: np.sqrt(np.mean(np.square(a)))  # noqa: E731
    np.testing.assert_allclose(snap.edges[("logits", "cost", "logits")], rms(d_logits), rtol=1e-4)
    np.testing.assert_allclose(snap.edges[("hidden", "logits", "x")], rms(d_h), rtol=1e-4)
    np.testing.assert_allclose(snap.grad_rms["logits_W"], rms(d_w2), rtol=1e-4)
    assert set(snap.grads) == {"hidden_W", "hidden_b", "logits_W", "logits_b"}
    counts, edges = snap.weights["hidden_W"]
    assert counts.sum() == w["hidden_W"].size and edges[0] <= w["hidden_W"].min()


def test_gradient_overlay_reaches_the_canvas_during_training(qtbot, make_feature):
    window, feature = make_feature(example("xor"))
    feature.panel.start()
    wait_state(qtbot, feature, "finished")
    qtbot.waitUntil(lambda: bool(window.scene.overlays), timeout=5000)
    overlay = window.scene.overlays[-1]
    assert ("hidden", "logits", "x") in overlay and all(v >= 0 for v in overlay.values())
    assert feature.histograms.history and feature.histograms.selector.count() == 4


def test_boundary_takes_the_colour_of_the_class_that_owns_each_quadrant(qtbot, make_feature):
    window, feature = make_feature(example("xor"))
    feature.panel.start()
    wait_state(qtbot, feature, "finished")
    qtbot.waitUntil(lambda: feature.boundary.result is not None and
                    feature.boundary.result.step == steps(feature), timeout=10000)
    result = feature.boundary.result
    image = result.image.astype(int)
    x0, y0, width, height = result.rect
    n = image.shape[0]

    def pixel(px, py):
        return image[int((py - y0) / height * n), int((px - x0) / width * n), :3]

    def nearer(colour, k):   # closer to class k's hue than to the other class's
        other = CLASS_COLOURS[1 - k]
        return np.abs(colour - CLASS_COLOURS[k]).sum() < np.abs(colour - other).sum()

    # xor: class 1 where x and y share a sign
    assert nearer(pixel(0.7, 0.7), 1) and nearer(pixel(-0.7, -0.7), 1)
    assert nearer(pixel(0.7, -0.7), 0) and nearer(pixel(-0.7, 0.7), 0)
    assert BoundaryProbe.applies(example("xor"), read_config(example("xor")))


def test_digits_confusion_matrix_agrees_with_the_reference_executor():
    graph = example("seed_mlp")
    config = copy.deepcopy(graph.training)
    run = Run(graph, config, steps=30)
    for _ in run.start():
        pass
    assert DigitsProbe.applies(graph, run.config)
    probe = DigitsProbe()
    probe.prepare(run)
    result = probe.compute(run)
    x, y = run.data.x_val, run.data.y_val
    scores = evaluate(graph, {run.config.features: x}, run.weights(), ["z3"])["z3"]
    predicted = scores.argmax(axis=1)
    np.testing.assert_array_equal(result.confusion, confusion_matrix(y, predicted, 10))
    assert result.confusion.sum() == len(y)
    assert len(result.captions) == min(24, int((predicted != y).sum()))
    assert abs(result.accuracy - np.mean(predicted == y)) < 1e-12


def test_confusion_matrix_counts_pairs():
    m = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]), 3)
    np.testing.assert_array_equal(m, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])


def test_run_one_batch_after_an_edit_shows_the_graph_as_it_is_now(qtbot, make_feature):
    graph = example("xor")
    window, feature = make_feature(graph)
    feature.run_one_batch()
    qtbot.waitUntil(lambda: bool(feature.inspect.summaries), timeout=60000)
    assert feature.inspect.summaries["hidden"].shape == (32, 8)
    graph.set_attr("hidden", "units", 5)        # the run was built to inspect: no question to answer
    wait_state(qtbot, feature, "stopped", 10000)
    feature.inspect.summaries = {}
    feature.run_one_batch()
    qtbot.waitUntil(lambda: bool(feature.inspect.summaries), timeout=60000)
    assert feature.inspect.summaries["hidden"].shape == (32, 5)
