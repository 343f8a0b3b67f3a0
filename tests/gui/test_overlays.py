"""Live-training overlays on the canvas: culprit, value summaries, gradient flow on wires, fused kernels."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from gui.canvas.commands import RemoveNodeCommand
from gui.canvas.items.group_item import KernelGroupItem
from gui.canvas.items.node_item import CULPRIT
from gui.document import Document

from gui_helpers import two_node_graph

SUMMARY = "Tanh → float32[64, 100]\nmin -0.998 · mean 0.0132 · max 0.997\n▁▂▃▅▇█▇▅▃▂▁"


def render(scene, rect: QRectF) -> np.ndarray:
    """The scene inside `rect` as an (h, w, 3) array of 0..255 (one scene unit, one pixel)."""
    w, h = max(1, round(rect.width())), max(1, round(rect.height()))
    image = QImage(w, h, QImage.Format_RGB32)
    image.fill(QColor("#f6f7f9"))
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, w, h), rect)
    painter.end()
    ptr = image.constBits()
    array = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes()).reshape(h, image.bytesPerLine() // 4, 4)
    return array[:, :w, 2::-1].astype(int)   # BGRA -> RGB


def near(pixels: np.ndarray, colour: QColor, tolerance: int = 40) -> int:
    """How many pixels lie within `tolerance` of `colour` in every channel."""
    target = np.array([colour.red(), colour.green(), colour.blue()])
    return int(np.sum(np.all(np.abs(pixels - target) <= tolerance, axis=-1)))


def ring(item, margin: float = 10.0) -> QRectF:
    return item.sceneBoundingRect().adjusted(-margin, -margin, margin, margin)


def test_highlight_paints_the_culprit_tooltips_and_centres_it_then_clears(window, qtbot):
    scene, view = window.scene, window.view
    item, other = scene.nodes["h2"], scene.nodes["W1"]
    before = near(render(scene, ring(item)), CULPRIT)
    view.centerOn(scene.nodes["x"])
    message = "non-finite values first appear here (Tanh 'h2' produced NaN)"

    scene.highlight_node("h2", message)

    assert item.culprit == message and other.culprit is None
    assert message in item.toolTip() and message not in other.toolTip()
    assert near(render(scene, ring(item)), CULPRIT) > before + 200
    body = item.mapRectToScene(QRectF(0, 0, item.width, item.height)).center()
    assert (view.mapFromScene(body) - view.viewport().rect().center()).manhattanLength() <= 2
    assert scene.highlighted_node() == "h2"

    scene.highlight_node("W1", "another")
    assert item.culprit is None and other.culprit == "another"

    scene.highlight_node(None, "")
    assert other.culprit is None and "another" not in other.toolTip()
    assert near(render(scene, ring(item)), CULPRIT) == before
    scene.highlight_node("nowhere", "no such node")   # a node the canvas does not have: nothing happens
    assert scene.highlighted_node() is None


def test_highlight_goes_with_its_node_and_with_the_graph(window, qtbot):
    scene = window.scene
    scene.highlight_node("h1", "NaN here")
    window.undo_stack.push(RemoveNodeCommand(window.graph, "h1"))
    assert "h1" not in scene.nodes and scene.highlighted_node() is None
    window.undo_stack.undo()
    assert scene.nodes["h1"].culprit is None            # back in the graph, not blamed any more

    scene.highlight_node("h1", "NaN here")
    scene.rebuild()                                      # same graph, new items: the overlay stays
    assert scene.nodes["h1"].culprit == "NaN here"
    window.set_document(Document(two_node_graph()))
    assert scene.highlighted_node() is None and all(i.culprit is None for i in scene.nodes.values())


def test_node_summary_shows_in_the_tooltip_and_under_the_node(window, qtbot):
    scene = window.scene
    item = scene.nodes["h1"]
    below = QRectF(item.scenePos().x(), item.scenePos().y() + item.height + 1, item.width, 2 * item.line_h)
    empty = render(scene, below)
    height = item.boundingRect().height()

    scene.set_node_summary("h1", SUMMARY)

    assert SUMMARY in item.toolTip() and SUMMARY not in scene.nodes["h2"].toolTip()
    assert item.overlay_lines() == SUMMARY.splitlines()[1:]
    assert item.boundingRect().height() == pytest.approx(height + 2 * item.line_h)
    ink = np.sum(np.abs(render(scene, below) - empty).sum(axis=-1) > 60)
    assert ink > 100                                     # text was painted under the node

    scene.set_node_summary("h2", "one line")
    scene.set_node_summary("h1", "")
    assert SUMMARY not in item.toolTip() and item.overlay_lines() == []
    assert item.boundingRect().height() == pytest.approx(height)
    assert "one line" in scene.nodes["h2"].toolTip()
    scene.set_node_summary(None, "")                     # None clears every summary
    assert "one line" not in scene.nodes["h2"].toolTip()


def test_summaries_survive_edits_but_not_a_removed_node(window, qtbot):
    scene = window.scene
    scene.set_node_summary("h1", SUMMARY)
    scene.set_node_summary("h2", SUMMARY)
    window.graph.set_ui("h1", "colour", "#ff0000")       # an edit the scene follows
    assert SUMMARY in scene.nodes["h1"].toolTip()
    window.undo_stack.push(RemoveNodeCommand(window.graph, "h2"))
    window.undo_stack.undo()
    assert SUMMARY not in scene.nodes["h2"].toolTip()
    assert SUMMARY in scene.nodes["h1"].toolTip()


def _gradient_map(graph):
    """Gradient RMS per wire keyed as the training views key it: (src, dst, dst_port)."""
    return {(e.src, e.dst, e.dst_port): 10.0 ** -(i % 5) for i, e in enumerate(graph.edges())}


def test_edge_overlay_colours_and_thickens_wires_by_gradient_then_clears(window, qtbot):
    scene, graph = window.scene, window.graph
    big = next(e for e in graph.edges() if (e.src, e.dst) == ("W3x", "z3"))
    small = next(e for e in graph.edges() if (e.src, e.dst) == ("h1", "W2x"))
    untouched = next(e for e in graph.edges() if (e.src, e.dst) == ("z3", "cost"))

    scene.set_edge_overlay({(big.src, big.dst, big.dst_port): 0.5, (small.src, small.dst, small.dst_port): 5e-5,
                            (untouched.src, "nowhere", "a"): 1.0})

    big_item, small_item, plain = scene.edges[big], scene.edges[small], scene.edges[untouched]
    assert plain.overlay_pen is None and "gradient" not in plain.toolTip()
    assert big_item.overlay_pen.widthF() > 3 * small_item.overlay_pen.widthF() / 2
    assert big_item.overlay_pen.color() != small_item.overlay_pen.color()
    assert "gradient RMS: 0.5" in big_item.toolTip() and "5e-05" in small_item.toolTip()
    colour = big_item.overlay_pen.color()
    point = big_item._path.pointAtPercent(0.2)
    spot = QRectF(point.x() - 4, point.y() - 4, 8, 8)
    assert near(render(scene, spot), colour, 30) > 10   # painted in the overlay colour

    scene.set_edge_overlay(None)
    assert big_item.overlay_pen is None and "gradient" not in big_item.toolTip()
    assert near(render(scene, spot), colour, 30) == 0


def test_edge_overlay_follows_edits(window, qtbot):
    scene, graph = window.scene, window.graph
    scene.set_edge_overlay(_gradient_map(graph))
    styled = sum(item.overlay_pen is not None for item in scene.edges.values())
    assert styled == len(scene.edges)
    scene.rebuild()
    assert all(item.overlay_pen is not None for item in scene.edges.values())
    window.undo_stack.push(RemoveNodeCommand(graph, "h2"))
    window.undo_stack.undo()                              # h2's wires come back without a stale overlay
    around = [item for edge, item in scene.edges.items() if "h2" in (edge.src, edge.dst)]
    assert around and all(item.overlay_pen is None for item in around)
    assert sum(item.overlay_pen is not None for item in scene.edges.values()) == styled - len(around)
    window.set_document(Document(graph.copy()))
    assert all(item.overlay_pen is None for item in scene.edges.values())


def test_nonfinite_gradient_is_red_and_widest(window, qtbot):
    scene, graph = window.scene, window.graph
    edges = graph.edges()
    scene.set_edge_overlay({edges[0]: float("nan"), edges[1]: 1e-3, edges[2]: 1.0})
    bad, low, high = (scene.edges[e] for e in edges[:3])
    assert bad.overlay_pen.color().red() > 200 and bad.overlay_pen.color().green() < 60
    assert bad.overlay_pen.widthF() >= high.overlay_pen.widthF() > low.overlay_pen.widthF()


def groups(scene) -> list[KernelGroupItem]:
    return [i for i in scene.items() if isinstance(i, KernelGroupItem)]


def test_kernel_groups_are_drawn_behind_their_nodes_and_follow_them(window, qtbot):
    scene, view = window.scene, window.view
    scene.set_kernel_groups({"fused_0": ["W1x", "a1", "h1"], "fused_1": ["h2"]})

    drawn = {g.name: g for g in groups(scene)}
    assert set(drawn) == {"fused_0", "fused_1"}
    outline = drawn["fused_0"].rect()
    for node_id in ("W1x", "a1", "h1"):
        assert outline.contains(scene.nodes[node_id].sceneBoundingRect())
    assert not outline.contains(scene.nodes["h2"].sceneBoundingRect())
    assert drawn["fused_0"].zValue() < min(i.zValue() for i in scene.nodes.values())
    title = QRectF(outline.left() + 12, outline.top() + 3, 40, 12)
    fill = drawn["fused_0"].colour
    assert near(render(scene, outline.adjusted(2, 20, -2, -2)), fill, 255) > 0
    assert np.abs(render(scene, title) - np.array([246, 247, 249])).sum(axis=-1).max() > 100   # its name

    item = scene.nodes["h1"]
    item.setPos(item.pos() + QPointF(0, 400))
    assert drawn["fused_0"].rect().contains(item.sceneBoundingRect())
    gap = QPointF(outline.left() + 4, outline.bottom() - 4)   # inside the outline, outside every node
    assert view._item_at(view.mapFromScene(gap)) is None     # gestures look through the outline

    window.undo_stack.push(RemoveNodeCommand(window.graph, "h2"))
    assert {g.name for g in groups(scene)} == {"fused_0"}
    scene.set_kernel_groups(None)
    assert groups(scene) == []


def test_kernel_groups_accept_pairs_and_go_with_the_graph(window, qtbot):
    scene = window.scene
    scene.set_kernel_groups([("k_fwd", ["a1", "h1"]), ("k_bwd", ["h1", "a2"])])
    drawn = {g.name: g for g in groups(scene)}
    assert drawn["k_bwd"].rect().contains(drawn["k_fwd"].rect().intersected(drawn["k_bwd"].rect()))
    assert drawn["k_bwd"].inset == 1                        # sharing h1: drawn a little wider
    scene.rebuild()
    assert {g.name for g in groups(scene)} == {"k_fwd", "k_bwd"}
    window.set_document(Document(two_node_graph()))
    assert groups(scene) == []


def test_rubber_band_still_starts_inside_a_kernel_outline(window, qtbot):
    scene, view = window.scene, window.view
    scene.set_kernel_groups({"k": ["W1x", "a1"]})
    outline = groups(scene)[0].rect()
    start = view.mapFromScene(QPointF(outline.left() + 3, outline.bottom() - 3))
    end = view.mapFromScene(QPointF(outline.right() - 3, outline.top() + 3))
    qtbot.mousePress(view.viewport(), Qt.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), pos=end)
    qtbot.mouseRelease(view.viewport(), Qt.LeftButton, pos=end)
    assert sorted(scene.selected_nodes()) == ["W1x", "a1"]


def test_the_inspector_shows_the_selected_nodes_summary_and_follows_it(window, qtbot):
    scene, inspector = window.scene, window.inspector
    scene.select_nodes(["h1"])
    assert inspector.node_id == "h1" and not inspector.values_label.isVisibleTo(inspector)
    scene.set_node_summary("h1", SUMMARY)                # "Run one batch" reports while h1 is shown
    assert inspector.values_label.isVisibleTo(inspector) and SUMMARY in inspector.values_label.text()
    assert inspector.values_label.text().startswith("On the last inspected batch:")
    scene.select_nodes(["h2"])
    assert not inspector.values_label.isVisibleTo(inspector)
    scene.select_nodes(["h1"])
    assert SUMMARY in inspector.values_label.text()
    scene.set_node_summary(None, "")
    assert not inspector.values_label.isVisibleTo(inspector)
