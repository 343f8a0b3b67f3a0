"""One small editor per attribute kind, each validating with Attr.check as the user types.

An editor emits sig_commit(name, value) with a checked value; it never touches the graph.
`set_value` (a graph event arriving) updates the widget under a QSignalBlocker.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.graph.spec import Attr, AttrError


def parse_text(kind: str, text: str) -> Any:
    """Turn what the user typed into a value of `kind` (ValueError with a reason if it cannot)."""
    text = text.strip()
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be an integer") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if kind in ("shape", "axes"):
        inner = text.strip("()[] ")
        if not inner:
            if kind == "axes":
                return None
            return []
        dims: list[Any] = []
        for token in inner.split(","):
            token = token.strip()
            if not token:
                continue
            if token.upper() == "N":
                dims.append("N")
                continue
            try:
                dims.append(int(token))
            except ValueError:
                raise ValueError(f"{token!r} is not an integer" + (' or N' if kind == "shape" else "")) from None
        if kind == "axes" and len(dims) == 1 and not text.startswith(("(", "[")) and "," not in text:
            return dims[0]
        return dims
    if kind == "tensor":
        try:
            return json.loads(text, parse_constant=_refuse)
        except ValueError:
            raise ValueError("must be a number or a list such as [[1, 2], [3, 4]]") from None
    raise ValueError(f"no text form for {kind}")


def format_text(kind: str, value: Any) -> str:
    """The text a value is shown as in its editor."""
    if kind in ("shape", "axes"):
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value) + ("," if kind == "axes" and len(value) == 1 else "")
        return str(value)
    if kind == "tensor":
        return json.dumps(value)
    if kind == "float":
        return f"{value:g}"
    return str(value)


def _refuse(name: str) -> None:
    raise ValueError(name)


class CancelLineEdit(QLineEdit):
    """A line edit where Escape gives back the shown value (`shown`) and ends the edit without committing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown = ""
        self.cancelled = False

    def show_value(self, text: str) -> None:
        """Show a value that came from the model; Escape returns to it."""
        self.shown = text
        with QSignalBlocker(self):
            self.setText(text)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key_Escape and self.text() != self.shown:
            self.setText(self.shown)
            self.textEdited.emit(self.shown)
            event.accept()
            return
        super().keyPressEvent(event)


class AttrEditor(QWidget):
    """Base: a widget for one attribute plus an inline error line."""

    sig_commit = Signal(str, object)

    def __init__(self, attr: Attr, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attr = attr
        self.value: Any = attr.default
        self.error = QLabel(self)
        self.error.setObjectName("AttrError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.setToolTip(attr.doc)

    def set_value(self, value: Any) -> None:
        """Show a value that came from the model (no echo back)."""
        self.value = value
        self.show_error("")

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def commit(self, value: Any) -> None:
        """Check `value` and, when it is new and valid, ask for it to be set."""
        try:
            value = self.attr.check(value)
        except AttrError as e:
            self.show_error(f"{self.attr.name} {e}")
            return
        self.show_error("")
        if value != self.value:
            self.sig_commit.emit(self.attr.name, value)


class TextAttrEditor(AttrEditor):
    """int, float, shape, axes and tensor attributes: a line edit checked on every keystroke."""

    def __init__(self, attr: Attr, parent: QWidget | None = None) -> None:
        super().__init__(attr, parent)
        self.edit = CancelLineEdit(self)
        placeholders = {"shape": "e.g. N, 64", "axes": "all axes", "tensor": "e.g. [[1, 2], [3, 4]]"}
        self.edit.setPlaceholderText(placeholders.get(attr.kind, ""))
        self.layout_.addWidget(self.edit)
        self.layout_.addWidget(self.error)
        self.edit.textEdited.connect(self.check_text)
        self.edit.editingFinished.connect(self._finished)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        self.edit.show_value(format_text(self.attr.kind, value))
        self._mark(True)

    def check_text(self, text: str) -> bool:
        """Validate as typed: show the reason inline; returns whether the text is acceptable."""
        try:
            self.attr.check(parse_text(self.attr.kind, text))
        except (ValueError, AttrError) as e:
            self.show_error(f"{self.attr.name} {e}")
            self._mark(False)
            return False
        self.show_error("")
        self._mark(True)
        return True

    def _mark(self, ok: bool) -> None:
        self.edit.setProperty("invalid", not ok)
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)

    def _finished(self) -> None:
        if self.check_text(self.edit.text()):
            self.commit(parse_text(self.attr.kind, self.edit.text()))


class BoolAttrEditor(AttrEditor):
    def __init__(self, attr: Attr, parent: QWidget | None = None) -> None:
        super().__init__(attr, parent)
        self.box = QCheckBox(self)
        self.layout_.addWidget(self.box)
        self.layout_.addWidget(self.error)
        self.box.toggled.connect(self.commit)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(value))


class ChoiceAttrEditor(AttrEditor):
    def __init__(self, attr: Attr, parent: QWidget | None = None) -> None:
        super().__init__(attr, parent)
        self.combo = QComboBox(self)
        for choice in attr.choices:
            self.combo.addItem(str(choice), choice)
        self.layout_.addWidget(self.combo)
        self.layout_.addWidget(self.error)
        self.combo.activated.connect(lambda i: self.commit(self.combo.itemData(i)))

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(0, self.combo.findData(value)))


def make_editor(attr: Attr, parent: QWidget | None = None) -> AttrEditor:
    """The editor for an attribute's kind."""
    if attr.kind == "bool":
        return BoolAttrEditor(attr, parent)
    if attr.kind == "choice":
        return ChoiceAttrEditor(attr, parent)
    return TextAttrEditor(attr, parent)
