"""The front-end's benchmark workloads: W1 and W2 written with `import loom.tensor as T` (the same
step as the editor-built graph of bench_compiler_workloads), and the time to build and compile the
lecture's MLP with its gradient from Python.

    python bench/bench_frontend.py          # the build-and-compile time of the lecture's MLP
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import loom  # noqa: E402
import loom.tensor as T  # noqa: E402
from bench.bench_compiler_workloads import LR  # noqa: E402
from core.compiler.function import clear_cache  # noqa: E402


def frontend_mlp_step(sizes: list[int], activation: str, weights: dict, device: str = "cpu",
                      host_outputs: bool = True) -> Any:
    """The editor's MLP step (MatMul, Add, activation; SoftmaxCrossEntropy; SGD) from the front-end,
    starting from `weights` (keys W1, b1, ...); returns the compiled loom function."""
    loom.reset()
    x = T.matrix("x", shape=(None, sizes[0]))
    y = T.lvector("y")
    h, params = x, []
    act = {"Tanh": T.tanh, "ReLU": T.relu}[activation]
    for i in range(1, len(sizes)):
        W = loom.shared(weights[f"W{i}"], name=f"W{i}")
        b = loom.shared(weights[f"b{i}"], name=f"b{i}")
        params += [W, b]
        z = T.dot(h, W) + b
        h = act(z) if i < len(sizes) - 1 else z
    cost = T.softmax_cross_entropy(h, y)
    grads = loom.grad(cost, params)
    return loom.function([x, y], [cost], updates=[(p, p - LR * g) for p, g in zip(params, grads)],
                         device=device, host_outputs=host_outputs)


def lecture_build_seconds(repeats: int = 5) -> float:
    """Median seconds to build the lecture's MLP (64-50-10) with its gradient and SGD updates from
    Python and compile its train and test functions, from a cold compile cache."""
    sys.path.insert(0, str(ROOT / "examples" / "lecture"))
    import mlp

    times = []
    for _ in range(repeats):
        clear_cache()
        loom.reset()
        start = time.perf_counter()
        mlp.build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    seconds = lecture_build_seconds()
    print(f"build and compile the lecture's MLP with its gradient from Python: {seconds:.3f} s (target < 0.5 s)")
    rng = np.random.default_rng(0)
    sizes = [64, 100, 100, 10]
    weights = {f"W{i}": rng.normal(0, 0.1, (a, b)).astype(np.float32) for i, (a, b) in enumerate(zip(sizes, sizes[1:]), 1)}
    weights |= {f"b{i}": np.zeros(b, np.float32) for i, b in enumerate(sizes[1:], 1)}
    step = frontend_mlp_step(sizes, "Tanh", weights)
    print("W1 from the front-end, first costs:", [float(step(rng.normal(size=(64, 64)).astype(np.float32),
                                                              rng.integers(0, 10, 64))[0]) for _ in range(3)])
