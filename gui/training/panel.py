"""The training panel: data set and preview, optimizer and hyper-parameters, device, the run buttons
(Start, Pause, Resume, Step, Stop) and the progress line. Edits go to `graph.training` (undoably).
"""
from __future__ import annotations

import copy
import time
from collections import deque
from typing import Any, Callable, Optional

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from core.graph import Graph, LoomError
from core.training import DATASETS, NonFiniteError, StepMetrics
from core.training.config import OPTIMIZER_DEFAULTS
from core.training.remote import RunInfo, RunRequest

from .controller import DEVICE_CHOICES, BackgroundTask, TrainingController, resolve_device
from .dataset_preview import DatasetPreview, preview_data

ERROR_STYLE = "color: #b42318;"
NOTE_STYLE = "color: #8a5a00;"
RATE_WINDOW = 2.0   # seconds of training time the steps/s figure averages over
LABEL_PERIOD = 0.25  # seconds between rewrites of the progress text (the bar follows every delivery)


class SetTrainingCommand(QUndoCommand):
    """Replace graph.training; consecutive edits of the same setting merge into one undo step."""

    ID = 0x7261

    def __init__(self, graph: Graph, new: dict, key: str) -> None:
        super().__init__(f"Change training {key}")
        self.graph, self.key = graph, key
        self.old, self.new = copy.deepcopy(graph.training), copy.deepcopy(new)

    def id(self) -> int:  # noqa: A003 (Qt override)
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, SetTrainingCommand) or other.key != self.key or other.graph is not self.graph:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.graph.set_training(self.new)

    def undo(self) -> None:
        self.graph.set_training(self.old)


class TrainingPanel(QWidget):
    """Settings and run controls for the graph's training; drives a TrainingController.

    `probe_factory(graph)` gives the probes (views' computations) for a new run; `weights_provider()`
    the initial weights (None: drawn with the seed). `sig_run_starting(label)` precedes each run;
    `sig_error(exception)` reports a failed run (a NonFiniteError names its node).
    """

    sig_run_starting = Signal(str)
    sig_error = Signal(object)
    sig_keep_weights = Signal()

    def __init__(self, controller: TrainingController, graph: Optional[Graph] = None, *,
                 undo_stack: Optional[QUndoStack] = None,
                 probe_factory: Optional[Callable[[Graph], list]] = None,
                 weights_provider: Optional[Callable[[], Optional[dict]]] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.undo_stack = undo_stack
        self.probe_factory = probe_factory or (lambda graph: [])
        self.weights_provider = weights_provider or (lambda: None)
        self.graph: Optional[Graph] = None
        self.info: Optional[RunInfo] = None
        self.run_count = 0
        self._rate: deque = deque()
        self._label_time = 0.0
        self._preview_task: Optional[BackgroundTask] = None
        self._preview_pending = False
        self._build_ui()
        controller.sig_ready.connect(self._on_ready)
        controller.sig_state.connect(self._on_state)
        controller.sig_failed.connect(self._on_failed)
        controller.sig_metrics.connect(self._on_metrics)
        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self.set_graph(graph)
        self._update_buttons("idle")

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        """Follow another graph (the window opened a file)."""
        if self.graph is not None:
            self.graph.events.training_changed.disconnect(self._on_training_changed)
        self.graph = graph
        if graph is not None:
            graph.events.training_changed.connect(self._on_training_changed)
        self.load_config()

    def load_config(self) -> None:
        """Show graph.training in the widgets (without echoing edits back)."""
        config = self._config()
        dataset = config.get("dataset", {}) if isinstance(config.get("dataset"), dict) else {}
        optimizer = config.get("optimizer", {}) if isinstance(config.get("optimizer"), dict) else {}
        with QSignalBlocker(self.dataset_box), QSignalBlocker(self.optimizer_box):
            self.dataset_box.setCurrentText(dataset.get("name", "xor"))
            self.optimizer_box.setCurrentText(optimizer.get("name", "sgd"))
        self._rebuild_dataset_form(dataset)
        self._rebuild_optimizer_form(optimizer)
        for key, box, default in (("batch_size", self.batch_box, 32), ("epochs", self.epochs_box, 10),
                                  ("seed", self.seed_box, 0)):
            with QSignalBlocker(box):
                value = config.get(key, default)
                box.setValue(value if isinstance(value, int) else default)
        has = bool(config)
        self.settings.setEnabled(has)
        if not has:
            self.message.setText("This graph has no training configuration yet (see docs/training.md).")
        self._preview_timer.start()

    def start(self, running: bool = True) -> None:
        """Begin a new run of graph.training from fresh (or the window's) weights (paused unless `running`)."""
        if self.graph is None:
            return
        device, note = resolve_device(self.device_box.currentText())
        self.device_note.setText(note)
        self.message.setText("")
        self.run_count += 1
        self._rate.clear()
        self.progress.setValue(0)
        self.sig_run_starting.emit(f"run {self.run_count}")
        request = RunRequest(self.graph.copy(), None, self.weights_provider(), device, note,
                             self.probe_factory(self.graph), start_running=running)
        self.controller.start(request)
        self._update_buttons("building")

    def show_message(self, text: str, error: bool) -> None:
        """A line under the progress: an error (red) or a note (amber)."""
        self.message.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)
        self.message.setText(text)

    def pause(self) -> None:
        self.controller.pause()

    def resume(self) -> None:
        self.controller.resume()

    def step(self) -> None:
        """Train exactly one batch (starting a paused run first when none exists)."""
        if not self.controller.alive or self.controller.state in ("finished", "stopped", "failed"):
            self.start(running=False)
        self.controller.step()

    def stop(self) -> None:
        self.controller.stop()

    # ---- Building

    def _build_ui(self) -> None:
        self.dataset_box = QComboBox()
        self.dataset_box.addItems(list(DATASETS))
        self.dataset_box.setToolTip("\n".join(f"{name}: {info.doc}" for name, info in DATASETS.items()))
        self.dataset_box.currentTextChanged.connect(self._on_dataset_changed)
        self.dataset_form = QFormLayout()
        self.preview = DatasetPreview()
        self.preview.setMinimumHeight(150)
        self.preview.setMaximumHeight(220)
        data_group = QGroupBox("Data")
        data_layout = QVBoxLayout(data_group)
        data_layout.addWidget(self.dataset_box)
        data_layout.addLayout(self.dataset_form)
        data_layout.addWidget(self.preview, 1)

        self.optimizer_box = QComboBox()
        self.optimizer_box.addItems(list(OPTIMIZER_DEFAULTS))
        self.optimizer_box.currentTextChanged.connect(self._on_optimizer_changed)
        self.optimizer_form = QFormLayout()
        self.batch_box = _spin(1, 1 << 20, lambda v: self._edit(("batch_size",), v))
        self.epochs_box = _spin(1, 1 << 20, lambda v: self._edit(("epochs",), v))
        self.seed_box = _spin(0, 1 << 30, lambda v: self._edit(("seed",), v))
        opt_group = QGroupBox("Optimizer")
        opt_layout = QVBoxLayout(opt_group)
        opt_layout.addWidget(self.optimizer_box)
        opt_layout.addLayout(self.optimizer_form)
        loop_form = QFormLayout()
        loop_form.addRow("Batch size", self.batch_box)
        loop_form.addRow("Epochs", self.epochs_box)
        loop_form.addRow("Seed", self.seed_box)
        opt_layout.addLayout(loop_form)

        self.device_box = QComboBox()
        self.device_box.addItems(DEVICE_CHOICES)
        self.device_box.currentTextChanged.connect(lambda text: self.device_note.setText(resolve_device(text)[1]))
        self.device_note = QLabel("", wordWrap=True)
        self.device_note.setStyleSheet(NOTE_STYLE)
        device_row = QHBoxLayout()
        device_row.addWidget(QLabel("Device"))
        device_row.addWidget(self.device_box, 1)

        self.settings = QWidget()
        settings_layout = QVBoxLayout(self.settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(data_group, 1)
        settings_layout.addWidget(opt_group)

        self.buttons = {}
        button_grid = QGridLayout()         # two rows: the panel stays narrow and no label is clipped
        for k, (name, slot) in enumerate((("Start", self.start), ("Pause", self.pause), ("Resume", self.resume),
                                          ("Step", self.step), ("Stop", self.stop))):
            button = QPushButton(name)
            button.clicked.connect(lambda checked=False, slot=slot: slot())
            button_grid.addWidget(button, k // 3, k % 3)
            self.buttons[name] = button
        self.buttons["Step"].setToolTip("Train exactly one batch, then stay paused")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("Not started", wordWrap=True)
        self.keep_button = QPushButton("Keep trained weights")
        self.keep_button.setToolTip("Put this run's weights into the document, so that Save and Export carry "
                                    "them and the next run starts from them (Undo takes them back)")
        self.keep_button.clicked.connect(self.sig_keep_weights)
        self.message = QLabel("", wordWrap=True)
        self.message.setStyleSheet(ERROR_STYLE)

        self.setMinimumWidth(260)
        layout = QVBoxLayout(self)
        layout.addLayout(button_grid)       # the run's controls first: in view whatever the dock's height
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.settings, 1)
        layout.addLayout(device_row)
        layout.addWidget(self.device_note)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.message)
        self.device_note.setText(resolve_device(self.device_box.currentText())[1])

    def _rebuild_dataset_form(self, dataset: dict) -> None:
        _clear_form(self.dataset_form)
        info = DATASETS.get(dataset.get("name", self.dataset_box.currentText()))
        if info is None:
            return
        for option in info.options:
            value = dataset.get(option.name, option.default)
            editor = _option_editor(option.kind, value, option.choices, option.low, option.high,
                                    lambda v, n=option.name: self._edit(("dataset", n), v))
            editor.setToolTip(option.doc)
            self.dataset_form.addRow(option.name.replace("_", " "), editor)

    def _rebuild_optimizer_form(self, optimizer: dict) -> None:
        _clear_form(self.optimizer_form)
        name = optimizer.get("name", self.optimizer_box.currentText())
        for key, default in OPTIMIZER_DEFAULTS.get(name, {}).items():
            value = optimizer.get(key, default)
            kind = "bool" if isinstance(default, bool) else "float"
            editor = _option_editor(kind, value, (), 0.0, None, lambda v, k=key: self._edit(("optimizer", k), v))
            self.optimizer_form.addRow(key.replace("_", " "), editor)

    # ---- Editing graph.training

    def _config(self) -> dict:
        training = self.graph.training if self.graph is not None else None
        return training if isinstance(training, dict) else {}

    def _edit(self, path: tuple[str, ...], value: Any) -> None:
        """Set one setting (a key path into graph.training) through the undo stack when there is one."""
        if self.graph is None or not self._config():
            return
        new = copy.deepcopy(self._config())
        target = new
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if path == ("optimizer", "name"):
            new["optimizer"] = {"name": value}
        elif path == ("dataset", "name"):
            new["dataset"] = {"name": value}
        else:
            target[path[-1]] = value
        self._apply(new, ".".join(path))

    def _apply(self, new: dict, key: str) -> None:
        if self.undo_stack is not None:
            self.undo_stack.push(SetTrainingCommand(self.graph, new, key))
        else:
            self.graph.set_training(new)

    def _on_training_changed(self, old: dict, new: dict) -> None:
        self.load_config()

    def _on_dataset_changed(self, name: str) -> None:
        self._edit(("dataset", "name"), name)

    def _on_optimizer_changed(self, name: str) -> None:
        self._edit(("optimizer", "name"), name)

    # ---- The preview (loaded in a background thread)

    def refresh_preview(self) -> None:
        """Load the configured data set off the UI thread and show it."""
        dataset = self._config().get("dataset")
        if not isinstance(dataset, dict):
            self.preview.show_message("No data set configured.")
            return
        if self._preview_task is not None and self._preview_task.isRunning():
            self._preview_pending = True
            return
        task = BackgroundTask(lambda d=copy.deepcopy(dataset): preview_data(d), self)
        task.sig_done.connect(self._on_preview)
        self._preview_task = task
        task.start()

    def _on_preview(self, result: object) -> None:
        if isinstance(result, Exception):
            self.preview.show_message(str(result))
        else:
            self.preview.show_preview(result)
        if self._preview_pending:
            self._preview_pending = False
            self.refresh_preview()

    def wait_preview(self, timeout_ms: int = 5000) -> None:
        """Wait for a preview being loaded (on close and in tests)."""
        self._preview_timer.stop()
        if self._preview_task is not None:
            self._preview_task.wait(timeout_ms)

    # ---- Following the run

    def _on_ready(self, info: RunInfo) -> None:
        self.info = info
        text = f"Training on {info.device.upper()}."
        self.device_note.setText(f"{info.device_note} {text}".strip())
        if info.warnings:
            self.show_message("\n".join(info.warnings), error=False)

    def _on_state(self, state: str) -> None:
        self._update_buttons(state)
        if state in ("finished", "stopped", "paused") and self.info is not None:
            last = self.controller.status.last if self.controller.status is not None else None
            if last is not None:
                self._show_progress(last, state)

    def _on_failed(self, error: object) -> None:
        self.show_message(describe_error(error), error=True)
        self._update_buttons("failed")
        self.sig_error.emit(error)

    def _on_metrics(self, items: list[StepMetrics]) -> None:
        last = items[-1]
        self._rate.append((last.elapsed, last.step))
        while len(self._rate) > 2 and last.elapsed - self._rate[0][0] > RATE_WINDOW:
            self._rate.popleft()
        self.progress.setValue(round(1000 * last.step / max(last.total_steps, 1)))
        now = time.perf_counter()
        if now - self._label_time >= LABEL_PERIOD or last.step == last.total_steps:
            self._label_time = now
            self._show_progress(last, self.controller.state)

    def _show_progress(self, m: StepMetrics, state: str) -> None:
        self.progress.setValue(round(1000 * m.step / max(m.total_steps, 1)))
        t0, s0 = self._rate[0] if self._rate else (0.0, 0)
        rate = (m.step - s0) / (m.elapsed - t0) if m.elapsed > t0 and m.step > s0 else m.step / max(m.elapsed, 1e-9)
        left = (m.total_steps - m.step) / rate if rate > 0 else 0.0
        epochs = -(-m.total_steps // m.steps_per_epoch)
        words = {"running": "", "paused": " · paused", "finished": " · finished", "stopped": " · stopped"}
        self.progress_label.setText(f"epoch {m.epoch}/{epochs} · step {m.step}/{m.total_steps} · "
                                    f"{rate:.0f} steps/s · {_duration(left)} left{words.get(state, '')}")

    def _update_buttons(self, state: str) -> None:
        live = state in ("running", "paused", "ready", "building")
        enabled = {"Start": state not in ("running", "building"), "Pause": state == "running",
                   "Resume": state in ("paused", "ready"), "Step": state != "building" and state != "running",
                   "Stop": live}
        for name, button in self.buttons.items():
            button.setEnabled(enabled[name])
        trained = self.controller.status is not None and self.controller.status.step_count > 0
        self.keep_button.setEnabled(trained and state in ("paused", "finished", "stopped"))
        self.settings.setEnabled(bool(self._config()))


def describe_error(error: object) -> str:
    """A failed run in words: NaN/Inf with its node, step and what went in; or the error's message."""
    if isinstance(error, NonFiniteError):
        lines = [f"Training stopped at step {error.step} (epoch {error.epoch}): node '{error.node}' produced "
                 f"{error.value}."]
        lines += [f"  {port} {text}" for port, text in error.inputs.items()]
        return "\n".join(lines)
    if isinstance(error, LoomError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def _spin(low: int, high: int, on_change: Callable[[int], None]) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)
    box.valueChanged.connect(on_change)
    return box


def _option_editor(kind: str, value: Any, choices: tuple, low: Optional[float], high: Optional[float],
                   on_change: Callable[[Any], None]) -> QWidget:
    """One small editor per option kind: int, float, bool, choice or text."""
    if kind == "int":
        box = _spin(int(low) if low is not None else -(1 << 30), int(high) if high is not None else 1 << 30,
                    on_change)
        with QSignalBlocker(box):
            box.setValue(int(value) if isinstance(value, (int, float)) else 0)
        return box
    if kind == "float":
        return FloatEdit(float(value) if isinstance(value, (int, float)) else 0.0, low, high, on_change)
    if kind in ("choice", "bool"):
        box = QComboBox()
        box.addItems(list(choices) if kind == "choice" else ["false", "true"])
        box.setCurrentText(str(value).lower() if kind == "bool" else str(value))
        box.currentTextChanged.connect(lambda text: on_change(text == "true" if kind == "bool" else text))
        return box
    edit = QLineEdit("" if value is None else (", ".join(value) if isinstance(value, list) else str(value)))
    edit.editingFinished.connect(lambda: on_change(_text_value(edit.text())))
    return edit


class FloatEdit(QLineEdit):
    """A number field that shows 1e-08 as 1e-08 (a spin box would show 0.00000); bad input is reverted."""

    def __init__(self, value: float, low: Optional[float], high: Optional[float],
                 on_change: Callable[[float], None]) -> None:
        super().__init__()
        self.low, self.high, self.on_change = low, high, on_change
        self.value = value
        self.setText(f"{value:g}")
        self.editingFinished.connect(self._finished)

    def _finished(self) -> None:
        try:
            value = float(self.text())
        except ValueError:
            value = None
        inside = value is not None and value == value and (self.low is None or value >= self.low) \
            and (self.high is None or value <= self.high)
        if not inside:
            self.setText(f"{self.value:g}")
            return
        if value != self.value:
            self.value = value
            self.on_change(value)


def _text_value(text: str) -> Any:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return parts if len(parts) > 1 else (parts[0] if parts else None)


def _clear_form(form: QFormLayout) -> None:
    while form.rowCount():
        form.removeRow(0)
