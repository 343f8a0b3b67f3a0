"""What the editor asks the training process for on demand: every node's values on one batch
("Run one batch") and the compiled training step ("Compiled" view).

Qt-free: each function takes the `Run` and returns a picklable result (see core/training/remote.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx
import numpy as np

from core.graph import Graph, evaluate
from core.training import Run

BINS = 12
BARS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class NodeSummary:
    """What one node's output held on the batch."""

    node: str
    op: str
    shape: tuple
    dtype: str
    minimum: float
    mean: float
    maximum: float
    counts: tuple[int, ...]
    nonfinite: int

    def sparkline(self) -> str:
        """The histogram as block characters."""
        top = max(self.counts) if self.counts and max(self.counts) else 1
        return "".join(BARS[round(c / top * (len(BARS) - 1))] for c in self.counts)

    def text(self) -> str:
        """A tooltip: shape, min/mean/max and the histogram."""
        lines = [f"{self.op} → {self.dtype}{list(self.shape)}",
                 f"min {self.minimum:.4g} · mean {self.mean:.4g} · max {self.maximum:.4g}",
                 self.sparkline()]
        if self.nonfinite:
            lines.append(f"{self.nonfinite} NaN/Inf values")
        return "\n".join(lines)


def summarize(node: str, op: str, value: np.ndarray) -> NodeSummary:
    """Summarize one array; NaN/Inf values are counted, min and max show an Inf, the mean and histogram skip them."""
    value = np.asarray(value)
    flat = value.astype(np.float64, copy=False).ravel()
    finite = flat[np.isfinite(flat)]
    numbered = flat[~np.isnan(flat)]      # min and max show an Inf; the mean and histogram use finite values
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        counts, _ = np.histogram(finite, bins=BINS, range=(low, high if high > low else low + 1.0))
    else:
        counts = np.zeros(BINS, dtype=int)
    if numbered.size:
        numbers = (float(numbered.min()), float(finite.mean()) if finite.size else float("nan"),
                   float(numbered.max()))
    else:
        numbers = (float("nan"),) * 3
    return NodeSummary(node, op, tuple(value.shape), str(value.dtype), *numbers,
                       tuple(int(c) for c in counts), int(flat.size - finite.size))


def summarize_batch(run: Run) -> dict[str, NodeSummary]:
    """Evaluate every node the training data can feed on the first training batch, with current weights."""
    cfg = run.config
    rows = slice(0, min(cfg.batch_size, len(run.data.x_train)))
    feeds = {cfg.features: run.data.x_train[rows]}
    if cfg.labels:
        feeds[cfg.labels] = run.data.y_train[rows]
    graph = run.graph
    inputs = {n for n in graph.nodes if graph.op_name(n) == "Input"}
    missing = inputs - set(feeds)
    wanted = [n for n in graph.nodes
              if n not in missing and not (nx.ancestors(graph.nx, n) & missing)]
    ev = evaluate(graph, feeds, run.weights(), wanted, training=False)
    return {n: summarize(n, graph.op_name(n), ev[n]) for n in ev.order}



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


def users_of(optimized: Graph, kernel_node: str, covers: list[str], user_nodes: set[str]) -> list[str]:
    """The user's nodes a kernel works for: those its nodes come from, else (for gradient and optimizer
    kernels) those whose values the kernel reads in the optimized graph, e.g. the layer whose activation
    a backward kernel uses, or the weight whose optimizer slots it updates."""
    direct = {u for u in (user_node_of(n, user_nodes) for n in covers) if u}
    if direct:
        return sorted(direct)
    read = set()
    for port in optimized.spec(kernel_node).input_names(optimized.attrs(kernel_node)):
        source = optimized.source(kernel_node, port)
        if source and (optimized.role(source[0]) is None or optimized.op_name(source[0]) == "Parameter"):
            read.add(user_node_of(source[0], user_nodes))   # optimizer slots carry their weight's key
    return sorted(u for u in read if u)


def _part(graph: Graph, node: str) -> str:
    role = graph.role(node) if node in graph else None
    return {"grad": "backward", "update": "optimizer"}.get(role or "", "forward")


def describe_compiled(run: Run) -> CompiledInfo:
    """Gather the compiled training step of `run`: kernels with the nodes they cover and their time per
    call on the next batch, the rewrites that fired, the generated source."""
    step = run.train_function
    user_nodes = set(run.graph.nodes)
    times = run.profile()
    info = CompiledInfo(rewrites=[str(r) for r in step.rewrites], step_source=step.source)
    for name, sources in step.kernels.items():
        covers = list(step.groups.get(name, []))
        users = users_of(step.optimized, step.kernel_nodes[name], covers, user_nodes)
        part = _part(run.train_graph, covers[-1]) if covers else "forward"
        info.kernels.append(KernelInfo(name, covers, users, part, "", str(sources.get("cpu", "")),
                                       str(sources.get("cuda", "")), times.get(step.kernel_nodes[name])))
    slowest = sorted(times.items(), key=lambda item: -item[1])[:3]
    info.notes.append(f"Times per call on the next batch (median of 20 runs): the whole step "
                      f"{1e3 * sum(times.values()):.3f} ms; slowest: "
                      + ", ".join(f"{node} {1e3 * t:.3f} ms" for node, t in slowest) + ".")
    if not step.kernels:
        info.notes.append("Nothing in this step fused into a kernel: every op runs as it is.")
    return info
