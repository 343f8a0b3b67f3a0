"""Opening a graph shows it readably: fitted, but never with node text under 9 px on screen; zoomed far
out, each node still shows its name in one large label; first launch shows Start and the curves."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QImage

from gui.canvas.view import READABLE_PX
from gui.theme import DEFAULT_EXAMPLE
from gui.document import Document
from gui_helpers import two_node_graph


def _visible(view) -> QRectF:
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_seed_mlp_opens_readable_at_1280x800_showing_its_inputs(qtbot, window):
    window.resize(1280, 800)
    qtbot.wait(50)
    window.set_document(Document.load_template(DEFAULT_EXAMPLE))
    view, scene = window.view, window.scene
    qtbot.wait(50)
    assert view.text_px() >= READABLE_PX
    for node in ("x", "y"):                                           # the inputs are in view
        assert _visible(view).contains(scene.nodes[node].sceneBoundingRect()), node
    assert not _visible(view).contains(scene.nodes_rect())            # too large to fit readably


def test_a_small_graph_fits_whole(qtbot, window):
    window.set_document(Document(two_node_graph()))
    assert _visible(window.view).contains(window.scene.nodes_rect())
    assert window.view.zoom() <= 1.0
    window.view.fit_to_view()                                         # F shows all of any graph
    assert _visible(window.view).contains(window.scene.nodes_rect())


def test_zoomed_far_out_a_node_shows_its_name_large(qtbot, window):
    view = window.view
    graph = two_node_graph()
    graph.add_node("Tanh", node_id="hidden", ui={"pos": [600, 0]})
    window.set_document(Document(graph))
    view.zoom_by(0.2 / view.zoom())             # body text would be 2 px: only the name is drawn
    item = window.scene.nodes["hidden"]
    body = view.mapFromScene(item.mapRectToScene(QRectF(0, item.title_h, item.width, item.height - item.title_h)))
    box = body.boundingRect().adjusted(2, 2, -2, -2)
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format_Grayscale8)
    pixels = np.array([[image.pixelColor(QPoint(x, y)).value() for x in range(box.left(), box.right())]
                       for y in range(box.top(), box.bottom())])
    assert (pixels < 120).sum() >= 10, "the node body is blank when zoomed out"


def test_first_launch_shows_start_and_the_curves(qtbot, window):
    window.resize(1280, 800)
    qtbot.wait(100)
    feature = window.training
    start = feature.panel.buttons["Start"]
    assert start.isVisible() and not start.visibleRegion().isEmpty()
    plots = feature.curves.plots
    assert plots.isVisible() and plots.height() >= 120
    assert feature.curves.loss_plot.vb.height() >= 60 and feature.curves.metric_plot.vb.height() >= 60
    problems = window.problems_dock
    assert problems.visibleRegion().isEmpty() or problems.height() < window.height() / 3


def test_selecting_a_node_brings_the_inspector_forward(qtbot, window):
    qtbot.wait(50)
    assert window.inspector_dock.visibleRegion().isEmpty()           # Training is in front at first
    item = window.scene.nodes["x"]
    point = window.view.mapFromScene(item.mapToScene(item.width / 2, item.title_h / 2))
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=point)
    assert window.scene.selected_nodes() == ["x"]
    qtbot.waitUntil(lambda: not window.inspector_dock.visibleRegion().isEmpty(), timeout=2000)
