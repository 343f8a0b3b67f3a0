"""Training on PyTorch's distributed engine: run torchrun on an exported script and follow rank 0's log.

core.export writes the script and builds the `TorchJob` (export/torch_job.py); here it runs. Rank 0's
JSON lines (the schema of `main.py train --log`) become the same `StepMetrics` a Loom `Run` yields,
so progress bars and curves need not know which engine trained. The command line drives a job with
`run_job` (subprocess); the editor runs the same `command()` through a QProcess. A job lives in a
process group of its own: `stop_job` asks it to stop (the ranks agree on a step, save and exit) and
`kill_job` ends every process of it, so nothing is left behind.
"""
from __future__ import annotations

import collections
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from core.graph import LoomError
from core.training.config import TrainConfig, learning_rate
from core.training.loop import StepMetrics

# The job's first process starts a session of its own, then becomes `python -m torch.distributed.run`.
NEW_SESSION = "import os, sys; os.setsid(); os.execv(sys.executable, [sys.executable] + sys.argv[1:])"
STOP_GRACE_S = 20.0        # after stop_job, how long the ranks get to save before kill_job
GROUP_TIMEOUT_S = 120.0    # the script's process-group timeout: a rank lost without a trace fails the job


class TorchJobError(LoomError):
    """A PyTorch job that failed: the message says which rank and how, or what the script reported."""


def steps_per_epoch(count: int, batch_size: int, world: int, per_rank_batch: bool = False) -> int:
    """Batches per epoch on every rank, as the exported script counts them (LoomOrder's split)."""
    per_rank = batch_size if per_rank_batch or world == 1 else math.ceil(batch_size / world)
    return math.ceil(math.ceil(count / world) / per_rank)


@dataclass
class TorchJob:
    """An exported script and how to run it: processes, length, and the script's own arguments."""

    script: Path
    nproc: int
    config: TrainConfig
    steps_per_epoch: int
    total_steps: int
    args: list[str] = field(default_factory=list)
    timeout_s: float = GROUP_TIMEOUT_S

    @property
    def weights_out(self) -> Path:
        """Where rank 0 writes the trained weights (Loom's layout)."""
        return self.script.with_name(self.script.stem + "_trained.npz")

    @property
    def checkpoint(self) -> Path:
        return self.script.with_name(self.script.stem + "_checkpoint.pt")

    def command(self) -> list[str]:
        """The command line: torchrun on this machine, rank 0's JSON lines on standard output."""
        return [sys.executable, "-c", NEW_SESSION, "-m", "torch.distributed.run", "--standalone",
                f"--nproc_per_node={self.nproc}", str(self.script), "--jsonl", "-", "--save", str(self.weights_out),
                "--checkpoint", str(self.checkpoint), "--timeout", f"{self.timeout_s:g}", *self.args]


class LogReader:
    """Rank 0's standard output, fed in pieces, as StepMetrics (a step and its validation line become one)."""

    def __init__(self, job: TorchJob) -> None:
        self.job = job
        self.started = time.perf_counter()
        self.last: Optional[StepMetrics] = None
        self._partial = ""
        self._pending: Optional[dict] = None

    def feed(self, text: str) -> list[StepMetrics]:
        """The metrics completed by this piece of output (other lines are ignored)."""
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        out: list[StepMetrics] = []
        for line in lines:
            record = _json_object(line)
            if record is None:
                continue
            if "val_loss" in record:
                if self._pending is not None and self._pending.get("step") == record.get("step"):
                    out.append(self._metrics(self._pending, record))
                    self._pending = None
            elif "loss" in record and "step" in record:
                out += self.finish()
                self._pending = record
        return out

    def finish(self) -> list[StepMetrics]:
        """The step still waiting for a validation line that will not come."""
        pending, self._pending = self._pending, None
        return [self._metrics(pending, None)] if pending is not None else []

    def _metrics(self, record: dict, val: Optional[dict]) -> StepMetrics:
        step, spe, total = int(record["step"]), self.job.steps_per_epoch, self.job.total_steps
        metrics = {k: float(v) for k, v in record.items() if k not in ("step", "epoch", "loss")}
        val_metrics = {k[4:]: float(v) for k, v in val.items() if k.startswith("val_") and k != "val_loss"} \
            if val is not None else None
        self.last = StepMetrics(step, int(record.get("epoch", (step - 1) // spe + 1)), (step - 1) % spe + 1, spe, total,
                                float(record["loss"]), metrics, learning_rate(self.job.config, step - 1, spe, total),
                                time.perf_counter() - self.started,
                                float(val["val_loss"]) if val is not None else None, val_metrics)
        return self.last


def _json_object(line: str) -> Optional[dict]:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def job_error(code: int, lines: Iterable[str]) -> TorchJobError:
    """What went wrong, from the exit code and the last lines of standard error.

    A non-finite loss is the script's own message; a rank that died is torchrun's root cause
    (the first failure it observed: the others only lost their peer).
    """
    lines = [line.rstrip() for line in lines if line.strip()]
    for line in lines:
        if "the loss became" in line:
            return TorchJobError(f"the PyTorch job stopped: {line.strip()}")
    text = "\n".join(lines)
    cause = text[text.rindex("Root Cause"):] if "Root Cause" in text else ""
    rank, exit_code = re.search(r"\brank\s*:\s*(\d+)", cause), re.search(r"exitcode\s*:\s*(-?\d+)", cause)
    if rank and exit_code:
        number = int(exit_code.group(1))
        how = f"was killed by {signal.Signals(-number).name}" if -number in signal.valid_signals() \
            else f"ended with exit code {number}"
        said = next((line.split(": the job failed: ", 1)[1] for line in lines
                     if line.startswith(f"rank {rank.group(1)}: the job failed: ")), "")
        return TorchJobError(f"the PyTorch job failed: rank {rank.group(1)} {how}"
                             + (f" ({said[:300]})" if said else "") + "; the job was ended on every rank")
    said = next((line for line in lines if ": the job failed: " in line), "")
    last = said or next((line.strip() for line in reversed(lines) if not line.startswith(("*", " "))), "")
    return TorchJobError(f"the PyTorch job failed (exit code {code})" + (f": {last[:300]}" if last else ""))


def trained_weights(job: TorchJob) -> dict[str, np.ndarray]:
    """The weights rank 0 saved, by Loom's weights keys; TorchJobError when there are none."""
    if not job.weights_out.exists():
        raise TorchJobError("the PyTorch job saved no weights", file=str(job.weights_out))
    with np.load(job.weights_out, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def stop_job(pid: int) -> None:
    """Ask every process of the job to stop (SIGTERM): the ranks finish a step, save and exit."""
    _signal_group(pid, signal.SIGTERM)


def kill_job(pid: int) -> None:
    """End every process of the job at once (SIGKILL to its process group)."""
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, number: int) -> None:
    if pid <= 1:   # killpg(0) would signal the caller's own group: never without a job's pid
        return
    try:
        os.killpg(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


def run_job(job: TorchJob, on_metrics: Callable[[StepMetrics], None], timeout_s: Optional[float] = None,
            started: Optional[Callable[[int], None]] = None) -> dict[str, np.ndarray]:
    """Run the job to its end, calling `on_metrics` for each step; returns the trained weights.

    `started(pid)` is called once the job runs. Ctrl+C (KeyboardInterrupt) stops the job and is
    raised again; a job past `timeout_s` is killed. Raises TorchJobError when the job fails.
    """
    process = subprocess.Popen(job.command(), cwd=job.script.parent, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, bufsize=1)
    errors: collections.deque = collections.deque(maxlen=200)
    reader_thread = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)
    reader_thread.start()
    if started is not None:
        started(process.pid)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    watchdog = threading.Timer(timeout_s, kill_job, (process.pid,)) if timeout_s else None
    if watchdog is not None:
        watchdog.daemon = True
        watchdog.start()
    reader = LogReader(job)
    try:
        for line in process.stdout:
            for metrics in reader.feed(line):
                on_metrics(metrics)
        process.wait()
    except KeyboardInterrupt:
        end_job(process)
        raise
    finally:
        if watchdog is not None:
            watchdog.cancel()
        kill_job(process.pid)   # whatever of the job is still there (nothing, after a clean end)
    reader_thread.join(5)
    for metrics in reader.finish():
        on_metrics(metrics)
    if deadline is not None and time.monotonic() > deadline:
        raise TorchJobError(f"the PyTorch job took longer than {timeout_s:g} s and was ended")
    if process.returncode != 0:
        raise job_error(process.returncode, errors)
    return trained_weights(job)


def end_job(process: subprocess.Popen) -> None:
    """Stop the job, wait up to STOP_GRACE_S for its ranks to save, then kill what is left."""
    stop_job(process.pid)
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    kill_job(process.pid)
    process.wait()
