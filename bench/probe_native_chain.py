"""What a native CPU kernel would give W3 (a measurement, not part of Loom): the chain's C
expression (Loom's own CUDA emitter, which is plain C for these functions) compiled by the
system's gcc into a shared library, loaded with ctypes and timed beside Loom's ufunc chain and
JAX's jit, interleaved, medians of many calls.

    python bench/probe_native_chain.py [--size 10000000] [--repeats 5]

Two builds: strict IEEE (scalar tanhf/expf calls) and -ffast-math -fno-finite-math-only, which
lets gcc call glibc's vectorized libmvec tanhf/expf while keeping NaN and Inf.
"""
from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import interleaved  # noqa: E402
from core.compiler import compile, expr as X  # noqa: E402
from core.graph import Graph  # noqa: E402
from core.graph.builder import Builder, apply  # noqa: E402

FLAGS = {"strict": ["-O3", "-march=native", "-fopenmp"],
         "libmvec": ["-O3", "-march=native", "-fopenmp", "-ffast-math", "-fno-finite-math-only"]}


def c_source(tree: X.Expr) -> str:
    body = X.cuda_expression(tree, "float").replace("tanh(", "tanhf(").replace("exp(", "expf(")
    return ("#include <math.h>\n"
            "void chain(const float* restrict x1, float* restrict out, long n) {\n"
            "    #pragma omp parallel for simd schedule(static)\n"
            f"    for (long i = 0; i < n; i++) {{ float x = x1[i]; out[i] = {body.replace('x1', 'x')}; }}\n"
            "}\n")


def build(source: str, flags: list[str], where: Path, name: str) -> ctypes.CDLL:
    c_file, lib = where / f"{name}.c", where / f"{name}.so"
    c_file.write_text(source)
    subprocess.run(["gcc", *flags, "-shared", "-fPIC", str(c_file), "-o", str(lib), "-lm"], check=True)
    return ctypes.CDLL(str(lib))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    graph = Graph()
    graph.add_node("Input", {"shape": ["N"], "dtype": "float32"}, node_id="x")
    x = Builder(graph).var("x")
    y = apply("Tanh", 0.7 * x + 0.3) * apply("Sigmoid", x) + 0.5 * x * x
    step = compile(graph, ["x"], [y.node])
    (fused,) = [g for g in step.optimized.nodes if step.optimized.op_name(g) == "Fused"]
    tree = X.parse(step.optimized.attrs(fused)["expr"], {"x1": X.var("x1")})
    data = np.random.default_rng(0).normal(size=args.size).astype(np.float32)
    out = np.empty_like(data)
    want = step(data)[0]
    contestants = {"loom_ufuncs_ms": lambda: step(data)}
    with tempfile.TemporaryDirectory() as tmp:
        for label, flags in FLAGS.items():
            fn = build(c_source(tree), flags, Path(tmp), label).chain
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
            call = (lambda fn=fn: fn(data.ctypes.data, out.ctypes.data, data.size))
            call()
            print(f"{label}: max relative difference from Loom {np.max(np.abs(out - want) / (np.abs(want) + 1e-6)):.1e}")
            contestants[f"gcc_{label}_ms"] = call
        try:
            import jax

            jax.config.update("jax_platforms", "cpu")
            f = jax.jit(lambda v: jax.numpy.tanh(0.7 * v + 0.3) * jax.nn.sigmoid(v) + 0.5 * v * v)
            xd = jax.numpy.asarray(data)
            contestants["jax_ms"] = lambda: f(xd).block_until_ready()
        except ImportError:
            pass
        print(interleaved(contestants, args.repeats, budget_s=0.4, block_s=0.4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
