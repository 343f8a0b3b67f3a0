"""A tiny pure-Python signal, so the GUI can follow the model without the model knowing Qt."""
from __future__ import annotations

from typing import Any, Callable


class Signal:
    """A list of callbacks called in order with the emitted arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


class GraphEvents:
    """The events a Graph emits, one per kind of change (napari's EmitterGroup in small).

    node_added(node_id), node_removed(node_id), edge_added(edge), edge_removed(edge),
    attr_changed(node_id, name, old, new), ui_changed(node_id, key, old, new),
    training_changed(old, new), and changed() after any of them.
    """

    NAMES = ("node_added", "node_removed", "edge_added", "edge_removed", "attr_changed",
             "ui_changed", "training_changed", "changed")

    def __init__(self) -> None:
        for name in self.NAMES:
            setattr(self, name, Signal(name))

    def emit(self, name: str, *args: Any) -> None:
        """Emit one event, then the catch-all `changed`."""
        getattr(self, name).emit(*args)
        self.changed.emit()
