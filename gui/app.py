"""Start the editor: `python main.py [GRAPH.json]`, or `--screenshot OUT.png [GRAPH.json]`."""
from __future__ import annotations

import atexit
import os
import sys
from typing import Optional

SCREENSHOT_SIZE = (1600, 1000)
USAGE = "usage: python main.py [GRAPH.json] | python main.py --screenshot OUT.png [GRAPH.json]"


def _parse(argv: list[str]) -> tuple[Optional[str], Optional[str]]:
    """(graph path, screenshot path); raises ValueError on a bad command line."""
    screenshot = None
    rest = []
    args = iter(argv)
    for arg in args:
        if arg == "--screenshot":
            screenshot = next(args, None)
            if not screenshot:
                raise ValueError("--screenshot needs an output file name")
        elif arg.startswith("-"):
            raise ValueError(f"unknown option {arg}")
        else:
            rest.append(arg)
    if len(rest) > 1:
        raise ValueError("give at most one graph file")
    return (rest[0] if rest else None), screenshot


def make_application(argv: list[str]):
    """The QApplication (created once), with Loom's names, high-DPI policy and style."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from . import theme

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(["loom"] + argv)
    if app.applicationName() != "Loom":
        # Once per application: restyling re-polishes every widget there is, which grows costly.
        app.setOrganizationName("Loom")
        app.setApplicationName("Loom")
        app.setStyle("Fusion")
        app.setStyleSheet(theme.stylesheet())
        atexit.register(_release_offscreen_clipboard)
    return app


def _release_offscreen_clipboard() -> None:
    """Empty the clipboard before Qt tears down, on the offscreen platform only.

    Qt's offscreen clipboard crashes the process at exit when it still holds mime data set from
    Python (seen with PySide6 6.11); real platforms hand the content to the desktop instead.
    """
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None and QGuiApplication.platformName() == "offscreen":
        QGuiApplication.clipboard().clear()


def open_window(graph_path: Optional[str]):
    """A MainWindow on `graph_path` (or the lecture's MLP); the error text when it cannot load."""
    from core.graph import LoomError

    from . import theme
    from .document import Document
    from .main_window import MainWindow

    error = None
    try:
        document = Document.load(graph_path) if graph_path else Document.load_template(theme.DEFAULT_EXAMPLE)
    except LoomError as e:
        error, document = str(e), Document()
    return MainWindow(document), error


def render_screenshot(window, out: str) -> bool:
    """Lay the window out at 1600x1000, fit the graph and save a PNG."""
    from PySide6.QtWidgets import QApplication

    window.resize(*SCREENSHOT_SIZE)
    graph = window.document.graph
    if len(graph):
        window.scene.select_nodes([max(graph.nodes, key=lambda n: len(graph.attrs(n)))])
    window.show()
    for _ in range(3):
        QApplication.processEvents()
    window.view.fit_to_view(readable=True)
    QApplication.processEvents()
    return window.grab().save(out)


def run_editor(argv: list[str]) -> int:
    """Open the editor (or render a screenshot); returns the exit code."""
    try:
        graph_path, screenshot = _parse(argv)
    except ValueError as e:
        print(f"{e}\n{USAGE}", file=sys.stderr)
        return 2
    if screenshot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer

    app = make_application(argv)
    window, error = open_window(graph_path)
    if screenshot:
        if error:
            window.close()
            print(error, file=sys.stderr)
            return 2
        ok = render_screenshot(window, screenshot)
        window.document.undo_stack.setClean()
        window.close()
        print(f"wrote {screenshot}" if ok else f"could not write {screenshot}", file=sys.stderr)
        return 0 if ok else 1
    window.resize(1500, 950)
    window.restore_layout()
    window.show()
    QTimer.singleShot(1000, window.training.controller.host.warm_up)   # Start is instant when pressed
    if error:
        window.files.show_error("Cannot open the graph", error)
    else:
        window.files.offer_recovery()
    return app.exec()
