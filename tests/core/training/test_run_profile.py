"""Per-node times of the compiled training step: every node is timed, and profiling changes nothing."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.compiler.profile import timed_source
from core.graph import load_graph
from core.training import Run

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def test_timed_source_laps_before_each_block_and_before_returning():
    source = ("def step(I, S, B):\n    i0, = I\n    # h: MatMul\n    matmul(i0, i0, out=b0)\n"
              "    # h_fused: Fused\n    f0(b0, b0)\n    #\n    v0 = ref0(ctx, b0)\n    return (b0,)\n")
    timed, names = timed_source(source)
    assert names == ["h", "h_fused"]
    assert timed.splitlines() == [
        "def step(I, S, B):", "    i0, = I", "    _lap(0)", "    # h: MatMul", "    matmul(i0, i0, out=b0)",
        "    _lap(1)", "    # h_fused: Fused", "    f0(b0, b0)", "    #", "    v0 = ref0(ctx, b0)",
        "    _lap(None)", "    return (b0,)"]


def test_profiling_a_run_times_every_node_and_leaves_the_run_unchanged():
    graph = load_graph(EXAMPLES / "autoencoder.json")[0]
    hidden = graph.add_node("Dropout", {"rate": 0.3}, node_id="drop")   # the random generator matters too
    edge = next(e for e in graph.out_edges("code") if e.dst == "decode")
    graph.disconnect(edge)
    graph.connect("code", "y", hidden, "x")
    graph.connect(hidden, "y", "decode", edge.dst_port)
    profiled, plain = Run(graph, steps=6), Run(graph, steps=6)
    for run in (profiled, plain):
        run.step()
    times = profiled.profile(repeats=5)
    step = profiled.train_function
    blocks = {line.strip()[2:].split(":")[0] for line in step.source.splitlines()
              if line.startswith("    # ") and ":" in line}
    assert blocks and blocks <= set(times) and all(t >= 0 for t in times.values())
    assert set(step.kernel_nodes.values()) <= set(times)
    assert sum(times.values()) > 0
    for a, b in zip([profiled.step() for _ in range(4)], [plain.step() for _ in range(4)]):
        assert a.loss == b.loss
    for key, value in plain.weights().items():
        np.testing.assert_array_equal(profiled.weights()[key], value)
