"""The Training tab's PyTorch engine: the graph exported as a job, torchrun in a QProcess, rank 0's log as curves.

`TorchHost` speaks RunHost's language (send/receive/close, the same message tuples), so the
controller, the panel and the curves follow a PyTorch job as they follow a Loom run. It trains and
reports; pausing, stepping and the probes (boundary, histograms) need Loom's own engine. Stop asks
the job's process group to stop (the ranks agree on a step, save and leave) and kills it if it
lingers; the saved weights come back through "Keep trained weights".
"""
from __future__ import annotations

import collections
import os
import shutil
import tempfile
from typing import Any, Optional

from PySide6.QtCore import QProcess, QTimer
from PySide6.QtWidgets import QComboBox

from core.export.torch_job import prepare_job
from core.graph import LoomError
from core.training.remote import RunInfo, RunStatus
from core.training.torch_engine import (STOP_GRACE_S, LogReader, TorchJob, job_error, kill_job, stop_job,
                                        trained_weights)

ENGINE_CHOICES = [("Loom", "loom", 1)] + [(f"PyTorch, {n} process{'es' if n > 1 else ''}", "torch", n)
                                          for n in sorted({1, 2, 4, max(2, min(8, os.cpu_count() or 1))})]
NOT_HERE = "this needs Loom's own engine: the PyTorch engine trains and reports the curves"


def engine_box() -> QComboBox:
    """The Training tab's engine choice: Loom, or PyTorch with a number of processes (torchrun)."""
    box = QComboBox()
    for text, engine, processes in ENGINE_CHOICES:
        box.addItem(text, (engine, processes))
    box.setToolTip("Loom trains in its own process, with every live view; PyTorch trains the exported script "
                   "data-parallel under torchrun (gloo on the CPU, NCCL on GPUs) and feeds the curves "
                   "(docs/scale-out.md)")
    return box


def engine_choice(box: QComboBox) -> tuple[str, int]:
    """("loom" or "torch", number of processes) for the box's current item."""
    return box.currentData() or ("loom", 1)


class TorchHost:
    """One PyTorch job at a time, behind RunHost's interface (the controller cannot tell them apart)."""

    steppable = False

    def __init__(self) -> None:
        self.run_id = 0
        self.job: Optional[TorchJob] = None
        self._open = False
        self._process: Optional[QProcess] = None
        self._reader: Optional[LogReader] = None
        self._folder: Optional[str] = None
        self._messages: list[tuple] = []
        self._errors: collections.deque = collections.deque(maxlen=200)
        self._stopping = False
        self._ended = True
        self._step = 0
        self._pid = 0

    @property
    def alive(self) -> bool:
        return self._open

    @property
    def exitcode(self) -> Optional[int]:
        return self._process.exitCode() if self._process is not None and self._ended else None

    def warm_up(self) -> None:
        self._open = True

    def send(self, name: str, payload: Any = None) -> bool:
        if name == "build":
            self.run_id += 1
            self._open = True
            self._build(payload)
            return True
        if not self._open:
            return False
        if name == "stop":
            self._stop()
        elif name == "task":
            task_id, fn = payload
            self._messages.append((self.run_id, "task", task_id, self._task(fn)))
        elif name == "close":
            self.close()
        return True

    def receive(self) -> list[tuple]:
        self._poll()
        messages, self._messages = self._messages, []
        return messages

    def close(self, timeout: float = 10.0) -> bool:
        """End the job (stop, then kill what is left) and remove its folder."""
        self._end_job(timeout)
        self._open = False
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        return True

    # ---- Internals

    def _build(self, request: Any) -> None:
        self._end_job(STOP_GRACE_S)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = tempfile.mkdtemp(prefix="loom-torch-")
        self._step, self._stopping, self._ended = 0, False, False
        self._errors.clear()
        try:
            job = prepare_job(request.graph, request.weights, self._folder, base_dir=request.base_dir,
                              nproc=getattr(request, "processes", 1))
        except Exception as e:  # noqa: BLE001 (a graph that cannot be exported is a message, not a crash)
            self._ended = True
            error = e if isinstance(e, LoomError) else LoomError(f"{type(e).__name__}: {e}")
            self._messages.append((self.run_id, "failed", error, RunStatus("failed", 0, 0)))
            return
        self.job, self._reader = job, LogReader(job)
        command = job.command()
        self._process = QProcess()
        self._process.setWorkingDirectory(self._folder)
        self._process.setProgram(command[0])
        self._process.setArguments(command[1:])
        self._process.start()
        self._process.waitForStarted(10000)
        self._pid = self._process.processId()
        dataset = str(job.config.dataset.get("name", ""))
        note = f"PyTorch, {job.nproc} process{'es' if job.nproc > 1 else ''} (torchrun; NCCL on GPUs, else gloo)."
        # device "": the script picks CUDA or the CPU when it starts, not the editor
        self._messages.append((self.run_id, "ready", RunInfo(job.total_steps, job.steps_per_epoch, "", note, (),
                                                             dataset)))
        self._messages.append((self.run_id, "state", RunStatus("running", 0, job.total_steps)))

    def _poll(self) -> None:
        process = self._process
        if process is None or self._ended:
            return
        ended = process.state() == QProcess.NotRunning
        self._errors.extend(bytes(process.readAllStandardError()).decode("utf-8", "replace").splitlines())
        metrics = self._reader.feed(bytes(process.readAllStandardOutput()).decode("utf-8", "replace"))
        if ended:
            metrics += self._reader.finish()
        if metrics:
            self._step = metrics[-1].step
            self._messages.append((self.run_id, "metrics", metrics, self._status("running")))
        if ended:
            self._ended = True
            kill_job(self._pid)   # whatever of the job is still there (nothing, after a clean end)
            self._finish(process)

    def _finish(self, process: QProcess) -> None:
        code = process.exitCode() if process.exitStatus() == QProcess.NormalExit else -1
        if code == 0:
            self._messages.append((self.run_id, "state", self._status("finished")))
        elif self._stopping and self.job is not None and self.job.weights_out.exists():
            self._messages.append((self.run_id, "state", self._status("stopped")))
        else:
            error = job_error(code, self._errors) if not self._stopping else \
                LoomError("the PyTorch job was stopped before it saved any weights")
            self._messages.append((self.run_id, "failed", error, self._status("failed")))

    def _status(self, state: str) -> RunStatus:
        last = self._reader.last if self._reader is not None else None
        return RunStatus(state, self._step, self.job.total_steps if self.job else 0, last)

    def _stop(self) -> None:
        process = self._process
        if process is None or self._ended or self._stopping:
            return
        self._stopping = True
        pid = self._pid
        stop_job(pid)
        QTimer.singleShot(int(STOP_GRACE_S * 1000), lambda: kill_job(pid) if not self._ended else None)

    def _end_job(self, timeout: float) -> None:
        """Stop a job still running and wait for it (up to `timeout`), then kill its process group."""
        process = self._process
        if process is None or process.state() == QProcess.NotRunning:
            return
        pid = self._pid
        stop_job(pid)
        if not process.waitForFinished(int(timeout * 1000)):
            kill_job(pid)
            process.waitForFinished(2000)
        kill_job(pid)
        self._ended = True

    def _task(self, fn: Any) -> Any:
        """The one task a PyTorch job answers: the weights it saved (Run.weights)."""
        if getattr(fn, "__name__", "") != "weights" or self.job is None:
            return LoomError(NOT_HERE)
        try:
            return trained_weights(self.job)
        except LoomError as e:
            return e
