"""One training step of the window NER tagger against a hand-written NumPy step, and memory per step
as the vocabulary grows.

    python bench/bench_embedding.py [--batch 128] [--steps 300] [--repeat 5]

The NumPy step does what the lecture would write: gather the windows' rows, tanh layer, softmax
cross-entropy, backpropagation, dense SGD on the layers and np.add.at into the two embedding tables.
Loom runs ner_window.json's compiled training step (SGD: the tables updated row by row, in place),
computing the loss as the NumPy step does (its accuracy and F1 metrics left out, ~0.25 ms at batch 128).
Both run on the same batches, their small products on one BLAS thread; each figure is the median of `repeat` alternating rounds. Memory per step
is the peak of tracemalloc (NumPy reports its buffers there) over one step after warm-up, for the
shipped vocabulary and for a table of 100,000 words. Targets: time ratio <= 1.0; memory not growing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.devices.numpy_device import blas_threads  # noqa: E402
from core.graph import load_graph  # noqa: E402
from core.training import Run  # noqa: E402
from core.training.datasets import load_dataset  # noqa: E402

EXAMPLE = ROOT / "resources" / "examples" / "ner_window.json"
BIG_VOCABULARY = 100_000


def loom_step(graph, data, batch: int, vocabulary: int):
    """The compiled training step of ner_window with the given table size, and its argument lists."""
    graph = graph.copy()
    graph.set_attr("words", "num_embeddings", vocabulary)
    config = {**graph.training, "batch_size": batch, "schedule": {"name": "constant"}, "metrics": []}
    run = Run(graph, config, dataset=data, steps=1)
    fn = run.train_function
    lr = np.asarray(config["optimizer"]["lr"], dtype=np.float32)
    return run.weights(), lambda x, y: fn(*x, y, lr)       # x: (word ids, casing ids), the two Inputs


def numpy_step(weights: dict, lr: float):
    """The same step written out in NumPy, updating copies of `weights` in place."""
    w = {k: v.copy() for k, v in weights.items()}
    words, casing = w["words_table"], w["casing_table"]
    w1, b1, w2, b2 = w["hidden_W"], w["hidden_b"], w["logits_W"], w["logits_b"]
    width = 5

    def step(x, y):
        word_ids, case_ids = x
        n = len(word_ids)
        h0 = np.concatenate([words[word_ids], casing[case_ids]], axis=2).reshape(n, -1)
        h1 = np.tanh(h0 @ w1 + b1)
        z = h1 @ w2 + b2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        p[np.arange(n), y] -= 1
        p /= n
        dh1 = (p @ w2.T) * (1 - h1 * h1)
        dh0 = (dh1 @ w1.T).reshape(n, width, -1)
        np.subtract(w2, lr * (h1.T @ p), out=w2)
        np.subtract(b2, lr * p.sum(axis=0), out=b2)
        np.subtract(w1, lr * (h0.T @ dh1), out=w1)
        np.subtract(b1, lr * dh1.sum(axis=0), out=b1)
        np.add.at(words, word_ids.reshape(-1), -lr * dh0[:, :, :words.shape[1]].reshape(-1, words.shape[1]))
        np.add.at(casing, case_ids.reshape(-1), -lr * dh0[:, :, words.shape[1]:].reshape(-1, casing.shape[1]))
        return loss
    return step


def one_blas_thread(step):
    """The NumPy step with its small products on one BLAS thread, as Loom's compiled step runs them
    (waking a second thread costs more than it gains at this size, a lot more on a busy machine)."""
    blas = blas_threads()
    one, default = blas.setter(1), blas.setter(blas.default)

    def run(x, y):
        one()
        try:
            return step(x, y)
        finally:
            default()
    return run


def time_steps(step, batches) -> float:
    started = time.perf_counter()
    for x, y in batches:
        step(x, y)
    return (time.perf_counter() - started) / len(batches)


def peak_bytes(step, x, y) -> int:
    """Peak bytes allocated during one step (after a warm-up step)."""
    step(x, y)
    tracemalloc.start()
    tracemalloc.reset_peak()
    step(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    graph = load_graph(EXAMPLE)[0]
    data = load_dataset(graph.training["dataset"], EXAMPLE.parent)
    shipped = len(data.text.vocab)
    rng = np.random.default_rng(0)
    picks = [rng.choice(data.size(), args.batch, replace=False) for _ in range(args.steps)]
    batches = [(tuple(part[i] for part in data.features()), data.y_train[i]) for i in picks]
    print(f"window tagger, batch {args.batch}, {args.steps} steps a round, median of {args.repeat} rounds")
    peaks = {}
    for vocabulary in (shipped, BIG_VOCABULARY):
        weights, loom = loom_step(graph, data, args.batch, vocabulary)
        hand = one_blas_thread(numpy_step(weights, float(graph.training["optimizer"]["lr"])))
        loom(*batches[0])
        hand(*batches[0])
        loom_times, hand_times = [], []
        for _ in range(args.repeat):
            loom_times.append(time_steps(loom, batches))
            hand_times.append(time_steps(hand, batches))
        t_loom, t_hand = statistics.median(loom_times), statistics.median(hand_times)
        peaks[vocabulary] = (peak_bytes(loom, *batches[1]), peak_bytes(hand, *batches[1]))
        print(f"vocabulary {vocabulary:>7}: Loom {1e6 * t_loom:7.1f} us/step, NumPy (np.add.at) "
              f"{1e6 * t_hand:7.1f} us/step, ratio {t_loom / t_hand:.2f} (target <= 1.0); memory per step "
              f"Loom {peaks[vocabulary][0] / 1024:.0f} KiB, NumPy {peaks[vocabulary][1] / 1024:.0f} KiB")
    loom_growth = peaks[BIG_VOCABULARY][0] / peaks[shipped][0]
    hand_growth = peaks[BIG_VOCABULARY][1] / peaks[shipped][1]
    print(f"memory per step, {BIG_VOCABULARY} words / {shipped} words: Loom {loom_growth:.2f}x, "
          f"NumPy {hand_growth:.2f}x (target: about 1.0, not growing with the vocabulary)")


if __name__ == "__main__":
    main()
