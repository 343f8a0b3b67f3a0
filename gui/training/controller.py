"""The editor's handle on the training process, and the rate limiter that brings its metrics to the UI
thread (pyqtgraph's SignalProxy idea: accumulate, then deliver ~30 times a second).

The run lives in its own process (core/training/remote.py), so drawing never slows it down; buttons
send commands it reads between batches, so a click never waits for a batch.
"""
from __future__ import annotations

import gc
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from core.graph import LoomError
from core.training.remote import RunHost, RunInfo, RunRequest, RunStatus

REDRAW_MS = 33          # the rate limiter's period: about 30 deliveries a second
LIVE_STATES = ("building", "ready", "running", "paused")


class MainThreadCollector:
    """While background threads live (the data set preview's), Python's garbage collector runs only on
    the UI thread (pyqtgraph's GarbageCollector recipe): a collection started by a background thread's
    allocation could destroy Qt objects from that thread, and Qt crashes. Counted: `hold()` per thread started, `release()` when it ends.
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


class TrainingController(QObject):
    """The UI-side handle on one training process: start, pause, resume, step, stop, run tasks.

    Metrics arrive as `sig_metrics(list[StepMetrics])` at most ~30 times a second, however fast the
    batches run; `status` (a RunStatus) follows the run. Messages of an earlier run are dropped.
    """

    sig_metrics = Signal(list)
    sig_ready = Signal(object)
    sig_state = Signal(str)
    sig_failed = Signal(object)
    sig_probe = Signal(str, object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.host = RunHost()
        self.hosts = {"loom": self.host}     # by engine; the PyTorch engine's host is made on first use
        self.state = "idle"
        self.status: Optional[RunStatus] = None
        self.info: Optional[RunInfo] = None
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        self._tasks: dict[int, Callable[[Any], None]] = {}
        self._next_task = 0

    # ---- Public API

    def start(self, request: RunRequest) -> None:
        """Build a new run from `request` (a run in progress is dropped)."""
        self.flush()
        self._drop_tasks()
        self.host = self._host_for(request.engine)
        self.state, self.status, self.info = "building", None, None
        if not self.host.send("build", request):
            self._process_ended()
            return
        self._timer.start()

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def step(self) -> None:
        self._send("step")

    def stop(self) -> None:
        self._send("stop")

    def refresh_probe(self, name: str) -> None:
        """Ask the process to compute one probe now (with the current weights)."""
        self._send("probe", name)

    def submit(self, fn: Callable[[Any], Any], callback: Callable[[Any], None]) -> bool:
        """Run `fn(run)` in the process between batches; `callback(result or exception)` on the UI thread.

        `fn` must be a module-level function (it travels by name); False when there is no run to ask.
        """
        if not self.alive:
            return False
        self._next_task += 1
        self._tasks[self._next_task] = callback
        self._send("task", (self._next_task, fn))
        return True

    @property
    def alive(self) -> bool:
        """Whether a run exists in a live process (it stays, idle, once the run is over)."""
        return self.host.alive and self.state != "idle"

    @property
    def active(self) -> bool:
        """Whether a run is building, running or paused (an edit of the graph would be ignored by it)."""
        return self.host.alive and self.state in LIVE_STATES

    def flush(self) -> None:
        """Deliver what the process sent since the last tick (the rate limiter's tick)."""
        metrics: list = []
        for message in self.host.receive():
            run_id, kind, *items = message
            if run_id != self.host.run_id:
                continue
            if kind == "metrics":
                metrics.extend(items[0])
                self.status = items[1]
                continue
            if metrics:              # keep the order: metrics before the state change that follows them
                self.sig_metrics.emit(metrics)
                metrics = []
            self._dispatch(kind, items)
        if metrics:
            self.sig_metrics.emit(metrics)
        if not self.host.alive and self.state in LIVE_STATES:
            self._process_ended()
        if self.state not in LIVE_STATES and not self._tasks:
            self._timer.stop()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """End the training process (after its current batch) and wait for it; True when it ended."""
        self._timer.stop()
        ended = all([host.close(timeout_ms / 1000) for host in self.hosts.values()])
        self._drop_tasks()
        self.state = "idle"
        return ended

    # ---- Internals

    def _host_for(self, engine: str):
        """The host of `engine` ("loom" or "torch"); a run still live on another host is stopped."""
        if engine not in self.hosts:
            from .torch_engine import TorchHost

            self.hosts[engine] = TorchHost()
        host = self.hosts[engine]
        if host is not self.host and self.active:
            self.host.send("stop")
        return host

    def _send(self, name: str, payload: Any = None) -> None:
        if self.state != "idle" and self.host.send(name, payload):
            self._timer.start()

    def _dispatch(self, kind: str, items: list) -> None:
        if kind == "ready":
            self.info = items[0]
            self.sig_ready.emit(items[0])
        elif kind == "state":
            self.status = items[0]
            self.state = items[0].state
            self.sig_state.emit(self.state)
        elif kind == "failed":
            error, self.status = items
            self.state = "failed"
            self.sig_failed.emit(error)
        elif kind == "probe":
            self.sig_probe.emit(*items)
        elif kind == "task":
            callback = self._tasks.pop(items[0], None)
            if callback is not None:
                callback(items[1])

    def _process_ended(self) -> None:
        """The process died under a run (or never started): say so, keep the editor going."""
        code = self.host.exitcode
        self.host.close(0)
        error = LoomError("the training process ended unexpectedly" + (f" (exit code {code})" if code else "")
                          + "; the graph and its weights are untouched. Start again to retry.")
        self._drop_tasks(error)
        self.state = "failed"
        self.sig_failed.emit(error)
        self.sig_state.emit("failed")

    def _drop_tasks(self, error: Optional[LoomError] = None) -> None:
        """Forget the tasks in flight; with `error`, tell each caller why it gets no answer."""
        tasks, self._tasks = self._tasks, {}
        for callback in tasks.values() if error is not None else ():
            callback(error)


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
