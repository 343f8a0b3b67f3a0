"""The "Compiled" view: what the compiler made of the training step — its fused kernels as groups over
the user's nodes, the rewrites that fired, the generated step code and each kernel's CPU and CUDA source.

`describe_compiled(run)` (batch_tasks.py) gathers it in the training process from the compiled step;
`CompiledView` shows it.
"""
from __future__ import annotations

import re
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (QLabel, QPlainTextEdit, QSizePolicy, QPushButton, QSplitter, QTabWidget,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from .batch_tasks import CompiledInfo

PART_COLOURS = {"forward": "#3182bd", "backward": "#8a3ab9", "optimizer": "#2c7a7b"}   # as theme.ROLE_COLOURS

KEYWORDS = ("def return for in if else elif while import from as with lambda None True False and or not "
            "extern const float double long int void unsigned for return __global__ __device__ "
            "__forceinline__ __restrict__ template typename if else").split()



class CodeHighlighter(QSyntaxHighlighter):
    """Python and C keywords, numbers, strings and comments, for the code viewer."""

    def __init__(self, document) -> None:
        super().__init__(document)
        self.rules = []
        for pattern, colour, bold in ((r"\b(" + "|".join(KEYWORDS) + r")\b", "#7c3aed", True),
                                      (r"\b(np|cupy|exp|log|tanh|sqrt|pow|fabs)\b", "#0f766e", False),
                                      (r"\b[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?f?\b", "#b45309", False),
                                      (r"\"[^\"]*\"|'[^']*'", "#15803d", False),
                                      (r"(#|//).*$", "#6b7280", False)):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            if bold:
                fmt.setFontWeight(QFont.Bold)
            self.rules.append((re.compile(pattern), fmt))

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, fmt in self.rules:
            for match in pattern.finditer(text):
                if pattern.pattern.startswith("(#|//)") and text[:match.start()].count('"') % 2:
                    continue
                self.setFormat(match.start(), match.end() - match.start(), fmt)


def code_editor() -> QPlainTextEdit:
    """A read-only monospace viewer with syntax highlighting."""
    edit = QPlainTextEdit()
    edit.setReadOnly(True)
    edit.setLineWrapMode(QPlainTextEdit.NoWrap)
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
    edit.highlighter = CodeHighlighter(edit.document())
    return edit


class CompiledView(QWidget):
    """Kernels (grouped over the user's nodes), rewrites, step code and kernel sources.

    `sig_compile_requested` asks the feature to gather a CompiledInfo; `sig_kernel_selected(user nodes)`
    lets it highlight the group on the canvas; `sig_groups_ready` hands it every kernel's outline
    (coloured by part); `sig_pass_selected` the nodes a rewrite pass touched with its counts.
    """

    sig_compile_requested = Signal()
    sig_kernel_selected = Signal(list)
    sig_groups_ready = Signal(list)            # [(title, user nodes, colour)] to outline on the canvas
    sig_pass_selected = Signal(list, str)      # the user's nodes a pass touched, and its before/after

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.info: Optional[CompiledInfo] = None
        self.compile_button = QPushButton("Compile the training step")
        self.compile_button.clicked.connect(self.sig_compile_requested)
        self.kernels = QTreeWidget()
        self.kernels.setHeaderLabels(["Kernel", "Your nodes", "Part", "Ops", "Time"])
        self.kernels.setRootIsDecorated(False)
        self.kernels.setColumnWidth(0, 60)
        self.kernels.setColumnWidth(1, 110)
        self.kernels.setColumnWidth(2, 75)
        self.kernels.setColumnWidth(3, 40)
        self.kernels.currentItemChanged.connect(self._on_kernel)
        self.rewrites = QTreeWidget()
        self.rewrites.setHeaderLabels(["Pass", "Ops", "Fused", "Your nodes"])
        self.rewrites.setColumnWidth(0, 150)
        self.rewrites.currentItemChanged.connect(self._on_pass)
        self.pass_summary = QLabel("", wordWrap=True)
        self.pass_summary.setObjectName("PassSummary")
        self.pass_summary.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)   # the dock keeps its height
        self.compare_button = QPushButton("Before / after")
        self.compare_button.setEnabled(False)
        self.compare_button.setToolTip("The selected pass as two canvases: the graph before it and after it")
        self.compare_button.clicked.connect(self.show_comparison)
        self.comparison = None
        self.notes = QLabel("", wordWrap=True)
        self.notes.setStyleSheet("color: #8a5a00;")
        self.step_code, self.cpu_code, self.cuda_code = code_editor(), code_editor(), code_editor()
        self.code_tabs = QTabWidget()
        self.code_tabs.addTab(self.step_code, "Step code")
        self.code_tabs.addTab(self.cpu_code, "Kernel: CPU (NumPy)")
        self.code_tabs.addTab(self.cuda_code, "Kernel: CUDA C")
        left = QTabWidget()
        left.addTab(self.kernels, "Fused kernels")
        rewrites = QWidget()
        column = QVBoxLayout(rewrites)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.rewrites, 1)
        column.addWidget(self.pass_summary)
        left.addTab(rewrites, "Rewrites")
        left.setCornerWidget(self.compare_button)      # in the tab bar: the dock keeps its height
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.code_tabs)
        splitter.setSizes([330, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.compile_button)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notes)

    def show_info(self, info: "CompiledInfo | Exception") -> None:
        """Show a CompiledInfo (or the message of the exception gathering it raised)."""
        if isinstance(info, Exception):
            self.notes.setText(f"Could not compile: {info}")
            return
        self.info = info
        self.kernels.clear()
        for k in info.kernels:
            time_text = f"{1e3 * k.seconds:.3f} ms" if k.seconds is not None else "–"
            item = QTreeWidgetItem([k.name, ", ".join(k.user_nodes) or "–", k.part, str(len(k.covers)), time_text])
            item.setToolTip(0, k.expression or k.name)
            item.setToolTip(1, "covers: " + ", ".join(k.covers))
            self.kernels.addTopLevelItem(item)
        self._show_passes(info)
        self.step_code.setPlainText(info.step_source)
        self.notes.setText(" ".join(info.notes))
        self.sig_groups_ready.emit([(f"{k.name} · {k.part}", list(k.user_nodes), PART_COLOURS.get(k.part, "#636363"))
                                    for k in info.kernels])
        if info.kernels:
            self.kernels.setCurrentItem(self.kernels.topLevelItem(0))
        else:
            self.cpu_code.setPlainText("# no fused kernel in this step")
            self.cuda_code.setPlainText("// no fused kernel in this step")

    def forget(self) -> None:
        """Show nothing: the compiled step belonged to a graph no longer on the canvas (a pass or a kernel
        picked afterwards would select nodes of the new graph that merely share a name)."""
        self.info = None
        self.kernels.clear()
        self.rewrites.clear()
        self.pass_summary.setText("")
        self.compare_button.setEnabled(False)
        if self.comparison is not None:
            self.comparison.hide()
        for edit in (self.step_code, self.cpu_code, self.cuda_code):
            edit.clear()
        self.notes.setText("")

    def _on_kernel(self, item: Optional[QTreeWidgetItem], previous: Optional[QTreeWidgetItem] = None) -> None:
        if item is None or self.info is None:
            return
        kernel = self.info.kernels[self.kernels.indexOfTopLevelItem(item)]
        self.cpu_code.setPlainText(kernel.annotated or kernel.cpu_source)
        self.cuda_code.setPlainText(kernel.cuda_source)
        self.sig_kernel_selected.emit(list(kernel.user_nodes))

    def _show_passes(self, info: CompiledInfo) -> None:
        """One row per pass (op and fused-group counts before -> after), its changes in words below it."""
        self.rewrites.clear()
        for story in info.passes:
            row = QTreeWidgetItem([story.phase, f"{story.ops_before} → {story.ops_after}",
                                   f"{story.kernels_before} → {story.kernels_after}", ", ".join(story.touched)])
            row.setToolTip(3, ", ".join(story.touched))
            for change in story.changes:
                child = QTreeWidgetItem([change])
                child.setToolTip(0, change)
                row.addChild(child)
            self.rewrites.addTopLevelItem(row)
            for i in range(row.childCount()):
                row.child(i).setFirstColumnSpanned(True)
        if not info.passes:
            self.rewrites.addTopLevelItems([QTreeWidgetItem([r]) for r in info.rewrites or ["(no rewrite fired)"]])

    def _on_pass(self, item: Optional[QTreeWidgetItem], previous: Optional[QTreeWidgetItem] = None) -> None:
        if item is None or self.info is None or not self.info.passes:
            return
        row = item.parent() or item
        story = self.info.passes[self.rewrites.indexOfTopLevelItem(row)]
        text = (f"{story.phase}: before {story.ops_before} ops and {story.kernels_before} fused groups, after "
                f"{story.ops_after} ops and {story.kernels_after} fused groups; {len(story.changes)} change(s)"
                + (f", touching {', '.join(story.touched)}." if story.touched else "."))
        self.pass_summary.setText(text)
        self.compare_button.setEnabled(True)
        self.sig_pass_selected.emit(list(story.touched), text)

    def show_comparison(self) -> None:
        """Open the selected pass as a before/after pair of canvases."""
        row = self.rewrites.currentItem()
        if row is None or self.info is None or not self.info.passes:
            return
        row = row.parent() or row
        from .pass_compare import PassComparison

        if self.comparison is None:
            self.comparison = PassComparison(self)
        self.comparison.show()          # laid out first, so the views frame the touched nodes at their size
        self.comparison.raise_()
        self.comparison.show_story(self.info.passes[self.rewrites.indexOfTopLevelItem(row)])
