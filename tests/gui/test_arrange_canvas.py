"""Graph ▸ Arrange on the canvas: real node items never overlap, wires run left to right, one undo."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from core.graph import load_graph
from gui.document import Document

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))


def _scramble(graph) -> None:
    """Put every node somewhere the layout would not (a diagonal, crossing and overlapping)."""
    for i, node in enumerate(reversed(graph.nodes)):
        graph.set_ui(node, "pos", [37.0 * i, 11.0 * i])


def test_arrange_every_example_on_the_canvas(window, qtbot):
    for path in EXAMPLES:                                      # one window for all: a window is slow to make
        _arrange_and_undo(window, qtbot, path)


def _arrange_and_undo(window, qtbot, path) -> None:
    graph, weights = load_graph(path)
    _scramble(graph)
    window.set_document(Document(graph, weights))
    before = {n: graph.ui(n)["pos"] for n in graph.nodes}
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key_L, Qt.ControlModifier)        # Graph ▸ Arrange
    assert window.undo_stack.count() == 1
    assert window.scene.spread == 1.0                          # the layout is shown as it is stored
    rects = {n: item.sceneBoundingRect() for n, item in window.scene.nodes.items()}
    names = list(rects)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not rects[a].intersects(rects[b]), (path.stem, a, b)
    for edge in graph.edges():
        if "Parameter" not in (graph.op_name(edge.src), graph.op_name(edge.dst)):
            assert rects[edge.src].right() < rects[edge.dst].left(), (path.stem, edge)
    window.undo_stack.undo()
    assert {n: graph.ui(n)["pos"] for n in graph.nodes} == before
    assert all(window.scene.nodes[n].pos().x() == before[n][0] * window.scene.spread for n in graph.nodes)
