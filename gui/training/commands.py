"""The training configuration's undo command: one per change, restoring the stored dict exactly."""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from core.graph import Graph


class SetTrainingCommand(QUndoCommand):
    """Replace graph.training; consecutive edits of the same setting merge into one undo step."""

    ID = 0x7261

    def __init__(self, graph: Graph, new: dict, key: str) -> None:
        super().__init__(f"Change training {key}")
        self.graph, self.key = graph, key
        self.old, self.new = copy.deepcopy(graph.training), copy.deepcopy(new)

    def id(self) -> int:  # noqa: A003 (Qt override)
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, SetTrainingCommand) or other.key != self.key or other.graph is not self.graph:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.graph.set_training(self.new)

    def undo(self) -> None:
        self.graph.set_training(self.old)
