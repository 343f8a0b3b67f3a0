"""The training panel: whether Start can run (and if not, why and what to do), the run buttons (Start, Pause,
Resume, Step, Stop) and the progress line, then every setting of `graph.training`: data set and preview, the
nodes it trains (features, labels, loss, metrics), optimizer, schedule and loop. Each edit is one undo step.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from core.graph import Graph
from core.training import DATASETS, StepMetrics
from core.training.config import OPTIMIZER_DEFAULTS, SCHEDULE_DEFAULTS
from core.training.propose import propose_training
from core.training.remote import RunInfo, RunRequest

from .commands import SetTrainingCommand
from .controller import DEVICE_CHOICES, BackgroundTask, TrainingController, resolve_device
from .dataset_form import DatasetForm
from .dataset_preview import DatasetPreview, preview_data
from .option_editors import clear_form, option_editor, spin
from .progress import ProgressLine, describe_error
from .readiness import Readiness, ReadinessBox, assess
from .setup_form import SetupForm
from .torch_engine import engine_box, engine_choice

ERROR_STYLE = "color: #b42318;"
NOTE_STYLE = "color: #8a5a00;"
STRUCTURAL_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed")


class TrainingPanel(QWidget):
    """Settings and run controls for the graph's training; drives a TrainingController.

    `probe_factory(graph)` gives the probes (views' computations) for a new run; `weights_provider()`
    the initial weights (None: drawn with the seed); `base_dir()` the graph file's folder (data file paths are
    relative to it). `sig_run_starting(label)` precedes each run;
    `sig_error(exception)` reports a failed run (a NonFiniteError names its node).
    """

    sig_run_starting = Signal(str)
    sig_error = Signal(object)
    sig_keep_weights = Signal()

    def __init__(self, controller: TrainingController, graph: Optional[Graph] = None, *,
                 undo_stack: Optional[QUndoStack] = None,
                 probe_factory: Optional[Callable[[Graph], list]] = None,
                 weights_provider: Optional[Callable[[], Optional[dict]]] = None,
                 base_dir: Optional[Callable[[], Optional[str]]] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.undo_stack = undo_stack
        self.probe_factory = probe_factory or (lambda graph: [])
        self.weights_provider = weights_provider or (lambda: None)
        self.base_dir = base_dir or (lambda: None)
        self.graph: Optional[Graph] = None
        self.readiness = Readiness(False, "")
        self.info: Optional[RunInfo] = None
        self.run_count = 0
        self._preview_task: Optional[BackgroundTask] = None
        self._preview_pending = False
        self._build_ui()
        controller.sig_ready.connect(self._on_ready)
        controller.sig_state.connect(self._on_state)
        controller.sig_failed.connect(self._on_failed)
        controller.sig_metrics.connect(self._on_metrics)
        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._model_timer = QTimer(self, singleShot=True, interval=0)
        self._model_timer.timeout.connect(self._on_graph_edited)
        self._shown: dict = {}
        self.set_graph(graph)
        self._update_buttons("idle")

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        """Follow another graph (the window opened a file)."""
        if self.graph is not None:
            self.graph.events.training_changed.disconnect(self._on_training_changed)
            for name in STRUCTURAL_EVENTS:
                getattr(self.graph.events, name).disconnect(self._schedule_model)
        self.graph = graph
        if graph is not None:
            graph.events.training_changed.connect(self._on_training_changed)
            for name in STRUCTURAL_EVENTS:
                getattr(graph.events, name).connect(self._schedule_model)
        self.load_config()

    def load_config(self) -> None:
        """Show graph.training (or, while there is none, the proposed one) in the widgets, without echoing."""
        config = self._shown = self._shown_config()
        dataset = config.get("dataset", {}) if isinstance(config.get("dataset"), dict) else {}
        optimizer = config.get("optimizer", {}) if isinstance(config.get("optimizer"), dict) else {}
        with QSignalBlocker(self.dataset_box), QSignalBlocker(self.optimizer_box):
            self.dataset_box.setCurrentText(dataset.get("name", "xor"))
            self.optimizer_box.setCurrentText(optimizer.get("name", "sgd"))
        self._rebuild_dataset_form(dataset)
        self._rebuild_optimizer_form(optimizer)
        schedule = config.get("schedule", {}) if isinstance(config.get("schedule"), dict) else {}
        with QSignalBlocker(self.schedule_box):
            self.schedule_box.setCurrentText(schedule.get("name", "constant"))
        self._rebuild_schedule_form(schedule)
        for key, box, default in (("batch_size", self.batch_box, 32), ("epochs", self.epochs_box, 10),
                                  ("seed", self.seed_box, 0)):
            with QSignalBlocker(box):
                value = config.get(key, default)
                box.setValue(value if isinstance(value, int) else default)
        with QSignalBlocker(self.shuffle_box):
            self.shuffle_box.setChecked(config.get("shuffle", True) is not False)
        self._refresh_model()
        self._preview_timer.start()

    def use_settings(self, config: dict) -> None:
        """Store `config` (the proposal) as graph.training, as one undo step."""
        if self.graph is not None:
            self._apply(config, "set-up")

    def start(self, running: bool = True) -> None:
        """Begin a new run of graph.training from fresh (or the window's) weights (paused unless `running`)."""
        if self.graph is None:
            return
        self._refresh_model()
        if not self.readiness.ready:
            self.show_message(f"{self.readiness.reason}\n{self.readiness.advice}".strip(), error=True)
            return
        device, note = resolve_device(self.device_box.currentText())
        self.device_note.setText(note)
        self.message.setText("")
        self.run_count += 1
        self.progress.reset()
        self.sig_run_starting.emit(f"run {self.run_count}")
        engine, processes = engine_choice(self.engine_box)
        probes = self.probe_factory(self.graph) if engine == "loom" else []   # a PyTorch job feeds the curves only
        request = RunRequest(self.graph.copy(), None, self.weights_provider(), device, note, probes,
                             start_running=running, base_dir=self.base_dir(), engine=engine, processes=processes)
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
            if not self.readiness.ready:
                return
        self.controller.step()

    def stop(self) -> None:
        self.controller.stop()

    # ---- Building

    def _build_ui(self) -> None:
        self.dataset_box = QComboBox()
        self.dataset_box.addItems(list(DATASETS))
        self.dataset_box.setToolTip("\n".join(f"{name}: {info.doc}" for name, info in DATASETS.items()))
        self.dataset_box.currentTextChanged.connect(self._on_dataset_changed)
        self.dataset_form = DatasetForm(lambda option, v: self._edit(("dataset", option), v), self.base_dir)
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
        self.batch_box = spin(1, 1 << 20, lambda v: self._edit(("batch_size",), v))
        self.epochs_box = spin(1, 1 << 20, lambda v: self._edit(("epochs",), v))
        self.seed_box = spin(0, 1 << 30, lambda v: self._edit(("seed",), v))
        self.shuffle_box = QCheckBox("each epoch")
        self.shuffle_box.setToolTip("Reshuffle the training samples every epoch (seeded by the seed and the epoch)")
        self.shuffle_box.toggled.connect(lambda on: self._edit(("shuffle",), on))
        self.schedule_box = QComboBox()
        self.schedule_box.addItems(list(SCHEDULE_DEFAULTS))
        self.schedule_box.setToolTip("How the learning rate changes during the run (see docs/training.md)")
        self.schedule_box.currentTextChanged.connect(lambda name: self._edit(("schedule", "name"), name))
        self.schedule_form = QFormLayout()
        opt_group = QGroupBox("Optimizer")
        opt_layout = QVBoxLayout(opt_group)
        opt_layout.addWidget(self.optimizer_box)
        opt_layout.addLayout(self.optimizer_form)
        loop_form = QFormLayout()
        loop_form.addRow("Schedule", self.schedule_box)
        opt_layout.addLayout(loop_form)
        opt_layout.addLayout(self.schedule_form)
        loop_form = QFormLayout()
        loop_form.addRow("Batch size", self.batch_box)
        loop_form.addRow("Epochs", self.epochs_box)
        loop_form.addRow("Seed", self.seed_box)
        loop_form.addRow("Shuffle", self.shuffle_box)
        opt_layout.addLayout(loop_form)
        self.setup_form = SetupForm(lambda key, v: self._edit((key,), v))
        self.readiness_box = ReadinessBox()
        self.readiness_box.sig_use.connect(self.use_settings)

        self.device_box = QComboBox()
        self.device_box.addItems(DEVICE_CHOICES)
        self.device_box.currentTextChanged.connect(lambda text: self.device_note.setText(resolve_device(text)[1]))
        self.device_note = QLabel("", wordWrap=True)
        self.device_note.setStyleSheet(NOTE_STYLE)
        device_row = QHBoxLayout()
        device_row.addWidget(QLabel("Device"))
        device_row.addWidget(self.device_box, 1)
        self.engine_box = engine_box()
        self.engine_box.currentIndexChanged.connect(lambda index: self._update_buttons(self.controller.state))
        engine_row = QHBoxLayout()
        engine_row.addWidget(QLabel("Engine"))
        engine_row.addWidget(self.engine_box, 1)

        self.settings = QWidget()
        settings_layout = QVBoxLayout(self.settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(data_group, 1)
        settings_layout.addWidget(self.setup_form)
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
        self.progress = ProgressLine()
        self.progress_label = self.progress.label
        self.keep_button = QPushButton("Keep trained weights")
        self.keep_button.setToolTip("Put this run's weights into the document, so that Save and Export carry "
                                    "them and the next run starts from them (Undo takes them back)")
        self.keep_button.clicked.connect(self.sig_keep_weights)
        self.message = QLabel("", wordWrap=True)
        self.message.setStyleSheet(ERROR_STYLE)

        self.setMinimumWidth(260)
        layout = QVBoxLayout(self)           # what Start needs and does first, in view; the settings below
        layout.addWidget(self.readiness_box)
        layout.addLayout(button_grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.settings, 1)
        layout.addLayout(device_row)
        layout.addLayout(engine_row)
        layout.addWidget(self.device_note)
        self.device_note.setText(resolve_device(self.device_box.currentText())[1])

    def _rebuild_dataset_form(self, dataset: dict) -> None:
        self.dataset_form.show_dataset({"name": self.dataset_box.currentText(), **dataset})

    def _rebuild_schedule_form(self, schedule: dict) -> None:
        clear_form(self.schedule_form)
        name = schedule.get("name", self.schedule_box.currentText())
        for key, default in SCHEDULE_DEFAULTS.get(name, {}).items():
            value = schedule.get(key, default)
            kind = "int" if isinstance(default, int) else "float"
            low = 1 if kind == "int" else 0.0
            editor = option_editor(kind, value, (), low, 1.0 if key == "gamma" else None,
                                   lambda v, k=key: self._edit(("schedule", k), v))
            self.schedule_form.addRow(key.replace("_", " "), editor)

    def _rebuild_optimizer_form(self, optimizer: dict) -> None:
        clear_form(self.optimizer_form)
        name = optimizer.get("name", self.optimizer_box.currentText())
        for key, default in OPTIMIZER_DEFAULTS.get(name, {}).items():
            value = optimizer.get(key, default)
            kind = "bool" if isinstance(default, bool) else "float"
            editor = option_editor(kind, value, (), 0.0, None, lambda v, k=key: self._edit(("optimizer", k), v))
            self.optimizer_form.addRow(key.replace("_", " "), editor)

    # ---- Editing graph.training

    def _config(self) -> dict:
        training = self.graph.training if self.graph is not None else None
        return training if isinstance(training, dict) else {}

    def _shown_config(self) -> dict:
        """graph.training, or while it is empty the configuration proposed from the graph."""
        if self.graph is None:
            return {}
        return self._config() or propose_training(self.graph).config

    def _schedule_model(self, *args) -> None:
        self._model_timer.start()

    def _on_graph_edited(self) -> None:
        """The graph changed: while it has no configuration the proposal may have changed too."""
        if not self._config() and self._shown_config() != self._shown:
            self.load_config()
        else:
            self._refresh_model()

    def _refresh_model(self) -> None:
        """Offer the graph's nodes in the pickers and say whether Start can run."""
        self._model_timer.stop()
        self.setup_form.show_config(self.graph, self._shown_config())
        self.readiness = assess(self.graph)
        self.readiness_box.show_state(self.readiness)
        self._update_buttons(self.controller.state)

    def _edit(self, path: tuple[str, ...], value: Any) -> None:
        """Set one setting (a key path into graph.training) through the undo stack when there is one.

        A graph without a configuration gets the proposed one with this setting changed. An unset data set
        option (None) is removed, so that its default applies.
        """
        if self.graph is None:
            return
        new = copy.deepcopy(self._shown_config())
        target = new
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if path == ("optimizer", "name"):
            new["optimizer"] = {"name": value}
        elif path == ("dataset", "name"):
            new["dataset"] = {"name": value}
        elif path == ("schedule", "name"):
            new["schedule"] = {"name": value}
        elif path[0] == "dataset" and value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        self._apply(new, ".".join(path))

    def _apply(self, new: dict, key: str) -> None:
        if self.undo_stack is not None:
            self.undo_stack.push(SetTrainingCommand(self.graph, new, key))
        else:
            self.graph.set_training(new)

    def _on_training_changed(self, old: dict, new: dict) -> None:
        if not self.controller.active:
            self.message.setText("")          # a failure of the earlier set-up no longer applies
        self.load_config()

    def _on_dataset_changed(self, name: str) -> None:
        self._edit(("dataset", "name"), name)

    def _on_optimizer_changed(self, name: str) -> None:
        self._edit(("optimizer", "name"), name)

    # ---- The preview (loaded in a background thread)

    def refresh_preview(self) -> None:
        """Load the configured data set off the UI thread and show it."""
        dataset = self._shown_config().get("dataset")
        if not isinstance(dataset, dict):
            self.preview.show_message("No data set configured.")
            return
        if self._preview_task is not None and self._preview_task.isRunning():
            self._preview_pending = True
            return
        task = BackgroundTask(lambda d=copy.deepcopy(dataset), base=self.base_dir(): preview_data(d, base), self)
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
        text = f"Training on {info.device.upper()}." if info.device else \
            "The PyTorch script picks the device when it starts: CUDA where it finds a GPU, else the CPU."
        self.device_note.setText(f"{info.device_note} {text}".strip())
        if info.warnings:
            self.show_message("\n".join(info.warnings), error=False)

    def _on_state(self, state: str) -> None:
        self._update_buttons(state)
        if state in ("finished", "stopped", "paused") and self.info is not None:
            last = self.controller.status.last if self.controller.status is not None else None
            if last is not None:
                self.progress.show_step(last, state)

    def _on_failed(self, error: object) -> None:
        self.show_message(describe_error(error), error=True)
        self._update_buttons("failed")
        self.sig_error.emit(error)

    def _on_metrics(self, items: list[StepMetrics]) -> None:
        self.progress.add(items, self.controller.state)

    def _update_buttons(self, state: str) -> None:
        live = state in ("running", "paused", "ready", "building")
        enabled = {"Start": state not in ("running", "building"), "Pause": state == "running",
                   "Resume": state in ("paused", "ready"), "Step": state != "building" and state != "running",
                   "Stop": live}
        torch_job = live and not getattr(self.controller.host, "steppable", True)
        if engine_choice(self.engine_box)[0] != "loom" or torch_job:
            enabled.update(Pause=False, Resume=False, Step=False)    # a PyTorch job runs to its end or Stop
        for name, button in self.buttons.items():
            button.setEnabled(enabled[name])
        trained = self.controller.status is not None and self.controller.status.step_count > 0
        self.keep_button.setEnabled(trained and state in ("paused", "finished", "stopped"))
        self.buttons["Start"].setEnabled(enabled["Start"] and self.readiness.ready)
        self.buttons["Start"].setToolTip("" if self.readiness.ready else self.readiness.reason)
