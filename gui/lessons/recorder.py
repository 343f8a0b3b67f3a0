"""Record a lesson by doing the demo: each teaching action becomes a step, with the graph as it was
just before it whenever it differs from what the previous action left."""
from __future__ import annotations

from typing import Optional

from core.graph import graph_document
from core.training.lessons import ACTIONS, Lesson, LessonStep

RECORDED = set(ACTIONS)


class LessonRecorder:
    """Appends a step to `lesson` for every teaching action while it is on."""

    def __init__(self, feature) -> None:
        self.feature = feature
        self.lesson: Optional[Lesson] = None
        self._after: Optional[dict] = None

    @property
    def recording(self) -> bool:
        return self.lesson is not None

    def start(self, title: str = "Recorded lesson") -> Lesson:
        self.lesson = Lesson(title, "Recorded in Loom by doing the demo.")
        self._after = None
        self.feature.sig_action_starting.connect(self._on_starting)
        self.feature.sig_action_done.connect(self._on_done)
        return self.lesson

    def stop(self) -> Optional[Lesson]:
        """Stop recording; returns the recorded lesson."""
        if self.lesson is None:
            return None
        self.feature.sig_action_starting.disconnect(self._on_starting)
        self.feature.sig_action_done.disconnect(self._on_done)
        lesson, self.lesson = self.lesson, None
        return lesson

    def _state(self) -> dict:
        return graph_document(self.feature.window.graph)

    def _on_starting(self, name: str, args: dict) -> None:
        if self.lesson is None or name not in RECORDED:
            return
        before = self._state()
        step = LessonStep(title=f"Step {len(self.lesson.steps) + 1}: {name.replace('_', ' ')}",
                          action=name, args=dict(args))
        if before != self._after:
            step.graph = before
        self.lesson.steps.append(step)

    def _on_done(self, name: str) -> None:
        if self.lesson is not None and name in RECORDED:
            self._after = self._state()
