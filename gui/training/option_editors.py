"""Small editors for the training panel's settings: whole numbers, floats shown as typed, choices, text."""
from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget


def spin(low: int, high: int, on_change: Callable[[int], None]) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)
    box.valueChanged.connect(on_change)
    return box


def option_editor(kind: str, value: Any, choices: tuple, low: Optional[float], high: Optional[float],
                   on_change: Callable[[Any], None], unset: Optional[str] = None) -> QWidget:
    """One small editor per option kind: int, float, bool, choice or text.

    `unset` is what an int option without a value shows (e.g. "by format"): the spin box's lowest step
    stands for it, so nothing is stored until the user picks a number, and stepping back down unsets it."""
    if kind == "int":
        bottom = int(low) if low is not None else -(1 << 30)
        if unset is None:
            box = spin(bottom, int(high) if high is not None else 1 << 30, on_change)
        else:
            box = spin(bottom - 1, int(high) if high is not None else 1 << 30,
                       lambda v: on_change(None if v == bottom - 1 else v))
            box.setSpecialValueText(unset)
        with QSignalBlocker(box):
            box.setValue(int(value) if isinstance(value, (int, float)) else box.minimum() if unset else 0)
        return box
    if kind == "float":
        return FloatEdit(float(value) if isinstance(value, (int, float)) else 0.0, low, high, on_change)
    if kind in ("choice", "bool"):
        box = QComboBox()
        box.addItems(list(choices) if kind == "choice" else ["false", "true"])
        box.setCurrentText(str(value).lower() if kind == "bool" else str(value))
        box.currentTextChanged.connect(lambda text: on_change(text == "true" if kind == "bool" else text))
        return box
    edit = QLineEdit("" if value is None else (", ".join(value) if isinstance(value, list) else str(value)))
    edit.editingFinished.connect(lambda: on_change(_text_value(edit.text())))
    return edit


class FloatEdit(QLineEdit):
    """A number field that shows 1e-08 as 1e-08 (a spin box would show 0.00000); bad input is reverted."""

    def __init__(self, value: float, low: Optional[float], high: Optional[float],
                 on_change: Callable[[float], None]) -> None:
        super().__init__()
        self.low, self.high, self.on_change = low, high, on_change
        self.value = value
        self.setText(f"{value:g}")
        self.editingFinished.connect(self._finished)

    def _finished(self) -> None:
        try:
            value = float(self.text())
        except ValueError:
            value = None
        inside = value is not None and value == value and (self.low is None or value >= self.low) \
            and (self.high is None or value <= self.high)
        if not inside:
            self.setText(f"{self.value:g}")
            return
        if value != self.value:
            self.value = value
            self.on_change(value)


def _text_value(text: str) -> Any:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return parts if len(parts) > 1 else (parts[0] if parts else None)


def clear_form(form: QFormLayout) -> None:
    while form.rowCount():
        form.removeRow(0)
