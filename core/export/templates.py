"""The fixed text of generated files: headers, imports and training loops (nothing from a graph file)."""

TORCH_HEADER = '''"""PyTorch model exported by Loom: an nn.Module named after the graph, and a training script.

    python THIS_FILE.py [--data DATA.npz] [--weights W.npz] [--epochs E] [--save OUT.npz]

The weights (Loom's .npz) load with Model.load_loom_weights; the data file holds one array per
graph input, named after it. Generated code: edit freely.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

'''

TORCH_METHODS = '''
    def load_loom_weights(self, weights):
        """Copy Loom's arrays (a dict or an .npz path) into the parameters; Dense kernels are transposed."""
        if not isinstance(weights, dict):
            with np.load(weights, allow_pickle=False) as archive:
                weights = {key: archive[key] for key in archive.files}
        with torch.no_grad():
            for key, path, transposed in self.LOOM_PARAMS:
                if key in weights:
                    value = torch.from_numpy(np.asarray(weights[key]))
                    target = self.get_parameter(path)
                    target.copy_(value.T if transposed else value)

    def loom_weights(self):
        """The parameters as Loom's arrays, keyed as in Loom's weights files."""
        out = {}
        for key, path, transposed in self.LOOM_PARAMS:
            value = self.get_parameter(path).detach().cpu()
            out[key] = (value.T if transposed else value).contiguous().numpy()
        return out
'''

TORCH_SCRIPT = '''

def make_optimizer(parameters, config):
    """The torch.optim optimizer the graph's training configuration names."""
    name, lr, decay = config.get("name", "sgd"), config.get("lr", 0.01), config.get("weight_decay", 0.0)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=(config.get("beta1", 0.9), config.get("beta2", 0.999)),
                                eps=config.get("eps", 1e-8), weight_decay=decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=config.get("rho", 0.99), eps=config.get("eps", 1e-8),
                                   weight_decay=decay)
    return torch.optim.SGD(parameters, lr=lr, momentum=config.get("momentum", 0.0),
                           nesterov=config.get("nesterov", False), weight_decay=decay)


def learning_rate(lr, step, steps_per_epoch, total_steps):
    """The configured schedule (constant, step or cosine), as Loom computes it."""
    schedule = TRAINING.get("schedule", {})
    if schedule.get("name") == "step":
        return lr * schedule.get("gamma", 0.1) ** ((step // steps_per_epoch) // schedule.get("every", 10))
    if schedule.get("name") == "cosine":
        low = schedule.get("min_lr", 0.0)
        return low + (lr - low) * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    return lr


def train(model, data, epochs, batch_size, lr=None, seed=0, shuffle=True):
    """Minibatch training of model.losses on the arrays named in LOSS_INPUTS; prints the loss per epoch."""
    torch.manual_seed(seed)
    config = dict(TRAINING.get("optimizer", {}))
    if lr is not None:
        config["lr"] = lr
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], config)
    feeds = [torch.from_numpy(np.asarray(data[name])) for name in LOSS_INPUTS]
    count = len(feeds[0])
    per_epoch = -(-count // batch_size)
    model.train()
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(count) if shuffle else torch.arange(count)
        total = 0.0
        for start in range(0, count, batch_size):
            step = epoch * per_epoch + start // batch_size
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config.get("lr", 0.01), step, per_epoch, epochs * per_epoch)
            rows = order[start:start + batch_size]
            loss, metrics = model.losses(*(f[rows] for f in feeds))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        losses.append(total / count)
        shown = "".join(f", {k} {v.item():.4f}" for k, v in metrics.items())
        print(f"epoch {epoch + 1}: loss {losses[-1]:.6f}{shown}")
    return losses


def main(argv=None):
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=TITLE.replace("%", "%%"))
    parser.add_argument("--data", default=str(here.with_name(here.stem + "_data.npz")),
                        help="arrays named after the graph's inputs")
    parser.add_argument("--weights", default=str(here.with_suffix(".npz")), help="Loom weights to start from")
    parser.add_argument("--epochs", type=int, default=TRAINING.get("epochs", 10))
    parser.add_argument("--batch-size", type=int, default=TRAINING.get("batch_size", 32))
    parser.add_argument("--lr", type=float, default=None, help="override the configured learning rate")
    parser.add_argument("--seed", type=int, default=TRAINING.get("seed", 0))
    parser.add_argument("--save", default=None, help="write the trained weights here, in Loom's layout")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    model = Model()
    if Path(args.weights).exists():
        model.load_loom_weights(args.weights)
    if not LOSS_INPUTS:
        print("this graph has no loss to train")
        return 0
    if not Path(args.data).exists():
        print(f"no data: give --data FILE.npz with arrays {', '.join(LOSS_INPUTS)}")
        return 2
    with np.load(args.data, allow_pickle=False) as archive:
        data = {name: archive[name] for name in LOSS_INPUTS}
    train(model, data, args.epochs, args.batch_size, args.lr, args.seed, TRAINING.get("shuffle", True))
    if args.save:
        np.savez(args.save, **model.loom_weights())
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

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
    values = [np.asarray(lr, dtype=np.float32)]
    if CONFIG["optimizer"]["name"] == "adam":
        t = step + 1
        values.append(np.asarray(1.0 / (1.0 - CONFIG["optimizer"]["beta1"] ** t), dtype=np.float32))
        values.append(np.asarray(1.0 / (1.0 - CONFIG["optimizer"]["beta2"] ** t), dtype=np.float32))
    return values


def train(state, data, steps=None, every_step=False):
    """Minibatch training as Loom runs it (same batches, same order); returns the loss per step.

    `state` holds arrays on the steps' device (to_device); the step updates them in place.
    """
    x, y = data["x_train"], data.get("y_train")
    count, size = len(x), CONFIG["batch_size"]
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
        feeds = [x[rows]] + ([y[rows]] if TRAIN_HAS_LABELS else [])
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
