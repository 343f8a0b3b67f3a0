"""The Lessons panel: every shipped lesson plays from first to last step; a recorded lesson saves,
reloads and replays; a lesson's text is shown as text."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.compiler.gradient_view import SHOWN
from core.training.lessons import Lesson, LessonStep, load_lesson, save_lesson
from gui.document import Document
from gui.lessons.panel import shipped_lessons
from gui_helpers import click_node

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def press_next_to_the_end(qtbot, panel) -> list[str]:
    """Click Next until it is disabled; returns the status line after each click."""
    seen = []
    for _ in range(60):
        if not panel.next_button.isEnabled():
            break
        qtbot.mouseClick(panel.next_button, Qt.LeftButton)
        QApplication.processEvents()
        seen.append(panel.status.text())
    return seen


def test_eight_lessons_ship_and_load():
    assert len(shipped_lessons()) == 8
    for path in shipped_lessons():
        lesson = load_lesson(path)
        assert lesson.steps and all(lesson.graph_of(s) is not None for s in lesson.steps[:1])


@pytest.mark.parametrize("path", shipped_lessons(), ids=lambda p: p.stem)
def test_every_shipped_lesson_plays_first_to_last_step(qtbot, window, path):
    window.teaching.gradient.choose_cost = lambda *a: pytest.fail("a lesson must not ask for the cost")
    panel = window.teaching.lessons
    panel.choice.setCurrentIndex(panel.choice.findData(str(path)))
    panel.choice.activated.emit(panel.choice.currentIndex())
    assert panel.index == 0 and window.teaching.lessons_dock.isVisible()
    statuses = press_next_to_the_end(qtbot, panel)
    lesson = load_lesson(path)
    assert panel.index == len(lesson.steps) - 1
    assert not [s for s in statuses if s.startswith(("This step cannot", "Cannot"))]
    assert not window.statusBar().currentMessage().startswith("Cannot")
    if lesson.steps[-1].question:
        assert panel.answer.isVisible()
    actions = {s.action for s in lesson.steps}
    training = window.training
    if "compile" in actions:      # the Compiled tab received the compiled training step
        qtbot.waitUntil(lambda: training.compiled.info is not None, timeout=60000)
        assert training.compiled.info.kernels
    if "train" in actions:
        qtbot.waitUntil(lambda: training.controller.status is not None
                        and training.controller.status.step_count > 2, timeout=60000)
    if "nan_demo" in actions:     # the run stops and the canvas names the culprit
        qtbot.waitUntil(lambda: window.scene.highlighted_node() == "log_h", timeout=60000)


def test_the_f_xy_lesson_asks_before_it_reveals_and_shows_the_values(qtbot, window):
    panel = window.teaching.lessons
    panel.load_path(next(p for p in shipped_lessons() if "f_xy" in p.stem))
    assert panel.question.text() == "Predict: What is f(1, 1)?" and not panel.answer.isVisible()
    assert "f" not in window.scene.overlays.summaries          # not evaluated before the prediction
    qtbot.mouseClick(panel.reveal_button, Qt.LeftButton)
    assert panel.answer.isVisible() and window.scene.nodes["f"].overlay_lines() == ["= 7"]
    qtbot.mouseClick(panel.next_button, Qt.LeftButton)
    qtbot.mouseClick(panel.next_button, Qt.LeftButton)
    assert window.scene.nodes["f"].overlay_lines() == ["= -9"]
    qtbot.mouseClick(panel.back_button, Qt.LeftButton)          # Back replays step 1 from its graph
    assert window.graph.ui("x")["value"] == "1"


def test_a_recorded_lesson_saves_reloads_and_replays_the_same_steps(qtbot, window, tmp_path):
    window.set_document(Document.load_template(EXAMPLES / "f_xy.json"))
    panel = window.teaching.lessons
    qtbot.mouseClick(panel.record_button, Qt.LeftButton)
    actions = window.teaching.actions
    for name in ("evaluate", "step", "grow_gradient", "show_gradient", "evaluate"):
        actions[name].trigger()
    final = window.graph.to_dict()
    qtbot.mouseClick(panel.record_button, Qt.LeftButton)
    recorded = panel.lesson
    assert [s.action for s in recorded.steps] == ["evaluate", "step", "grow_gradient", "show_gradient", "evaluate"]
    assert recorded.steps[0].graph is not None and recorded.steps[1].graph is None
    recorded.steps[0].text = "typed by the teacher"
    assert panel.save_to(tmp_path / "recorded.json")
    again = load_lesson(tmp_path / "recorded.json")
    assert [s.to_dict() for s in again.steps] == [s.to_dict() for s in recorded.steps]
    window.set_document(Document.load_template(EXAMPLES / "tanh_layer.json"))
    panel.open_lesson(again)
    press_next_to_the_end(qtbot, panel)
    assert window.graph.to_dict() == final
    assert len([n for n in window.graph.nodes if window.graph.ui(n).get(SHOWN)]) == 9
    assert window.scene.nodes["f"].overlay_lines() == ["= 7"]


def test_text_fields_are_shown_as_text_never_run(qtbot, window, tmp_path, monkeypatch):
    payloads = ["__import__('os').system('touch /tmp/pwned')", "<script>alert(1)</script><b>bold</b>",
                "{{7*7}} ${7*7} `id`"]
    ran = []
    monkeypatch.setattr("builtins.eval", lambda *a, **k: ran.append(a))
    monkeypatch.setattr("builtins.exec", lambda *a, **k: ran.append(a))
    lesson = Lesson(payloads[1], payloads[2], [LessonStep(title=payloads[0], text=payloads[1], graph="f_xy.json",
                                                          values={"x": payloads[0]}, question=payloads[2],
                                                          answer=payloads[0], action="evaluate")])
    save_lesson(tmp_path / "hostile.json", lesson)
    panel = window.teaching.lessons
    assert panel.load_path(tmp_path / "hostile.json")
    qtbot.mouseClick(panel.reveal_button, Qt.LeftButton)
    assert panel.step_title.text() == payloads[0] and panel.text.text() == payloads[1]
    assert panel.text.textFormat() == Qt.PlainText and panel.answer.text() == "Answer: " + payloads[0]
    assert window.graph.ui("x")["value"] == payloads[0]
    assert "'x'" in window.statusBar().currentMessage() and not ran
    assert not Path("/tmp/pwned").exists()


def test_edited_texts_are_kept_and_saved(qtbot, window, tmp_path):
    panel = window.teaching.lessons
    panel.load_path(next(p for p in shipped_lessons() if "tanh" in p.stem))
    qtbot.mouseClick(panel.edit_button, Qt.LeftButton)
    assert panel.edit_text.isVisible() and panel.edit_text.toPlainText() == panel.lesson.steps[0].text
    panel.edit_text.selectAll()
    qtbot.keyClicks(panel.edit_text, "Our own words.")
    panel.edit_question.clear()
    qtbot.keyClicks(panel.edit_question, "Which shape?")
    qtbot.mouseClick(panel.edit_button, Qt.LeftButton)
    assert panel.text.text() == "Our own words." and panel.question.text() == "Predict: Which shape?"
    assert panel.save_to(tmp_path / "mine.json")
    assert load_lesson(tmp_path / "mine.json").steps[0].text == "Our own words."


def test_choosing_a_lesson_while_a_node_is_selected_opens_it(qtbot, window):
    """A teacher clicks a node, then picks a lesson: the lesson's graph replaces the selection (this path
    used to crash Qt when the docks were resized just before the document was replaced)."""
    window.resize(1280, 800)
    click_node(qtbot, window, "x")
    assert window.inspector.node_id == "x"
    before = window.graph
    panel = window.teaching.lessons
    panel.choice.setFocus()
    qtbot.keyClick(panel.choice, Qt.Key_Down)                 # the first lesson, from the keyboard
    assert panel.index == 0 and panel.lesson is not None
    assert window.graph is not before and window.teaching.lessons_dock.isVisible()
    assert window.inspector.node_id in window.graph.nodes        # the step's highlighted node, not the old x


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
def test_every_button_of_the_panel_shows_its_full_text_at_1280x800(qtbot, window, present):
    """In one row, presentation's larger text clipped Record and Edit texts to '● Recor' and 'dit text'."""
    from PySide6.QtWidgets import QPushButton

    window.resize(1280, 800)
    panel = window.teaching.lessons
    panel.choice.setFocus()
    qtbot.keyClick(panel.choice, Qt.Key_Down)
    if present:
        qtbot.keyClick(window.view, Qt.Key_F5)
        assert window.act_present.isChecked()
    qtbot.wait(50)
    buttons = panel.findChildren(QPushButton)
    assert len(buttons) == 7
    for button in buttons:
        text_width = button.fontMetrics().horizontalAdvance(button.text())
        assert button.isVisible() and button.width() >= button.sizeHint().width() > text_width, button.text()
    if present:
        qtbot.keyClick(window.view, Qt.Key_F5)


def test_the_inspector_beside_a_lesson_fits_its_text_at_1280x800_in_presentation(qtbot, window):
    """The op line and "This op has no attributes." did not wrap: the inspector scrolled sideways, its text cut."""
    window.resize(1280, 800)
    panel = window.teaching.lessons
    panel.choice.setCurrentIndex(panel.choice.findData(str(next(p for p in shipped_lessons() if "f_xy" in p.stem))))
    panel.choice.activated.emit(panel.choice.currentIndex())
    panel.reveal()                                   # f(1, 1) = 7: the inspector shows f, an Add
    qtbot.keyClick(window.view, Qt.Key_F5)
    qtbot.wait(50)
    assert window.inspector.node_id == "f" and window.inspector.scroll.isVisible()
    bar = window.inspector.scroll.horizontalScrollBar()
    assert bar.maximum() == 0, f"the inspector's page is {bar.maximum()} px wider than its dock"
    qtbot.keyClick(window.view, Qt.Key_F5)
