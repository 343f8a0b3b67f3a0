"""Wires live training into the main window: docks, a Training menu, the training process, the views.

    feature = install_training(window)   # once, after the window is built
    feature.close()                      # ends the training process, removes docks and menu

The canvas is optional: scene methods (`highlight_node`, `set_edge_overlay`, `set_node_summary`,
`select_nodes`, `set_kernel_groups`) are called only where the window's scene or canvas has them;
otherwise the same information is shown in the panels.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMessageBox, QScrollArea, QTabWidget

from core.graph import Graph
from core.training import NonFiniteError, Run, read_config
from core.training.remote import RunRequest
from core.training.text_datasets import TEXT_DATASETS

from ..document import ReplaceWeights
from ..theme import EXAMPLES
from .batch_tasks import describe_compiled, summarize_batch
from .boundary import BoundaryView
from .compiled_view import CompiledView
from .controller import TrainingController
from .curves import CurvesPanel
from .digits_views import DigitsView
from .histograms import HistogramsPanel
from .inspect import InspectPanel
from .panel import TrainingPanel
from .progress import describe_error
from .probes import BoundaryProbe, DigitsProbe, GradientProbe, Probe
from .text_views import EmbeddingsView, TaggerView

STRUCTURAL_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed")
TEXT_DATASET_NAMES = frozenset(info.name for info in TEXT_DATASETS)


def confirm_stop(parent) -> bool:
    """Ask whether to stop the run because the graph was edited (tests replace `feature.confirm_stop`)."""
    answer = QMessageBox.question(
        parent, "Stop training?",
        "The graph changed while it trains. The run keeps using the graph as it was when it started.\n\n"
        "Stop training now?", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    return answer == QMessageBox.Yes


class TrainingFeature(QObject):
    """Owns the training docks, the controller and every connection it made; `close()` undoes them."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.graph: Optional[Graph] = None
        self.confirm_stop: Callable[[Any], bool] = confirm_stop
        self._asked = False
        self._pending_question = False
        self._edited_since_run = False       # the last run's graph copy no longer matches the graph
        self._user_run = False               # the run was started by the user, not built to inspect
        self.controller = TrainingController(self)
        self.panel = TrainingPanel(self.controller, None, undo_stack=getattr(window, "undo_stack", None),
                                   probe_factory=self.probes_for,
                                   weights_provider=lambda: getattr(self.window, "weights", None) or None,
                                   base_dir=self._base_dir)
        self.curves = CurvesPanel()
        self.boundary = BoundaryView()
        self.digits = DigitsView()
        self.histograms = HistogramsPanel()
        self.inspect = InspectPanel()
        self.compiled = CompiledView()
        self.views = QTabWidget()
        for widget, title in ((self.curves, "Curves"), (self.boundary, "Boundary"), (self.digits, "Digits"),
                              (self.histograms, "Histograms"), (self.inspect, "Inside"),
                              (self.compiled, "Compiled")):
            self.views.addTab(widget, title)
        self.embeddings, self.tagger = EmbeddingsView(), TaggerView()
        for view in (self.embeddings, self.tagger):
            view.sig_request.connect(lambda task, view=view: self.controller.submit(task, view.show_result)
                                     or view.no_run())
            self.controller.sig_state.connect(view.set_state)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.panel)
        self.panel_dock = self._dock("Training", scroll, "loom_training_dock", Qt.RightDockWidgetArea)
        self.views_dock = self._dock("Training views", self.views, "loom_training_views_dock",
                                     Qt.BottomDockWidgetArea)
        QTimer.singleShot(0, self._arrange_docks)   # once the window has its size: tab bars made earlier linger
        self.menu = None
        if hasattr(window, "menuBar"):
            self.menu = window.menuBar().addMenu("&Training")
            for text, slot in (("Start", self.panel.start), ("Pause", self.panel.pause),
                               ("Resume", self.panel.resume), ("Step one batch", self.panel.step),
                               ("Stop", self.panel.stop), ("Keep trained weights", self.keep_weights),
                               (None, None), ("Run one batch", self.run_one_batch),
                               ("Compile the training step", self.show_compiled)):
                if text is None:
                    self.menu.addSeparator()
                else:
                    self.menu.addAction(text).triggered.connect(lambda checked=False, slot=slot: slot())
            self.menu.addSeparator()
            self.menu.addAction(self.panel_dock.toggleViewAction())
            self.menu.addAction(self.views_dock.toggleViewAction())
        self.controller.sig_metrics.connect(self.curves.add_metrics)
        self.controller.sig_ready.connect(lambda info: self.curves.set_total_steps(info.total_steps))
        self.controller.sig_probe.connect(self._on_probe)
        self.controller.sig_state.connect(self._on_state)
        self.panel.sig_run_starting.connect(self._on_run_starting)
        self.panel.sig_error.connect(self._on_error)
        self.panel.sig_keep_weights.connect(self.keep_weights)
        self.inspect.sig_run_batch.connect(self.run_one_batch)
        self.inspect.sig_node_activated.connect(lambda node: self._scene_call("select_nodes", [node]))
        self.compiled.sig_compile_requested.connect(self.show_compiled)
        self.compiled.sig_kernel_selected.connect(lambda nodes: self._scene_call("select_nodes", nodes))
        self.compiled.sig_groups_ready.connect(lambda groups: self._scene_call("set_kernel_groups", groups))
        self.compiled.sig_pass_selected.connect(self._show_pass)
        window.installEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.controller.shutdown)
        self._replaced = getattr(window, "sig_graph_replaced", None)
        if self._replaced is not None:
            self._replaced.connect(self.set_graph)
        self.set_graph(getattr(window, "graph", None))

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        """Follow the window's (new) graph; a run in progress is stopped."""
        if graph is self.graph:
            return
        if self.graph is not None:
            for name in STRUCTURAL_EVENTS:
                getattr(self.graph.events, name).disconnect(self._on_graph_edited)
            self.graph.events.training_changed.disconnect(self._on_training_changed)
        if self.controller.active:
            self.controller.stop()
        self.compiled.forget()
        self.graph = graph
        self._edited_since_run = True
        if graph is not None:
            for name in STRUCTURAL_EVENTS:
                getattr(graph.events, name).connect(self._on_graph_edited)
            graph.events.training_changed.connect(self._on_training_changed)
        self.panel.set_graph(graph)
        self._show_text_views()

    def probes_for(self, graph: Graph) -> list[Probe]:
        """The views' computations that fit this graph's training configuration."""
        probes: list[Probe] = [GradientProbe()]
        try:
            config = read_config(graph)
        except Exception:  # noqa: BLE001 (the run itself will report the problem)
            return probes
        if BoundaryProbe.applies(graph, config):
            probes.append(BoundaryProbe())
            self.views.setCurrentWidget(self.boundary)
        if DigitsProbe.applies(graph, config):
            probes.append(DigitsProbe())
            self.views.setCurrentWidget(self.digits)
        return probes

    def run_one_batch(self) -> None:
        """Evaluate every node on one batch with the current weights (in the training process); show summaries."""
        self.show_view(self.inspect)
        self._in_process(summarize_batch, self._on_summaries)

    def show_compiled(self) -> None:
        """Gather the compiled training step in the training process and show it."""
        self.show_view(self.compiled)
        self._in_process(describe_compiled, self.compiled.show_info)

    def show_view(self, widget) -> None:
        """Bring a view's tab, and its dock, in front (a menu action that fills it must be seen to)."""
        self.views.setCurrentWidget(widget)
        self.views_dock.show()
        self.views_dock.raise_()

    def keep_weights(self) -> None:
        """Bring the run's weights into the window's document, as one undoable step."""
        status = self.controller.status
        if status is None or status.step_count == 0 or self.controller.state in ("building", "running"):
            return
        step = status.step_count
        self.controller.submit(Run.weights, lambda weights: self._keep(weights, step))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """The window closing ends the training process."""
        if watched is self.window and event.type() == QEvent.Close:
            self.controller.shutdown()
        return False

    def close(self) -> None:
        """End the training process, disconnect everything, remove the docks and the menu."""
        self.controller.shutdown()
        self.window.removeEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(self.controller.shutdown)
            except (RuntimeError, TypeError):
                pass
        self.panel.wait_preview()
        if self._replaced is not None:
            self._replaced.disconnect(self.set_graph)
            self._replaced = None
        self.set_graph(None)
        self._scene_call("set_edge_overlay", None)
        for dock in (self.panel_dock, self.views_dock):
            if hasattr(self.window, "removeDockWidget"):
                self.window.removeDockWidget(dock)
            dock.deleteLater()
        if self.menu is not None:
            self.window.menuBar().removeAction(self.menu.menuAction())
            self.menu = None

    # ---- Internals

    def _dock(self, title: str, widget, name: str, area) -> QDockWidget:
        dock = QDockWidget(title, self.window if hasattr(self.window, "addDockWidget") else None)
        dock.setObjectName(name)
        dock.setWidget(widget)
        if hasattr(self.window, "addDockWidget"):
            self.window.addDockWidget(area, dock)
        return dock

    def _arrange_docks(self) -> None:
        """Training sits as a tab behind the window's right dock, the views as a tab behind its bottom
        dock, so the canvas keeps its room until a run starts (which raises both)."""
        window = self.window
        if not hasattr(window, "tabifyDockWidget"):
            return
        others = [d for d in window.findChildren(QDockWidget) if d not in (self.panel_dock, self.views_dock)
                  and not d.isFloating()]
        for dock, area in ((self.panel_dock, Qt.RightDockWidgetArea), (self.views_dock, Qt.BottomDockWidgetArea)):
            neighbours = [d for d in others if window.dockWidgetArea(d) == area]
            if neighbours:
                window.tabifyDockWidget(neighbours[0], dock)
                neighbours[0].raise_()
                if area == Qt.BottomDockWidgetArea:
                    window.resizeDocks([neighbours[0]], [150], Qt.Vertical)

    def _on_training_changed(self, old: dict, new: dict) -> None:
        self._show_text_views()

    def _show_text_views(self) -> None:
        """The Embeddings and Tagger tabs only for a graph trained on a text data set (both read the run's
        vocabulary): elsewhere they would only say "no text data" and crowd the tab bar."""
        training = self.graph.training if self.graph is not None else {}
        dataset = training.get("dataset") if isinstance(training, dict) else None
        name = dataset.get("name") if isinstance(dataset, dict) else None
        wanted = name in TEXT_DATASET_NAMES
        for view, title in ((self.embeddings, "Embeddings"), (self.tagger, "Tagger")):
            shown = self.views.indexOf(view) >= 0
            if wanted and not shown:
                self.views.addTab(view, title)
            elif shown and not wanted:
                self.views.removeTab(self.views.indexOf(view))

    def _in_process(self, fn, callback) -> None:
        """Run fn(run) in the training process; with no run yet, or only one of a graph edited since,
        build one (paused) first, so that what is shown is the graph as it is now."""
        stale = self._edited_since_run and not self.controller.active
        if stale or not self.controller.submit(fn, callback):
            if self.graph is None:
                return
            self._edited_since_run = self._user_run = False
            request = RunRequest(self.graph.copy(), None, self.panel.weights_provider(), "cpu", "", [],
                                 start_running=False, base_dir=self._base_dir())
            self.controller.start(request)
            self.controller.submit(fn, callback)

    def _base_dir(self) -> Optional[str]:
        """The folder of the window's graph file (an example's: the examples folder): data paths start there."""
        document = getattr(self.window, "document", None)
        path = getattr(document, "path", None)
        if path:
            return str(path.parent)
        return str(EXAMPLES) if getattr(document, "template", None) else None

    def _scene_call(self, name: str, *args) -> bool:
        """Call a canvas method when the window's scene or canvas offers it; False when none does."""
        for owner in (getattr(self.window, "scene", None), getattr(self.window, "canvas", None)):
            if owner is None:
                continue
            if not hasattr(owner, name) and callable(getattr(owner, "scene", None)):
                owner = owner.scene()
            method = getattr(owner, name, None)
            if callable(method):
                method(*args)
                return True
        return False

    def _show_pass(self, nodes: list, text: str) -> None:
        """A rewrite pass picked in the Compiled view: select the user's nodes it touched, say what it did."""
        self._scene_call("select_nodes", nodes)
        if hasattr(self.window, "statusBar"):
            self.window.statusBar().showMessage(text, 15000)

    def _on_run_starting(self, label: str) -> None:
        self._asked = False
        self._edited_since_run = False
        self._user_run = True
        self.panel_dock.raise_()
        self.views_dock.raise_()
        self.curves.begin_run(label)
        self.boundary.clear()
        self.histograms.clear()
        self.inspect.show_nonfinite(None, "")
        self._scene_call("highlight_node", None, "")

    def _on_probe(self, name: str, result: object) -> None:
        if name == "boundary":
            self.boundary.show_result(result)
        elif name == "digits":
            self.digits.show_result(result)
        elif name == "gradients":
            self.histograms.add_snapshot(result)
            self.inspect.show_flow(result.edges)
            self._scene_call("set_edge_overlay", result.edges)

    def _on_summaries(self, result: object) -> None:
        if isinstance(result, Exception):
            self.inspect.show_nonfinite(None, "")
            self.inspect.alert.setText(describe_error(result))
            self.inspect.alert.show()
            return
        self.inspect.show_summaries(result)
        for node, summary in result.items():
            self._scene_call("set_node_summary", node, summary.text())

    def _keep(self, weights: object, step: int) -> None:
        if isinstance(weights, Exception):
            self.panel.show_message(f"Could not keep the weights: {describe_error(weights)}", error=True)
            return
        document = getattr(self.window, "document", None)
        if document is None:               # a window without documents keeps them as an attribute
            self.window.weights = weights
        else:
            self.window.undo_stack.push(ReplaceWeights(document, weights, f"Keep trained weights (step {step})"))
        self.panel.show_message(f"Kept the weights of step {step}: Save and Export carry them, and the next "
                                "run starts from them.", error=False)

    def _on_error(self, error: object) -> None:
        node = getattr(error, "node", None)
        if node is None:
            return
        message = describe_error(error)
        self.inspect.show_nonfinite(node, message)
        self._scene_call("highlight_node", node, message)
        if isinstance(error, NonFiniteError):
            self.views.setCurrentWidget(self.inspect)

    def _on_state(self, state: str) -> None:
        if state in ("finished", "stopped"):
            self._asked = False

    def _on_graph_edited(self, *args) -> None:
        self._edited_since_run = True
        if self.controller.active and not self._user_run:
            self.controller.stop()      # a run built to inspect the old graph: nothing to ask about
            return
        if self.controller.active and not self._asked and not self._pending_question:
            self._pending_question = True
            QTimer.singleShot(0, self._ask_stop)

    def _ask_stop(self) -> None:
        self._pending_question = False
        if not self.controller.active or self._asked:
            return
        self._asked = True
        if self.confirm_stop(self.window):
            self.controller.stop()


def install_training(window) -> TrainingFeature:
    """Add live training to `window` (see the module docstring); call once after the window is built."""
    return TrainingFeature(window)
