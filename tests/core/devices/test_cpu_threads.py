"""CPU control: the small-product guard drives NumPy's own BLAS (also when SciPy loaded another
first), and the fused kernels' thread count follows the affinity mask, LOOM_NUM_THREADS or
compile(threads=)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.devices import numpy_device as nd

ROOT = Path(__file__).resolve().parents[3]

PROBE = r"""
import json, sys
import scipy.linalg  # loads SciPy's own OpenBLAS before NumPy's is looked for
import numpy as np
from threadpoolctl import threadpool_info
from core.devices.numpy_device import NumpyDevice, _belongs_to_numpy

def counts():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

guard = NumpyDevice().blas_guard(64 * 64 * 64)
before = counts()
guard[0]()
inside = counts()
guard[1]()
after = counts()
print(json.dumps({"numpy": [p for p in before if _belongs_to_numpy(p)], "before": before,
                  "inside": inside, "after": after}))
"""


def test_the_blas_guard_drives_numpys_blas_when_scipy_came_first():
    pytest.importorskip("scipy")
    pytest.importorskip("threadpoolctl")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "PYTHONPATH": str(ROOT)}
    env.pop("OMP_NUM_THREADS", None)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    if len(seen["before"]) < 2:
        pytest.skip("NumPy and SciPy share one BLAS library here")
    (mine,) = seen["numpy"]
    others = [p for p in seen["before"] if p != mine]
    assert seen["before"][mine] == 2 and seen["inside"][mine] == 1 and seen["after"][mine] == 2
    assert all(seen["inside"][p] == seen["before"][p] for p in others), "SciPy's BLAS is left alone"


def test_threads_follow_the_affinity_mask(monkeypatch):
    monkeypatch.delenv("LOOM_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert nd.cpu_threads() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(32)), raising=False)
    assert nd.cpu_threads() == 8


def test_one_setting_chooses_the_threads(monkeypatch):
    monkeypatch.setenv("LOOM_NUM_THREADS", "3")
    assert nd.cpu_threads() == 3 and nd.NumpyDevice().threads == 3
    assert nd.cpu_threads(2) == 2, "compile(threads=) wins over the environment"
    monkeypatch.setenv("LOOM_NUM_THREADS", "many")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    with pytest.warns(RuntimeWarning, match="LOOM_NUM_THREADS='many'"):
        assert nd.cpu_threads() == 2, "a bad setting falls back to the affinity mask"
    with pytest.raises(ValueError, match="at least 1"):
        nd.cpu_threads(0)


@pytest.mark.parametrize("threads", [1, 3])
def test_compile_threads_reach_the_chunked_kernels(threads, monkeypatch):
    from core.compiler import compile
    from core.graph import Graph
    from core.graph.builder import Builder, apply

    monkeypatch.setattr(nd, "PARALLEL_MIN", 1 << 12)
    monkeypatch.setattr(nd, "CHUNKED_MIN", 1 << 12)
    graph = Graph()
    graph.add_node("Input", {"shape": ["N"], "dtype": "float32"}, node_id="x")
    x = Builder(graph).var("x")
    apply("Tanh", x * 0.7 + 0.3, name="y")
    step = compile(graph, ["x"], ["y"], threads=threads)
    assert step.device.threads == threads
    data = np.linspace(-3, 3, 1 << 16, dtype=np.float32)
    np.testing.assert_allclose(step(data)[0], np.tanh(data * np.float32(0.7) + np.float32(0.3)), rtol=1e-6)
    runs = [item for buffers, _ in step._bindings.values() for item in buffers if isinstance(item, nd.ChunkedRun)]
    assert runs and all(r.workers == threads for r in runs)


def test_large_products_run_on_the_thread_count_their_calls_measure_faster(monkeypatch):
    """A fake clock and BLAS: a step takes 10 s on two threads and 3 s on one (a crowded
    machine), later 2 s on two (the machine emptied); the guard follows, probing every period."""
    clock = [0.0]
    monkeypatch.setattr(nd.time, "perf_counter", lambda: clock[0])
    threads = [2]
    chooser = nd.MeasuredThreads(lambda: threads.__setitem__(0, 1), lambda: threads.__setitem__(0, 2),
                                 period_s=100.0, probes=3)
    cost = {1: 3.0, 2: 10.0}

    def step():
        chooser.enter()
        used = threads[0]
        clock[0] += cost[used]
        chooser.leave()
        assert threads[0] == 2, "the default is back after every step"
        return used

    probing = [step() for _ in range(6)]
    assert sorted(probing) == [1, 1, 1, 2, 2, 2]
    assert [step() for _ in range(5)] == [1] * 5
    cost[2] = 2.0
    clock[0] += 100.0
    [step() for _ in range(6)]
    assert [step() for _ in range(5)] == [2] * 5
