"""Showing another document while nodes are selected: nothing reacts to the old scene's teardown.

The reported crash (select a pass in the Compiled view's Rewrites tab, hide the bottom docks, open
another graph) was a segfault, so it is replayed in a child process whose exit status is checked.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt

from gui.document import Document
from gui_helpers import type_into

ROOT = Path(__file__).resolve().parents[2]

REPLAY = textwrap.dedent("""
    import os, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QStandardPaths
    QStandardPaths.setTestModeEnabled(True)

    def main():
        from PySide6.QtWidgets import QApplication
        from core.training.lessons import load_lesson
        from gui.app import make_application, open_window
        from gui.document import clear_recovery
        from gui.lessons.panel import shipped_lessons
        app = make_application([])
        clear_recovery()
        win, error = open_window(None)
        assert error is None
        win.resize(1280, 800)
        win.show()
        win.act_present.trigger()                     # the lecture layout, as the report had it
        lessons = {p.stem: p for p in shipped_lessons()}
        win.teaching.lessons.open_lesson(load_lesson(lessons["6_optimization"]))
        win.teaching.lessons.next_button.click()      # its steps compile the training step
        feature = win.training
        deadline = time.monotonic() + 120
        while feature.compiled.info is None and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)
        tree = feature.compiled.rewrites
        fuse = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                    if tree.topLevelItem(i).text(0) == "fuse")
        tree.setCurrentItem(fuse)                     # selects the eight nodes the pass touched
        QApplication.processEvents()
        assert len(win.scene.selected_nodes()) > 1
        for dock in (feature.views_dock, win.problems_dock):
            if dock.isVisible():
                dock.toggleViewAction().trigger()     # View menu: hide the docks under the run's controls
        QApplication.processEvents()
        win.teaching.lessons.open_lesson(load_lesson(lessons["7_training"]))   # another graph is shown
        QApplication.processEvents()
        assert win.inspector.graph is win.graph and win.scene.graph is win.graph
        win.document.undo_stack.setClean()
        win.close()
        print("swapped")

    if __name__ == "__main__":
        main()
""")


def test_opening_a_graph_after_a_rewrite_pass_with_the_bottom_docks_hidden_does_not_crash(tmp_path):
    script = tmp_path / "replay.py"
    script.write_text(REPLAY)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "swapped" in done.stdout


def test_selection_listeners_never_see_deleted_node_items_while_a_document_is_swapped(qtbot, window):
    seen: list[bool] = []
    window.scene.selectionChanged.connect(
        lambda: seen.append(all(shiboken6.isValid(i) for i in window.scene.nodes.values())))
    window.scene.select_nodes(["h1", "h2", "W1"])
    seen.clear()
    window.set_document(Document(window.graph.copy()))
    assert all(seen)


def test_a_node_selected_before_the_swap_is_not_inspected_in_the_new_document(qtbot, window):
    window.scene.select_nodes(["h1"])
    assert window.inspector.node_id == "h1"
    window.set_document(Document(window.graph.copy()))
    assert window.inspector.graph is window.graph and window.inspector.node_id is None
    assert window.scene.selected_nodes() == []
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton,
                     pos=window.view.mapFromScene(window.scene.nodes["h2"].sceneBoundingRect().center()))
    assert window.inspector.node_id == "h2" and window.inspector.graph is window.graph


def test_the_compiled_step_of_the_old_graph_is_not_offered_on_the_new_one(qtbot, window):
    feature = window.training
    feature.show_compiled()
    qtbot.waitUntil(lambda: feature.compiled.info is not None, timeout=60000)
    view = feature.compiled
    view.rewrites.setCurrentItem(view.rewrites.topLevelItem(1))
    assert view.compare_button.isEnabled()
    window.set_document(Document(window.graph.copy()))      # same node names, another graph
    assert view.info is None and view.rewrites.topLevelItemCount() == 0 and view.kernels.topLevelItemCount() == 0
    assert not view.compare_button.isEnabled() and view.step_code.toPlainText() == ""
    assert window.scene.selected_nodes() == []
    qtbot.mouseClick(view.compile_button, Qt.LeftButton)     # compiling again shows the new graph's step
    qtbot.waitUntil(lambda: view.info is not None, timeout=60000)
    assert view.rewrites.topLevelItemCount() > 0


def test_renaming_in_the_inspector_does_not_delete_the_name_field_inside_its_own_signal(qtbot, window):
    """Enter in the name field renames, then selects the node under its new name, which shows a new
    page: the old page (holding the field whose signal is running) must outlive that signal."""
    window.scene.select_nodes(["W1"])
    title = window.inspector.name_edit
    after_rename = []
    title.editingFinished.connect(lambda: after_rename.append(title.text()))   # runs after the inspector's slot
    type_into(qtbot, title, "weights_1")
    assert "weights_1" in window.graph and window.inspector.node_id == "weights_1"
    assert after_rename == ["weights_1"]            # the field was still alive when its signal went on
    qtbot.waitUntil(lambda: not shiboken6.isValid(title))     # and is deleted once the signal is done
