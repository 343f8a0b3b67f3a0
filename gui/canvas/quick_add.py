"""The quick-add popup: type a few letters (a name or a word such as "linear") at the cursor, press
Enter, get the node there; opened from a dangling wire, it lists only the ops that can take it."""
from __future__ import annotations

from typing import Collection, Optional

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.graph.search import search_ops

from ..icons import category_icon


def matching_ops(text: str, allowed: Optional[Collection[str]] = None) -> list:
    """Visible ops matching `text` by name, synonym or doc (best first), within `allowed` if given."""
    return [s for s in search_ops(text) if allowed is None or s.name in allowed]


class QuickAddPopup(QFrame):
    """A search field over the op registry, shown at the cursor (Tab or double-click)."""

    sig_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.Popup)
        self.setObjectName("QuickAdd")
        self.setFrameShape(QFrame.StyledPanel)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add node… (type to search)")
        self.list = QListWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(320, 360)
        self.search.textChanged.connect(self._fill)
        self.search.returnPressed.connect(self._choose_current)
        self.list.itemActivated.connect(self._choose)
        self.search.installEventFilter(self)
        self.allowed: Optional[Collection[str]] = None
        self._fill("")

    def popup(self, global_pos: QPoint, allowed: Optional[Collection[str]] = None, hint: str = "") -> None:
        """Open at `global_pos` with an empty search, listing only `allowed` ops when given."""
        self.allowed = allowed
        self.search.setPlaceholderText(hint or "Add node… (type a name or a word: linear, loss…)")
        self.search.clear()
        self._fill("")
        self.move(global_pos)
        self.show()
        self.search.setFocus()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Closed (Enter, Escape, a click outside): the keyboard goes back to the canvas and its window.

        The window system activates the popup after it shows; when that arrives after the popup
        already closed, the hidden popup stays the active window and window shortcuts (Ctrl+S)
        go nowhere. Asking for the window's activation now queues it after the popup's.
        """
        super().hideEvent(event)
        owner = self.parentWidget()
        if owner is not None:
            owner.window().activateWindow()
            owner.setFocus(Qt.PopupFocusReason)

    def _fill(self, text: str) -> None:
        self.list.clear()
        for spec in matching_ops(text, self.allowed):
            item = QListWidgetItem(category_icon(spec.category), spec.name)
            item.setToolTip(spec.doc)
            item.setData(Qt.UserRole, spec.name)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(item)

    def _choose(self, item: QListWidgetItem) -> None:
        self.hide()
        self.sig_chosen.emit(item.data(Qt.UserRole))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self.search and event.type() == event.Type.KeyPress:
            if event.key() in (Qt.Key_Down, Qt.Key_Up):
                row = self.list.currentRow() + (1 if event.key() == Qt.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
        return super().eventFilter(watched, event)
