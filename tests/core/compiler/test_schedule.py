"""The buffer plan: shared by liveness by default; share_buffers=False gives each value its own slot."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from bench.bench_compiler_workloads import sgd_updates
from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.compiler.emit import kind_of
from core.compiler.schedule import plan
from core.graph import load_graph

SEED_MLP = Path(__file__).resolve().parents[3] / "resources" / "examples" / "seed_mlp.json"


def _training_graph():
    graph, _ = load_graph(SEED_MLP)
    graph, grads = differentiate(graph, "cost")
    return graph, sgd_updates(graph, grads)


def _feeds(batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, 64)).astype(np.float32), rng.integers(0, 10, batch)


def test_unshared_plan_gives_every_buffer_value_its_own_slot():
    graph, updates = _training_graph()
    optimized = compile(graph, ["x", "y"], ["cost"], updates).optimized
    wanted = [(n, "y") for n in optimized.nodes if n.startswith("d_")]  # the gradient values
    plans = {share: plan(optimized, wanted, {}, kind_of, optimized.types(), share=share) for share in (True, False)}
    assert not plans[False].reused
    assert len(set(plans[False].slot_of.values())) == len(plans[False].slot_of) == len(plans[False].slots)
    assert plans[True].slot_of.keys() == plans[False].slot_of.keys()
    assert len(plans[True].slots) < len(plans[False].slots)  # by default liveness sharing saves buffers


def test_unshared_step_names_one_value_per_buffer_and_computes_the_same():
    graph, updates = _training_graph()
    shared = compile(graph, ["x", "y"], ["cost"], updates, seed=1)
    alone = compile(graph, ["x", "y"], ["cost"], updates, seed=1, share_buffers=False)
    assert alone.program is not shared.program  # the flag is part of the cache key
    slots = Counter(name for ref, name in alone.program.names.items() if name.startswith("b"))
    assert slots and max(slots.values()) == 1
    assert max(Counter(n for n in shared.program.names.values() if n.startswith("b")).values()) > 1
    for i in range(5):
        x, y = _feeds(16, i)
        assert alone(x, y)[0] == shared(x, y)[0]  # the same arithmetic, bit for bit
    for key, value in alone.get_weights().items():
        np.testing.assert_array_equal(value, shared.get_weights()[key])
