"""The training worker thread, the probes it runs between batches, and the rate limiter that brings
its metrics to the UI thread (pyqtgraph's SignalProxy idea: accumulate, then deliver ~30 times a second).

The UI thread never touches the `Run` directly: buttons put commands on a queue the worker reads
between batches, so a click never waits for a batch, and every number is computed in the worker.
"""
from __future__ import annotations

import gc
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from core.graph import Graph, LoomError
from core.training import NonFiniteError, Run, StepMetrics

REDRAW_MS = 33          # the rate limiter's period: about 30 deliveries a second
PROBE_BUDGET = 0.04     # probes may take at most this share of the training time while it runs
MAX_IDLE_WAIT = 0.05    # seconds the idle worker sleeps between looks at its command queue


class MainThreadCollector:
    """While worker threads live, Python's garbage collector runs only on the UI thread (pyqtgraph's
    GarbageCollector recipe): a collection started by a worker's allocation could destroy Qt objects
    from that thread, and Qt crashes. Counted: `hold()` per thread started, `release()` when it ends.
    """

    INTERVAL_MS = 500

    def __init__(self) -> None:
        self.holders = 0
        self.was_enabled = True
        self.timer: Optional[QTimer] = None

    def hold(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
            if self.timer is None:
                self.timer = QTimer()
                self.timer.setInterval(self.INTERVAL_MS)
                self.timer.timeout.connect(self.collect)
            self.timer.start()
        self.holders += 1

    def release(self) -> None:
        if self.holders == 0:
            return
        self.holders -= 1
        if self.holders == 0:
            self.timer.stop()
            if self.was_enabled:
                gc.enable()

    @staticmethod
    def collect() -> None:
        """Collect the generations whose counts passed their thresholds (on the UI thread)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in range(3):
            if counts[generation] <= thresholds[generation]:
                break
            gc.collect(generation)


COLLECTOR = MainThreadCollector()


class Probe:
    """Something computed from a run in the worker thread at a low rate (a view's numbers).

    Subclasses set `name` and `interval` (seconds between computations while training runs) and
    implement `compute(run)`, returning an object the UI draws. `prepare(run)` runs once after the
    run is built. Both run in the worker thread and must not touch Qt widgets.
    """

    name = "probe"
    interval = 0.5

    def prepare(self, run: Run) -> None:
        """Build what `compute` needs (compiled functions, fixed grids)."""

    def compute(self, run: Run) -> Any:
        """Return this probe's result for the run's current weights."""
        raise LookupError(self.name)


@dataclass
class RunRequest:
    """What the worker needs to build a run: a private copy of the graph and its settings."""

    graph: Graph
    config: Optional[dict] = None
    weights: Optional[dict] = None
    device: str = "cpu"
    fallback_note: str = ""
    probes: list[Probe] = field(default_factory=list)
    start_running: bool = True
    base_dir: Optional[str] = None


@dataclass(frozen=True)
class RunInfo:
    """Sent once the run is built: its size, the device it really runs on, and warnings."""

    total_steps: int
    steps_per_epoch: int
    device: str
    device_note: str
    warnings: tuple[str, ...]
    dataset: str


class MetricsBuffer:
    """A thread-safe list the worker appends StepMetrics to and the UI drains on a timer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[StepMetrics] = []

    def push(self, metrics: StepMetrics) -> None:
        with self._lock:
            self._items.append(metrics)

    def drain(self) -> list[StepMetrics]:
        with self._lock:
            items, self._items = self._items, []
        return items


class TrainingWorker(QThread):
    """Builds a `Run` and drives it; reads commands between batches; runs probes within a time budget.

    Signals are emitted from the worker thread; Qt queues them to receivers on the UI thread.
    """

    sig_ready = Signal(object)            # RunInfo
    sig_state = Signal(str)               # the run's state after a command or at the end
    sig_failed = Signal(object)           # the exception (NonFiniteError, LoomError or another)
    sig_probe = Signal(str, object)       # (probe name, result)
    sig_task_done = Signal(int, object)   # (task id, result or exception)

    def __init__(self, request: RunRequest, buffer: MetricsBuffer) -> None:
        super().__init__()
        self.request = request
        self.buffer = buffer
        self.run_obj: Optional[Run] = None
        self._commands: queue.Queue = queue.Queue()
        self._probes = list(request.probes)
        self._last_probe: dict[str, float] = {}
        self._train_time = 0.0
        self._probe_time = 0.0

    # ---- Commands (any thread)

    def command(self, name: str, payload: Any = None) -> None:
        """Queue a command: resume, pause, step, stop, quit, probe (payload: name) or task (payload: (id, fn))."""
        self._commands.put((name, payload))

    # ---- The thread

    def run(self) -> None:  # noqa: D401 (QThread override)
        run = self._build()
        if run is None:
            return
        while True:
            running = run.state == "running"
            try:
                name, payload = self._commands.get(block=not running, timeout=None if running else MAX_IDLE_WAIT)
            except queue.Empty:
                name, payload = None, None
            if name == "quit":
                run.stop()
                return
            if name is not None:
                self._handle(run, name, payload)
                continue
            if running:
                self._train_one(run)
                self._run_probes(run, force=run.done)

    def _build(self) -> Optional[Run]:
        req = self.request
        note = req.fallback_note
        try:
            try:
                run = Run(req.graph, req.config, weights=req.weights, device=req.device, base_dir=req.base_dir)
                device = req.device
            except LoomError:
                raise
            except Exception as e:  # a device that failed to start: fall back to the CPU and say why
                if req.device == "cpu":
                    raise
                run = Run(req.graph, req.config, weights=req.weights, device="cpu", base_dir=req.base_dir)
                device, note = "cpu", f"{req.device} failed ({type(e).__name__}: {e}); running on the CPU"
        except Exception as e:  # noqa: BLE001 (every failure becomes a message, never a traceback)
            self.sig_failed.emit(e)
            return None
        self.run_obj = run
        for probe in list(self._probes):
            try:
                probe.prepare(run)
            except Exception:  # noqa: BLE001 (a view that cannot follow this graph is left out)
                traceback.print_exc()
                self._probes.remove(probe)
        self.sig_ready.emit(RunInfo(run.total_steps, run.steps_per_epoch, device, note,
                                    tuple(run.warnings), run.data.description))
        if req.start_running:
            run.resume()
        self.sig_state.emit(run.state)
        self._run_probes(run, force=True)
        return run

    def _handle(self, run: Run, name: str, payload: Any) -> None:
        if name == "resume":
            run.resume()
        elif name == "pause":
            run.pause()
            self._run_probes(run, force=True)
        elif name == "stop":
            run.stop()
            self._run_probes(run, force=True)
        elif name == "step":
            if not run.done:
                run.pause()
                self._train_one(run)
                self._run_probes(run, force=True)
        elif name == "probe":
            self._run_probes(run, force=True, only=payload)
        elif name == "task":
            task_id, fn = payload
            try:
                result = fn(run)
            except Exception as e:  # noqa: BLE001 (the caller shows it as a message)
                result = e
            self.sig_task_done.emit(task_id, result)
            return
        self.sig_state.emit(run.state)

    def _train_one(self, run: Run) -> None:
        started = time.perf_counter()
        try:
            metrics = run.step()
        except NonFiniteError as e:
            self.sig_failed.emit(e)
            self.sig_state.emit(run.state)
            return
        except Exception as e:  # noqa: BLE001 (a failing op becomes a message naming its node)
            run.stop()
            self.sig_failed.emit(e)
            self.sig_state.emit(run.state)
            return
        self._train_time += time.perf_counter() - started
        if metrics is not None:
            self.buffer.push(metrics)
        if run.done:
            self.sig_state.emit(run.state)

    def _run_probes(self, run: Run, force: bool = False, only: Optional[str] = None) -> None:
        if run.state == "failed":
            return
        now = time.perf_counter()
        for probe in self._probes:
            if only is not None and probe.name != only:
                continue
            if not force:
                if now - self._last_probe.get(probe.name, -1e9) < probe.interval:
                    continue
                if self._probe_time > PROBE_BUDGET * self._train_time:
                    continue
            started = time.perf_counter()
            try:
                result = probe.compute(run)
            except Exception:  # noqa: BLE001 (a failing view must not stop training)
                traceback.print_exc()
                continue
            spent = time.perf_counter() - started
            self._probe_time += spent
            self._last_probe[probe.name] = time.perf_counter()
            self.sig_probe.emit(probe.name, result)


class TrainingController(QObject):
    """The UI-side handle on one worker at a time: start, pause, resume, step, stop, run tasks.

    Metrics arrive as `sig_metrics(list[StepMetrics])` at most ~30 times a second, however fast the
    batches run; everything else arrives as the worker's signals re-emitted here.
    """

    sig_metrics = Signal(list)
    sig_ready = Signal(object)
    sig_state = Signal(str)
    sig_failed = Signal(object)
    sig_probe = Signal(str, object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.buffer = MetricsBuffer()
        self.worker: Optional[TrainingWorker] = None
        self.state = "idle"
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        self._tasks: dict[int, Callable[[Any], None]] = {}
        self._next_task = 0

    # ---- Public API

    def start(self, request: RunRequest) -> None:
        """Stop any current worker and start a new one for `request`."""
        self.shutdown()
        self.buffer.drain()
        self.state = "building"
        worker = TrainingWorker(request, self.buffer)
        worker.sig_ready.connect(self.sig_ready)
        worker.sig_state.connect(self._on_state)
        worker.sig_failed.connect(self._on_failed)
        worker.sig_probe.connect(self.sig_probe)
        worker.sig_task_done.connect(self._on_task_done)
        self.worker = worker
        self._timer.start()
        COLLECTOR.hold()
        worker.start()

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def step(self) -> None:
        self._send("step")

    def stop(self) -> None:
        self._send("stop")

    def refresh_probe(self, name: str) -> None:
        """Ask the worker to compute one probe now (with the current weights)."""
        self._send("probe", name)

    def submit(self, fn: Callable[[Run], Any], callback: Callable[[Any], None]) -> bool:
        """Run `fn(run)` in the worker between batches; `callback(result or exception)` on the UI thread."""
        if not self.alive:
            return False
        self._next_task += 1
        self._tasks[self._next_task] = callback
        self._send("task", (self._next_task, fn))
        return True

    @property
    def alive(self) -> bool:
        """Whether a worker thread exists and still runs (it idles once the run is over)."""
        return self.worker is not None and self.worker.isRunning()

    @property
    def active(self) -> bool:
        """Whether a run is building, running or paused (an edit of the graph would be ignored by it)."""
        return self.alive and self.state in ("building", "ready", "running", "paused")

    @property
    def run(self) -> Optional[Run]:
        """The worker's run (read its plain attributes only; numbers come through tasks and probes)."""
        return self.worker.run_obj if self.worker is not None else None

    def flush(self) -> None:
        """Deliver the metrics accumulated since the last tick (the rate limiter's tick)."""
        items = self.buffer.drain()
        if items:
            self.sig_metrics.emit(items)
        if self.worker is not None and not self.worker.isRunning():
            self._timer.stop()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """End the worker thread (after its current batch) and wait for it; True when it ended."""
        worker, self.worker = self.worker, None
        self._timer.stop()
        if worker is None:
            return True
        worker.command("quit")
        ended = worker.wait(timeout_ms)
        if ended:
            COLLECTOR.release()
        for signal in (worker.sig_ready, worker.sig_state, worker.sig_failed, worker.sig_probe,
                       worker.sig_task_done):
            signal.disconnect()
        self.flush()
        self._tasks.clear()
        self.state = "idle"
        return ended

    # ---- Internals

    def _send(self, name: str, payload: Any = None) -> None:
        if self.worker is not None:
            self.worker.command(name, payload)

    def _on_state(self, state: str) -> None:
        if self.sender() is not self.worker:
            return
        self.flush()
        self.state = state
        self.sig_state.emit(state)

    def _on_failed(self, error: object) -> None:
        if self.sender() is not self.worker:
            return
        self.flush()
        self.state = "failed"
        self.sig_failed.emit(error)

    def _on_task_done(self, task_id: int, result: object) -> None:
        callback = self._tasks.pop(task_id, None)
        if callback is not None:
            callback(result)


class BackgroundTask(QThread):
    """Run one function off the UI thread (loading a data set for its preview); `sig_done(result)`.

    The result is the exception when the function raised. Keep a reference until it is done.
    """

    sig_done = Signal(object)

    def __init__(self, fn: Callable[[], Any], parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.finished.connect(self._release)   # a method of this QObject: queued to the UI thread

    def start(self) -> None:  # noqa: D401 (QThread override)
        COLLECTOR.hold()
        super().start()

    def _release(self) -> None:
        COLLECTOR.release()

    def run(self) -> None:  # noqa: D401 (QThread override)
        try:
            result = self._fn()
        except Exception as e:  # noqa: BLE001 (shown to the user as a message)
            result = e
        self.sig_done.emit(result)


DEVICE_CHOICES = ["auto", "CPU", "CUDA"]


def available_device_names() -> tuple[list[str], str]:
    """Names of the devices this machine offers ("cpu", "cuda"...), and why CUDA is missing if it is."""
    try:
        from core import devices
    except ImportError:
        return ["cpu"], "this build of Loom has no device layer (core.devices) yet"
    probe = getattr(devices, "available_devices", None)
    if probe is None:
        return ["cpu"], "core.devices offers no available_devices()"
    try:
        found = probe()
    except Exception as e:  # noqa: BLE001 (a broken driver is a reason, not a crash)
        return ["cpu"], f"looking for devices failed ({type(e).__name__}: {e})"
    names = []
    for device in found if not isinstance(found, dict) else found.keys():
        text = str(getattr(device, "kind", None) or getattr(device, "name", None) or device).lower()
        names.append("cuda" if "cuda" in text or "gpu" in text else text)
    reason = "" if "cuda" in names else "no CUDA device was found on this machine"
    return (names or ["cpu"]), reason


def resolve_device(choice: str) -> tuple[str, str]:
    """The device to compile for ("cpu" or "cuda") given the selector's text, and a note when it fell back."""
    choice = choice.lower()
    if choice == "cpu":
        return "cpu", ""
    names, reason = available_device_names()
    if "cuda" in names:
        return "cuda", ""
    if choice == "auto":
        return "cpu", f"Auto chose the CPU: {reason}."
    return "cpu", f"Fell back to the CPU: {reason}."
