"""The benchmark's contestants compute the same step: the hand-written NumPy step and PyTorch
eager follow Loom's costs step after step (so their weights agree too), and the ratios compare
like with like."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.bench_compiler_workloads import hand_mlp_step, loom_mlp, mlp_graph, torch_mlp_step

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("contestant", ["numpy", "torch"])
@pytest.mark.parametrize("sizes,activation", [([64, 100, 100, 10], "Tanh"), ([20, 16, 16, 10], "ReLU")])
def test_the_contestants_steps_follow_loom(sizes, activation, contestant):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], 32)
    loom = loom_mlp(mlp_graph(sizes, activation))
    weights = loom.get_weights()
    if contestant == "numpy":
        other = hand_mlp_step(weights, sizes, activation, x, y)
    else:
        other = torch_mlp_step(pytest.importorskip("torch"), weights, sizes, activation, x, y)
    for _ in range(5):
        (want,) = loom(x, y)
        np.testing.assert_allclose(float(other()), want, rtol=1e-5)


def test_the_benchmark_prints_one_json_object_with_the_medians():
    done = subprocess.run([sys.executable, "bench/run.py", "--json", "--repeats", "1", "--only", "W1", "--no-compiled"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"loom_ms", "numpy_ms", "device"} <= set(result["W1"]) and result["W1"]["device"] == "cpu"
    assert all(result["W1"][k] > 0 for k in ("loom_ms", "numpy_ms"))


def test_the_gpu_benchmark_path_runs_every_contestant_on_the_device(monkeypatch):
    """--device cuda on a CuPy made of NumPy: Loom with device arrays in and out, the hand-written
    step on the device's array module, each timed call synchronized; PyTorch without CUDA is left out."""
    import bench.run as run
    import core.compiler.function as function
    from cupy_standin import CupyOnNumpy, NumpyAsCupy

    synced = []
    monkeypatch.setattr(function, "get_device", lambda name="auto": CupyOnNumpy())
    monkeypatch.setattr(run, "array_module", lambda device: (NumpyAsCupy(), lambda: synced.append(device)))
    rng = np.random.default_rng(0)
    data = rng.normal(size=(16, 20)).astype(np.float32), rng.integers(0, 10, 16)
    result = run.bench_mlp("W", [20, 16, 10], "Tanh", 16, data, 1, "cuda")
    assert result["device"] == "cuda" and result["loom_ms"] > 0 and result["numpy_ms"] > 0
    try:
        import torch
        torch_on_gpu = torch.cuda.is_available()
    except ImportError:
        torch_on_gpu = False
    assert ("torch_ms" in result) == torch_on_gpu
    assert synced and set(synced) == {"cuda"}
    chain = run.bench_chain(1, "cuda", size=1000)
    assert chain["device"] == "cuda" and {"loom_ms", "numpy_ms", "copy_floor_ms"} <= set(chain)


@pytest.mark.parametrize("sizes,activation", [([64, 100, 100, 10], "Tanh"), ([20, 16, 16, 10], "ReLU")])
def test_jax_jit_step_follows_loom(sizes, activation):
    """The JAX contestant (torch.compile's step is the eager one's code under torch.compile; its
    Inductor build takes too long for CI)."""
    pytest.importorskip("jax", reason="JAX is not installed (the benchmark skips it too)")
    from bench.compiled_contestants import jax_mlp_step

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], 32)
    loom = loom_mlp(mlp_graph(sizes, activation))
    other = jax_mlp_step(loom.get_weights(), sizes, activation, x, y)
    for _ in range(5):
        (want,) = loom(x, y)
        np.testing.assert_allclose(float(other()), want, rtol=1e-5)
