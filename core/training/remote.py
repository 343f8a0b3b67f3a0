"""A training run in its own process, driven by messages.

Why a process: on the 2-core machines Loom is taught on, a worker *thread* lost 30 to 50 % of its
steps to the editor's drawing. Every redraw holds Python's GIL, and NumPy gives it up and takes it back
on each call, so the two threads queued behind each other. A process has its own interpreter and its
own core: the plots draw freely, and a run that crashes (a fault in a native library, memory running
out) ends its process, not the editor.

    host = RunHost()
    host.warm_up()                       # optional: start the process before the first run needs it
    host.send("build", request)          # starts the process if it is not running
    for message in host.receive(): ...   # never blocks: call it on a timer
    host.close()

Commands: build (a RunRequest), resume, pause, step, stop, probe (a probe's name), task ((id, fn)),
close. Messages back are tuples (run id, kind, ...):

    ("ready", RunInfo)    ("state", RunStatus)    ("metrics", [StepMetrics], RunStatus)
    ("failed", error, RunStatus)    ("probe", name, result)    ("task", task id, result or exception)

A probe (see `Probe` in gui/training/probes.py) has `name`, `interval`, `prepare(run)` and
`compute(run)`; probes run between batches, each every `interval` seconds of wall time, stretched
when needed so that all of them together take at most PROBE_SHARE of it (a steady rate whatever the
run's length, and a bounded cost to training speed). Probes and
task functions cross by reference (module-level names) between Loom's own processes; the graph
crosses as its file-format document and is rebuilt through the same checks as a file.
"""
from __future__ import annotations

import multiprocessing
import pickle
import signal
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from core.graph import LoomError, graph_document, graph_from_dict

from .loop import Run, StepMetrics
from .nonfinite import NonFiniteError

FLUSH_S = 0.03          # metrics go to the editor in batches, about 30 a second
PROBE_SHARE = 0.1       # probes together may take at most this share of the wall time while it runs


@dataclass
class RunRequest:
    """What the process needs to build a run: the graph (a private copy) and its settings."""

    graph: Any                       # a Graph here; its document on the way to the process
    config: Optional[dict] = None
    weights: Optional[dict] = None
    device: str = "cpu"
    fallback_note: str = ""
    probes: list = field(default_factory=list)
    start_running: bool = True
    base_dir: Optional[str] = None
    engine: str = "loom"             # or "torch": the editor's TorchHost trains it under torchrun
    processes: int = 1               # the PyTorch engine's number of processes


@dataclass(frozen=True)
class RunInfo:
    """Sent once the run is built: its size, the device it really runs on, and warnings."""

    total_steps: int
    steps_per_epoch: int
    device: str
    device_note: str
    warnings: tuple[str, ...]
    dataset: str


@dataclass(frozen=True)
class RunStatus:
    """Where the run stands: sent with every state change and every batch of metrics."""

    state: str
    step_count: int
    total_steps: int
    last: Optional[StepMetrics] = None


class RunHost:
    """The editor's end: one training process, started on the first `build` and reused by later runs."""

    def __init__(self) -> None:
        self._process = None
        self._conn = None
        self.run_id = 0         # the number of the last run built: messages carry it, older ones are stale

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exitcode(self) -> Optional[int]:
        return self._process.exitcode if self._process is not None else None

    def warm_up(self) -> None:
        """Start the process now (it takes a second), so that the first run starts at once."""
        if not self.alive:
            self._start()

    def send(self, name: str, payload: Any = None) -> bool:
        """Queue a command for the process; False when there is no process to take it."""
        if name == "build":
            self.run_id += 1
            payload = (self.run_id, replace(payload, graph=graph_document(payload.graph)))
            self.warm_up()
        if not self.alive:
            return False
        try:
            self._conn.send((name, payload))
        except (OSError, ValueError):    # the process ended between the check and the send
            return False
        return True

    def receive(self) -> list[tuple]:
        """Every message that has arrived, without waiting."""
        messages = []
        while self._conn is not None:
            try:
                if not self._conn.poll():
                    break
                messages.append(self._conn.recv())
            except (EOFError, OSError):
                break
        return messages

    def close(self, timeout: float = 10.0) -> bool:
        """End the process (after its current batch); True when it ended."""
        process, conn, self._process, self._conn = self._process, self._conn, None, None
        if process is None:
            return True
        try:
            conn.send(("close", None))
        except (OSError, ValueError):
            pass
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(2.0)
        conn.close()
        return not process.is_alive()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")     # never fork a process that runs Qt
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child,), name="loom-training", daemon=True)
        self._process.start()
        child.close()


def serve(conn) -> None:
    """The training process's main loop (the target of RunHost's process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # Ctrl+C in the terminal is the editor's to handle
    RunServer(conn).serve()


class RunServer:
    """Builds runs and drives them: commands are read between batches, so none waits for an epoch."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.run: Optional[Run] = None
        self.run_id = 0
        self.probes: list = []
        self.pending: list[StepMetrics] = []
        self.last_flush = 0.0
        self.last_probe: dict[str, float] = {}     # when each probe last finished
        self.probe_cost: dict[str, float] = {}     # each probe's recent compute time (seconds)

    def serve(self) -> None:
        while True:
            if self.run is not None and self.run.state == "running" and not self.conn.poll():
                self._train_one()
                continue
            try:
                name, payload = self.conn.recv()
            except (EOFError, OSError):      # the editor is gone
                return
            if name == "close":
                return
            self._handle(name, payload)

    # ---- Commands

    def _handle(self, name: str, payload: Any) -> None:
        if name == "build":
            self._build(payload)
            return
        run = self.run
        if run is None:
            return
        if name == "task":
            task_id, fn = payload
            try:
                result = fn(run)
            except Exception as e:  # noqa: BLE001 (the editor shows it as a message)
                result = e
            self._send("task", task_id, result)
            return
        if name == "probe":
            self._run_probes(force=True, only=payload)
            return
        if name == "resume":
            run.resume()
        elif name == "pause":
            run.pause()
            self._run_probes(force=True)
        elif name == "stop":
            run.stop()
            self._run_probes(force=True)
        elif name == "step" and not run.done:
            run.pause()
            self._train_one()
            return
        self._send_state()

    def _build(self, numbered: tuple[int, RunRequest]) -> None:
        self.run_id, request = numbered
        self.run, self.pending, self.last_probe, self.probe_cost = None, [], {}, {}
        note = request.fallback_note
        try:
            graph = graph_from_dict(request.graph, "<training request>")
            try:
                run = Run(graph, request.config, weights=request.weights, device=request.device,
                          base_dir=request.base_dir)
                device = request.device
            except LoomError:
                raise
            except Exception as e:  # a device that failed to start: fall back to the CPU and say why
                if request.device == "cpu":
                    raise
                run = Run(graph, request.config, weights=request.weights, device="cpu", base_dir=request.base_dir)
                device, note = "cpu", f"{request.device} failed ({type(e).__name__}: {e}); running on the CPU"
        except Exception as e:  # noqa: BLE001 (every failure becomes a message, never a traceback)
            self._send("failed", e, RunStatus("failed", 0, 0))
            return
        self.run = run
        self.probes = []
        for probe in request.probes:
            try:
                probe.prepare(run)
                self.probes.append(probe)
            except Exception:  # noqa: BLE001 (a view that cannot follow this graph is left out)
                traceback.print_exc()
        self._send("ready", RunInfo(run.total_steps, run.steps_per_epoch, device, note, tuple(run.warnings),
                                    run.data.description))
        if request.start_running:
            run.resume()
        self._run_probes(force=True)
        self._send_state()

    # ---- Training

    def _train_one(self) -> None:
        run = self.run
        try:
            metrics = run.step()
        except Exception as e:  # noqa: BLE001 (a NaN, or a failing op, becomes a message naming its node)
            if not isinstance(e, NonFiniteError):
                run.stop()
            self._flush()
            self._send("failed", e, self._status())
            self._send_state()
            return
        now = time.perf_counter()
        if metrics is not None:
            self.pending.append(metrics)
        if run.done or run.state != "running":
            self._run_probes(force=True)
            self._send_state()
            return
        self._run_probes()
        if now - self.last_flush >= FLUSH_S:
            self._flush()

    def probe_gap(self, probe) -> float:
        """Seconds between two computations of `probe`: its interval, or longer when its cost would
        take more than its equal part of PROBE_SHARE."""
        share = PROBE_SHARE / max(1, len(self.probes))
        return max(probe.interval, self.probe_cost.get(probe.name, 0.0) / share)

    def _run_probes(self, force: bool = False, only: Optional[str] = None) -> None:
        if self.run is None or self.run.state == "failed":
            return
        for probe in self.probes:
            if only is not None and probe.name != only:
                continue
            started = time.perf_counter()
            if not force and started - self.last_probe.get(probe.name, -1e9) < self.probe_gap(probe):
                continue
            try:
                result = probe.compute(self.run)
            except Exception:  # noqa: BLE001 (a failing view must not stop training)
                traceback.print_exc()
                continue
            self.last_probe[probe.name] = now = time.perf_counter()
            cost = self.probe_cost.get(probe.name)
            self.probe_cost[probe.name] = now - started if cost is None else 0.5 * (cost + now - started)
            self._send("probe", probe.name, result)

    # ---- Messages

    def _status(self) -> RunStatus:
        run = self.run
        return RunStatus(run.state, run.step_count, run.total_steps, run.last)

    def _flush(self) -> None:
        if self.pending:
            items, self.pending = self.pending, []
            self._send("metrics", items, self._status())
        self.last_flush = time.perf_counter()

    def _send_state(self) -> None:
        self._flush()
        self._send("state", self._status())

    def _send(self, kind: str, *items: Any) -> None:
        items = tuple(portable(item) if isinstance(item, BaseException) else item for item in items)
        try:
            self.conn.send((self.run_id, kind, *items))
        except (pickle.PicklingError, TypeError, AttributeError) as e:   # a task's result that cannot travel
            self._send(kind, *items[:-1], RuntimeError(f"the result cannot be sent to the editor ({e})"))
        except (OSError, ValueError):    # the editor is gone; the loop ends at the next receive
            pass


def portable(error: BaseException) -> BaseException:
    """`error` if it can be rebuilt in the editor, else a RuntimeError with its text (an exception from a
    library may hold something that cannot be pickled, or need arguments to be rebuilt)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
