"""The benchmark's front-end variant of W1 and W2 is the editor-built step: the same generated
program, the same costs step after step."""
from __future__ import annotations

import re

import numpy as np
import pytest

from bench.bench_compiler_workloads import loom_mlp, mlp_graph
from bench.bench_frontend import frontend_mlp_step


@pytest.mark.parametrize("sizes,activation", [([64, 100, 100, 10], "Tanh"), ([30, 16, 16, 10], "ReLU")])
def test_the_front_end_compiles_the_editor_graphs_step(sizes, activation):
    editor = loom_mlp(mlp_graph(sizes, activation))
    front = frontend_mlp_step(sizes, activation, editor.get_weights())
    without_comments = lambda source: re.sub(r"#.*", "", source)
    assert without_comments(front.compiled.source) == without_comments(editor.source)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, sizes[0])).astype(np.float32), rng.integers(0, sizes[-1], 16)
    for _ in range(4):
        np.testing.assert_array_equal(front(x, y)[0], editor(x, y)[0])
