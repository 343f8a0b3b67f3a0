"""The problems panel: every diagnostic of the graph; clicking one selects and centres its node."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtWidgets import QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from core.graph import Graph
from core.training.references import all_diagnostics

STRUCTURAL_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed", "training_changed")


class ProblemsPanel(QWidget):
    """Lists graph.validate() and the training configuration's problems; follows the graph's structural events (coalesced; moves do not count)."""

    sig_node_activated = Signal(str)
    sig_count_changed = Signal(int, int)

    def __init__(self, graph: Optional[Graph] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.graph: Optional[Graph] = None
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Node", "Port", "Problem"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 80)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.set_graph(graph)

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        if self.graph is not None:
            for name in STRUCTURAL_EVENTS:
                getattr(self.graph.events, name).disconnect(self._schedule)
        self.graph = graph
        if graph is not None:
            for name in STRUCTURAL_EVENTS:
                getattr(graph.events, name).connect(self._schedule)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list from graph.validate()."""
        self._timer.stop()
        self.tree.clear()
        if self.graph is None:
            self.sig_count_changed.emit(0, 0)
            return
        diagnostics = all_diagnostics(self.graph)
        style = self.style()
        icons = {"error": style.standardIcon(QStyle.SP_MessageBoxCritical),
                 "warning": style.standardIcon(QStyle.SP_MessageBoxWarning)}
        for d in sorted(diagnostics, key=lambda d: (d.severity != "error", d.node or "")):
            item = QTreeWidgetItem(self.tree, [d.node or "(graph)", d.port or "", d.message])
            item.setIcon(0, icons.get(d.severity, icons["warning"]))
            item.setToolTip(2, d.message)
            item.setData(0, Qt.UserRole, d.node)
        errors = sum(d.severity == "error" for d in diagnostics)
        self.sig_count_changed.emit(errors, len(diagnostics) - errors)

    def _schedule(self, *args) -> None:
        self._timer.start()

    def _clicked(self, item: QTreeWidgetItem, column: int = 0) -> None:
        node_id = item.data(0, Qt.UserRole)
        if node_id:
            self.sig_node_activated.emit(node_id)
