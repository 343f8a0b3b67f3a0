"""Lesson files are data: checked at one door, text stays text, actions come from a fixed list."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.training.lessons import ACTIONS, Lesson, LessonError, LessonStep, load_lesson, save_lesson

LESSONS = Path(__file__).resolve().parents[3] / "resources" / "lessons"


def write(tmp_path: Path, document) -> Path:
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document, encoding="utf-8")
    return path


def minimal(**step) -> dict:
    return {"format": "loom-lesson", "version": 1, "title": "t", "steps": [{"text": "x", **step}]}


def test_every_shipped_lesson_loads_and_its_graphs_validate():
    paths = sorted(LESSONS.glob("*.json"))
    assert len(paths) == 8
    for path in paths:
        lesson = load_lesson(path)
        for step in lesson.steps:
            assert step.action in ACTIONS
            graph = lesson.graph_of(step)
            if graph is not None:
                assert not [d for d in graph.validate() if d.severity == "error"]


def test_save_and_load_round_trip_with_an_inline_graph(tmp_path, vectors):
    from core.graph import graph_document

    lesson = Lesson("Vectors", "d", [LessonStep("one", "text", graph_document(vectors), {"a": "[1, 2, 3]"}, ["res2"],
                                                "step", {"count": 2}, "shape?", "(4,)")])
    save_lesson(tmp_path / "l.json", lesson)
    again = load_lesson(tmp_path / "l.json")
    assert again.to_dict() == lesson.to_dict()
    assert again.graph_of(again.steps[0]).to_dict() == vectors.to_dict()


def test_payloads_in_text_fields_stay_text_and_nothing_runs(tmp_path, monkeypatch):
    payload = "__import__('os').system('touch /tmp/loom_lesson_pwned')"
    path = write(tmp_path, minimal(title=payload, text="<script>alert(1)</script>", question="{{7*7}}",
                                   answer=payload, values={"x": payload}))
    ran = []
    monkeypatch.setattr("builtins.eval", lambda *a, **k: ran.append(a))
    monkeypatch.setattr("builtins.exec", lambda *a, **k: ran.append(a))
    lesson = load_lesson(path)
    save_lesson(tmp_path / "again.json", lesson)
    monkeypatch.undo()
    step = lesson.steps[0]
    assert step.title == payload and step.text == "<script>alert(1)</script>" and step.values == {"x": payload}
    assert step.question == "{{7*7}}" and not ran
    assert not Path("/tmp/loom_lesson_pwned").exists()


@pytest.mark.parametrize("step, message", [
    ({"action": "shutil.rmtree"}, "not one of"),
    ({"action": "step", "args": {"count": "__import__('os')"}}, "expected int"),
    ({"action": "step", "args": {"count": 10**9}}, "1 to 100000"),
    ({"action": "train", "args": {"callback": 1}}, "not an argument"),
    ({"graph": "../../etc/passwd.json"}, "without folders"),
    ({"graph": {"format": "loom-graph", "version": 1, "nodes": [{"id": "x", "op": "Eval"}]}}, "unknown op"),
    ({"text": 7}, "expected text"),
    ({"highlight": "f"}, "expected a list"),
    ({"python": "print(1)"}, "unknown field"),
])
def test_anything_but_data_is_refused_naming_where(tmp_path, step, message):
    with pytest.raises(LessonError, match=message) as info:
        load_lesson(write(tmp_path, minimal(**step)))
    assert info.value.file.endswith("lesson.json") and "$.steps[0]" in info.value.message


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"), ('{"format": "loom-graph", "version": 1}', "format"),
    ('{"format": "loom-lesson", "version": 99, "steps": []}', "version"), ("[NaN]", "not valid JSON")])
def test_garbage_and_unknown_versions_are_one_clear_error(tmp_path, text, message):
    with pytest.raises(LessonError, match=message):
        load_lesson(write(tmp_path, text))


def test_a_missing_graph_file_is_named(tmp_path):
    lesson = load_lesson(write(tmp_path, minimal(graph="nowhere.json")))
    with pytest.raises(LessonError, match="nowhere.json"):
        lesson.graph_of(lesson.steps[0])
