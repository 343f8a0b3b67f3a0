"""What the editor asks the training process for on demand: every node's values on one batch
("Run one batch") and the compiled training step ("Compiled" view).

Qt-free: each function takes the `Run` and returns a picklable result (see core/training/remote.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import networkx as nx
import numpy as np

from core.compiler.explain import PassStory, annotate_kernel, credit, owners, pass_stories
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
    rows = slice(0, min(cfg.batch_size, run.data.size()))
    feeds = run.data.feeds(cfg.feature_inputs, "train", rows)
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
    annotated: str = ""          # cpu_source with each op line naming its node


@dataclass
class CompiledInfo:
    """Everything the view shows; `notes` says what the compiler did not expose."""

    kernels: list[KernelInfo] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    step_source: str = ""
    notes: list[str] = field(default_factory=list)
    passes: list[PassStory] = field(default_factory=list)


def _part(graph: Graph, node: str) -> str:
    role = graph.role(node) if node in graph else None
    return {"grad": "backward", "update": "optimizer"}.get(role or "", "forward")


def describe_step(step: Any, train_graph: Graph, user_nodes: set[str],
                  times: Optional[dict[str, float]] = None) -> CompiledInfo:
    """The kernels of a compiled `step` (of `train_graph`) credited to the `user_nodes` they work for, the
    passes and rewrites that made them, the generated source; `times` per kernel node where measured."""
    times = times or {}
    owner = owners(train_graph, step.updates, user_nodes)
    info = CompiledInfo(rewrites=[str(r) for r in step.rewrites], step_source=step.source,
                        passes=pass_stories(train_graph, step.outputs, step.updates, user_nodes,
                                            {"max_operands": step.device.max_operands}))
    for name, sources in step.kernels.items():
        covers = list(step.groups.get(name, []))
        users = credit(covers, owner)
        part = _part(train_graph, covers[-1]) if covers else "forward"
        cpu = str(sources.get("cpu", ""))
        info.kernels.append(KernelInfo(name, covers, users, part, "", cpu, str(sources.get("cuda", "")),
                                       times.get(step.kernel_nodes[name]), annotate_kernel(cpu, covers, owner)))
    if not step.kernels:
        info.notes.append("Nothing in this step fused into a kernel: every op runs as it is.")
    fused = info.passes[-1].kernels_after if info.passes else 0
    if fused > len(step.kernels):
        info.notes.append(f"The {fused} fused groups run as {len(step.kernels)} kernels: groups of the same "
                          "expression and shape share one call.")
    return info


def describe_compiled(run: Run) -> CompiledInfo:
    """Gather the compiled training step of `run`: kernels with the nodes they cover and their time per
    call on the next batch, the rewrites that fired, the generated source."""
    times = run.profile()
    info = describe_step(run.train_function, run.train_graph, set(run.graph.nodes), times)
    slowest = sorted(times.items(), key=lambda item: -item[1])[:3]
    info.notes.insert(0, f"Times per call on the next batch (median of 20 runs): the whole step "
                      f"{1e3 * sum(times.values()):.3f} ms; slowest: "
                      + ", ".join(f"{node} {1e3 * t:.3f} ms" for node, t in slowest) + ".")
    return info
