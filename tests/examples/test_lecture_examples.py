"""The lecture's exercises, rewritten with loom, each reaching its stated result; the MLP notebook
runs headless."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import loom

ROOT = Path(__file__).resolve().parents[2]
LECTURE = ROOT / "examples" / "lecture"
sys.path.insert(0, str(LECTURE))

import accumulator  # noqa: E402
import f_of_xy  # noqa: E402
import mlp  # noqa: E402
import tanh_layer  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_graph():
    loom.reset()


def test_f_of_x_and_y():
    f = f_of_xy.build()
    assert f(1, 1) == 7 and f(10, -3) == -9


def test_tanh_layer_matches_numpy():
    got = tanh_layer.build()(tanh_layer.X, tanh_layer.W, tanh_layer.B)
    np.testing.assert_allclose(got, np.tanh(tanh_layer.X @ tanh_layer.W + tanh_layer.B), rtol=1e-14)
    np.testing.assert_allclose(got[2], np.tanh([1.5, 1.5, -1.0]), rtol=1e-14)


def test_accumulator_with_shared_updates_and_givens():
    assert accumulator.pairs() == [(1, 2), (2, 4), (3, 6)]
    state, acc, _, skip_shared = accumulator.build()
    acc(300)
    assert skip_shared(1, 3) == 7 and state.get_value() == 300


def test_the_scripts_run_as_scripts():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(LECTURE / "f_of_xy.py")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "f(1, 1) = 7.0" in done.stdout and "f(10, -3) = -9.0" in done.stdout and "Fused" in done.stdout


def test_the_mlp_learns_the_digits():
    assert mlp.run() > 0.88                       # 0.916 measured: 64-50-10, tanh, lr 0.01, batch 20, 30 epochs


@pytest.mark.parametrize("variation,at_least", [
    (dict(hidden=(100,)), 0.87),                  # more hidden units: 0.905 measured
    (dict(lr=0.1), 0.93),                         # a larger learning rate learns faster here: 0.964
    (dict(batch=50), 0.82),                       # larger batches, fewer steps: 0.864
    (dict(activation="sigmoid"), 0.85),           # sigmoid with 4x wider Glorot weights: 0.886
    (dict(lr=0.05, decay=0.1), 0.90),             # lr / (1 + 0.1 epoch), fed as a symbolic input: 0.942
    (dict(hidden=(50, 50)), 0.88),                # a second hidden layer: 0.916
])
def test_the_homework_variations_learn(variation, at_least):
    assert mlp.run(**variation) > at_least


def test_a_too_small_learning_rate_learns_more_slowly():
    assert mlp.run(lr=0.001, epochs=10) < mlp.run(lr=0.01, epochs=10)


def test_the_mnist_sized_layout_builds_and_steps():
    train, errors = mlp.build(n_in=784, l2=0.0)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (20, 784)), rng.integers(0, 10, 20)
    first = float(train(x, y))
    assert np.isclose(first, np.log(10), rtol=1e-3)          # zero softmax weights: uniform predictions
    for _ in range(20):
        last = float(train(x, y))
    assert last < first and 0 <= float(errors(x, y)) <= 1


def test_the_notebook_runs_headless(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    notebook = nbformat.read(LECTURE / "mlp.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    accuracy = float(text.split("validation accuracy ")[1].split()[0])
    assert accuracy > 0.88
    assert any("image/png" in o.get("data", {}) for o in outputs)     # the graph drawn in the notebook
    assert "SoftmaxCrossEntropy" in text
