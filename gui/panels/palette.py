"""The palette: every visible op of the registry by category, searchable, dragged onto the canvas."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from core.graph import all_ops
from core.graph.registry import CATEGORIES
from core.graph.search import search_ops

from ..canvas.interactions import OP_MIME
from ..icons import category_icon

OP_ROLE = Qt.UserRole + 1


class _OpTree(QTreeWidget):
    """A tree whose op rows start a drag carrying the op name."""

    def startDrag(self, actions) -> None:  # noqa: N802 (Qt override)
        item = self.currentItem()
        op = item.data(0, OP_ROLE) if item is not None else None
        if not op:
            return
        mime = QMimeData()
        mime.setData(OP_MIME, op.encode("utf-8"))
        mime.setText(op)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.CopyAction)


class PalettePanel(QWidget):
    """Ops grouped by category with a search field; double-click adds at the canvas centre."""

    sig_op_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search ops…")
        self.search.setClearButtonEnabled(True)
        self.tree = _OpTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setIndentation(14)
        self.tree.setRootIsDecorated(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._activated)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._fill()

    # ---- Public API

    def op_item(self, op: str) -> QTreeWidgetItem:
        return self._items[op]

    def mime_for(self, op: str) -> QMimeData:
        """The drag payload for `op` (what a drag from this palette carries)."""
        mime = QMimeData()
        mime.setData(OP_MIME, op.encode("utf-8"))
        mime.setText(op)
        return mime

    def filter(self, text: str) -> None:
        """Show only ops matching `text` by name, by a word users say for them ("linear", "cross
        entropy") or by their doc (core.graph.search)."""
        found = {spec.name for spec in search_ops(text)}
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                hit = child.data(0, OP_ROLE) in found
                child.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)
            group.setExpanded(True)

    # ---- Internals

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        order = {name: i for i, name in enumerate(CATEGORIES)}
        for spec in sorted(all_ops(), key=lambda s: order.get(s.category, len(order))):
            if spec.hidden or spec.category == "Internal":
                continue
            group = groups.get(spec.category)
            if group is None:
                group = QTreeWidgetItem(self.tree, [spec.category])
                group.setIcon(0, category_icon(spec.category))
                group.setFlags(Qt.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[spec.category] = group
            item = QTreeWidgetItem(group, [spec.name])
            item.setIcon(0, category_icon(spec.category))
            item.setToolTip(0, f"<b>{spec.name}</b><br>{spec.doc}")
            item.setData(0, OP_ROLE, spec.name)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self._items[spec.name] = item
        self.tree.expandAll()

    def _activated(self, item: QTreeWidgetItem) -> None:
        op = item.data(0, OP_ROLE)
        if op:
            self.sig_op_activated.emit(op)
