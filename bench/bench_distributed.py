"""Steps per second of the W2-sized MLP (784-512-512-10, ReLU, batch 256) trained on PyTorch's engine with
1 and 2 processes (torchrun, gloo), beside Loom's own engine, and the bytes all-reduced per step.

    python bench/bench_distributed.py [--steps 80] [--json]

A script, not a test. The rates leave out each job's start (torchrun, imports, the first WARMUP
steps): they time rank 0's JSON lines as the launcher receives them. The global batch is the same
in every run (with 2 processes each takes 128 rows), so the rates compare like with like.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_compiler_workloads import mlp_graph  # noqa: E402
from core.export.torch_job import prepare_job  # noqa: E402
from core.training.loop import Run  # noqa: E402
from core.training.torch_engine import run_job  # noqa: E402

SIZES = [784, 512, 512, 10]
BATCH, ROWS, WARMUP = 256, 8192, 10


def w2_graph(folder: Path):
    """The W2 MLP with a training configuration on random data (an .npz data set in `folder`)."""
    rng = np.random.default_rng(0)
    np.savez(folder / "w2.npz", x=rng.normal(size=(ROWS, SIZES[0])).astype(np.float32),
             y=rng.integers(0, SIZES[-1], size=ROWS))
    graph = mlp_graph(SIZES, "ReLU")
    graph.set_training({"dataset": {"name": "npz", "path": str(folder / "w2.npz"), "val_fraction": 0.05},
                        "features": "x", "labels": "y", "loss": "cost", "metrics": [],
                        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}, "batch_size": BATCH,
                        "epochs": 1, "seed": 0})
    return graph


def rate(times: list[tuple[int, float]]) -> float:
    """Steps per second after the warm-up steps."""
    (s0, t0), (s1, t1) = times[WARMUP], times[-1]
    return (s1 - s0) / max(t1 - t0, 1e-9)


def torch_rate(graph, nproc: int, steps: int, threads: str = "") -> float:
    """Rank 0's steps/s; `threads` sets OMP_NUM_THREADS for the job ("": torch's default, torchrun sets 1
    per process when it starts several)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = threads
    else:
        os.environ.pop("OMP_NUM_THREADS", None)
    with tempfile.TemporaryDirectory() as folder:
        job = prepare_job(graph, None, folder, nproc=nproc, steps=steps)
        times: list[tuple[int, float]] = []
        run_job(job, lambda m: times.append((m.step, m.elapsed)), timeout_s=600)
    return rate(times)


def loom_rate(graph, steps: int) -> float:
    run = Run(graph, steps=steps)
    times = []
    for m in run.start():
        times.append((m.step, m.elapsed))
    return rate(times)


def all_reduced_bytes() -> dict[str, int]:
    """Per step and rank: every gradient (float32) in DDP's buckets, plus the loss/stop pair the script shares."""
    grads = sum(a * b + b for a, b in zip(SIZES[:-1], SIZES[1:])) * 4
    return {"gradients": grads, "loss_and_stop": 2 * 4, "total": grads + 8}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        graph = w2_graph(Path(folder))
        started = time.perf_counter()
        result = {"loom": loom_rate(graph, args.steps), "torch_1": torch_rate(graph, 1, args.steps),
                  "torch_1_one_thread": torch_rate(graph, 1, args.steps, "1"),
                  "torch_2": torch_rate(graph, 2, args.steps, "1")}
    volume = all_reduced_bytes()
    result.update(speedup_2_over_1=result["torch_2"] / result["torch_1_one_thread"],
                  all_reduced_bytes_per_step=volume["total"], wall_s=time.perf_counter() - started)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"W2 MLP {'-'.join(map(str, SIZES))}, global batch {BATCH}, {args.steps} steps ({WARMUP} warm-up left out)")
    print(f"  Loom's own engine (1 process)      {result['loom']:8.1f} steps/s")
    print(f"  PyTorch, 1 process (torch's threads) {result['torch_1']:8.1f} steps/s")
    print(f"  PyTorch, 1 process, 1 thread       {result['torch_1_one_thread']:8.1f} steps/s")
    print(f"  PyTorch, 2 processes, 1 thread each {result['torch_2']:8.1f} steps/s"
          f"   x{result['speedup_2_over_1']:.2f} of 1 process, 1 thread")
    print(f"  all-reduced per step and rank: {volume['gradients']:,} bytes of gradients "
          f"+ {volume['loss_and_stop']} bytes of loss and stop flag = {volume['total'] / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
