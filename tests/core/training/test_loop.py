"""The training loop: determinism, pause/resume/step, checkpoints, validation, NaN stops and bad data."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.graph import Graph, GraphError, evaluate, load_graph
from core.training import ConfigError, DatasetError, NonFiniteError, Run, load_dataset

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"
STEPS = 45  # xor: 10 batches an epoch, so this crosses four epoch ends and stops mid-epoch


@pytest.fixture(scope="module")
def xor() -> Graph:
    return load_graph(EXAMPLES / "xor.json")[0]


def losses(run: Run) -> list[float]:
    return [m.loss for m in run.start()]


# ---- determinism


def test_same_graph_data_and_seed_give_a_bit_identical_trajectory(xor):
    first, again = losses(Run(xor, steps=STEPS)), losses(Run(xor, steps=STEPS))
    assert len(first) == STEPS and first == again
    other = losses(Run(xor, steps=STEPS, seed=1))
    assert other != first


def test_shuffling_visits_every_sample_once_per_epoch(xor):
    run = Run(xor, steps=20)
    seen = np.concatenate([run._batch_indices(k) for k in range(run.steps_per_epoch)])
    assert sorted(seen) == list(range(len(run.data.x_train)))
    again = np.concatenate([run._batch_indices(k) for k in range(run.steps_per_epoch, 2 * run.steps_per_epoch)])
    assert sorted(again) == sorted(seen) and list(again) != list(seen)


# ---- pause, resume, step, stop


def test_stepping_pausing_and_resuming_give_the_uninterrupted_trajectory(xor):
    want = losses(Run(xor, steps=STEPS))
    run = Run(xor, steps=STEPS)
    got = [run.step().loss for _ in range(3)]
    assert run.state == "paused"
    for m in run.start(block=False):  # in one thread, pausing ends the iteration
        got.append(m.loss)
        if m.step == 17:
            run.pause()
    assert run.state == "paused" and len(got) == 17
    assert list(run.iterate(block=False)) == []
    got.append(run.step().loss)
    run.resume()
    got += [m.loss for m in run.iterate()]
    assert got == want and run.state == "finished" and run.step() is None


def test_a_worker_thread_can_be_paused_stepped_and_resumed(xor):
    want = losses(Run(xor, steps=STEPS))
    run = Run(xor, steps=STEPS)
    got, reached = [], threading.Event()

    def worker():
        for m in run.start():
            got.append(m.loss)
            if m.step == 10:
                run.pause()
                reached.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert reached.wait(60)
    extra = run.step()
    got.append(extra.loss)
    assert extra.step == 11 and thread.is_alive()
    run.resume()
    thread.join(120)
    assert not thread.is_alive() and got == want


def test_stop_ends_the_run_and_keeps_its_weights(xor):
    run = Run(xor, steps=STEPS)
    for m in run.start():
        if m.step == 5:
            run.stop()
    assert run.state == "stopped" and run.step_count == 5 and run.step() is None
    assert set(run.weights()) == {"hidden_W", "hidden_b", "logits_W", "logits_b"}


# ---- metrics and validation


def test_validation_comes_at_epoch_ends_and_matches_the_reference_executor(xor):
    run = Run(xor, steps=25)
    events = list(run.start())
    ends = [m.step for m in events if m.epoch_end]
    assert ends == [10, 20, 25]
    last = events[-1]
    assert (last.epoch, last.batch, last.steps_per_epoch, last.total_steps) == (3, 5, 10, 25)
    ev = evaluate(xor, {"x": run.data.x_val, "y": run.data.y_val}, run.weights(), ["cost", "accuracy"])
    assert last.val_loss == pytest.approx(float(ev["cost"]), rel=1e-5)
    assert last.val_metrics["accuracy"] == pytest.approx(float(ev["accuracy"]))


def test_first_step_loss_is_the_loss_of_the_first_shuffled_batch(xor):
    run = Run(xor, steps=1)
    weights = run.weights()
    rows = np.random.default_rng([0, 0]).permutation(len(run.data.x_train))[:32]
    ev = evaluate(xor, {"x": run.data.x_train[rows], "y": run.data.y_train[rows]}, weights, ["cost"])
    assert run.step().loss == pytest.approx(float(ev["cost"]), rel=1e-6)


# ---- checkpoints


def test_a_run_resumed_from_a_checkpoint_continues_the_same_trajectory(xor, tmp_path):
    want = Run(xor, steps=STEPS)
    want_losses = losses(want)
    first = Run(xor, steps=STEPS)
    for _ in range(23):
        first.step()
    first.save_checkpoint(tmp_path / "ckpt.npz")
    resumed = Run(xor, steps=STEPS)
    resumed.load_checkpoint(tmp_path / "ckpt.npz")
    assert resumed.step_count == 23 and resumed.epoch == 3
    assert losses(resumed) == want_losses[23:]
    for key, value in want.weights().items():
        np.testing.assert_array_equal(resumed.weights()[key], value)


def test_saved_weights_load_back_into_the_graph(xor, tmp_path):
    from core.graph import load_weights

    run = Run(xor, steps=3)
    list(run.start())
    run.save_weights(tmp_path / "w.npz")
    loaded = load_weights(tmp_path / "w.npz", xor)
    assert set(loaded) == set(run.weights())
    started = Run(xor, steps=1, weights=loaded)
    np.testing.assert_array_equal(started.weights()["hidden_W"], run.weights()["hidden_W"])


def test_a_checkpoint_of_another_optimizer_is_refused(xor, tmp_path):
    Run(xor, steps=2).save_checkpoint(tmp_path / "adam.npz")
    sgd = Run(xor, {**xor.training, "optimizer": {"name": "sgd", "lr": 0.1}}, steps=2)
    with pytest.raises(DatasetError, match="does not match"):
        sgd.load_checkpoint(tmp_path / "adam.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="junk.npz"):
        sgd.load_checkpoint(tmp_path / "junk.npz")


# ---- NaN and Inf


def test_log_of_a_value_reaching_zero_names_the_log_node():
    graph = load_graph(EXAMPLES / "nan_demo.json")[0]
    run = Run(graph)
    with pytest.raises(NonFiniteError) as info:
        list(run.start())
    e = info.value
    assert e.node == "log_h" and e.value == -np.inf and run.state == "failed" and run.error is e
    assert "from 'h' = 0" in e.inputs["x"] and "Log produced -inf" in e.message
    assert run.step() is None and all(np.isfinite(w).all() for w in run.weights().values())


def regression_graph(tmp_path) -> Graph:
    """Linear regression y = x w on an .npz file, with a learning rate large enough to overflow."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    np.savez(tmp_path / "lin.npz", x=x, y=x @ np.arange(1.0, 5.0))
    g = Graph()
    g.add_node("Input", {"shape": ["N", 4]}, node_id="x")
    g.add_node("Input", {"shape": ["N", 1]}, node_id="t")
    g.add_node("Dense", {"units": 1, "activation": "none"}, node_id="pred")
    g.add_node("MSE", node_id="cost")
    g.connect("x", "y", "pred", "x")
    g.connect("pred", "y", "cost", "pred")
    g.connect("t", "y", "cost", "target")
    g.set_training({"dataset": {"name": "npz", "path": "lin.npz", "task": "regression"}, "features": "x",
                    "labels": "t", "loss": "cost", "optimizer": {"name": "sgd", "lr": 1e12}, "batch_size": 16,
                    "epochs": 5})
    return g


def test_a_huge_learning_rate_stops_where_the_loss_overflows(tmp_path):
    run = Run(regression_graph(tmp_path), base_dir=tmp_path)
    with pytest.raises(NonFiniteError) as info:
        list(run.start())
    e = info.value
    # the weights grow by ~1e12 per step until the squared error no longer fits a float32
    assert e.node == "cost" and e.value == np.inf and e.step == run.step_count + 1
    assert "non-finite" not in e.inputs["pred"] and "from 'pred_add'" in e.inputs["pred"]
    pred_max = float(e.inputs["pred"].split("max ")[1].split(")")[0])
    assert pred_max ** 2 > float(np.finfo(np.float32).max) > pred_max


def test_an_update_that_overflows_is_named_when_the_loss_goes_non_finite_a_step_later(tmp_path):
    graph = regression_graph(tmp_path)
    graph.training["optimizer"] = {"name": "sgd", "lr": 1e38}
    run = Run(graph, base_dir=tmp_path)
    with pytest.raises(NonFiniteError) as info:
        list(run.start())
    e = info.value
    # lr * grad overflows inside the first update; the loss only sees it at step 2
    assert run.step_count == 1 and e.step == 1
    assert run.train_graph.role(e.node) == "update" and run.train_graph.op_name(e.node) == "Mul", e
    assert "in the update part of the graph" in e.message


def test_regression_on_a_file_learns_the_linear_map(tmp_path):
    graph = regression_graph(tmp_path)
    graph.training["optimizer"] = {"name": "sgd", "lr": 0.1}
    graph.training["epochs"] = 60
    run = Run(graph, base_dir=tmp_path)
    last = list(run.start())[-1]
    assert last.val_loss < 1e-4
    np.testing.assert_allclose(run.weights()["pred_W"][:, 0], [1, 2, 3, 4], atol=1e-2)


# ---- data that does not fit


def with_training(graph: Graph, **changes) -> dict:
    return {**graph.training, **changes}


def test_features_of_the_wrong_shape_are_refused_before_training(xor):
    with pytest.raises(DatasetError) as info:
        Run(xor, with_training(xor, dataset={"name": "digits"}))
    assert "gives features of shape (64,) but Input 'x' expects (2,)" in info.value.message
    assert info.value.node == "x"


def test_more_classes_than_scores_are_refused(xor):
    with pytest.raises(DatasetError) as info:
        Run(xor, with_training(xor, dataset={"name": "blobs", "classes": 3}))
    assert "3 classes but 'cost' scores only 2" in info.value.message and info.value.node == "cost"


def test_float_targets_for_class_labels_are_refused(xor):
    with pytest.raises(DatasetError, match="gives float targets but the graph expects class labels"):
        Run(xor, with_training(xor, dataset={"name": "xor", "target": "features"}))


def test_labels_of_the_wrong_shape_are_refused(tmp_path):
    graph = regression_graph(tmp_path)
    x = np.zeros((10, 4), dtype=np.float32)
    np.savez(tmp_path / "two.npz", x=x, y=np.zeros((10, 2)))
    graph.training["dataset"] = {"name": "npz", "path": "two.npz", "task": "regression"}
    with pytest.raises(DatasetError) as info:
        Run(graph, base_dir=tmp_path)
    assert "labels of shape (2,) per sample but Input 't' expects (1,)" in info.value.message
    assert info.value.node == "t"


def test_an_invalid_graph_is_refused_with_its_first_error():
    graph = load_graph(EXAMPLES / "autoencoder.json")[0]
    graph.set_attr("target", "shape", ["N", 32])
    with pytest.raises(GraphError) as info:
        Run(graph)
    assert info.value.node == "cost" and "fix the graph before training" in info.value.message


def test_a_loss_needing_an_unfed_input_is_refused(xor):
    with pytest.raises(ConfigError) as info:
        Run(xor, with_training(xor, labels=None))
    assert "training.labels" in info.value.message and info.value.node == "y"


@pytest.mark.parametrize("cell, problem", [("abc", "'abc' is not a number"), ("nan", "NaN"), ("", "empty cell")])
def test_bad_csv_cells_stop_the_run_before_it_starts(xor, tmp_path, cell, problem):
    rows = [f"{i / 10},{-i / 10},{i % 2}" for i in range(20)]
    rows[7] = f"0.7,{cell},1"
    (tmp_path / "pts.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    config = with_training(xor, dataset={"name": "csv", "path": "pts.csv", "label": "label"})
    with pytest.raises(DatasetError) as info:
        Run(xor, config, base_dir=tmp_path)
    assert "pts.csv, row 9, column 'b'" in info.value.message and problem in info.value.message


def test_a_missing_data_file_is_named(xor, tmp_path):
    config = with_training(xor, dataset={"name": "csv", "path": "gone.csv", "label": "label"})
    with pytest.raises(DatasetError, match="gone.csv: file not found"):
        Run(xor, config, base_dir=tmp_path)


def test_a_preloaded_dataset_is_used_as_given(xor):
    data = load_dataset({"name": "xor", "samples": 100})
    run = Run(xor, dataset=data, steps=1)
    assert run.steps_per_epoch == 3 and run.data is data


def test_stop_releases_a_worker_waiting_while_paused(xor):
    run = Run(xor, steps=STEPS)
    paused = threading.Event()
    seen = []

    def worker():
        for m in run.start():
            seen.append(m.step)
            if m.step == 3:
                run.pause()
                paused.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert paused.wait(60)
    run.stop()
    thread.join(60)
    assert not thread.is_alive() and seen == [1, 2, 3] and run.state == "stopped"
    run.resume()
    assert run.state == "stopped" and run.step() is None
