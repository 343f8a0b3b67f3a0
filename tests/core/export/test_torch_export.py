"""PyTorch export: the generated module computes Loom's outputs, losses and gradients."""
from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.compiler.autodiff import differentiate  # noqa: E402
from core.export.common import ExportError, default_outputs  # noqa: E402
from core.export.torch_export import training_outputs, export_torch, torch_source  # noqa: E402
from export_cases import EXAMPLES  # noqa: E402

EXAMPLES_DIR = EXAMPLES[0].parent
from core.graph import evaluate, init_params  # noqa: E402
from export_cases import CASES, X4, case_feeds, make_graph, random_feeds  # noqa: E402


def load_module(path):
    spec = importlib.util.spec_from_file_location(f"exported_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_method(method, feeds):
    names = list(inspect.signature(method).parameters)
    return method(*(torch.from_numpy(feeds[n]) for n in names))


def check_forward(graph, weights, path, feeds, rtol=1e-5, atol=1e-5):
    module = load_module(path)
    model = module.Model()
    model.load_loom_weights(str(path.with_suffix(".npz")) if weights else {})
    model.eval()
    outputs = default_outputs(graph)
    with torch.no_grad():
        got = run_method(model.forward, feeds)
    got = got if isinstance(got, tuple) else (got,)
    want = evaluate(graph, feeds, weights, outputs)
    for name, value in zip(outputs, got):
        np.testing.assert_allclose(value.numpy(), want[name], rtol=rtol, atol=atol, err_msg=name)
        assert str(value.dtype).endswith(str(want[name].dtype)), name
    return module, model


def test_every_example_matches(example, tmp_path):
    name, graph, weights = example
    path = tmp_path / f"{name}.py"
    try:
        export_torch(graph, weights, path, base_dir=EXAMPLES_DIR)
    except ExportError as e:
        assert e.node in graph and "no PyTorch form" in e.message
        return
    feeds = random_feeds(graph, 7, seed=2, positive=name == "nan_demo")
    module, model = check_forward(graph, weights, path, feeds, rtol=1e-4)
    loss, metrics = training_outputs(graph)
    if loss:  # losses() agrees with Loom on the loss and the metrics
        with torch.no_grad():
            got_loss, got_metrics = run_method(model.losses, feeds)
        want = evaluate(graph, feeds, weights, [loss] + metrics)
        np.testing.assert_allclose(got_loss.item(), want[loss], rtol=1e-4)
        for m in metrics:
            np.testing.assert_allclose(got_metrics[m].item(), want[m], rtol=1e-6)
    # parameters carry the graph's names, and loom_weights() gives back Loom's arrays
    back = model.loom_weights()
    assert sorted(back) == sorted(weights)
    for key in weights:
        np.testing.assert_array_equal(back[key], weights[key])


def test_one_sgd_step_matches_loom_gradients(example, tmp_path):
    """train() for one full-batch plain SGD step moves every weight by -lr * Loom's symbolic gradient."""
    name, graph, weights = example
    loss, _ = training_outputs(graph)
    try:
        path = export_torch(graph, weights, tmp_path / f"{name}.py", base_dir=EXAMPLES_DIR)
    except ExportError as e:
        assert e.node in graph  # checked in test_every_example_matches
        return
    module = load_module(path)
    if loss is None:  # nothing to train: the script says so and the module has no losses()
        assert module.LOSS_INPUTS == () and not hasattr(module.Model, "losses")
        return
    model = module.Model()
    model.load_loom_weights(weights)
    feeds = random_feeds(graph, 8, seed=5, positive=name == "nan_demo")
    module.TRAINING["optimizer"] = {"name": "sgd", "lr": 0.5}
    module.train(model, [feeds[k] for k in module.LOSS_INPUTS], steps=1, batch_size=8, shuffle=False)
    expanded, grads = differentiate(graph, loss)
    values = evaluate(expanded, feeds, weights, list(grads.grads.values()))
    after = model.loom_weights()
    assert grads.grads
    for key, ref in grads.grads.items():
        np.testing.assert_allclose(after[key], weights[key] - 0.5 * values[ref], rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_training_script_runs(tmp_path):
    """Initial weights and the data set are written beside the script; --save takes Loom's layout back."""
    from core.graph import load_graph

    source = next(p for p in EXAMPLES if p.stem == "seed_mlp")
    graph, stored = load_graph(source)
    path = export_torch(graph, None, tmp_path / "mlp.py", base_dir=source.parent)
    weights = init_params(graph, graph.training.get("seed", 0), stored)
    with np.load(tmp_path / "mlp.npz") as written:   # Loom's draw, never zeros
        assert sorted(written.files) == sorted(weights)
        for key in weights:
            np.testing.assert_array_equal(written[key], weights[key])
    with np.load(tmp_path / "mlp_data.npz") as data:
        assert sorted(data.files) == ["x_train", "x_val", "y_train", "y_val"]
    done = subprocess.run([sys.executable, str(path), "--epochs", "3", "--save", str(tmp_path / "out.npz")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    assert len(epochs) == 3
    losses = [float(line.split("loss ")[1].split(",")[0]) for line in epochs]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    with np.load(tmp_path / "out.npz") as trained:
        assert sorted(trained.files) == sorted(weights)
        assert all(trained[k].shape == weights[k].shape for k in weights)


@pytest.mark.parametrize("name,nodes,edges,positive", CASES, ids=[c[0] for c in CASES])
def test_mapped_ops_match(name, nodes, edges, positive, tmp_path):
    graph = make_graph(nodes, edges)
    weights = init_params(graph, 2)
    path = export_torch(graph, weights, tmp_path / "op.py")
    check_forward(graph, weights, path, case_feeds(name, graph, positive))


def test_hostile_names_become_safe_identifiers(tmp_path):
    """Node ids that are keywords, builtins, module methods or generator names still export."""
    ids = ["lambda", "torch", "forward", "_apply", "self", "print"]
    graph = make_graph([("class_", "Input", {"shape": ["N", 3]}), (ids[0], "Dense", {"units": 3}),
                        (ids[1], "Tanh", {}), (ids[2], "Dense", {"units": 2}), (ids[3], "Parameter", {"shape": [2]}),
                        (ids[4], "Add", {}), (ids[5], "Sigmoid", {})],
                       [("class_", ids[0], "x"), (ids[0], ids[1], "x"), (ids[1], ids[2], "x"),
                        (ids[2], ids[4], "a"), (ids[3], ids[4], "b"), (ids[4], ids[5], "x")])
    weights = init_params(graph, 1)
    path = export_torch(graph, weights, tmp_path / "names.py")
    _, model = check_forward(graph, weights, path, random_feeds(graph, 4))
    assert {"lambda_.weight", "forward_2.weight", "v_apply"} <= {n for n, _ in model.named_parameters()}


def test_unmappable_op_is_named():
    graph = make_graph([X4, ("count", "Size", {})], [("x", "count", "x")])
    with pytest.raises(ExportError) as info:
        torch_source(graph)
    assert info.value.node == "count" and "count (Size)" in str(info.value)


@pytest.mark.parametrize("schedule", [{"name": "step", "every": 2, "gamma": 0.5},
                                      {"name": "cosine", "min_lr": 0.001}, {"name": "constant"}])
def test_learning_rate_schedule_matches_loom(schedule, tmp_path):
    from core.graph import load_graph
    from core.training.config import learning_rate, read_config

    graph, _ = load_graph(next(p for p in EXAMPLES if p.stem == "xor"))
    graph.set_training({**graph.training, "schedule": schedule})
    module = load_module(export_torch(graph, None, tmp_path / "xor.py"))
    config = read_config(graph)
    for step in (0, 9, 10, 25, 39):
        assert module.learning_rate(config.optimizer["lr"], step, 10, 40) == \
            pytest.approx(learning_rate(config, step, 10, 40), rel=1e-12)
