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


class _FakeBlas:
    def __init__(self):
        self.calls = []

    def set_num_threads(self, n):
        self.calls.append(n)


def test_large_products_go_to_one_blas_thread_only_while_the_machine_is_crowded(monkeypatch):
    blas = nd.BlasThreads.__new__(nd.BlasThreads)
    fake = _FakeBlas()
    blas.libs, blas.default = [fake], 2
    monkeypatch.setattr(nd, "usable_cpus", lambda: 2)
    load = [1.5]
    monkeypatch.setattr(nd.os, "getloadavg", lambda: (load[0], 1.0, 1.0))
    enter, leave = blas.crowded_guard(every_s=0.0)
    enter(), leave()
    assert fake.calls == [], "a quiet machine keeps its BLAS threads"
    load[0] = 9.0
    enter(), leave()
    assert fake.calls == [1, 2]
    load[0] = 3.9
    enter(), leave()
    assert fake.calls == [1, 2]
