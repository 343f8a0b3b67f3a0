"""Looking at a front-end graph: `show` opens the editor on it (gui is imported here only, and
lazily), `render_png`/`render_svg` draw it offscreen for notebooks, `debugprint` prints the
optimized graph as text (Theano's theano.printing.debugprint)."""
from __future__ import annotations

import os
import sys
from typing import Any, Optional, TextIO, Union

import numpy as np

from core.graph import Graph
from core.graph.arrange import arrange

from .compiled import Function
from .shared import containers
from .variable import Variable

Shown = Union[Variable, Function, Graph]
_WINDOWS: list = []          # the windows `show` opened and still open: Python keeps them alive


def graph_of(obj: Shown) -> tuple[Graph, dict[str, np.ndarray]]:
    """A laid-out copy of the graph behind `obj` (what a Variable needs, or a function's graph) and
    the current values of its shared Parameters."""
    if isinstance(obj, Function):       # what its outputs compute; the updates are in the Compiled view
        source = obj.graph.subgraph([ref[0] for ref in obj.outputs])
        values = {k: v for k, v in obj.compiled.get_weights().items() if k in source}
    elif isinstance(obj, Variable):
        source = obj.builder.graph.subgraph([obj.node])
        values = {k: np.array(box.current()) for k, box in containers(obj.builder.graph).items() if k in source}
    elif isinstance(obj, Graph):
        source, values = obj, {}
    else:
        raise TypeError(f"loom draws a Variable, a function or a Graph; got {type(obj).__name__}")
    graph = source.copy()
    for node, pos in arrange(graph).items():
        graph.set_ui(node, "pos", [float(pos[0]), float(pos[1])])
    return graph, values


def _application():
    """The running QApplication, or a new one (offscreen when there is no display to draw on)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("win32", "darwin")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from gui.app import make_application

        app = make_application([])
    return app


def show(obj: Shown, *, block: Optional[bool] = None) -> Any:
    """Open the editor on `obj`'s graph; for a function, its compiled form is in the Compiled view.

    Returns the window. With `block=None` Qt's event loop runs until the window closes only in a
    plain script (no QApplication before, no IPython); in a notebook, a test or a running
    application it returns at once.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    existed = QApplication.instance() is not None
    app = _application()
    from gui.document import Document
    from gui.main_window import MainWindow

    graph, values = graph_of(obj)
    window = MainWindow(Document(graph, values))
    if isinstance(obj, Function):
        from .compiled_info import compiled_info

        feature = window.training
        feature.compiled.show_info(compiled_info(obj, set(graph.nodes)))
        feature.views.setCurrentWidget(feature.compiled)
        QTimer.singleShot(0, feature.views_dock.raise_)     # after the docks are first arranged
    window.resize(1500, 950)
    window.show()
    window.scene.clearSelection()
    window.view.fit_to_view()
    _WINDOWS[:] = [w for w in _WINDOWS if w.isVisible()] + [window]
    if block or (block is None and not existed and not _interactive()):
        app.exec()
    return window


def _interactive() -> bool:
    """Whether an IPython kernel or shell drives this process (then show never blocks)."""
    return "IPython" in sys.modules and getattr(sys.modules["IPython"], "get_ipython", lambda: None)() is not None


def _scene(obj: Shown) -> tuple:
    """The editor's own scene on `obj`'s graph, with no window, and the rectangle its items fill."""
    from PySide6.QtGui import QUndoStack

    from gui.canvas.scene import GraphScene

    _application()
    graph, _ = graph_of(obj)
    scene = GraphScene(QUndoStack())
    scene.set_graph(graph)
    return scene, scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)


def render_png(obj: Shown, scale: float = 1.0) -> bytes:
    """A PNG picture of the graph (what a notebook shows for a Variable or a function)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    scene, rect = _scene(obj)
    width, height = max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale))
    image = QImage(width, height, QImage.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    scene.render(painter, QRectF(0, 0, width, height), rect, Qt.KeepAspectRatio)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    scene.set_graph(None)
    return bytes(data.data())


def render_svg(obj: Shown) -> str:
    """An SVG picture of the graph."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    scene, rect = _scene(obj)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    painter = QPainter(generator)
    scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect, Qt.KeepAspectRatio)
    painter.end()
    scene.set_graph(None)
    return bytes(data.data()).decode("utf-8")


def debugprint(obj: Shown, file: Optional[TextIO] = None) -> str:
    """Print the graph as an indented tree, each output a root, and return the text.

    For a function it is the optimized graph that runs (fused kernels, stabilized ops, updates);
    for a Variable, the graph as written. A node met again prints as `... [id]`.
    """
    from .debugtext import tree_text

    if isinstance(obj, Function):
        from core.compiler.pipeline import optimize

        step = obj.compiled
        wanted = list(step.outputs) + list(step.updates.values())
        optimized, refs, _ = optimize(step.graph, wanted, obj.exclude,
                                      {"max_operands": step.device.max_operands})
        titles = ["output"] * len(step.outputs) + [f"update {key}" for key in step.updates]
        text = tree_text(optimized, list(zip(titles, refs)))
    elif isinstance(obj, Variable):
        text = tree_text(obj.builder.graph, [("output", (obj.node, obj.port))])
    else:
        text = tree_text(obj, [("output", (n, "y")) for n in obj.nodes if not obj.out_edges(n)])
    print(text, file=file or sys.stdout)
    return text
