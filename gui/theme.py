"""The editor's look in one place: colours per op category, sizes, and the presentation scale."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QFont

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"
STYLE = RESOURCES / "style" / "loom.qss"
EXAMPLES = RESOURCES / "examples"
DEFAULT_EXAMPLE = EXAMPLES / "seed_mlp.json"

CATEGORY_COLOURS = {
    "Sources": "#2f7d4f",
    "Elementwise": "#2b6cb0",
    "Tensor": "#7b4fb3",
    "Reduce": "#b7791f",
    "Network": "#c05621",
    "Loss": "#c53030",
    "Internal": "#5a6472",
}
ROLE_COLOURS = {"grad": "#8a3ab9", "update": "#2c7a7b"}

CANVAS_BG = QColor("#f6f7f9")
GRID_MINOR = QColor("#e8ebef")
GRID_MAJOR = QColor("#d6dbe1")
NODE_BG = QColor("#ffffff")
NODE_BORDER = QColor("#9aa5b1")
SELECTED = QColor("#f0a030")
ERROR = QColor("#d64545")
WARNING = QColor("#d69e2e")
TEXT = QColor("#1f2933")
MUTED = QColor("#616e7c")
EDGE = QColor("#52606d")
EDGE_LABEL_BG = QColor("#ffffff")
OK_WIRE = QColor("#2f855a")
GRID = 20.0


class Scale:
    """The presentation scale: 1.0 normally, larger when projecting (fonts and strokes grow)."""

    factor = 1.0

    @classmethod
    def px(cls, value: float) -> float:
        return value * cls.factor


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, CATEGORY_COLOURS["Internal"]))


_FONTS: dict[tuple, QFont] = {}


def font(point_size: float = 9.0, bold: bool = False, italic: bool = False) -> QFont:
    """The canvas font at the current presentation scale (cached: painting asks often)."""
    key = (point_size * Scale.factor, bold, italic)
    f = _FONTS.get(key)
    if f is None:
        f = QFont()
        f.setPointSizeF(key[0])
        f.setBold(bold)
        f.setItalic(italic)
        _FONTS[key] = f
    return f


def stylesheet() -> str:
    """The application style sheet, scaled for the presentation mode."""
    try:
        text = STYLE.read_text(encoding="utf-8")
    except OSError:
        return ""
    return text.replace("@FONT@", f"{round(10 * Scale.factor)}pt")
