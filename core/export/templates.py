"""The fixed text of generated files: headers, imports and training loops (nothing from a graph file)."""

NUMPY_HEADER = '''"""NumPy script exported by Loom: the step Loom compiled, ready to run anywhere NumPy runs.

    python THIS_FILE.py [--steps K] [--every-step] [--save OUT.npz] [--device numpy|cupy]

Weights and optimizer state load from the .npz with this file's name, the data from
<name>_data.npz. The step functions below are Loom's generated code. Each value lives in a
variable named after the graph node that computes it (a fused kernel is named after its Fused
node and writes the value of the last node it covers); weights and optimizer slots carry their
state keys, inputs their Input nodes. The comment above each call names the node it computes.
Array calls go through `xp`: NumPy, or CuPy on a CUDA GPU with --device cupy.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path

import numpy as np

'''

NUMPY_DEVICE = '''

def reduce_with(reduction):
    """NumPy's ufunc.reduce call (axis 0 unless given) made with a CuPy reduction (cupy.sum, cupy.max)."""
    def reduce(array, axis=0, out=None, keepdims=False):
        return reduction(array, axis=axis, out=out, keepdims=keepdims)
    return reduce


def use_device(name):
    """Run the steps on "numpy" (this CPU) or "cupy" (a CUDA GPU); returns why it cannot, or None."""
    global xp, ALIAS_NAMES
    if name == "numpy":
        xp = np
        NUMPY_ALIASES
    else:
        try:
            import cupy
        except ImportError as error:
            return f"--device cupy needs CuPy, which is not installed ({error}); pip install cupy-cuda12x"
        try:
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device")
            float(cupy.asarray([1.0]).sum())  # a kernel really runs
        except Exception as error:
            return f"--device cupy: CuPy has no usable GPU ({type(error).__name__}: {error})"
        xp = cupy
        CUPY_ALIASES
    _FORWARD_CACHE.clear()
    return None


def to_device(array):
    """`array` on the steps' device (the very same array under NumPy)."""
    return xp.asarray(array)


def to_host(array):
    """`array` as a NumPy array (copied from the GPU under CuPy)."""
    return np.asarray(array) if xp is np else xp.asnumpy(array)
'''

NUMPY_CONTEXT = '''
class RunContext:
    """What a reference op may ask for: the batch size, training or not, the random generator."""

    def __init__(self, dims, training, rng):
        self.dims, self.training, self.rng, self.node = dims, training, rng, ""
'''

NUMPY_FORWARD = '''

_FORWARD_CACHE = {}


def forward(state, **inputs):
    """The graph's outputs (OUTPUTS) for arrays named after its inputs, with the weights in `state`."""
    arrays = [to_device(np.asarray(inputs[name]).astype(dtype, copy=False)) for name, dtype, _ in FORWARD_INPUTS]
    n = next((a.shape[spec.index(None)] for a, (_, _, spec) in zip(arrays, FORWARD_INPUTS) if None in spec), 1)
    if n not in _FORWARD_CACHE:
        _FORWARD_CACHE[n] = FORWARD_BUFFERS(n)
    values = FORWARD_STEP(arrays, [to_device(state[key]) for key in FORWARD_STATE], _FORWARD_CACHE[n])
    return dict(zip(OUTPUTS, (np.array(to_host(v)) for v in values)))
'''

NUMPY_TRAINING = '''

def learning_rate(step, steps_per_epoch, total_steps):
    """The configured schedule, as Loom computes it."""
    lr, schedule = CONFIG["optimizer"]["lr"], CONFIG["schedule"]
    if schedule["name"] == "step":
        return lr * schedule["gamma"] ** ((step // steps_per_epoch) // schedule["every"])
    if schedule["name"] == "cosine":
        low = schedule["min_lr"]
        return low + (lr - low) * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    return lr


def optimizer_inputs(step, lr):
    """The scalar inputs of the update: the learning rate, and Adam's bias corrections."""
    dtype = TRAIN_INPUT_DTYPES[-1]  # the graph's float type: these inputs come last
    values = [np.asarray(lr, dtype=dtype)]
    if CONFIG["optimizer"]["name"] == "adam":
        t = step + 1
        values.append(np.asarray(1.0 / (1.0 - CONFIG["optimizer"]["beta1"] ** t), dtype=dtype))
        values.append(np.asarray(1.0 / (1.0 - CONFIG["optimizer"]["beta2"] ** t), dtype=dtype))
    return values


def train(state, data, steps=None, every_step=False):
    """Minibatch training as Loom runs it (same batches, same order); returns the loss per step.

    `state` holds arrays on the steps' device (to_device); the step updates them in place.
    """
    xs, y = [data[name] for name in TRAIN_FEATURES], data.get("y_train")
    count, size = len(xs[0]), CONFIG["batch_size"]
    per_epoch = math.ceil(count / size)
    total = steps if steps is not None else CONFIG["epochs"] * per_epoch
    cache, losses, order = {}, [], (-1, None)
    for k in range(total):
        epoch, batch = divmod(k, per_epoch)
        if order[0] != epoch:
            rows = np.random.default_rng([CONFIG["seed"], epoch]).permutation(count) if CONFIG["shuffle"] \\
                else np.arange(count)
            order = (epoch, rows)
        rows = order[1][batch * size:(batch + 1) * size]
        feeds = [x[rows] for x in xs] + ([y[rows]] if TRAIN_HAS_LABELS else [])
        feeds += optimizer_inputs(k, learning_rate(k, per_epoch, total))
        feeds = [to_device(np.asarray(f).astype(dtype, copy=False)) for f, dtype in zip(feeds, TRAIN_INPUT_DTYPES)]
        if len(rows) not in cache:
            cache[len(rows)] = TRAIN_BUFFERS(len(rows))
        with np.errstate(all="ignore"):
            values = TRAIN_STEP(feeds, [state[key] for key in TRAIN_STATE], cache[len(rows)])
        losses.append(float(values[0]))
        if not math.isfinite(losses[-1]):
            print(f"step {k + 1}: the loss became {losses[-1]}; stopping (Loom's editor names the node)")
            break
        shown = "".join(f", {m} {float(v):.4f}" for m, v in zip(CONFIG["metrics"], values[1:]))
        if every_step:
            print(f"step {k + 1}: loss {losses[-1]!r}{shown}")
        elif batch == per_epoch - 1 or k == total - 1:
            print(f"epoch {epoch + 1}: loss {losses[-1]:.6f}{shown}")
    return losses
'''

NUMPY_MAIN = '''

def main(argv=None):
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=TITLE.replace("%", "%%"))
    parser.add_argument("--weights", default=str(here.with_suffix(".npz")), help="weights and optimizer state")
    parser.add_argument("--data", default=str(here.with_name(here.stem + "_data.npz")))
    parser.add_argument("--steps", type=int, default=None, help="train this many batches (default: the epochs)")
    parser.add_argument("--every-step", action="store_true", help="print the loss of every batch")
    parser.add_argument("--save", default=None, help="write the trained state here")
    parser.add_argument("--device", choices=("numpy", "cupy"), default="numpy",
                        help="run the steps with NumPy (default) or on a CUDA GPU with CuPy")
    args = parser.parse_args(argv)
    problem = use_device(args.device)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with np.load(args.weights, allow_pickle=False) as archive:
        state = {key: to_device(np.array(archive[key])) for key in archive.files}
    if not HAS_TRAINING:
        print("this graph has no training configuration; forward(state, **inputs) computes " + ", ".join(OUTPUTS))
        return 0
    with np.load(args.data, allow_pickle=False) as archive:
        data = {key: archive[key] for key in archive.files}
    train(state, data, args.steps, args.every_step)
    if args.save:
        np.savez(args.save, **{key: to_host(value) for key, value in state.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

TORCH_SPAN_F1 = '''

def loom_span_f1(scores, labels):
    """Span-level micro F1 of BIO tags (conlleval), as Loom's SpanF1: class 0 is O, 2t+1 B-t, 2t+2 I-t."""
    types, n = (scores.shape[1] - 1) // 2, labels.shape[0] + 1

    def chunks(tags):
        inside = tags > 0
        kind = torch.div(tags - 1, 2, rounding_mode="floor")
        start = inside & ((tags % 2 == 1) | ~torch.cat([inside.new_zeros(1), inside[:-1]])
                          | (torch.cat([kind.new_full((1,), -1), kind[:-1]]) != kind))
        end = inside & torch.cat([start[1:] | ~inside[1:], inside.new_ones(1)])
        first, last = torch.nonzero(start)[:, 0], torch.nonzero(end)[:, 0]
        return set(((first * n + last) * types + kind[start]).tolist())

    guessed, wanted = chunks(scores.argmax(dim=1)), chunks(labels)
    correct = len(guessed & wanted)
    precision = correct / len(guessed) if guessed else 0.0
    recall = correct / len(wanted) if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return torch.tensor(f1, dtype=torch.float32)
'''
