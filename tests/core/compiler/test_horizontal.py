"""Horizontal fusion of optimizer updates: one kernel over all parameters, and the same numbers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import core.compiler.codegen as codegen
from bench.bench_compiler_workloads import mlp_graph, sgd_updates
from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.compiler.function import clear_cache
from core.graph import evaluate, load_graph
from core.training import Run

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def without_horizontal(monkeypatch, build):
    """`build()` compiled with horizontal fusion switched off (a fresh compile, not the cache's)."""
    clear_cache()
    with monkeypatch.context() as patch:
        patch.setattr(codegen, "horizontal_groups", lambda *args: [])
        made = build()
    clear_cache()
    return made


def test_sgd_updates_of_every_parameter_run_as_one_kernel_and_follow_the_reference():
    graph, grads = differentiate(mlp_graph([5, 7, 3], "Tanh"), "cost")
    updates = sgd_updates(graph, grads)
    step = compile(graph, ["x", "y"], ["cost"], updates)
    merged = [line for line in step.source.splitlines() if "over 4 tensors" in line]
    assert len(merged) == 1 and len(step.program.state_arenas) == 1
    arena_keys = step.program.state_arenas[0]
    assert sorted(arena_keys) == ["W1", "W2", "b1", "b2"]
    arena = step.state_args()[-1]                                    # S ends with the flat arenas
    assert arena.size == sum(step.state[k].size for k in arena_keys)
    assert all(step.device.xp.shares_memory(step.state[k], arena) for k in arena_keys)
    weights = step.get_weights()
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.normal(size=(6, 5)).astype(np.float32), rng.integers(0, 3, 6)
        ref = evaluate(graph, {"x": x, "y": y}, weights, ["cost"] + list(updates.values()))
        (cost,) = step(x, y)
        np.testing.assert_allclose(cost, ref["cost"], rtol=2e-5)
        weights = {**weights, **{k: ref[v] for k, v in updates.items()}}
    for key, value in step.get_weights().items():
        np.testing.assert_allclose(value, weights[key], rtol=1e-4, atol=1e-6)


def test_set_weights_writes_into_the_arena_the_step_reads():
    graph, grads = differentiate(mlp_graph([5, 7, 3], "Tanh"), "cost")
    step = compile(graph, ["x", "y"], ["cost"], sgd_updates(graph, grads))
    x, y = np.ones((2, 5), np.float32), np.array([0, 1])
    zeros = {k: np.zeros_like(v) for k, v in step.get_weights().items()}
    step.set_weights(zeros)
    (cost,) = step(x, y)
    np.testing.assert_allclose(cost, np.log(3), rtol=1e-6)          # all logits 0: uniform over 3 classes
    assert all(np.array_equal(v, np.zeros_like(v)) for k, v in step.get_weights().items() if k.startswith("W"))


def test_adam_runs_three_kernels_and_two_copies_with_the_same_trajectory(monkeypatch):
    graph = load_graph(EXAMPLES / "spirals.json")[0]
    fused, plain = Run(graph, steps=30), without_horizontal(monkeypatch, lambda: Run(graph, steps=30))
    source = fused.train_function.source
    assert source.count("over 8 tensors") == 3 and "over" not in plain.train_function.source
    assert source.split("# updates")[1].count("np.copyto") == 2
    for a, b in zip([fused.step() for _ in range(30)], [plain.step() for _ in range(30)]):
        assert a.loss == b.loss
    for key, value in plain.weights().items():
        np.testing.assert_array_equal(fused.weights()[key], value)
