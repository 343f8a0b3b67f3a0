"""The main window: the canvas in the centre, palette, inspector and problems docked around it.

It wires the panels to the document (and unwires them on close); panels never talk to each
other directly. The training panel and the compiled-code view will dock on the right and at
the bottom (they belong to later work).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QMimeData, QPointF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar

from core.graph import GraphError, LoomError

from .canvas.edits import (CLIPBOARD_MIME, arrange_graph, collapse_layer, copy_document, delete_items,
                           expand_layer, layer_group, paste_document)
from .canvas.edits import PasteOffsets
from .canvas.scene import GraphScene
from .canvas.view import GraphView
from .document import Document
from .export_actions import ExportActions
from .training.install import install_training
from .teaching.feature import install_teaching
from .file_actions import FileActions
from .icons import icon
from .panels.inspector import InspectorPanel
from .panels.palette import PalettePanel
from .panels.problems import ProblemsPanel
from .presentation import Presentation


def device_text() -> str:
    """What the status bar says about the compute device."""
    try:
        from core.devices import available_devices
    except ImportError:
        return "CPU (NumPy)"
    try:
        devices = list(available_devices())
    except Exception:  # a broken device probe must never take the editor down
        return "CPU (NumPy)"
    labels = {"cpu": "CPU (NumPy)", "cuda": "CUDA GPU (CuPy)"}
    names = [labels.get(str(d), str(d)) for d in devices]
    return " + ".join(names) if names else "CPU (NumPy)"


class MainWindow(QMainWindow):
    """One editor window over one Document.

    For features docked later (training, compiled view): `graph`, `weights`, `undo_stack`,
    `scene` and `sig_graph_replaced(graph)`, emitted whenever another document is shown.
    """

    sig_graph_replaced = Signal(object)

    def __init__(self, document: Optional[Document] = None) -> None:
        super().__init__()
        self.setObjectName("LoomMainWindow")
        self.setWindowIcon(icon("loom"))
        self.document = document or Document()
        self.scene = GraphScene(self.document.undo_stack, self)
        self.view = GraphView(self.scene, self)
        self.setCentralWidget(self.view)
        self.palette = PalettePanel(self)
        self.inspector = InspectorPanel(None, self.document.undo_stack, self, value_summary=self.scene.node_summary,
                                        weights_owner=self)
        self.problems = ProblemsPanel(None, self)
        self.palette_dock = self._dock("Palette", self.palette, Qt.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.RightDockWidgetArea)
        self.problems_dock = self._dock("Problems", self.problems, Qt.BottomDockWidgetArea)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [210, 280], Qt.Horizontal)
        self.resizeDocks([self.problems_dock], [120], Qt.Vertical)
        self.files = FileActions(self)
        self.exports = ExportActions(self)
        self.presentation = Presentation(self)
        self.paste_offsets = PasteOffsets()
        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.view.context_actions = [self.act_quick_add, None, self.act_cut, self.act_copy, self.act_paste,
                                     self.act_duplicate, self.act_delete, None, self.act_expand,
                                     self.act_collapse, None, self.act_fit]
        self._wire()
        self.set_document(self.document)
        self.training = install_training(self)
        self.teaching = install_teaching(self)
        self.inspector.value_caption = lambda node_id: ("Evaluated from the values typed in the Inputs"
                                                        if node_id in self.teaching.values.shown
                                                        else "On the last inspected batch")
        self._layout_restored = False
        QTimer.singleShot(0, self._first_layout)   # after the training docks are tabbed in

    # ---- Public API

    def set_document(self, document: Document) -> None:
        """Show another document; its undo history starts empty."""
        self.document = document
        document.undo_stack = self.undo_stack
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.scene.set_graph(document.graph)
        self.inspector.set_graph(document.graph)
        self.problems.set_graph(document.graph)
        self.update_title()
        self.view.fit_to_view(readable=True)
        self._selection_changed()
        self.sig_graph_replaced.emit(document.graph)

    @property
    def graph(self):
        return self.document.graph

    @property
    def weights(self) -> dict:
        return self.document.weights

    def update_title(self, *args) -> None:
        self.setWindowTitle(f"{self.document.title}[*] — Loom")
        self.setWindowModified(self.document.modified)

    def recent_menu_changed(self, files: list[str]) -> None:
        self.files.fill_recent(self.recent_menu, files)

    def selected_nodes(self) -> list[str]:
        return self.scene.selected_nodes()

    # ---- Edit actions

    def delete_selection(self) -> None:
        delete_items(self.undo_stack, self.document.graph, self.scene.selected_nodes(),
                     self.scene.selected_edges())

    def copy_selection(self) -> bool:
        nodes = self.scene.selected_nodes()
        if not nodes:
            return False
        text = copy_document(self.document.graph, nodes)
        mime = QMimeData()
        mime.setText(text)
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        QApplication.clipboard().setMimeData(mime)
        self.statusBar().showMessage(f"Copied {len(nodes)} node(s)", 3000)
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            self.delete_selection()

    def paste(self, text: Optional[str] = None, anchor: Optional[QPointF] = None) -> list[str]:
        """Paste graph JSON from the clipboard (or `text`) and select it; returns the new node ids.

        Without an `anchor` the copy lands beside its originals, each repeated paste one step further.
        """
        if text is None:
            mime = QApplication.clipboard().mimeData()
            text = bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8") if mime.hasFormat(CLIPBOARD_MIME) \
                else mime.text()
        try:
            new = paste_document(self.undo_stack, self.document.graph, text,
                                 offset=self.paste_offsets.next(text),
                                 anchor=self.scene.to_model(anchor) if anchor is not None else None)
        except LoomError as e:
            self.statusBar().showMessage(f"Nothing to paste: {e}", 6000)
            return []
        self.scene.select_nodes(new)
        return new

    def duplicate_selection(self) -> list[str]:
        nodes = self.scene.selected_nodes()
        if not nodes:
            return []
        new = paste_document(self.undo_stack, self.document.graph,
                             copy_document(self.document.graph, nodes))
        self.scene.select_nodes(new)
        return new

    def expand_selected(self) -> None:
        for node_id in self.scene.selected_nodes():
            if self.document.graph.spec(node_id).expand is None:
                continue
            try:
                new = expand_layer(self.undo_stack, self.document.graph, node_id)
            except GraphError as e:
                self.statusBar().showMessage(f"Cannot expand: {e}", 6000)
                return
            self.scene.select_nodes(new)

    def collapse_selected(self) -> None:
        done: set[str] = set()
        for node_id in self.scene.selected_nodes():
            if node_id in done or node_id not in self.document.graph:
                continue
            done.update(layer_group(self.document.graph, node_id))
            try:
                layer = collapse_layer(self.undo_stack, self.document.graph, node_id)
            except GraphError as e:
                self.statusBar().showMessage(f"Cannot collapse: {e}", 6000)
                return
            self.scene.select_nodes([layer])

    def arrange(self) -> None:
        """Graph ▸ Arrange: lay the graph out by data flow (one undo step) and show it readably."""
        if arrange_graph(self.undo_stack, self.document.graph):
            if self.scene.spread != 1.0:       # spread out for a crowded file; the layout needs none
                self.scene.rebuild()
            self.view.fit_to_view(readable=True)

    def add_at_centre(self, op: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        self.view.drop_op(op, centre)

    def set_presentation(self, on: bool) -> None:
        """Everything larger for a projector; off again, the layout and zoom exactly as they were."""
        self.presentation.toggle(on)

    # ---- Building

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title + "Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable
                         | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    @property
    def undo_stack(self):
        return self.scene.undo_stack

    def _action(self, text: str, slot, shortcut=None, icon_name: str = "", checkable: bool = False,
                tip: str = "") -> QAction:
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        action.setCheckable(checkable)
        action.setStatusTip(tip or text.replace("&", "").rstrip("…"))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        k = QKeySequence
        f = self.files
        self.act_new = self._action("&New", f.new, k.New, "new")
        self.act_open = self._action("&Open…", lambda: f.open(), k.Open, "open")
        self.act_save = self._action("&Save", f.save, k.Save, "save")
        self.act_save_as = self._action("Save &As…", lambda: f.save_as(), k.SaveAs)
        self.act_import_onnx = self._action("&Import ONNX Model…", lambda: self.exports.import_onnx(),
                                            tip="Open an ONNX model as a new graph with its weights")
        self.act_quit = self._action("&Quit", self.close, k.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(k.Undo)
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        # Both keys spelled out: k.Redo is Ctrl+Y on some platforms, and a key bound twice is ambiguous.
        self.act_redo.setShortcuts([k("Ctrl+Shift+Z"), k("Ctrl+Y")])
        self.act_redo.setIcon(icon("redo"))
        self.act_cut = self._action("Cu&t", self.cut_selection, k.Cut)
        self.act_copy = self._action("&Copy", self.copy_selection, k.Copy)
        self.act_paste = self._action("&Paste", lambda: self.paste(), k.Paste)
        self.act_duplicate = self._action("D&uplicate", self.duplicate_selection, "Ctrl+D", "duplicate")
        self.act_delete = self._action("&Delete", self.delete_selection,
                                       [k(Qt.Key_Delete), k(Qt.Key_Backspace)], "delete")
        self.act_select_all = self._action("Select &All", self._select_all, k.SelectAll)
        self.act_quick_add = self._action("Add &Node…\tTab", lambda: self.view.open_quick_add(), None, "add")
        self.act_fit = self._action("&Fit to View", self.view.fit_to_view, "F", "fit")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.view.zoom_by(1.25), k.ZoomIn, "zoom_in")
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.view.zoom_by(0.8), k.ZoomOut, "zoom_out")
        self.act_zoom_reset = self._action("&Actual Size", self.view.reset_zoom, "Ctrl+0")
        self.act_snap = self._action("&Snap to Grid", self._set_snap, "Ctrl+G", "grid", checkable=True)
        self.act_snap.setChecked(self.scene.snap_to_grid)
        self.act_present = self._action("&Presentation Mode", self.set_presentation, "F5", "present",
                                        checkable=True, tip="Larger text and lines for a projector")
        self.act_expand = self._action("&Expand Layer", self.expand_selected, "Ctrl+E", "expand",
                                       tip="Replace the selected layer by its primitive ops")
        self.act_collapse = self._action("&Collapse Layer", self.collapse_selected, "Ctrl+Shift+E",
                                         "collapse", tip="Put back the layer these ops came from")
        self.act_arrange = self._action("&Arrange", self.arrange, "Ctrl+L",
                                        tip="Lay the graph out left to right by its data flow")
        self.act_about = self._action("&About Loom", self._about)
        self.act_rename = self._action("&Rename Node", self._rename_selected, "F2",
                                       tip="Type a new name for the selected node in the inspector")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.act_new, self.act_open])
        self.recent_menu = m.addMenu("Open &Recent")
        self.files.fill_recent(self.recent_menu)
        self.examples_menu = m.addMenu("&Examples")
        self.files.fill_examples(self.examples_menu)
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        self.export_menu = m.addMenu("E&xport")
        self.export_actions = self.exports.fill_export_menu(self.export_menu)
        m.addAction(self.act_import_onnx)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete])
        m.addSeparator()
        m.addActions([self.act_select_all, self.act_quick_add])
        m.addAction(self.act_rename)
        m = bar.addMenu("&View")
        m.addActions([self.act_fit, self.act_zoom_in, self.act_zoom_out, self.act_zoom_reset])
        m.addSeparator()
        m.addActions([self.act_snap, self.act_present])
        m.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock):
            m.addAction(dock.toggleViewAction())
        m = bar.addMenu("&Graph")
        m.addActions([self.act_expand, self.act_collapse])
        m.addSeparator()
        m.addAction(self.act_arrange)
        m = bar.addMenu("&Help")
        m.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("MainToolBar")
        bar.setMovable(False)
        groups = [[self.act_new, self.act_open, self.act_save], [self.act_undo, self.act_redo],
                  [self.act_quick_add, self.act_duplicate, self.act_delete],
                  [self.act_expand, self.act_collapse],
                  [self.act_fit, self.act_zoom_in, self.act_zoom_out, self.act_snap, self.act_present]]
        for i, group in enumerate(groups):
            if i:
                bar.addSeparator()
            bar.addActions(group)
        self.act_quick_add.setIconText("Add Node")
        bar.setIconSize(QSize(22, 22))
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar

    def _first_layout(self) -> None:
        """The first launch's docks: palette and the Training panel (Start in view) take the full height
        at the sides, the training views (curves side by side) over a third of it under the canvas, in front
        of an empty Problems list. A layout the user left (restore_layout) is kept instead."""
        if self._layout_restored or self.training.menu is None:     # kept, or already closed
            return
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        for dock in (self.training.panel_dock, self.training.views_dock):
            dock.raise_()
        self.resizeDocks([self.palette_dock, self.training.panel_dock], [200, 330], Qt.Horizontal)
        self.resizeDocks([self.training.views_dock], [round(0.38 * self.height())], Qt.Vertical)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.validity_label = QLabel(self)
        self.validity_label.setObjectName("Validity")
        self.zoom_label = QLabel("100%", self)
        self.device_label = QLabel(f"Device: {device_text()}", self)
        for widget in (self.validity_label, self.zoom_label, self.device_label):
            status.addPermanentWidget(widget)

    def _wire(self) -> None:
        self.scene.selectionChanged.connect(self._selection_changed)
        self.undo_stack.cleanChanged.connect(self.update_title)
        self.undo_stack.indexChanged.connect(self._selection_changed)
        self.scene.sig_status.connect(self._show_status)
        self.scene.sig_summaries_changed.connect(self.inspector.refresh_values)
        self.palette.sig_op_activated.connect(self.add_at_centre)
        self.problems.sig_node_activated.connect(self.view.center_on_node)
        self.inspector.sig_renamed.connect(self._select_renamed)
        self.problems.sig_count_changed.connect(self._show_validity)
        self.view.sig_zoom_changed.connect(lambda z: self.zoom_label.setText(f"{round(z * 100)}%"))

    def _unwire(self) -> None:
        self.scene.selectionChanged.disconnect(self._selection_changed)
        self.undo_stack.cleanChanged.disconnect(self.update_title)
        self.undo_stack.indexChanged.disconnect(self._selection_changed)
        self.scene.sig_status.disconnect(self._show_status)
        self.scene.sig_summaries_changed.disconnect(self.inspector.refresh_values)
        self.palette.sig_op_activated.disconnect(self.add_at_centre)
        self.problems.sig_node_activated.disconnect(self.view.center_on_node)
        self.inspector.sig_renamed.disconnect(self._select_renamed)
        self.problems.sig_count_changed.disconnect(self._show_validity)
        self.files.autosave.stop()
        self.scene.set_graph(None)
        self.inspector.set_graph(None)
        self.problems.set_graph(None)

    # ---- Slots

    def _selection_changed(self, *args) -> None:
        if self.scene.graph is None or self.scene.graph is not self.document.graph:
            return                             # mid-swap (set_document): it runs again once all follow
        nodes = [n for n in self.scene.selected_nodes() if n in self.document.graph]
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)
        training = getattr(self, "training", None)
        if len(nodes) == 1 and training is not None and not training.controller.active:
            self.inspector_dock.raise_()       # editing a node: its attributes in front of the Training tab
        if len(nodes) > 1:
            self.inspector.placeholder.setText(f"{len(nodes)} nodes selected.\nSelect one to edit it.")
        else:
            self.inspector.placeholder.setText("Select a node to see and edit its attributes.")
        graph = self.document.graph
        self.act_expand.setEnabled(any(graph.spec(n).expand is not None for n in nodes))
        self.act_collapse.setEnabled(any(graph.ui(n).get("layer") for n in nodes))
        has = bool(nodes) or bool(self.scene.selected_edges())
        for action in (self.act_delete, self.act_cut, self.act_copy, self.act_duplicate):
            action.setEnabled(has if action is self.act_delete else bool(nodes))

    def _show_status(self, message: str) -> None:
        if message:
            self.statusBar().showMessage(message, 6000)
        else:
            self.statusBar().clearMessage()

    def _show_validity(self, errors: int, warnings: int) -> None:
        if errors:
            text, state = f"✗ {errors} error{'s' * (errors > 1)}", "error"
        elif warnings:
            text, state = f"⚠ {warnings} warning{'s' * (warnings > 1)}", "warning"
        else:
            text, state = "✓ graph is valid", "ok"
        self.validity_label.setText(text)
        self.validity_label.setProperty("state", state)
        self.validity_label.style().unpolish(self.validity_label)
        self.validity_label.style().polish(self.validity_label)

    def _rename_selected(self) -> None:
        nodes = self.scene.selected_nodes()
        if len(nodes) == 1:
            self.inspector_dock.show()
            self.inspector_dock.raise_()
            self.inspector.start_rename()

    def _select_renamed(self, node_id: str) -> None:
        self.scene.select_nodes([node_id])

    def _set_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on

    def _select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def _about(self) -> None:
        QMessageBox.about(self, "About Loom", "Loom — draw, differentiate, compile and train "
                          "neural networks.\nDrag ops from the palette, wire output ports (right) to "
                          "input ports (left), press Tab to add a node at the cursor.")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.files.maybe_save():
            event.ignore()
            return
        self.files.discard_recovery()
        self.presentation.toggle(False)      # the layout kept for next time is the everyday one
        self.training.close()
        self.teaching.values.shutdown()      # no finite-difference check outlives the window
        QSettings().setValue("window/state", self.saveState())
        QSettings().setValue("window/geometry", self.saveGeometry())
        self._unwire()
        event.accept()

    def restore_layout(self) -> None:
        """Put docks and size back as the user left them (not for screenshots)."""
        state, geometry = QSettings().value("window/state"), QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
            self._layout_restored = True
