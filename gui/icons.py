"""Icons for toolbar actions and op categories, drawn as small SVGs in resources/icons."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from .theme import ICONS


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon resources/icons/<name>.svg (an empty icon when it is missing)."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def category_icon(category: str) -> QIcon:
    """The coloured badge of an op category."""
    return icon(f"category_{category.lower()}")
