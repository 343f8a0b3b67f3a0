"""The inspector's editor for an Input's value typed by hand (a number, a list, a small matrix or
"random"): checked by core.graph.by_hand, stored in the node's ui through the undo stack."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.graph import Graph, GraphError
from core.graph.by_hand import RANDOM, VALUE_KEY, parse_value

from ..canvas.commands import SetUiCommand


class InputValueEditor(QWidget):
    """One line for the value of Input `node_id`; Enter commits it. (Not on focus-out: the inspector
    replaces its page while the line may hold the focus, and a commit from a widget being deleted
    would touch a graph that is no longer shown.)"""

    def __init__(self, graph: Graph, node_id: str, undo_stack: QUndoStack, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.graph, self.node_id, self.undo_stack = graph, node_id, undo_stack
        self.line = QLineEdit(self)
        self.line.setObjectName("InputValue")
        self.line.setPlaceholderText("e.g. 1  [0.1, 0.2]  [[1, 2], [3, 4]]  random, then Enter")
        self.line.setText(str(graph.ui(node_id).get(VALUE_KEY) or ""))
        self.line.setToolTip("A value typed by hand for Graph ▸ Run with Typed Values (not saved as data)")
        self.line.returnPressed.connect(self.commit)
        self.random = QPushButton("Random", self)
        self.random.clicked.connect(lambda: self.commit(RANDOM))
        self.error = QLabel(self)
        self.error.setObjectName("InputValueError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.PlainText)
        self.error.setStyleSheet("color: #c53030;")
        self.error.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.random)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.error)

    def commit(self, text: Optional[str] = None) -> bool:
        """Check and store the typed value (one undo step); an unfit one is shown, not stored."""
        if self.node_id not in self.graph:
            return False
        text = (self.line.text() if text is None else text).strip()
        self.line.setText(text)
        if text == str(self.graph.ui(self.node_id).get(VALUE_KEY) or ""):
            return True
        attrs = self.graph.attrs(self.node_id)
        try:
            if text:
                parse_value(text, tuple(attrs["shape"]), attrs["dtype"], self.node_id)
        except GraphError as e:
            self.error.setText(e.message)
            self.error.show()
            return False
        self.error.hide()
        self.undo_stack.push(SetUiCommand(self.graph, self.node_id, VALUE_KEY, text or None))
        return True
