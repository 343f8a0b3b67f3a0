"""Lessons: a versioned JSON file of steps a teacher plays in the Lessons panel (docs/lesson-format.md).

A lesson is data. It is read here, at one door, with `json` only; text fields stay text (a
payload in them is shown, never run), an action is a name from ACTIONS with plain arguments,
and a graph is a file name next to the lesson or among the examples, or a graph document that
core.graph's strict reader checks.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from core.graph import Graph, LoomError, graph_from_dict, load_graph
from core.graph.fileformat import atomic_write

FORMAT, VERSION = "loom-lesson", 1
ACTIONS = ("none", "evaluate", "step", "show_gradient", "grow_gradient", "hide_gradient", "compile",
           "train", "nan_demo")
ARGUMENTS = {"step": {"count": int}, "grow_gradient": {"count": int, "cost": str}, "show_gradient": {"cost": str}}
TEXT_FIELDS = ("title", "text", "question", "answer")
MAX_BYTES = 16 * 2**20
MAX_TEXT = 20_000
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


class LessonError(LoomError):
    """A lesson file that cannot be played; the message names the file and the place in it."""


@dataclass
class LessonStep:
    """One step: the graph to show (or None: keep the current one), values to type, nodes to
    highlight, an action to run, and a question asked before the answer is revealed."""

    title: str = ""
    text: str = ""
    graph: Union[None, str, dict] = None
    values: dict[str, str] = field(default_factory=dict)
    highlight: list[str] = field(default_factory=list)
    action: str = "none"
    args: dict[str, Any] = field(default_factory=dict)
    question: str = ""
    answer: str = ""

    def to_dict(self) -> dict:
        entry: dict[str, Any] = {"title": self.title, "text": self.text}
        if self.graph is not None:
            entry["graph"] = copy.deepcopy(self.graph)
        if self.values:
            entry["values"] = dict(self.values)
        if self.highlight:
            entry["highlight"] = list(self.highlight)
        entry["action"] = self.action
        if self.args:
            entry["args"] = dict(self.args)
        if self.question:
            entry["question"], entry["answer"] = self.question, self.answer
        return entry


@dataclass
class Lesson:
    title: str
    description: str = ""
    steps: list[LessonStep] = field(default_factory=list)
    folder: Optional[Path] = None           # where a step's graph file name is looked up first

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "title": self.title, "description": self.description,
                "steps": [s.to_dict() for s in self.steps]}

    def graph_of(self, step: LessonStep) -> Optional[Graph]:
        """The graph a step shows (None: keep the current one); LessonError if it cannot be read."""
        if step.graph is None:
            return None
        if isinstance(step.graph, dict):
            return graph_from_dict(step.graph, source=f"lesson '{self.title}'")
        for folder in (self.folder, EXAMPLES):
            if folder is not None and (folder / step.graph).is_file():
                return load_graph(folder / step.graph)[0]
        raise LessonError(f"no graph file '{step.graph}' next to the lesson or among the examples")


def load_lesson(path: Union[str, os.PathLike]) -> Lesson:
    """Read and check a lesson file; raises LessonError naming the file and the JSON path."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise LessonError("the file is larger than 16 MiB", file=str(path))
        raw = path.read_bytes()
    except OSError as e:
        raise LessonError(f"cannot read the file: {e.strerror}", file=str(path)) from None
    try:
        document = json.loads(raw, parse_constant=_refuse)
    except (UnicodeDecodeError, ValueError) as e:
        raise LessonError(f"not valid JSON ({e})", file=str(path)) from None
    except RecursionError:
        raise LessonError("the JSON is nested too deeply", file=str(path)) from None
    lesson = lesson_from_dict(document, source=str(path))
    lesson.folder = path.parent
    return lesson


def save_lesson(path: Union[str, os.PathLike], lesson: Lesson) -> None:
    """Write the lesson atomically (checked first, so what is saved always loads again)."""
    document = lesson.to_dict()
    lesson_from_dict(document, source=str(path))
    text = json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False)
    atomic_write(Path(path), lambda f: f.write(text.encode("utf-8")))


def lesson_from_dict(document: Any, source: str = "<data>") -> Lesson:
    """Check a parsed lesson document field by field and build the Lesson."""
    doc = _expect(document, dict, "$", source)
    if doc.get("format") != FORMAT:
        raise LessonError(f'$.format: expected "{FORMAT}"', file=source)
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
        raise LessonError(f"$.version: this Loom reads lesson versions 1 to {VERSION}, got {version!r}",
                          file=source)
    lesson = Lesson(_text(doc.get("title", ""), "$.title", source),
                    _text(doc.get("description", ""), "$.description", source))
    steps = _expect(doc.get("steps"), list, "$.steps", source)
    for i, raw in enumerate(steps):
        lesson.steps.append(_step(raw, f"$.steps[{i}]", source))
    return lesson


def _step(raw: Any, where: str, source: str) -> LessonStep:
    entry = _expect(raw, dict, where, source)
    unknown = set(entry) - {"graph", "values", "highlight", "action", "args", *TEXT_FIELDS}
    if unknown:
        raise LessonError(f"{where}: unknown field '{sorted(unknown)[0]}'", file=source)
    step = LessonStep(**{k: _text(entry.get(k, ""), f"{where}.{k}", source) for k in TEXT_FIELDS})
    graph = entry.get("graph")
    if isinstance(graph, str):
        if Path(graph).name != graph or not graph.endswith(".json"):
            raise LessonError(f"{where}.graph: a graph is a .json file name, without folders", file=source)
    elif isinstance(graph, dict):
        try:
            graph_from_dict(graph, source=f"{source} {where}.graph")
        except LoomError as e:
            raise LessonError(f"{where}.graph: {e.message}", file=source) from None
    elif graph is not None:
        raise LessonError(f"{where}.graph: expected a file name or a graph", file=source)
    step.graph = graph
    values = _expect(entry.get("values", {}), dict, f"{where}.values", source)
    step.values = {_text(k, f"{where}.values", source): _text(v, f"{where}.values.{k}", source)
                   for k, v in values.items()}
    highlight = _expect(entry.get("highlight", []), list, f"{where}.highlight", source)
    step.highlight = [_text(h, f"{where}.highlight[{j}]", source) for j, h in enumerate(highlight)]
    step.action = entry.get("action", "none")
    if step.action not in ACTIONS:
        raise LessonError(f"{where}.action: {step.action!r} is not one of {', '.join(ACTIONS)}", file=source)
    args = _expect(entry.get("args", {}), dict, f"{where}.args", source)
    allowed = ARGUMENTS.get(step.action, {})
    for name, value in args.items():
        kind = allowed.get(name)
        if kind is None or not isinstance(value, kind) or isinstance(value, bool):
            raise LessonError(f"{where}.args.{name}: not an argument of '{step.action}'"
                              if kind is None else f"{where}.args.{name}: expected {kind.__name__}", file=source)
        if kind is int and not 1 <= value <= 100_000:
            raise LessonError(f"{where}.args.{name}: expected 1 to 100000", file=source)
    step.args = dict(args)
    return step


def _text(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str):
        raise LessonError(f"{where}: expected text, got {type(value).__name__}", file=source)
    if len(value) > MAX_TEXT:
        raise LessonError(f"{where}: text longer than {MAX_TEXT} characters", file=source)
    return value


def _expect(value: Any, kind: type, where: str, source: str) -> Any:
    if not isinstance(value, kind):
        raise LessonError(f"{where}: expected {'an object' if kind is dict else 'a list'}", file=source)
    return value


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not allowed")
