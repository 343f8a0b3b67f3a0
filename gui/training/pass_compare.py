"""One optimization pass as a before/after picture: the training step's graph before the pass and
after it, side by side on two read-only canvases (Theano's "graph of z" and "graph of f")."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.compiler.explain import PassStory
from core.graph import graph_from_dict

from ..canvas.scene import GraphScene
from ..canvas.view import GraphView


class PassComparison(QDialog):
    """Two canvases: before and after one pass, the nodes it touched selected in both."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Before and after a pass")
        self.resize(1200, 640)
        self.scenes, self.views, self.titles = [], [], []
        row = QHBoxLayout(self)
        for _ in range(2):
            scene = GraphScene(QUndoStack(self), self)
            view = GraphView(scene, self)
            view.setInteractive(False)
            title = QLabel(self)
            title.setObjectName("PassSideTitle")
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view, 1)
            row.addLayout(column)
            self.scenes.append(scene)
            self.views.append(view)
            self.titles.append(title)

    def show_story(self, story: PassStory) -> None:
        """Draw the graph before and after `story`'s pass."""
        self.setWindowTitle(f"The {story.phase} pass: before and after")
        sides = ((story.before, f"Before {story.phase}: {story.ops_before} ops, {story.kernels_before} fused"),
                 (story.after, f"After {story.phase}: {story.ops_after} ops, {story.kernels_after} fused"))
        for scene, view, title, (document, text) in zip(self.scenes, self.views, self.titles, sides):
            graph = graph_from_dict(document, source=f"the {story.phase} pass")
            for node_id in graph.nodes:       # one layout by depth for both sides, so they line up
                graph.set_ui(node_id, "pos", None)
            scene.set_graph(graph)
            scene.select_nodes(story.nodes)
            title.setText(text + f" — {len(story.changes)} change(s)")
            self._frame(scene, view, story.nodes)

    @staticmethod
    def _frame(scene: GraphScene, view: GraphView, nodes: list[str]) -> None:
        """Show the nodes the pass touched, with some of their neighbourhood, at a readable size."""
        rect = QRectF()
        for node_id in nodes:
            if node_id in scene.nodes:
                rect = rect.united(scene.nodes[node_id].sceneBoundingRect())
        if rect.isNull():
            view.fit_to_view()
            return
        view.fitInView(rect.adjusted(-250, -150, 250, 150), Qt.KeepAspectRatio)
        if view.zoom() > 1.0:
            view.zoom_by(1.0 / view.zoom())
