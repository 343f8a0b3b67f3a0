"""The Lessons panel: pick a lesson, play it with Next and Back, predict before the answer shows,
record a new one by doing the demo, edit its texts, save and load it.

Playing a step shows its graph (if it has one), types its values, highlights its nodes and
triggers its action through the same QAction the menu uses. Texts are plain text, always.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from core.graph import LoomError
from core.training.lessons import Lesson, LessonStep, load_lesson, save_lesson

from ..canvas.commands import SetUiCommand
from ..canvas.edits import macro
from .recorder import LessonRecorder

LESSONS = Path(__file__).resolve().parents[2] / "resources" / "lessons"
HEAVY = ("compile", "train", "nan_demo")     # not re-run when Back or a jump replays earlier steps
TEXT_PT = 15


def shipped_lessons() -> list[Path]:
    return sorted(LESSONS.glob("*.json"))


def plain_label(parent: QWidget, point_size: int, bold: bool = False) -> QLabel:
    """A word-wrapped label that never interprets its text as markup."""
    label = QLabel(parent)
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    font = label.font()
    font.setPointSize(point_size)
    font.setBold(bold)
    label.setFont(font)
    return label


class LessonsPanel(QWidget):
    """Plays one Lesson at a time on the window of `feature` (a TeachingFeature)."""

    def __init__(self, feature, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.feature = feature
        self.lesson: Optional[Lesson] = None
        self.index = -1
        self.revealed = False
        self.recorder = LessonRecorder(feature)
        self.choice = QComboBox(self)
        self.choice.addItem("Choose a lesson…", None)
        for path in shipped_lessons():
            try:
                title = load_lesson(path).title
            except LoomError:
                continue            # a broken shipped lesson is reported by its test, not here
            self.choice.addItem(title, str(path))
            self.choice.setItemData(self.choice.count() - 1, title, Qt.ToolTipRole)   # clipped at 1280x800 F5
        self.choice.activated.connect(self._on_choice)
        self.lesson_title = plain_label(self, TEXT_PT + 2, bold=True)
        self.position = plain_label(self, TEXT_PT - 3)
        self.step_title = plain_label(self, TEXT_PT + 1, bold=True)
        self.text = plain_label(self, TEXT_PT)
        self.question = plain_label(self, TEXT_PT, bold=True)
        self.question.setStyleSheet("color: #1d4ed8;")
        self.answer = plain_label(self, TEXT_PT)
        self.answer.setStyleSheet("color: #15803d;")
        self.status = plain_label(self, TEXT_PT - 2)
        self.status.setStyleSheet("color: #4b5563;")
        self.edit_title, self.edit_text = QLineEdit(self), QPlainTextEdit(self)
        self.edit_question, self.edit_answer = QLineEdit(self), QLineEdit(self)
        self.edit_question.setPlaceholderText("Question to predict (optional)")
        self.edit_answer.setPlaceholderText("Its answer")
        for editor in (self.edit_title, self.edit_text, self.edit_question, self.edit_answer):
            editor.hide()
            editor.textChanged.connect(self._store_edits)
        self.back_button = self._button("◀ Back", self.back)
        self.reveal_button = self._button("Reveal", self.reveal)
        self.next_button = self._button("Next ▶", self.next)
        self.record_button = self._button("● Record", self._toggle_record, checkable=True)
        self.edit_button = self._button("Edit texts", self._toggle_edit, checkable=True)
        self.open_button = self._button("Open…", self._open)
        self.save_button = self._button("Save…", self._save)
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 10, 10, 10)
        column.setSpacing(8)
        column.addWidget(self.choice)
        for widget in (self.lesson_title, self.position, self.step_title, self.edit_title, self.text,
                       self.edit_text, self.question, self.edit_question, self.answer, self.edit_answer):
            column.addWidget(widget)
        column.addWidget(self.status)
        column.addStretch(1)
        play = QHBoxLayout()
        for button in (self.back_button, self.reveal_button, self.next_button):
            play.addWidget(button)
        column.addLayout(play)
        tools = QGridLayout()    # two rows: in one, presentation's larger text clipped them at 1280x800
        for i, button in enumerate((self.record_button, self.edit_button, self.open_button, self.save_button)):
            tools.addWidget(button, i // 2, i % 2)
        column.addLayout(tools)
        self.setMinimumWidth(300)
        self._update()

    # ---- Public API

    def open_lesson(self, lesson: Lesson) -> None:
        """Show a lesson and play its first step."""
        self.lesson = lesson
        self.index = -1
        self.lesson_title.setText(lesson.title)
        dock = self.feature.lessons_dock
        dock.show()
        dock.raise_()
        if lesson.steps:
            self.go(0)
        self._make_room(dock)     # after the first step's graph is shown: replacing the document right after
        self._update()            # the docks were resized crashed Qt when a node was selected

    def load_path(self, path) -> bool:
        try:
            self.open_lesson(load_lesson(path))
        except LoomError as e:
            self.show_status(f"Cannot open the lesson: {e}")
            return False
        return True

    def save_to(self, path) -> bool:
        if self.lesson is None:
            return False
        try:
            save_lesson(path, self.lesson)
        except (LoomError, OSError) as e:
            self.show_status(f"Cannot save the lesson: {e}")
            return False
        self.show_status(f"Saved '{self.lesson.title}' ({len(self.lesson.steps)} steps) to {path}.")
        return True

    def next(self) -> None:
        """Reveal the answer of a question not revealed yet; otherwise go to the next step."""
        if self.lesson is None:
            return
        if self._current() is not None and self._current().question and not self.revealed:
            self.reveal()
        elif self.index + 1 < len(self.lesson.steps):
            self.go(self.index + 1)

    def back(self) -> None:
        if self.lesson is not None and self.index > 0:
            self.go(self.index - 1)

    def go(self, index: int) -> None:
        """Play step `index`: the steps since the last one that sets a graph are replayed quietly
        first (without training), so Back and jumps leave the canvas as the lesson had it."""
        steps = self.lesson.steps
        start = max([i for i in range(index + 1) if steps[i].graph is not None], default=index)
        if index == self.index + 1 and index > 0 and steps[index].graph is None:
            start = index                     # playing forward: the canvas is already right
        self.show_status("")
        try:
            for i in range(start, index):
                self._apply(steps[i], run_action=steps[i].action not in HEAVY)
            self.index, self.revealed = index, False
            self._apply(steps[index], run_action=not steps[index].question)
        except LoomError as e:
            self.index = index
            self.show_status(f"This step cannot be shown: {e}")
        self._update()

    def reveal(self) -> None:
        """Show the answer and run the step's action (the prediction was made)."""
        step = self._current()
        if step is None or self.revealed:
            return
        self.revealed = True
        self._update()
        if step.question and step.action != "none":
            self.feature.trigger(step.action, step.args)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    # ---- Internals

    def _current(self) -> Optional[LessonStep]:
        if self.lesson is None or not 0 <= self.index < len(self.lesson.steps):
            return None
        return self.lesson.steps[self.index]

    def _apply(self, step: LessonStep, run_action: bool) -> None:
        window = self.feature.window
        graph = self.lesson.graph_of(step)
        if graph is not None:
            self.feature.show_graph(graph)
        values = {k: v for k, v in step.values.items() if k in window.graph}
        if values:
            with macro(window.undo_stack, "type lesson values"):
                for node_id, text in values.items():
                    window.undo_stack.push(SetUiCommand(window.graph, node_id, "value", text))
        if run_action and step.action != "none":
            self.feature.trigger(step.action, step.args)
        self.feature.focus(step.highlight)

    def _update(self) -> None:
        step = self._current()
        count = len(self.lesson.steps) if self.lesson else 0
        recording = self.recorder.recording
        self.position.setText(f"Step {self.index + 1} of {count}" if step else
                              ("Recording: every Run, Step, Gradient, Compile and Train becomes a step."
                               if recording else "Open a lesson, or press Record and do the demo."))
        self.step_title.setText(step.title if step else "")
        self.text.setText(step.text if step else "")
        self.question.setText(f"Predict: {step.question}" if step and step.question else "")
        self.answer.setText(f"Answer: {step.answer}" if step and step.question and self.revealed else "")
        for label in (self.question, self.answer, self.step_title, self.text):
            label.setVisible(bool(label.text()) and not self.edit_button.isChecked())
        self.reveal_button.setEnabled(bool(step and step.question and not self.revealed))
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(bool(step) and (self.index + 1 < count or
                                                    bool(step.question and not self.revealed)))
        self.save_button.setEnabled(self.lesson is not None)
        if self.edit_button.isChecked() and step is not None:
            for editor, value in ((self.edit_title, step.title), (self.edit_text, step.text),
                                  (self.edit_question, step.question), (self.edit_answer, step.answer)):
                editor.blockSignals(True)
                if isinstance(editor, QPlainTextEdit):
                    editor.setPlainText(value)
                else:
                    editor.setText(value)
                editor.blockSignals(False)

    def _store_edits(self, *args) -> None:
        step = self._current()
        if step is None:
            return
        step.title, step.text = self.edit_title.text(), self.edit_text.toPlainText()
        step.question, step.answer = self.edit_question.text(), self.edit_answer.text()

    def _toggle_edit(self, on: bool) -> None:
        for editor in (self.edit_title, self.edit_text, self.edit_question, self.edit_answer):
            editor.setVisible(on)
        self._update()

    def _toggle_record(self, on: bool) -> None:
        if on:
            self.lesson, self.index = self.recorder.start(), -1
            self.lesson_title.setText(self.lesson.title)
            self.record_button.setText("■ Stop")
        else:
            lesson = self.recorder.stop()
            self.record_button.setText("● Record")
            if lesson is not None:
                self.lesson, self.index = lesson, len(lesson.steps) - 1
                self.show_status(f"Recorded {len(lesson.steps)} steps: edit their texts, then Save.")
        self._update()

    def _make_room(self, dock) -> None:
        """The lesson's text runs the full height on the left; the canvas gets the rest (a projector is 1280x800)."""
        window = self.feature.window
        window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        window.setCorner(Qt.TopLeftCorner, Qt.LeftDockWidgetArea)
        window.resizeDocks([dock], [max(380, window.width() // 3)], Qt.Horizontal)
        right = [d for d in window.findChildren(QDockWidget)
                 if window.dockWidgetArea(d) == Qt.RightDockWidgetArea and d.isVisible() and not d.isFloating()]
        if right:
            window.resizeDocks(right[:1], [window.width() // 5], Qt.Horizontal)

    def _on_choice(self, row: int) -> None:
        path = self.choice.itemData(row)
        if path:
            self.load_path(path)

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open lesson", str(LESSONS), "Loom lessons (*.json)")
        if path:
            self.load_path(path)

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save lesson", "lesson.json", "Loom lessons (*.json)")
        if path:
            self.save_to(path)

    def _button(self, text: str, slot, checkable: bool = False) -> QPushButton:
        button = QPushButton(text, self)
        button.setCheckable(checkable)
        button.setMinimumHeight(34)
        font = button.font()
        font.setPointSize(TEXT_PT - 3)
        button.setFont(font)
        (button.toggled if checkable else button.clicked).connect(slot)
        return button
