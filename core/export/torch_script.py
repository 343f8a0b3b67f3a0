"""The fixed text of the PyTorch export: its header, the module's weight helpers and the training script.

The script runs unchanged as one process (`python model.py`) or data-parallel under torchrun; nothing
here comes from a graph file (torch_export.py writes the graph's part with checked names only).
"""

TORCH_HEADER = '''"""PyTorch model exported by Loom: an nn.Module named after the graph, and a training script.

    python THIS_FILE.py                                    # one process, the configured epochs
    torchrun --nproc_per_node=2 THIS_FILE.py               # data-parallel on this machine
    torchrun --nnodes=2 --node-rank=R --nproc_per_node=4 --rdzv-endpoint=HOST:29500 THIS_FILE.py

The initial weights (Loom's layout) load from the .npz with this file's name and the training
data from <name>_data.npz (x_train, y_train, x_val, y_val: the NumPy export's layout; with several
feature Inputs x_train.<Input>, x_val.<Input> each, as FEEDS lists them). With
several processes the graph's batch size is split across them (--per-rank-batch keeps it per
process); rank 0 logs, checkpoints and saves. Generated code: edit freely.
"""
import argparse
import datetime
import json
import math
import os
import signal
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

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
                    value = torch.as_tensor(np.asarray(weights[key]))
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

class Losses(nn.Module):
    """model.losses as a forward pass, so that DistributedDataParallel sees it and averages the gradients."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *feeds):
        return self.model.losses(*feeds)


class LoomOrder(DistributedSampler):
    """Loom's order of the rows (NumPy's generator seeded with [seed, epoch]), split across the ranks.

    Rank r takes positions r, r + W, r + 2W, ... of the epoch's order, padded to a multiple of W as
    DistributedSampler pads; so batch k of all ranks together is batch k of one process with W times
    the batch size. Call set_epoch(epoch) before each epoch.
    """

    def __init__(self, count, world, rank, seed, shuffle):
        super().__init__(range(count), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)

    def __iter__(self):
        count = len(self.dataset)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(count) if self.shuffle \\
            else np.arange(count)
        order = np.resize(order, self.total_size)
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())


def steps_per_epoch(count, batch_size, world):
    """Batches per epoch on every rank: each takes ceil(count / world) rows, batch_size at a time."""
    return -(-(-(-count // world)) // batch_size)


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


STOP = {"asked": False}  # set by SIGTERM (torchrun forwards it); the ranks agree on it at the next step


def ask_to_stop(signum, frame):
    STOP["asked"] = True


def write_atomically(path, save):
    """Write through a temporary file in the same folder, then rename: a reader never sees half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as f:
        save(f)
    os.replace(temporary, path)


def save_checkpoint(path, model, optimizer, step):
    """Rank 0 writes weights, optimizer state and the step count (atomically); every rank waits for it."""
    if rank_and_world()[0] == 0:
        state = {"step": step, "weights": {k: torch.from_numpy(v) for k, v in model.loom_weights().items()},
                 "optimizer": optimizer.state_dict()}
        write_atomically(path, lambda f: torch.save(state, f))
    if dist.is_initialized():
        dist.barrier()


def load_checkpoint(path, model, optimizer):
    """Continue from a checkpoint of save_checkpoint; returns the step it was taken after."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_loom_weights({k: v.numpy() for k, v in state["weights"].items()})
    optimizer.load_state_dict(state["optimizer"])
    return int(state["step"])


def rank_and_world():
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def evaluate(model, feeds, device, chunk=1024):
    """Loss and metrics over whole arrays (the validation split), in chunks, without gradients."""
    model.eval()
    totals, count = None, len(feeds[0])
    with torch.no_grad():
        for start in range(0, count, chunk):
            loss, metrics = model.losses(*(f[start:start + chunk].to(device) for f in feeds))
            values = np.array([loss.item()] + [v.item() for v in metrics.values()]) * len(feeds[0][start:start + chunk])
            totals = values if totals is None else totals + values
            names = list(metrics)
    model.train()
    totals = totals / count
    return float(totals[0]), dict(zip(names, (float(v) for v in totals[1:])))


def train(model, arrays, epochs=None, batch_size=None, lr=None, seed=None, shuffle=None, *, steps=None,
          per_rank_batch=False, validation=None, log=None, say=print, checkpoint=None, resume=None,
          on_step=None):
    """Minibatch training of model.losses on `arrays` (in LOSS_INPUTS order); returns the loss per step.

    Data-parallel when a process group is up (torchrun): the model is wrapped in
    DistributedDataParallel, each rank trains on its share of every batch (LoomOrder) and the
    loss and metrics are averaged over the ranks. Rank 0 writes one JSON object per step, and one
    per epoch with the validation results, to `log` (the schema of `main.py train --log`).
    """
    rank, world = rank_and_world()
    device = next(model.parameters()).device
    seed = TRAINING.get("seed", 0) if seed is None else seed
    batch = TRAINING.get("batch_size", 32) if batch_size is None else batch_size
    per_rank = batch if per_rank_batch or world == 1 else -(-batch // world)
    feeds = [torch.as_tensor(np.asarray(a)) for a in arrays]
    count = len(feeds[0])
    per_epoch = steps_per_epoch(count, per_rank, world)
    total = steps if steps is not None else (epochs or TRAINING.get("epochs", 10)) * per_epoch
    config = dict(TRAINING.get("optimizer", {}))
    if lr is not None:
        config["lr"] = lr
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], config)
    net = Losses(model)
    if world > 1:
        net = DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None,
                                      find_unused_parameters=not EVERY_PARAMETER_IN_LOSS)
    done = load_checkpoint(resume, model, optimizer) if resume else 0
    torch.manual_seed(seed * 1000 + rank)  # Dropout draws differently on every rank
    order = LoomOrder(count, world, rank, seed, TRAINING.get("shuffle", True) if shuffle is None else shuffle)
    rows, losses = (-1, None), []
    model.train()
    for k in range(done, total):
        epoch, index = divmod(k, per_epoch)
        if rows[0] != epoch:
            order.set_epoch(epoch)
            rows = (epoch, torch.tensor(list(order), dtype=torch.int64))
        picked = rows[1][index * per_rank:(index + 1) * per_rank]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config.get("lr", 0.01), k, per_epoch, total)
        loss, metrics = net(*(f[picked].to(device) for f in feeds))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        shared = torch.stack([loss.detach()] + [v.detach().to(loss.dtype) for v in metrics.values()]
                             + [torch.tensor(float(STOP["asked"]), dtype=loss.dtype, device=device)])
        if world > 1:
            dist.all_reduce(shared)
            shared[:-1] /= world
        values = shared.tolist()
        losses.append(values[0])
        if on_step is not None:
            on_step(k + 1, model)
        if not math.isfinite(values[0]):
            if rank == 0:
                    say(f"step {k + 1}: the loss became {values[0]}; stopping (Loom's own engine names the node)")
            raise FloatingPointError(f"the loss became {values[0]} at step {k + 1}")
        if rank == 0 and log is not None:
            log.write(json.dumps({"step": k + 1, "epoch": epoch + 1, "loss": values[0],
                                  **dict(zip(metrics, values[1:-1]))}) + "\\n")
        last = k + 1 == total or values[-1] > 0
        if index + 1 == per_epoch or last:
            shown = "".join(f", {name} {v:.4f}" for name, v in zip(metrics, values[1:-1]))
            if validation is not None and rank == 0:
                val_loss, val_metrics = evaluate(model, validation, device)
                shown += f", val_loss {val_loss:.4f}"
                if log is not None:
                    log.write(json.dumps({"epoch": epoch + 1, "step": k + 1, "val_loss": val_loss,
                                          **{f"val_{m}": v for m, v in val_metrics.items()}}) + "\\n")
            if rank == 0:
                say(f"epoch {epoch + 1} step {k + 1}/{total}: loss {values[0]:.6f}{shown}")
            if checkpoint:
                save_checkpoint(checkpoint, model, optimizer, k + 1)
        if log is not None:
            log.flush()
        if values[-1] > 0:
            if rank == 0:
                say(f"stopped at step {k + 1} (asked to stop)")
            break
    return losses


def join(timeout):
    """Join torchrun's process group (NCCL on a GPU, else gloo); returns this rank's device."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if cuda else "gloo", timeout=datetime.timedelta(seconds=timeout))
    return device


def load_data(path):
    """The arrays the loss needs (LOSS_INPUTS order) and the validation ones when the file has them."""
    with np.load(path, allow_pickle=False) as archive:
        data = {key: archive[key] for key in archive.files}
    missing = [key for key in FEEDS if key not in data]
    if missing:
        raise SystemExit(f"{path}: no array {missing[0]} (it holds {', '.join(data) or 'nothing'})")
    arrays = [data[key].astype(dtype, copy=False) for key, dtype in zip(FEEDS, FEED_DTYPES)]
    val_keys = [key.replace("_train", "_val") for key in FEEDS]
    validation = None
    if all(key in data and len(data[key]) for key in val_keys):
        validation = [torch.as_tensor(data[key].astype(dtype, copy=False)) for key, dtype in zip(val_keys, FEED_DTYPES)]
    return arrays, validation


def main(argv=None):
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=TITLE.replace("%", "%%"))
    parser.add_argument("--data", default=str(here.with_name(here.stem + "_data.npz")),
                        help="x_train (or x_train.<Input> per feature Input), y_train (and the _val ones), "
                        "as the NumPy export writes them")
    parser.add_argument("--weights", default=str(here.with_suffix(".npz")), help="Loom weights to start from")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=None, help="default: the configured epochs")
    length.add_argument("--steps", type=int, default=None, help="train this many batches")
    parser.add_argument("--batch-size", type=int, default=None, help="the global batch (default: the graph's)")
    parser.add_argument("--per-rank-batch", action="store_true", help="give every process the whole batch size")
    parser.add_argument("--lr", type=float, default=None, help="override the configured learning rate")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--save", default=str(here.with_name(here.stem + "_trained.npz")),
                        help="rank 0 writes the trained weights here, in Loom's layout")
    parser.add_argument("--save-all-ranks", action="store_true", help="every rank k > 0 also writes SAVE.rankk.npz")
    parser.add_argument("--checkpoint", default=str(here.with_name(here.stem + "_checkpoint.pt")),
                        help="rank 0 writes weights and optimizer state here after every epoch")
    parser.add_argument("--resume", default=None, help="continue from this checkpoint")
    parser.add_argument("--jsonl", default=None, help="rank 0 writes its JSON lines here ('-': standard output)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a lost rank fails the job")
    args = parser.parse_args(argv)
    if not HAS_TRAINING:
        print("this graph has no training configuration; Model().forward computes " + ", ".join(OUTPUTS))
        return 0
    signal.signal(signal.SIGTERM, ask_to_stop)
    device = join(args.timeout)
    rank, world = rank_and_world()
    log = None
    if args.jsonl and rank == 0:
        log = sys.stdout if args.jsonl == "-" else open(args.jsonl, "w", encoding="utf-8")
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.jsonl == "-" else print
    try:
        torch.manual_seed(TRAINING.get("seed", 0) if args.seed is None else args.seed)
        model = Model().to(device)
        if Path(args.weights).exists():
            model.load_loom_weights(args.weights)
        arrays, validation = load_data(args.data)
        train(model, arrays, args.epochs, args.batch_size, args.lr, args.seed, steps=args.steps,
              per_rank_batch=args.per_rank_batch, validation=validation, log=log, say=say,
              checkpoint=args.checkpoint, resume=args.resume)
        weights = model.loom_weights()
        if rank == 0 and args.save:
            write_atomically(args.save, lambda f: np.savez(f, **weights))
        elif args.save and args.save_all_ranks:
            write_atomically(Path(args.save).with_suffix(f".rank{rank}.npz"), lambda f: np.savez(f, **weights))
    except FloatingPointError:
        return 3
    except RuntimeError as error:
        if world == 1:
            raise
        print(f"rank {rank}: the job failed: {error}", file=sys.stderr)
        return 1
    finally:
        if log is not None and log is not sys.stdout:
            log.close()
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''
