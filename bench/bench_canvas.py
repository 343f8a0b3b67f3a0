"""Canvas scale: load a 500-node graph into the editor and time pan/zoom repaints.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python bench/bench_canvas.py [--nodes 500]

Prints the load time (target: under a second) and milliseconds per repaint of the view at
three zoom levels while panning, with item caching on and, as the baseline measured in the
same run, off. No asserts: this is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsItem  # noqa: E402

from core.graph import Graph  # noqa: E402
from gui.app import make_application  # noqa: E402
from gui.document import Document  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


def build_graph(n: int, seed: int = 0, positioned: bool = False) -> Graph:
    """n nodes: a tenth Inputs (N, 16), the rest binary and unary elementwise ops over earlier nodes."""
    rng = random.Random(seed)
    graph = Graph()
    sources = max(2, n // 10)
    ids = []
    for i in range(sources):
        ui = {"pos": [0.0, 140.0 * i]} if positioned else None
        ids.append(graph.add_node("Input", {"shape": ["N", 16]}, node_id=f"x{i}", ui=ui))
    for i in range(sources, n):
        op = rng.choice(["Add", "Mul", "Tanh", "Sigmoid", "Sub", "ReLU"])
        ui = {"pos": [260.0 * (1 + i // 40), 140.0 * (i % 40)]} if positioned else None
        node = graph.add_node(op, node_id=f"n{i}", ui=ui)
        for port in graph.spec(node).input_names(graph.attrs(node)):
            graph.connect(rng.choice(ids[-60:]), "y", node, port)
        ids.append(node)
    return graph


def time_repaints(window: MainWindow, zoom: float, frames: int) -> float:
    """Milliseconds per full repaint of the viewport while panning at `zoom`."""
    view = window.view
    view.resetTransform()
    view.scale(zoom, zoom)
    view.centerOn(window.scene.nodes_rect().center())
    image = QImage(view.viewport().size(), QImage.Format_ARGB32_Premultiplied)
    start = time.perf_counter()
    for i in range(frames):
        view.pan_by(7 if i % 20 < 10 else -7, 3)
        painter = QPainter(image)
        view.render(painter)
        painter.end()
    return (time.perf_counter() - start) * 1000 / frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args(argv)
    app = make_application([])
    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    QApplication.processEvents()
    for positioned in (False, True):
        graph = build_graph(args.nodes, positioned=positioned)
        start = time.perf_counter()
        window.set_document(Document(graph))
        QApplication.processEvents()
        load = time.perf_counter() - start
        label = "stored positions" if positioned else "auto-laid out"
        print(f"load {len(graph)} nodes, {len(graph.edges())} edges ({label}): {load * 1000:.0f} ms "
              f"(target < 1000 ms)")
    results = {}
    for cached in (True, False):
        mode = QGraphicsItem.DeviceCoordinateCache if cached else QGraphicsItem.NoCache
        for item in window.scene.nodes.values():
            item.setCacheMode(mode)
        for zoom in (0.15, 0.5, 1.0):
            time_repaints(window, zoom, 3)  # warm the caches
            results[(cached, zoom)] = time_repaints(window, zoom, args.frames)
    print("repaint while panning, ms per frame (viewport "
          f"{window.view.viewport().width()}x{window.view.viewport().height()}):")
    for zoom in (0.15, 0.5, 1.0):
        on, off = results[(True, zoom)], results[(False, zoom)]
        print(f"  zoom {zoom:>4}: cached {on:6.1f}   uncached {off:6.1f}   speed-up x{off / on:.2f}")
    window.document.undo_stack.setClean()
    window.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
