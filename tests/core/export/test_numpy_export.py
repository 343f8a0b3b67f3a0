"""NumPy export: the script runs with only NumPy, reproduces Loom's loss trajectory and its outputs."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from core.export.common import ExportError, default_outputs
from core.export.numpy_export import export_numpy
from core.graph import evaluate, expand_layers
from core.training import NonFiniteError, Run
from export_cases import EXAMPLES, random_feeds

STEPS = 12
DRIVER = """
import json, runpy, sys
import numpy as np
script, inputs, out = sys.argv[1:4]
ns = runpy.run_path(script, run_name="exported")
with np.load(script[:-3] + ".npz") as archive:
    state = {k: np.array(archive[k]) for k in archive.files}
with np.load(inputs) as archive:
    feeds = {k: archive[k] for k in archive.files}
np.savez(out, **ns["forward"](state, **feeds))
loaded = sorted(m.split(".")[0] for m in sys.modules)
print(json.dumps([m for m in ("core", "torch", "onnx", "scipy", "sklearn", "networkx") if m in loaded]))
"""


def run_isolated(args, cwd):
    """Python in isolated mode from an empty folder: Loom is not importable, only installed NumPy."""
    return subprocess.run([sys.executable, "-I", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def loom_losses(graph, steps):
    """Loom's own loss per step for the first `steps` batches (fewer if it stops on a NaN)."""
    run = Run(graph, base_dir=EXAMPLES[0].parent, steps=steps)
    losses = []
    try:
        for metrics in run.start():
            losses.append(metrics.loss)
    except NonFiniteError:
        pass
    return losses


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def exported(request, tmp_path):
    from core.graph import load_graph

    graph, weights = load_graph(request.param)
    path = tmp_path / "script" / f"{request.param.stem}.py"
    path.parent.mkdir()
    try:
        export_numpy(graph, weights, path, base_dir=request.param.parent)
    except ExportError as e:  # an op a script cannot carry: the error names it, and nothing is written
        assert "no NumPy form" in e.message and e.node in graph.nodes + expand_layers(graph).nodes
        assert not path.exists()
        return None
    return request.param.stem, graph, weights, path


def test_script_reproduces_the_loss_trajectory(exported, tmp_path):
    if exported is None:
        return
    name, graph, weights, path = exported
    if not graph.training.get("loss"):
        done = run_isolated([str(path)], tmp_path)
        assert done.returncode == 0 and "no training configuration" in done.stdout
        return
    want = loom_losses(graph, STEPS)
    done = run_isolated([str(path), "--steps", str(STEPS), "--every-step"], tmp_path)
    assert done.returncode == 0, done.stderr
    got = [float(line.split("loss ")[1].split(",")[0]) for line in done.stdout.splitlines()
           if line.startswith("step") and "became" not in line]
    assert len(want) >= 1 and got[:len(want)] == pytest.approx(want, rel=1e-6)
    if len(want) < STEPS:  # Loom stopped on a non-finite loss: so does the script
        assert "became" in done.stdout


def test_script_forward_matches_loom_outputs(exported, tmp_path):
    if exported is None:
        return
    name, graph, weights, path = exported
    feeds = random_feeds(graph, 9, seed=6, positive=name == "nan_demo")
    outputs = default_outputs(graph)
    needed = graph.required(outputs)
    np.savez(tmp_path / "inputs.npz", **{k: v for k, v in feeds.items() if k in needed})
    (tmp_path / "driver.py").write_text(DRIVER)
    done = run_isolated([str(tmp_path / "driver.py"), str(path), str(tmp_path / "inputs.npz"),
                         str(tmp_path / "out.npz")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []  # nothing but NumPy (and the stdlib) was imported
    from core.graph import init_params

    want = evaluate(graph, feeds, init_params(graph, graph.training.get("seed", 0), weights), outputs)
    with np.load(tmp_path / "out.npz") as got:
        assert sorted(got.files) == sorted(outputs)
        for node in outputs:
            np.testing.assert_allclose(got[node], want[node], rtol=1e-5, atol=1e-6, err_msg=node)


def test_script_trains_to_the_end_and_saves(tmp_path):
    from core.graph import load_graph

    source = next(p for p in EXAMPLES if p.stem == "xor")
    graph, weights = load_graph(source)
    path = export_numpy(graph, weights, tmp_path / "xor.py", base_dir=source.parent)
    done = run_isolated([str(path), "--save", str(tmp_path / "trained.npz")], tmp_path)
    assert done.returncode == 0, done.stderr
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    assert len(epochs) == graph.training["epochs"]
    with np.load(tmp_path / "trained.npz") as trained, np.load(tmp_path / "xor.npz") as start:
        assert sorted(trained.files) == sorted(start.files)
        assert any(not np.array_equal(trained[k], start[k]) for k in start.files)


def test_dropout_rmsprop_and_schedule_reproduce(tmp_path):
    """Randomness (Dropout's masks), an optimizer with state and a schedule come out step for step."""
    from export_cases import make_graph

    graph = make_graph([("x", "Input", {"shape": ["N", 2]}), ("y", "Input", {"shape": ["N"], "dtype": "int64"}),
                        ("hidden", "Dense", {"units": 16, "activation": "relu"}), ("drop", "Dropout", {"rate": 0.3}),
                        ("logits", "Dense", {"units": 2, "activation": "none"}), ("cost", "SoftmaxCrossEntropy", {})],
                       [("x", "hidden", "x"), ("hidden", "drop", "x"), ("drop", "logits", "x"),
                        ("logits", "cost", "logits"), ("y", "cost", "labels")])
    graph.set_training({"dataset": {"name": "xor", "seed": 1}, "features": "x", "labels": "y", "loss": "cost",
                        "metrics": [], "optimizer": {"name": "rmsprop", "lr": 0.01},
                        "schedule": {"name": "step", "every": 1, "gamma": 0.5}, "batch_size": 50, "epochs": 2,
                        "seed": 3})
    path = export_numpy(graph, {}, tmp_path / "drop.py")
    run = Run(graph, steps=STEPS)
    want = [m.loss for m in run.start()]
    done = run_isolated([str(path), "--steps", str(STEPS), "--every-step"], tmp_path)
    assert done.returncode == 0, done.stderr
    got = [float(line.split("loss ")[1]) for line in done.stdout.splitlines() if line.startswith("step")]
    assert got == pytest.approx(want, rel=1e-6)
    text = path.read_text()
    assert "def drop_dropoutmask_reference(ctx, *arrays)" in text and "_dropout_mask" in text
