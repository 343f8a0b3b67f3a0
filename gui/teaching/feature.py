"""Wires teaching into the main window: Run and Step with values by hand, the gradient graph
(Graph menu and a Teach toolbar) and the Lessons dock.

    teaching = install_teaching(window)   # once, after the window is built

Every action is a QAction with a stable objectName ("action_evaluate", "action_step",
"action_show_gradient", ...): the menu, the toolbar and a lesson step all trigger the same one,
and the lesson recorder listens to them.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QScrollArea, QToolBar

from core.graph import Graph

from .gradient import GradientController
from .values import ValuesController

# action name -> (menu text, shortcut, status tip)
ACTIONS = {
    "evaluate": ("&Run with Typed Values", "Ctrl+R", "Evaluate every node with the values typed for the inputs"),
    "step": ("S&tep One Node", "Ctrl+T", "Evaluate the next node and show its formula with the numbers put in"),
    "show_gradient": ("Show &Gradient", "Ctrl+Shift+G", "Add the nodes symbolic differentiation creates"),
    "grow_gradient": ("G&row Gradient", "Ctrl+Shift+R", "Add the gradient of one more node (chain rule)"),
    "hide_gradient": ("&Hide Gradient", "Ctrl+Shift+H", "Remove the gradient nodes"),
    "keep_gradient": ("&Keep Gradient", None, "Make the gradient nodes part of the graph and its file"),
    "compile": ("&Compile the Training Step", None, "Rewrites and fused kernels of the training step"),
    "train": ("Start &Training", None, "Train with live curves"),
    "nan_demo": ("Hunt the &NaN", None, "Train the NaN demo until it stops at the culprit node"),
}
READABLE_ZOOM = 0.6          # the canvas zoom at which node text and values can be read
GRAPH_MENU = ("evaluate", "step", None, "show_gradient", "grow_gradient", "hide_gradient", "keep_gradient")
TOOLBAR = ("evaluate", "step", "show_gradient", "grow_gradient", "hide_gradient")


class TeachingFeature(QObject):
    """Owns the values and gradient controllers, the actions and the Lessons dock.

    `sig_action_starting(name, args)` and `sig_action_done(name)` frame every action (the recorder
    keeps the graph as it was before one).
    """

    sig_action_starting = Signal(str, dict)
    sig_action_done = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.values = ValuesController(window)
        self.gradient = GradientController(window, self.message)
        self.values.sig_message.connect(self.message)
        self.action_args: dict = {}           # arguments of the action being triggered by a lesson
        self.actions: dict[str, QAction] = {}
        slots = {"evaluate": self.values.run, "step": self._step, "show_gradient": self._show_gradient,
                 "grow_gradient": self._grow_gradient, "hide_gradient": self.gradient.hide,
                 "keep_gradient": self.gradient.keep, "compile": self._compile, "train": self._train,
                 "nan_demo": self._nan_demo}
        for name, (text, shortcut, tip) in ACTIONS.items():
            action = QAction(text, window)
            action.setObjectName(f"action_{name}")
            action.setStatusTip(tip)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda checked=False, name=name, slot=slots[name]: self._run(name, slot))
            window.addAction(action)
            self.actions[name] = action
        self._build_menu_and_toolbar()
        from ..lessons.panel import LessonsPanel

        self.lessons = LessonsPanel(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.lessons)
        self.lessons_dock = QDockWidget("Lessons", window)
        self.lessons_dock.setObjectName("LessonsDock")
        self.lessons_dock.setWidget(scroll)
        window.addDockWidget(Qt.LeftDockWidgetArea, self.lessons_dock)
        window.tabifyDockWidget(window.palette_dock, self.lessons_dock)   # a lecture needs the text, not the palette
        self.lessons_dock.hide()
        self.view_menu.addAction(self.lessons_dock.toggleViewAction())
        window.sig_graph_replaced.connect(self.values.set_graph)
        self.values.set_graph(window.graph)

    # ---- Public API

    def trigger(self, name: str, args: Optional[dict] = None) -> None:
        """Run an action by name exactly as its menu entry does, with a lesson step's arguments."""
        self.action_args = dict(args or {})
        try:
            self.actions[name].trigger()
        finally:
            self.action_args = {}

    def message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)
        self.lessons.show_status(text)

    def show_graph(self, graph: Graph) -> None:
        """Show a lesson's graph as a new untitled document."""
        from ..document import Document

        self.window.set_document(Document(graph))

    # ---- Slots

    def _run(self, name: str, slot) -> None:
        self.sig_action_starting.emit(name, dict(self.action_args))
        slot()
        self.sig_action_done.emit(name)

    def _step(self) -> None:
        for _ in range(int(self.action_args.get("count", 1))):
            if self.values.step() is None:
                return

    def _show_gradient(self) -> None:
        self.gradient.show(self.action_args.get("cost"))
        self.window.view.fit_to_view(readable=True)     # the values stay legible; F shows all of it

    def _grow_gradient(self) -> None:
        added: list[str] = []
        for _ in range(int(self.action_args.get("count", 1))):
            if self.gradient.grow(self.action_args.get("cost")) is None:
                break
            added += self.window.scene.selected_nodes()
        self.focus(added)

    def focus(self, nodes: list[str]) -> None:
        """Select `nodes` and bring them to the middle of the canvas at a size one can read."""
        scene, view = self.window.scene, self.window.view
        shown = [n for n in nodes if n in scene.nodes]
        if not shown:
            return
        scene.select_nodes(shown)
        if view.zoom() < READABLE_ZOOM:
            view.zoom_by(READABLE_ZOOM / view.zoom())
        rect = scene.nodes[shown[0]].sceneBoundingRect()
        for node_id in shown[1:]:
            rect = rect.united(scene.nodes[node_id].sceneBoundingRect())
        view.centerOn(rect.center())

    def _compile(self) -> None:
        training = getattr(self.window, "training", None)
        if training is not None:
            training.show_compiled()
            training.views_dock.show()
            training.views_dock.raise_()

    def _train(self) -> None:
        training = getattr(self.window, "training", None)
        if training is None:
            return
        training.panel_dock.raise_()
        training.views_dock.show()
        training.views_dock.raise_()
        if training.controller.active and training.controller.state == "paused" and training._user_run:
            training.panel.resume()        # the teacher's own run, paused: go on with it
        else:
            training.panel.start()

    def _nan_demo(self) -> None:
        if "log_h" not in self.window.graph:
            from core.graph import load_graph
            from core.training.lessons import EXAMPLES

            self.show_graph(load_graph(EXAMPLES / "nan_demo.json")[0])
        self._train()

    def _build_menu_and_toolbar(self) -> None:
        window = self.window
        menus = {m.title().replace("&", ""): m for m in window.menuBar().findChildren(QMenu)}
        graph_menu = menus.get("Graph") or window.menuBar().addMenu("&Graph")
        self.view_menu = menus.get("View") or window.menuBar().addMenu("&View")
        graph_menu.addSeparator()
        for name in GRAPH_MENU:
            if name is None:
                graph_menu.addSeparator()
            else:
                graph_menu.addAction(self.actions[name])
        bar = QToolBar("Teach", window)
        bar.setObjectName("TeachToolBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for name in TOOLBAR:
            bar.addAction(self.actions[name])
        self.actions["evaluate"].setIconText("Run")
        self.actions["step"].setIconText("Step")
        self.actions["show_gradient"].setIconText("Gradient")
        self.actions["grow_gradient"].setIconText("Grow")
        self.actions["hide_gradient"].setIconText("Hide")
        window.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar


def install_teaching(window) -> TeachingFeature:
    """Add teaching to `window` (see the module docstring); call once after the window is built."""
    return TeachingFeature(window)
