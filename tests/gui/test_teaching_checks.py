"""The finite-difference badges of Run are computed off the UI thread: Run returns at once, the window
keeps processing events, the badges come when ready, stale ones are dropped, closing does not wait forever."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QToolBar

import gui.teaching.values as values_module
from core.compiler.gradient_view import finite_differences
from gui.document import Document

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
HOLDERS = {"x": "d_add", "y": "d_add_2"}       # f(x, y) = 3x + xy (+ 3y): the gradient nodes on the canvas


class HeldChecks:
    """Stands in for finite_differences: enters, then waits until released or told to stop (at most
    ~10 s, so that a check run on the UI thread fails the test instead of hanging it)."""

    def __init__(self) -> None:
        self.entered, self.release, self.stopped = threading.Event(), threading.Event(), False

    def __call__(self, graph, cost, wrt, weights, stop=None, **kwargs):
        self.entered.set()
        for _ in range(2000):
            if self.release.wait(0.005):
                break
            if stop is not None and stop():
                self.stopped = True
                return {}
        return finite_differences(graph, cost, wrt, weights, stop=stop, **kwargs)


@pytest.fixture
def held(window, monkeypatch):
    checks = HeldChecks()
    monkeypatch.setattr(values_module, "finite_differences", checks)
    window.set_document(Document.load_template(EXAMPLES / "f_xy.json"))
    window.teaching.gradient.show("f")
    yield checks
    checks.release.set()


def click_run(qtbot, window) -> None:
    button = window.findChild(QToolBar, "TeachToolBar").widgetForAction(window.teaching.actions["evaluate"])
    qtbot.mouseClick(button, Qt.LeftButton)


def badge(window, node_id: str) -> str:
    return window.scene.nodes[node_id].overlay_lines()[-1]


def test_run_returns_while_the_check_runs_and_the_badges_come_when_it_is_done(qtbot, window, held):
    click_run(qtbot, window)
    assert held.entered.wait(10)                     # the check started, and is held in its thread
    values = window.teaching.values
    assert values.checking and all(badge(window, n).startswith("… finite diff.") for n in HOLDERS.values())
    assert window.scene.nodes["f"].overlay_lines()[0] == "= 7"     # the values are there already
    ticks = []
    QTimer.singleShot(0, lambda: ticks.append("UI"))
    qtbot.waitUntil(lambda: ticks == ["UI"])         # the event loop runs while the check is held
    assert values.checking
    with qtbot.waitSignal(values.sig_checks_done, timeout=30000):
        held.release.set()
    truth = finite_differences(window.graph, "f", ["x", "y"], {})
    for wrt, node in HOLDERS.items():
        assert badge(window, node).startswith("✓ finite diff. ")
        assert float(badge(window, node).removeprefix("✓ finite diff. ")) == pytest.approx(truth[wrt][1][0], rel=1e-4)


def test_a_check_finishing_after_an_edit_is_dropped(qtbot, window, held):
    click_run(qtbot, window)
    assert held.entered.wait(10)
    done = []
    window.teaching.values.sig_checks_done.connect(lambda: done.append(True))
    window.graph.set_ui("x", "value", "2")           # the typed value changes: old estimates are stale
    held.release.set()
    qtbot.waitUntil(lambda: not window.teaching.values.checking, timeout=30000)
    assert not done
    assert all("finite diff." not in line for n in HOLDERS.values()
               for line in window.scene.nodes[n].overlay_lines())


def test_closing_the_window_while_a_check_runs_stops_it(qtbot, window, held):
    click_run(qtbot, window)
    assert held.entered.wait(10)
    window.document.undo_stack.setClean()
    assert window.close()
    assert held.stopped                              # told to stop, and waited for: no thread outlives the window
    qtbot.waitUntil(lambda: not window.teaching.values.checking)
