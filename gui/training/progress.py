"""The run's progress line: a bar that follows every delivery and a rate-limited text (epoch, step, steps/s
averaged over the last seconds of training time, time left); and a failed run in words."""
from __future__ import annotations

import time
from collections import deque

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from core.graph import LoomError
from core.training import NonFiniteError, StepMetrics

RATE_WINDOW = 2.0   # seconds of training time the steps/s figure averages over
LABEL_PERIOD = 0.25  # seconds between rewrites of the progress text (the bar follows every delivery)
STATE_WORDS = {"running": "", "paused": " · paused", "finished": " · finished", "stopped": " · stopped"}


class ProgressLine(QWidget):
    """`bar` and `label` for one run; `reset()` before a new run, `add(metrics, state)` per delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.label = QLabel("Not started", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self._rate: deque = deque()
        self._label_time = 0.0

    def reset(self) -> None:
        self._rate.clear()
        self.bar.setValue(0)

    def add(self, items: list[StepMetrics], state: str) -> None:
        """Follow a delivery of step metrics (the text at most every LABEL_PERIOD, and on the last step)."""
        last = items[-1]
        self._rate.append((last.elapsed, last.step))
        while len(self._rate) > 2 and last.elapsed - self._rate[0][0] > RATE_WINDOW:
            self._rate.popleft()
        self.bar.setValue(round(1000 * last.step / max(last.total_steps, 1)))
        now = time.perf_counter()
        if now - self._label_time >= LABEL_PERIOD or last.step == last.total_steps:
            self._label_time = now
            self.show_step(last, state)

    def show_step(self, m: StepMetrics, state: str) -> None:
        """Write the line for step metrics `m` in run state `state`."""
        self.bar.setValue(round(1000 * m.step / max(m.total_steps, 1)))
        t0, s0 = self._rate[0] if self._rate else (0.0, 0)
        rate = (m.step - s0) / (m.elapsed - t0) if m.elapsed > t0 and m.step > s0 else m.step / max(m.elapsed, 1e-9)
        left = (m.total_steps - m.step) / rate if rate > 0 else 0.0
        epochs = -(-m.total_steps // m.steps_per_epoch)
        self.label.setText(f"epoch {m.epoch}/{epochs} · step {m.step}/{m.total_steps} · "
                           f"{rate:.0f} steps/s · {duration(left)} left{STATE_WORDS.get(state, '')}")


def describe_error(error: object) -> str:
    """A failed run in words: NaN/Inf with its node, step and what went in; or the error's message."""
    if isinstance(error, NonFiniteError):
        lines = [f"Training stopped at step {error.step} (epoch {error.epoch}): node '{error.node}' produced "
                 f"{error.value}."]
        lines += [f"  {port} {text}" for port, text in error.inputs.items()]
        return "\n".join(lines)
    if isinstance(error, LoomError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
