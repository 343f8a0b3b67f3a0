"""The "Compiled" view: what the compiler made of the training step — its fused kernels as groups over
the user's nodes, the rewrites that fired, the generated step code and each kernel's CPU and CUDA source.

`describe_compiled(run)` gathers it in the worker thread from the compiled step (`step.source`,
`step.kernels`, `step.groups`, `step.rewrites`, `step.kernel_times` when the compiler offers them), else
from the optimizer pipeline run on the training graph; `CompiledView` shows it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (QLabel, QListWidget, QPlainTextEdit, QPushButton, QSplitter, QTabWidget,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from core.compiler import expr as X
from core.compiler.pipeline import optimize
from core.graph import Graph
from core.graph.executor import as_port
from core.training import Run

KEYWORDS = ("def return for in if else elif while import from as with lambda None True False and or not "
            "extern const float double long int void unsigned for return __global__ __device__ "
            "__forceinline__ __restrict__ template typename if else").split()


@dataclass
class KernelInfo:
    """One kernel: the nodes of the training graph it runs, the user's nodes they came from, its sources."""

    name: str
    covers: list[str]
    user_nodes: list[str]
    part: str                    # forward, backward or optimizer
    expression: str = ""
    cpu_source: str = ""
    cuda_source: str = ""
    seconds: Optional[float] = None


@dataclass
class CompiledInfo:
    """Everything the view shows; `notes` says what the compiler did not expose."""

    kernels: list[KernelInfo] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    step_source: str = ""
    notes: list[str] = field(default_factory=list)


def user_node_of(node: str, user_nodes: set[str]) -> Optional[str]:
    """The user's node a training-graph node comes from: itself, or the layer whose prefix it carries."""
    if node in user_nodes:
        return node
    best = None
    for user in user_nodes:
        if node.startswith(user + "_") and (best is None or len(user) > len(best)):
            best = user
    return best


def users_of(graph: Graph, covers: list[str], user_nodes: set[str]) -> list[str]:
    """The user's nodes a kernel works for: those its nodes come from, else (for gradient and optimizer
    kernels) those whose values its nodes read, e.g. the layer whose activation a backward kernel uses."""
    direct = {u for u in (user_node_of(n, user_nodes) for n in covers) if u}
    if direct:
        return sorted(direct)
    read = set()
    for node in covers:
        if node not in graph:
            continue
        for port in graph.spec(node).input_names(graph.attrs(node)):
            source = graph.source(node, port)
            if source and (graph.role(source[0]) is None or graph.op_name(source[0]) == "Parameter"):
                read.add(user_node_of(source[0], user_nodes))   # optimizer slots carry their weight's key
    return sorted(u for u in read if u)


def _part(graph: Graph, node: str) -> str:
    role = graph.role(node) if node in graph else None
    return {"grad": "backward", "update": "optimizer"}.get(role or "", "forward")


def describe_compiled(run: Run) -> CompiledInfo:
    """Gather the compiled training step of `run` (call it in the worker thread)."""
    step = getattr(run, "function", None) or getattr(run, "_train", None)
    user_nodes = set(run.graph.nodes)
    info = CompiledInfo()
    kernels = getattr(step, "kernels", None)
    if isinstance(kernels, dict) and kernels:
        groups = getattr(step, "groups", {}) or {}
        times = getattr(step, "kernel_times", None) or {}
        for name, sources in kernels.items():
            covers = list(groups.get(name, []))
            users = users_of(run.train_graph, covers, user_nodes)
            part = _part(run.train_graph, covers[-1]) if covers else "forward"
            info.kernels.append(KernelInfo(name, covers, users, part, "", str(sources.get("cpu", "")),
                                           str(sources.get("cuda", "")), times.get(name)))
        if not times:
            info.notes.append("The compiler does not report per-kernel times yet.")
        info.rewrites = [str(r) for r in getattr(step, "rewrites", [])]
        info.step_source = str(getattr(step, "source", "") or "")
    else:
        info = _from_pipeline(run, user_nodes)
    if not info.step_source:
        info.notes.append("The compiled step exposes no generated source yet; shown: the optimized schedule.")
    return info


def _from_pipeline(run: Run, user_nodes: set[str]) -> CompiledInfo:
    """Run the optimizer pipeline on the training graph and emit each fused group's kernels."""
    outputs = [as_port(o) for o in run.outputs] + list(run.updates.updates.values())
    graph, outputs, records = optimize(run.train_graph, outputs)
    info = CompiledInfo(rewrites=[str(r) for r in records])
    info.notes.append("Kernels are derived from the optimizer pipeline (the compiled step does not list them); "
                      "no per-kernel times.")
    for node in graph.topological_order():
        if graph.op_name(node) != "Fused":
            continue
        attrs = graph.attrs(node)
        covers = list(graph.ui(node).get("covers", []))
        users = users_of(run.train_graph, covers, user_nodes)
        name = "k_" + re.sub(r"[^A-Za-z0-9_]", "_", node)
        tree = X.parse(attrs["expr"])
        cpu = X.numpy_kernel(tree, attrs["n"], name).source
        cuda = X.cuda_kernel(tree, attrs["n"], attrs["dtype"], name)
        part = _part(run.train_graph, covers[-1]) if covers else "forward"
        info.kernels.append(KernelInfo(name, covers, users, part, attrs["expr"], cpu, cuda))
    info.step_source = _schedule(graph)
    return info


def _schedule(graph: Graph) -> str:
    """The optimized graph as one readable line per node, in execution order."""
    lines = ["# the optimized training step, in execution order (one line per kernel or op)"]
    for node in graph.topological_order():
        op = graph.op_name(node)
        if op in ("Input", "Parameter", "Constant"):
            continue
        args = ", ".join(f"{s}" for s, _ in (graph.source(node, p) for p in graph.spec(node).input_names(
            graph.attrs(node))) if s)
        extra = f"  # {graph.attrs(node)['expr']}" if op == "Fused" else ""
        lines.append(f"{node} = {op}({args}){extra}")
    return "\n".join(lines) + "\n"


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
    lets it highlight the group on the canvas.
    """

    sig_compile_requested = Signal()
    sig_kernel_selected = Signal(list)

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
        self.rewrites = QListWidget()
        self.notes = QLabel("", wordWrap=True)
        self.notes.setStyleSheet("color: #8a5a00;")
        self.step_code, self.cpu_code, self.cuda_code = code_editor(), code_editor(), code_editor()
        self.code_tabs = QTabWidget()
        self.code_tabs.addTab(self.step_code, "Step code")
        self.code_tabs.addTab(self.cpu_code, "Kernel: CPU (NumPy)")
        self.code_tabs.addTab(self.cuda_code, "Kernel: CUDA C")
        left = QTabWidget()
        left.addTab(self.kernels, "Fused kernels")
        left.addTab(self.rewrites, "Rewrites")
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.code_tabs)
        splitter.setSizes([330, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.compile_button)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notes)

    def show_info(self, info: Any) -> None:
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
        self.rewrites.clear()
        self.rewrites.addItems(info.rewrites or ["(no rewrite fired)"])
        self.step_code.setPlainText(info.step_source)
        self.notes.setText(" ".join(info.notes))
        if info.kernels:
            self.kernels.setCurrentItem(self.kernels.topLevelItem(0))
        else:
            self.cpu_code.setPlainText("# no fused kernel in this step")
            self.cuda_code.setPlainText("// no fused kernel in this step")

    def _on_kernel(self, item: Optional[QTreeWidgetItem], previous: Optional[QTreeWidgetItem] = None) -> None:
        if item is None or self.info is None:
            return
        kernel = self.info.kernels[self.kernels.indexOfTopLevelItem(item)]
        self.cpu_code.setPlainText(kernel.cpu_source)
        self.cuda_code.setPlainText(kernel.cuda_source)
        self.sig_kernel_selected.emit(list(kernel.user_nodes))
