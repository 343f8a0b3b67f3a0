"""A graph trained on PyTorch's distributed engine: export it to a folder as a job, and `main.py train --engine torch`.

The export writes the script, its initial weights and its data (torch_export.py); core.training's
torch_engine runs it under torchrun and turns rank 0's JSON lines into StepMetrics. The editor's
Training tab prepares its jobs here too.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from core.graph import Graph, GraphFileError, LoomError, load_graph, load_weights
from core.graph.fileformat import atomic_write
from core.training.cli import (EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, _log, _parser, _Progress, report_failure,
                               train_command as loom_train_command)
from core.training.config import ConfigError
from core.training.torch_engine import GROUP_TIMEOUT_S, TorchJob, run_job, steps_per_epoch

from .common import feature_arrays
from .torch_export import export_torch, training_config

SCRIPT_NAME = "model.py"


def prepare_job(graph: Graph, weights: Optional[dict], folder: str | os.PathLike, *,
                base_dir: Optional[str | os.PathLike] = None, nproc: int = 1, epochs: Optional[int] = None,
                steps: Optional[int] = None, seed: Optional[int] = None, per_rank_batch: bool = False,
                timeout_s: float = GROUP_TIMEOUT_S) -> TorchJob:
    """Export `graph` (script, weights, data) into `folder` and describe the torchrun job that trains it.

    Raises ConfigError when the graph has no training configuration, and what export_torch raises.
    """
    if nproc < 1:
        raise ConfigError("the PyTorch engine needs at least one process")
    if training_config(graph) is None:
        raise ConfigError("training: the graph has no training configuration (see docs/training.md)")
    script = export_torch(graph, weights, Path(folder) / SCRIPT_NAME, base_dir=base_dir)
    config = training_config(graph)
    with np.load(script.with_name(script.stem + "_data.npz"), allow_pickle=False) as archive:
        count = len(archive[feature_arrays(config.feature_inputs)[0]])
    per_epoch = steps_per_epoch(count, config.batch_size, nproc, per_rank_batch)
    total = steps if steps is not None else (epochs or config.epochs) * per_epoch
    args = (["--steps", str(total)] + (["--seed", str(seed)] if seed is not None else [])
            + (["--per-rank-batch"] if per_rank_batch else []))
    return TorchJob(script, nproc, config, per_epoch, total, args, timeout_s)


def train_command(argv: list[str]) -> int:
    """`main.py train`: Loom's own loop, or with `--engine torch [--nproc N]` torchrun on the exported script."""
    split = _engine_options(argparse.ArgumentParser(add_help=False, allow_abbrev=False))
    chosen, rest = split.parse_known_args(argv)
    if chosen.engine == "torch" or "-h" in argv or "--help" in argv:
        parser = _parser()
        _engine_options(parser.add_argument_group("engine (docs/scale-out.md)"))
        args = parser.parse_args(argv)   # --help ends here, listing the engine's options too
    if chosen.engine == "loom":
        if chosen.nproc is not None or chosen.per_rank_batch:
            print("error: --nproc and --per-rank-batch need --engine torch", file=sys.stderr)
            return EXIT_FAILED
        return loom_train_command(rest)
    try:
        graph, _ = load_graph(args.graph)
        weights = load_weights(args.init_weights, graph) if args.init_weights else None
    except GraphFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    folder = Path(tempfile.mkdtemp(prefix="loom-torch-"))
    started = time.perf_counter()
    try:
        job = prepare_job(graph, weights, folder, base_dir=Path(args.graph).resolve().parent,
                          nproc=chosen.nproc or 1, epochs=args.epochs, steps=args.steps, seed=args.seed,
                          per_rank_batch=chosen.per_rank_batch)
        return _train(job, args, started)
    except (LoomError, OSError, KeyboardInterrupt) as e:
        return report_failure(e)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _engine_options(parser):
    """Add the engine's options to a parser or an argument group; returns it."""
    parser.add_argument("--engine", choices=("loom", "torch"), default="loom",
                        help="loom (default) or torch: PyTorch's distributed engine under torchrun")
    parser.add_argument("--nproc", type=int, default=None, help="torch: processes on this machine (default 1)")
    parser.add_argument("--per-rank-batch", action="store_true",
                        help="torch: every process takes the whole batch size (default: split across them)")
    return parser


def _train(job: TorchJob, args: argparse.Namespace, started: float) -> int:
    print(f"training on PyTorch with {job.nproc} process{'es' if job.nproc > 1 else ''} (torchrun)",
          file=sys.stderr)
    progress = _Progress(None, quiet=args.quiet)
    log = open(args.log, "w", encoding="utf-8") if args.log else None
    last = []

    def on_metrics(m) -> None:
        progress.update(m)
        last[:] = [m]
        if log:
            _log(log, m)

    try:
        weights = run_job(job, on_metrics)
    finally:
        progress.close()
        if log:
            log.close()
    if args.save_weights:
        atomic_write(Path(args.save_weights), lambda f: np.savez(f, **weights))
    if last:
        m = last[0]
        print(f"trained {m.step} steps ({m.epoch} epochs) with PyTorch on {job.nproc} process"
              f"{'es' if job.nproc > 1 else ''} in {time.perf_counter() - started:.1f} s wall time")
        print(f"final training loss {m.loss:.4f}" + "".join(f", training {k} {v:.4f}" for k, v in m.metrics.items()))
        if m.val_loss is not None:
            print(f"final validation loss {m.val_loss:.4f}"
                  + "".join(f", validation {k} {v:.4f}" for k, v in (m.val_metrics or {}).items()))
    return EXIT_OK
