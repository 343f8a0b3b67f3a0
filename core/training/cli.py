"""`python main.py train GRAPH.json`: train a graph headless, with a progress bar, a summary and a JSON-lines log."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Optional

from core.graph import GraphFileError, LoomError, load_graph, load_weights
from core.training.loop import Run, StepMetrics
from core.training.tag_report import report_lines
from core.training.word_vectors import save_vectors

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2
BAR_WIDTH = 24


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py train", description="Train a graph with its saved "
                                     "training configuration.")
    parser.add_argument("graph", help="the graph file (.json)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="train this many epochs instead of the configured number")
    length.add_argument("--steps", type=int, help="train this many batches")
    parser.add_argument("--seed", type=int, help="seed for initialization and shuffling")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                        help="where to run (default: cpu)")
    parser.add_argument("--init-weights", metavar="W.npz", help="start from these parameter values")
    parser.add_argument("--save-weights", metavar="W.npz", help="write the trained parameters here")
    parser.add_argument("--log", metavar="LOG.jsonl", help="write one JSON object per step and per epoch")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--save-vectors", metavar="V.txt", help="write the first Embedding sized like the data "
                        "set's vocabulary in word2vec text format (text data sets)")
    return parser


def train_command(argv: list[str]) -> int:
    """Run the `train` sub-command; returns 0 (trained), 1 (training failed) or 2 (unreadable file)."""
    args = _parser().parse_args(argv)
    for flag, value in (("--epochs", args.epochs), ("--steps", args.steps)):
        if value is not None and value < 1:
            print(f"error: {flag} must be at least 1", file=sys.stderr)
            return EXIT_FAILED
    try:
        graph, _ = load_graph(args.graph)  # a companion .npz is not used: runs start from --init-weights or the seed
        weights = load_weights(args.init_weights, graph) if args.init_weights else None
    except GraphFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    log: Optional[IO[str]] = None
    started = time.perf_counter()
    try:
        run = Run(graph, weights=weights, base_dir=Path(args.graph).resolve().parent, seed=args.seed,
                  epochs=args.epochs, steps=args.steps, device=args.device)
        for warning in run.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if run.data.text is not None:       # a text set: its vocabulary and the word vectors it found
            print(f"data: {run.data.description}", flush=True)
        log = open(args.log, "w", encoding="utf-8") if args.log else None
        progress = _Progress(run, quiet=args.quiet)
        for metrics in run.start():
            progress.update(metrics)
            if log:
                _log(log, metrics)
        progress.close()
        if args.save_weights:
            run.save_weights(args.save_weights)
        if args.save_vectors:
            print(f"wrote vectors of '{save_vectors(run, args.save_vectors)}' to {args.save_vectors}")
    except (LoomError, OSError, KeyboardInterrupt) as e:
        return report_failure(e)
    finally:
        if log:
            log.close()
    _summary(run, time.perf_counter() - started)
    return EXIT_OK


def report_failure(error: BaseException) -> int:
    """Say why a run ended early, on stderr, and return its exit code (2: a file could not be read)."""
    if isinstance(error, KeyboardInterrupt):
        print("\ninterrupted", file=sys.stderr)
        return EXIT_FAILED
    if isinstance(error, OSError):
        print(f"\nerror: {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"\nerror: {error}", file=sys.stderr)
    return EXIT_FAILED


def _log(log: IO[str], m: StepMetrics) -> None:
    log.write(json.dumps({"step": m.step, "epoch": m.epoch, "loss": m.loss, **m.metrics}) + "\n")
    if m.epoch_end:
        log.write(json.dumps({"epoch": m.epoch, "step": m.step, "val_loss": m.val_loss,
                              **{f"val_{k}": v for k, v in m.val_metrics.items()}}) + "\n")


class _Progress:
    """A one-line progress bar on a terminal; one line per epoch otherwise; nothing when quiet."""

    def __init__(self, run: Run, quiet: bool) -> None:
        self.run, self.quiet = run, quiet
        self.tty = sys.stderr.isatty()
        self.shown = 0.0
        self.started = time.perf_counter()

    def update(self, m: StepMetrics) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if self.tty and (now - self.shown > 0.1 or m.step == m.total_steps):
            self.shown = now
            rate = m.step / max(m.elapsed, 1e-9)
            done = int(BAR_WIDTH * m.step / m.total_steps)
            left = (m.total_steps - m.step) / rate
            sys.stderr.write(f"\r[{'#' * done}{'.' * (BAR_WIDTH - done)}] epoch {m.epoch} step {m.step}/"
                             f"{m.total_steps} loss {m.loss:.4f} {rate:.0f} steps/s {left:.0f}s left ")
            sys.stderr.flush()
        if m.epoch_end and not self.tty:
            extra = "".join(f" val_{k} {v:.4f}" for k, v in m.val_metrics.items())
            print(f"epoch {m.epoch} step {m.step} loss {m.loss:.4f} val_loss {m.val_loss:.4f}{extra}", flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _summary(run: Run, wall: float) -> None:
    last = run.last
    train_loss, train_metrics = run.evaluate("train")
    rate = last.step / max(run.elapsed, 1e-9)
    print(f"trained {last.step} steps ({last.epoch} epochs) in {wall:.1f} s wall time "
          f"({run.elapsed:.1f} s in training steps, {rate:.0f} steps/s)")
    print(f"final training loss {train_loss:.4f}"
          + "".join(f", training {k} {v:.4f}" for k, v in train_metrics.items()))
    print(f"final validation loss {last.val_loss:.4f}"
          + "".join(f", validation {k} {v:.4f}" for k, v in last.val_metrics.items()))
    for line in report_lines(run):          # a tagger scored by SpanF1: per-type F1 and the baseline
        print(line)
