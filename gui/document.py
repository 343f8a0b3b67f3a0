"""The open document: graph, weights, file path and undo stack; plus recovery and recent files.

Loading is all-or-nothing (core.graph.load_graph raises GraphFileError and changes nothing);
saving is atomic and writes back the weights that match the graph's parameters.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.compiler.gradient_view import forward_part
from core.graph import Graph, GraphFileError, load_graph, save_graph
from core.graph.filepair import clean_stale

MAX_RECENT = 8


class Document:
    """What one window edits. Weights loaded with the graph are kept and saved back with it."""

    def __init__(self, graph: Optional[Graph] = None, weights: Optional[dict] = None,
                 path: Optional[Path] = None, template: Optional[str] = None) -> None:
        self.template = template
        self.graph = graph if graph is not None else Graph()
        self.weights: dict[str, np.ndarray] = dict(weights or {})
        self.path = Path(path) if path else None
        self.undo_stack = QUndoStack()

    @classmethod
    def load(cls, path: os.PathLike | str) -> "Document":
        """Read a graph file (and its weights); raises GraphFileError, leaving nothing half-done."""
        graph, weights = load_graph(path)
        return cls(graph, weights, Path(path))

    @classmethod
    def load_template(cls, path: os.PathLike | str) -> "Document":
        """Open an example as an untitled copy, so saving never overwrites the example."""
        graph, weights = load_graph(path)
        return cls(graph, weights, None, template=Path(path).name)

    @property
    def title(self) -> str:
        if self.path:
            return self.path.name
        return f"{self.template} (example)" if self.template else "untitled.json"

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def save(self, path: Optional[os.PathLike | str] = None) -> Path:
        """Write the graph (and matching weights) atomically; marks the document clean."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name given")
        weights = self.matching_weights()
        save_graph(target, forward_part(self.graph), weights)   # a shown gradient is saved only once kept; removes a stale companion
        self.path = target
        self.template = None
        self.undo_stack.setClean()
        return target

    def matching_weights(self) -> dict[str, np.ndarray]:
        """The weights whose key and shape still match a parameter of the graph."""
        decls = self.graph.analysis().params
        return {k: v for k, v in self.weights.items()
                if k in decls and tuple(decls[k][2].shape) == tuple(np.shape(v))}


class ReplaceWeights(QUndoCommand):
    """Put new weights (a trained run's) into the document: Save and Export then carry them; undo gives
    the earlier ones back."""

    def __init__(self, document: Document, weights: dict, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.new = dict(weights)
        self.old = dict(document.weights)

    def redo(self) -> None:
        self.document.weights = dict(self.new)

    def undo(self) -> None:
        self.document.weights = dict(self.old)


# ---- Recovery (autosave after a crash)


def recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".loom")
    return Path(base) / "recovery"


def recovery_file() -> Path:
    return recovery_dir() / "recovered.json"


def write_recovery(document: Document) -> Path:
    """Autosave the document to the recovery file (with a note of where it came from)."""
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = recovery_file()
    save_graph(target, document.graph, document.matching_weights())
    note = {"path": str(document.path) if document.path else None}
    (folder / "origin.json").write_text(json.dumps(note), encoding="utf-8")
    return target


def load_recovered(path: Path) -> tuple[Document, Optional[str]]:
    """The autosaved document, and a note when its weights could not be used.

    Weights that no longer match the graph (or cannot be read) never cost the graph: it is
    recovered without them and the note says why. Raises GraphFileError when the graph itself
    cannot be read.
    """
    try:
        return Document.load(path), None
    except GraphFileError as e:
        if not str(e.file or "").endswith(".npz"):
            raise
        graph, _ = load_graph(path, with_weights=False)
        return Document(graph, {}, Path(path)), f"{e}\n\nThe graph is recovered without these weights."


def pending_recovery() -> Optional[tuple[Path, Optional[Path]]]:
    """(recovery file, original path or None) when an earlier session left one.

    Temporaries an interrupted autosave left are removed first.
    """
    target = recovery_file()
    clean_stale(target)
    if not target.exists():
        return None
    try:
        origin = json.loads((recovery_dir() / "origin.json").read_text(encoding="utf-8")).get("path")
    except (OSError, ValueError, AttributeError):
        origin = None
    return target, Path(origin) if isinstance(origin, str) else None


def clear_recovery() -> None:
    """Delete the autosaved files (after a restore was saved, or on the user's Discard)."""
    for name in ("recovered.json", "recovered.npz", "origin.json"):
        (recovery_dir() / name).unlink(missing_ok=True)
    if recovery_dir().is_dir():
        for leftover in recovery_dir().glob(".recovered*"):
            leftover.unlink(missing_ok=True)


# ---- Recent files


def recent_files() -> list[str]:
    value = QSettings().value("recent_files", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if isinstance(v, str)]


def add_recent_file(path: Path) -> list[str]:
    files = [str(Path(path).resolve())] + [f for f in recent_files() if f != str(Path(path).resolve())]
    QSettings().setValue("recent_files", files[:MAX_RECENT])
    return files[:MAX_RECENT]
