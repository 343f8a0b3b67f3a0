"""Run and Step with values by hand: every node shows what it computed under it on the canvas.

Run evaluates the whole graph (core.graph.by_hand); Step reveals one node at a time in
topological order, selecting it and showing its formula with the numbers put in. Gradient nodes
that hold d(cost)/d(input or parameter) also show the finite-difference estimate they agree with;
those estimates (two evaluations of the graph per entry) are computed off the UI thread, on a copy
of the graph, and shown when ready unless the graph changed meanwhile.
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal

from core.compiler.gradient_view import WRT, compare, finite_differences
from core.graph import Evaluation, Graph, LoomError
from core.graph.by_hand import evaluate_by_hand, formula, summarize

from ..training.controller import BackgroundTask

COST = "gradient_cost"       # ui key on a gradient holder: the cost it is the gradient of
RESET_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed", "ui_changed")
CHECKING = "… finite diff."        # the badge while the check runs (the node is narrow)


class ValuesController(QObject):
    """Puts values on the scene's nodes; forgets them when the graph changes.

    `sig_checks_done()` follows the finite-difference badges of a Run once they are shown.
    """

    sig_message = Signal(str)
    sig_checks_done = Signal()

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.graph: Optional[Graph] = None
        self.shown: set[str] = set()
        self.evaluation: Optional[Evaluation] = None
        self.step_index = 0
        self.last_formula = ""
        self._tasks: dict[BackgroundTask, threading.Event] = {}   # running checks and their stop flags
        self._pending: Optional[tuple] = None      # (task, evaluation, holders) of the check still wanted
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        if self.graph is not None:
            for name in RESET_EVENTS:
                getattr(self.graph.events, name).disconnect(self._on_edited)
        self.graph = graph
        self._forget()
        if graph is not None:
            for name in RESET_EVENTS:
                getattr(graph.events, name).connect(self._on_edited)

    def run(self) -> bool:
        """Evaluate everything and show every value; False (with a message) when it cannot."""
        evaluation = self._evaluate()
        if evaluation is None:
            return False
        self._clear()
        for node_id in evaluation.order:
            self._show(node_id, summarize(evaluation[node_id]))
        self._show_checks(evaluation)
        self.step_index = len(evaluation.order)
        self.sig_message.emit(f"Evaluated {len(evaluation.order)} nodes with the typed values.")
        return True

    @property
    def checking(self) -> bool:
        """Whether a finite-difference check is still running (wanted or not)."""
        return bool(self._tasks)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop the running checks and wait for their threads (on close: no thread outlives the window)."""
        self._pending = None
        for task, stop in list(self._tasks.items()):
            stop.set()
            task.wait(timeout_ms)

    def step(self) -> Optional[str]:
        """Show the next node in topological order with its formula; returns that node (None: cannot)."""
        if self.evaluation is None or self.step_index >= len(self.evaluation.order):
            evaluation = self._evaluate()
            if evaluation is None:
                return None
            self._clear()
            self.step_index = 0
        node_id = self.evaluation.order[self.step_index]
        self.step_index += 1
        text = formula(self.graph, node_id, self.evaluation)
        value = summarize(self.evaluation[node_id])
        self.last_formula = f"{node_id}: {text}"
        self._show(node_id, text if "<" not in text else text + "\n" + value)
        self.window.view.center_on_node(node_id)      # selects it too
        self.sig_message.emit(f"Step {self.step_index}/{len(self.evaluation.order)}: {self.last_formula}")
        return node_id

    # ---- Internals

    def _evaluate(self) -> Optional[Evaluation]:
        try:
            self.evaluation, self.weights = evaluate_by_hand(self.graph, self.window.weights)
        except LoomError as e:
            self.evaluation = None
            where = f"'{e.node}': " if getattr(e, "node", None) else ""
            self.sig_message.emit(f"Cannot evaluate: {where}{e.message}")
            if getattr(e, "node", None):
                self.window.scene.select_nodes([e.node])
            return None
        return self.evaluation

    def _show_checks(self, evaluation: Evaluation) -> None:
        """Start checking each gradient holder against finite differences in a background thread;
        meanwhile its badge says so."""
        graph = self.graph
        holders = {graph.ui(n)[WRT]: n for n in graph.nodes if graph.ui(n).get(WRT)}
        if not holders:
            return
        cost = graph.ui(next(iter(holders.values()))).get(COST)
        snapshot, weights, stop = graph.copy(), {k: np.array(v) for k, v in self.weights.items()}, threading.Event()
        task = BackgroundTask(lambda: finite_differences(snapshot, cost, list(holders), weights, stop=stop.is_set),
                              self)
        task.sig_done.connect(self._on_checks)
        task.finished.connect(self._on_task_finished)
        self._tasks[task] = stop
        self._pending = (task, evaluation, holders)
        for node_id in holders.values():
            self._show_badge(node_id, evaluation, CHECKING)
        task.start()

    def _on_checks(self, checks: object) -> None:
        """Badges from a finished check, unless the graph changed (or another Run started) meanwhile."""
        if self._pending is None or self.sender() is not self._pending[0]:
            return
        _, evaluation, holders = self._pending
        self._pending = None
        if isinstance(checks, Exception):
            text = checks.message if isinstance(checks, LoomError) else f"{type(checks).__name__}: {checks}"
            self.sig_message.emit(f"No finite-difference check: {text}")
        for wrt, node_id in holders.items():
            if isinstance(checks, Exception):
                self._show_badge(node_id, evaluation, "")
                continue
            ok, error = compare(evaluation[node_id], checks[wrt])
            picks, estimates = checks[wrt]
            estimate = summarize(estimates[0]).lstrip("= ") if picks == [()] else f"agrees on {len(picks)}"
            self._show_badge(node_id, evaluation,
                             f"✓ finite diff. {estimate}" if ok else f"✗ finite diff. off by {error:.1e}")
        self.sig_checks_done.emit()

    def _on_task_finished(self) -> None:
        task = self.sender()
        if self._tasks.pop(task, None) is not None:
            task.wait()                  # `finished` comes just before the thread ends
            task.deleteLater()

    def _drop_checks(self) -> None:
        """The running checks are no longer wanted: they stop early and their results are dropped."""
        self._pending = None
        for stop in self._tasks.values():
            stop.set()

    def _show_badge(self, node_id: str, evaluation: Evaluation, badge: str) -> None:
        """A gradient holder's value with a line about its finite-difference check under it."""
        self._show(node_id, "\n".join(filter(None, [summarize(evaluation[node_id]).splitlines()[0], badge])))

    def _show(self, node_id: str, text: str) -> None:
        self.window.scene.set_node_summary(node_id, text)
        self.shown.add(node_id)

    def _clear(self) -> None:
        self._drop_checks()
        for node_id in list(self.shown):
            if self.graph is not None and node_id in self.graph:
                self.window.scene.set_node_summary(node_id, "")
        self.shown = set()

    def _forget(self) -> None:
        self._drop_checks()
        self.shown = set()
        self.evaluation = None
        self.step_index = 0

    def _on_edited(self, *args) -> None:
        if args and len(args) >= 2 and args[1] == "pos":
            return
        self._drop_checks()
        if self.shown:
            self._clear()
        self.evaluation = None
        self.step_index = 0
