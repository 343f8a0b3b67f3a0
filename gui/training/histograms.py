"""Per-layer weight and gradient histograms over time, and the gradient magnitude on every wire.

`GradientProbe` (worker thread) differentiates a copy of the graph in which every wire's value passes
through `value + probe`, a zero Parameter: d(loss)/d(probe) is the gradient flowing along that wire.
`HistogramsPanel` draws the last snapshots of a parameter's values and gradients, older ones fainter.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.compiler.autodiff import differentiate
from core.graph import Graph, evaluate
from core.training import Run

from .controller import Probe
from .curves import style_plot

BINS = 30
KEEP = 8
PROBE_PREFIX = "loom_probe"

Histogram = tuple[np.ndarray, np.ndarray]   # (counts, bin edges)


@dataclass(frozen=True)
class GradientSnapshot:
    """Weights and gradients of each parameter at one step, and gradient RMS per wire of the user's graph."""

    step: int
    weights: dict[str, Histogram]
    grads: dict[str, Histogram]
    grad_rms: dict[str, float]
    edges: dict[tuple[str, str, str], float]


def histogram(values: np.ndarray) -> Histogram:
    """Counts over BINS equal bins spanning the finite values."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[np.isfinite(flat)]
    if not flat.size:
        return np.zeros(BINS), np.linspace(-1, 1, BINS + 1)
    low, high = float(flat.min()), float(flat.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.histogram(flat, bins=BINS, range=(low, high))


def probed_graph(graph: Graph, batch: int) -> tuple[Graph, dict[tuple[str, str], str]]:
    """A copy with a concrete batch size where each float wire source feeds `source + probe` onwards.

    Returns the copy and {(node, port): probe Parameter id}.
    """
    probed = graph.copy()
    for node in list(probed.nodes):
        if probed.op_name(node) == "Input":
            shape = list(probed.attrs(node)["shape"])
            if shape and shape[0] == "N":
                probed.set_attr(node, "shape", [batch] + shape[1:])
    types = probed.types()
    probes: dict[tuple[str, str], str] = {}
    for edge in graph.edges():
        source = (edge.src, edge.src_port)
        kind = types.get(source)
        if source in probes or kind is None or not kind.is_float or not kind.shape:
            continue
        if not all(isinstance(d, int) for d in kind.shape):
            continue
        probe = probed.add_node("Parameter", {"shape": list(kind.shape), "dtype": kind.dtype, "init": "zeros",
                                              "trainable": True}, node_id=probed.unique_id(PROBE_PREFIX))
        add = probed.add_node("Add", node_id=probed.unique_id(PROBE_PREFIX + "_add"))
        consumers = [e for e in probed.out_edges(edge.src) if e.src_port == edge.src_port]
        for e in consumers:
            probed.disconnect(e)
        probed.connect(edge.src, edge.src_port, add, "a")
        probed.connect(probe, "y", add, "b")
        for e in consumers:
            probed.connect(add, "y", e.dst, e.dst_port)
        probes[source] = probe
    return probed, probes


class GradientProbe(Probe):
    """Weight and gradient histograms per parameter, and gradient RMS per wire, on a fixed batch."""

    name = "gradients"
    interval = 1.0

    def prepare(self, run: Run) -> None:
        cfg = run.config
        size = min(cfg.batch_size, len(run.data.x_train))
        self._feeds = {cfg.features: run.data.x_train[:size]}
        if cfg.labels:
            self._feeds[cfg.labels] = run.data.y_train[:size]
        graph, self._probes = probed_graph(run.graph, size)
        self._graph, grads = differentiate(graph, cfg.loss)
        self._grads = grads.grads
        self._zeros = {p: np.zeros(self._graph.types()[(p, "y")].shape, dtype=self._graph.types()[(p, "y")].dtype)
                       for p in self._probes.values()}
        self._edges = [(e.src, e.src_port, e.dst, e.dst_port) for e in run.graph.edges()]

    def compute(self, run: Run) -> GradientSnapshot:
        weights = run.weights()
        with np.errstate(all="ignore"):
            ev = evaluate(self._graph, self._feeds, {**weights, **self._zeros}, list(self._grads.values()),
                          training=False)
        grads = {key: ev[ref] for key, ref in self._grads.items()}
        wire_rms = {source: float(np.sqrt(np.mean(np.square(grads[probe], dtype=np.float64))))
                    for source, probe in self._probes.items() if probe in grads}
        edges = {(src, dst, dport): wire_rms[(src, sport)] for src, sport, dst, dport in self._edges
                 if (src, sport) in wire_rms}
        params = {k: v for k, v in grads.items() if not k.startswith(PROBE_PREFIX)}
        return GradientSnapshot(run.step_count, {k: histogram(weights[k]) for k in params if k in weights},
                                {k: histogram(v) for k, v in params.items()},
                                {k: float(np.sqrt(np.mean(np.square(v, dtype=np.float64)))) for k, v in params.items()},
                                edges)


class HistogramsPanel(QWidget):
    """Pick a parameter; see its value and gradient distributions at the last snapshots (newest darkest)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.selector = QComboBox()
        self.selector.currentTextChanged.connect(lambda _: self.redraw())
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.weight_plot = self.plots.addPlot(row=0, col=0, title="Weights")
        self.grad_plot = self.plots.addPlot(row=1, col=0, title="Gradients")
        for plot in (self.weight_plot, self.grad_plot):
            style_plot(plot)
            plot.setLabel("left", "count", color="#1f2933")
        self.weight_curves = [self.weight_plot.plot(stepMode="center") for _ in range(KEEP)]
        self.grad_curves = [self.grad_plot.plot(stepMode="center") for _ in range(KEEP)]
        self.caption = QLabel("Histograms appear while training runs (a snapshot about every second).")
        row = QHBoxLayout()
        row.addWidget(QLabel("Parameter"))
        row.addWidget(self.selector, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.caption)
        self.history: deque[GradientSnapshot] = deque(maxlen=KEEP)

    def clear(self) -> None:
        """Forget the snapshots of an earlier run."""
        self.history.clear()
        self.redraw()

    def add_snapshot(self, snapshot: GradientSnapshot) -> None:
        """Keep a snapshot and redraw."""
        if self.history and self.history[-1].step == snapshot.step:
            self.history.pop()
        self.history.append(snapshot)
        keys = list(snapshot.grads)
        if [self.selector.itemText(i) for i in range(self.selector.count())] != keys:
            current = self.selector.currentText()
            self.selector.blockSignals(True)
            self.selector.clear()
            self.selector.addItems(keys)
            if current in keys:
                self.selector.setCurrentText(current)
            self.selector.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the selected parameter's snapshots, oldest faintest."""
        key = self.selector.currentText()
        shots = [s for s in self.history if key in s.grads]
        for curves, pick in ((self.weight_curves, lambda s: s.weights.get(key)),
                             (self.grad_curves, lambda s: s.grads.get(key))):
            for i, curve in enumerate(curves):
                j = i - (len(curves) - len(shots))
                found = pick(shots[j]) if j >= 0 else None
                if found is None:
                    curve.setData([], [])
                    continue
                counts, edges = found
                alpha = int(40 + 215 * (j + 1) / len(shots))
                curve.setPen(pg.mkPen(31, 119, 180, alpha, width=2.5 if j == len(shots) - 1 else 1))
                curve.setData(edges, counts)
        if shots:
            last = shots[-1]
            self.caption.setText(f"{key} at step {last.step}: gradient RMS {last.grad_rms.get(key, 0):.3g}; "
                                 f"the {len(shots)} latest snapshots, older ones fainter.")
