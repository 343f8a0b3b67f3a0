"""The inspector: the selected node's name and attributes, one editor per kind; edits are undo commands."""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QStackedWidget,
                               QVBoxLayout, QWidget)

from core.graph import Graph, GraphError
from core.graph.wired_shape import wired_shape
from core.training.references import all_diagnostics

from ..canvas.commands import SetAttrCommand
from ..canvas.naming import RenameNodeCommand
from ..icons import category_icon
from .attr_editors import AttrEditor, CancelLineEdit, make_editor
from .input_values import InputValueEditor

STRUCTURAL_EVENTS = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed")


class InspectorPanel(QWidget):
    """Shows one node: its name (editable), op, doc, attribute editors and the types on its ports.

    A rename carries the weights of `weights_owner` (an object with a `.weights` dict) and emits
    `sig_renamed(new_id)` so the window can select the node under its new name.
    """

    sig_renamed = Signal(str)

    def __init__(self, graph: Optional[Graph], undo_stack: QUndoStack,
                 parent: Optional[QWidget] = None, value_summary: Optional[Callable[[str], str]] = None,
                 weights_owner: Any = None) -> None:
        super().__init__(parent)
        self.graph: Optional[Graph] = None
        self.undo_stack = undo_stack
        self.weights_owner = weights_owner
        self.name_edit: Optional[CancelLineEdit] = None
        self.name_error: Optional[QLabel] = None
        self.infer_button: Optional[QPushButton] = None
        self.value_summary = value_summary or (lambda node_id: "")   # what a node computed on one batch
        self.value_caption: Callable[[str], str] = lambda node_id: "On the last inspected batch"  # where from
        self.node_id: Optional[str] = None
        self.editors: dict[str, AttrEditor] = {}
        self.stack = QStackedWidget(self)
        self.placeholder = QLabel("Select a node to see and edit its attributes.", self)
        self.placeholder.setObjectName("Placeholder")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._types_timer = QTimer(self)
        self._types_timer.setSingleShot(True)
        self._types_timer.setInterval(0)
        self._types_timer.timeout.connect(self._refresh_types)
        self.types_label: Optional[QLabel] = None
        self.values_label: Optional[QLabel] = None
        self.set_graph(graph)

    # ---- Public API

    def set_graph(self, graph: Optional[Graph]) -> None:
        """Follow another graph (disconnecting from the previous one)."""
        if self.graph is not None:
            self.graph.events.attr_changed.disconnect(self._on_attr_changed)
            self.graph.events.node_removed.disconnect(self._on_node_removed)
            for name in STRUCTURAL_EVENTS:
                getattr(self.graph.events, name).disconnect(self._schedule_types)
        self.graph = graph
        if graph is not None:
            graph.events.attr_changed.connect(self._on_attr_changed)
            graph.events.node_removed.connect(self._on_node_removed)
            for name in STRUCTURAL_EVENTS:
                getattr(graph.events, name).connect(self._schedule_types)
        self.show_node(None)

    def show_node(self, node_id: Optional[str], force: bool = False) -> None:
        """Edit `node_id` (None: show the placeholder); showing the same node again keeps the editors."""
        if node_id == self.node_id and node_id is not None and not force and self.editors is not None \
                and self.stack.currentWidget() is self.scroll:
            return
        self.node_id = node_id if self.graph is not None and node_id in self.graph else None
        self.editors = {}
        self.types_label = self.values_label = None
        self.name_edit = self.name_error = self.infer_button = None
        if self.node_id is None:
            self.stack.setCurrentWidget(self.placeholder)
            return
        old_page = self.scroll.takeWidget()    # setWidget would delete it now, inside a signal of one of its
        if old_page is not None:               # fields maybe (Enter in the name field selects the renamed node)
            old_page.deleteLater()
        self.scroll.setWidget(self._build(self.node_id))
        self.stack.setCurrentWidget(self.scroll)
        self._refresh_types()
        self.refresh_values()

    def refresh_values(self) -> None:
        """Show the value summary of the node on display (after "Run one batch"), or hide its line."""
        if self.values_label is None:
            return
        text = self.value_summary(self.node_id)
        self.values_label.setText(f"{self.value_caption(self.node_id)}:\n{text}" if text else "")
        self.values_label.setVisible(bool(text))

    def start_rename(self) -> None:
        """Put the cursor in the name field with the name selected (F2)."""
        if self.name_edit is not None:
            self.name_edit.setFocus()
            self.name_edit.selectAll()

    def infer_shape(self) -> None:
        """Give the Parameter on display the shape its wires imply, as one undo step."""
        shape = wired_shape(self.graph, self.node_id) if self.node_id is not None else None
        if shape is None:
            self.editors["shape"].show_error("its wires do not say: wire it into a MatMul, an Add or a Conv "
                                             "whose other input has a shape")
        elif list(shape) != list(self.graph.attrs(self.node_id)["shape"]):
            self.undo_stack.push(SetAttrCommand(self.graph, self.node_id, "shape", shape))

    # ---- Internals

    def _rename(self, edit: CancelLineEdit) -> None:
        if edit is not self.name_edit or self.node_id is None:
            return                     # a field of a page already replaced (another node is shown)
        new, old = edit.text().strip(), self.node_id
        if new == old:
            return
        try:
            command = RenameNodeCommand(self.graph, old, new, self.weights_owner)
        except GraphError as e:
            self._show_name_problem(f"Cannot rename to '{new}': {e.message}")
            return
        self.undo_stack.push(command)
        self.sig_renamed.emit(new)

    def _show_name_problem(self, text: str) -> None:
        if self.name_error is not None:
            self.name_error.setText(text)
            self.name_error.setVisible(bool(text))

    def _build(self, node_id: str) -> QWidget:
        spec = self.graph.spec(node_id)
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(10, 10, 10, 10)
        column.setSpacing(6)
        title = CancelLineEdit(page)
        title.setObjectName("InspectorTitle")
        title.show_value(node_id)
        title.setToolTip("The node's name (F2): its feed name, weight key and name in exports. "
                         "Enter renames it; Escape gives the old name back.")
        title.editingFinished.connect(lambda: self._rename(title))
        title.textEdited.connect(lambda text: self._show_name_problem(""))
        self.name_edit = title
        self.name_error = QLabel(page)
        self.name_error.setObjectName("AttrError")
        self.name_error.setWordWrap(True)
        self.name_error.hide()
        op = QLabel(page)
        op.setText(f"{spec.name} · {spec.category}" + (f" · {self.graph.role(node_id)}"
                                                       if self.graph.role(node_id) else ""))
        op.setObjectName("InspectorOp")
        op.setWordWrap(True)       # unwrapped, it and the line below set the panel's width: clipped at 1280x800 F5
        icon = QLabel(page)
        icon.setPixmap(category_icon(spec.category).pixmap(20, 20))
        doc = QLabel(spec.doc, page)
        doc.setWordWrap(True)
        doc.setObjectName("InspectorDoc")
        header = QHBoxLayout()
        header.addWidget(icon)
        header.addWidget(title, 1)
        column.addLayout(header)
        column.addWidget(self.name_error)
        column.addWidget(op)
        column.addWidget(doc)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        attrs = self.graph.attrs(node_id)
        for attr in spec.attrs:
            editor = make_editor(attr, page)
            editor.set_value(attrs[attr.name])
            editor.sig_commit.connect(self._commit)
            label = QLabel(attr.name, page)
            label.setToolTip(attr.doc)
            form.addRow(label, editor)
            self.editors[attr.name] = editor
        if spec.name == "Parameter":
            self.infer_button = QPushButton("Infer shape from wire", page)
            self.infer_button.setToolTip("Set the shape the wires this Parameter feeds imply "
                                         "(a MatMul's weights, a bias added to a product, a Conv's kernel)")
            self.infer_button.clicked.connect(self.infer_shape)
            form.addRow("", self.infer_button)
        if not spec.attrs:
            none = QLabel("This op has no attributes.", page)
            none.setWordWrap(True)
            form.addRow(none)
        if spec.name == "Input":
            form.addRow(QLabel("value", page), InputValueEditor(self.graph, node_id, self.undo_stack, page))
        column.addLayout(form)
        self.types_label = QLabel(page)
        self.types_label.setObjectName("InspectorTypes")
        self.types_label.setWordWrap(True)
        self.types_label.setTextFormat(Qt.RichText)
        column.addWidget(self.types_label)
        self.values_label = QLabel(page)
        self.values_label.setObjectName("InspectorValues")
        self.values_label.setWordWrap(True)
        column.addWidget(self.values_label)
        column.addStretch(1)
        return page

    def _commit(self, name: str, value) -> None:
        if self.node_id is None:
            return
        try:
            command = SetAttrCommand(self.graph, self.node_id, name, value)
            self.graph.spec(self.node_id).attr(name).check(value)
        except (GraphError, ValueError) as e:
            self.editors[name].show_error(str(e))
            return
        self.undo_stack.push(command)

    def _on_attr_changed(self, node_id: str, name: str, old, new) -> None:
        if node_id != self.node_id:
            return
        spec = self.graph.spec(node_id)
        if spec.ports is not None:
            QTimer.singleShot(0, self, lambda: self.show_node(self.node_id, force=True))  # ports may have changed
        editor = self.editors.get(name)
        if editor is not None:
            editor.set_value(new)

    def _on_node_removed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self.show_node(None)

    def _schedule_types(self, *args) -> None:
        self._types_timer.start()

    def _refresh_types(self) -> None:
        self._types_timer.stop()
        if self.types_label is None or self.node_id is None or self.node_id not in self.graph:
            return
        types = self.graph.types()
        spec = self.graph.spec(self.node_id)
        rows = []
        for port in spec.input_names(self.graph.attrs(self.node_id)):
            source = self.graph.source(self.node_id, port)
            t = types.get(source) if source else None
            where = f"{source[0]}" if source else "<i>not connected</i>"
            rows.append(f"in <b>{port}</b> ← {where}" + (f": {t}" if t else ""))
        for port in spec.output_names():
            t = types.get((self.node_id, port))
            rows.append(f"out <b>{port}</b>: {t if t else '<i>unknown</i>'}")
        problems = [d.message for d in all_diagnostics(self.graph) if d.node == self.node_id]
        rows += [f"<span style='color:#c53030'>⚠ {m}</span>" for m in problems]
        self.types_label.setText("<br>".join(rows))
