"""loom.show opens the editor on a front-end graph (a function's compiled form in the Compiled view);
Variables and functions draw themselves for notebooks, offscreen."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

import loom
import loom.tensor as T
from gui.main_window import MainWindow


def _lecture_step():
    x = T.dmatrix("x", shape=(None, 4))
    y = T.lvector("y")
    W = loom.shared(np.zeros((4, 3)), name="W")
    b = loom.shared(np.zeros(3), name="b")
    p_y_given_x = T.softmax(T.dot(x, W) + b)
    cost = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
    gW, gb = loom.grad(cost, [W, b])
    return cost, loom.function([x, y], cost, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)])


def _close(qtbot, window):
    window.document.undo_stack.setClean()
    window.close()


def test_show_a_variable_opens_the_editor_on_its_laid_out_graph_without_blocking(qtbot, tmp_path):
    x, y = T.dscalar("x"), T.dscalar("y")
    z = 3 * x + x * y + 3 * y
    window = loom.show(z)                    # a QApplication runs (pytest-qt): returns at once
    assert isinstance(window, MainWindow) and window.isVisible()
    graph = window.graph
    assert set(graph.nodes) == set(z.builder.graph.required([z.node]))
    assert all(graph.ui(n).get("pos") for n in graph.nodes) and not graph.validate()
    positions = {tuple(graph.ui(n)["pos"]) for n in graph.nodes}
    assert len(positions) == len(graph)                                     # no two nodes on one spot
    for size in ((1280, 800), (1600, 1000)):
        window.resize(*size)
        qtbot.wait(20)
        assert window.grab().save(str(tmp_path / f"show_{size[0]}.png"))
    _close(qtbot, window)


def test_show_a_function_lists_its_rewrites_and_kernels_and_a_kernel_click_selects_its_nodes(qtbot):
    cost, train = _lecture_step()
    window = loom.show(train, block=False)
    qtbot.waitUntil(lambda: window.training.views_dock.isVisible())
    view = window.training.compiled
    passes = [view.rewrites.topLevelItem(i) for i in range(view.rewrites.topLevelItemCount())]
    changes = [row.child(j).text(0) for row in passes for j in range(row.childCount())]
    assert "stabilize" in [row.text(0) for row in passes]
    assert any("softmax_cross_entropy" in change for change in changes), changes
    assert "def step(" in view.step_code.toPlainText()
    assert cost.node in window.graph and "W" in window.graph and window.weights["W"].shape == (4, 3)
    tree = view.kernels
    assert tree.topLevelItemCount() == len(train.compiled.kernels) > 0
    item = tree.topLevelItem(tree.topLevelItemCount() - 1)          # the first is current already
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    selected = window.scene.selected_nodes()
    assert selected and set(selected) <= set(window.graph.nodes)
    _close(qtbot, window)


def test_variables_and_functions_draw_themselves_offscreen(qtbot):
    cost, train = _lecture_step()
    for obj in (cost, train):
        image = QImage.fromData(obj._repr_png_(), "PNG")
        assert image.width() > 200 and image.height() > 100
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 10                                          # nodes, text and wires, not a blank
        svg = obj._repr_svg_()
        assert "<svg" in svg and "</svg>" in svg


def test_show_says_what_it_can_draw(qtbot):
    with pytest.raises(TypeError, match="a Variable, a function or a Graph"):
        loom.show(42)


def test_each_lecture_exercise_opens_in_the_editor(qtbot):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "lecture"))
    import accumulator
    import f_of_xy
    import mlp
    import tanh_layer

    _, acc, _, skip_shared = accumulator.build()
    train, errors = mlp.build()
    for fn in (f_of_xy.build(), tanh_layer.build(), acc, skip_shared, train, errors):
        window = loom.show(fn)
        want = set(fn.graph.required([ref[0] for ref in fn.outputs]))
        assert set(window.graph.nodes) == want and not window.graph.validate()
        assert window.training.compiled.step_code.toPlainText().startswith("def step(")
        _close(qtbot, window)
