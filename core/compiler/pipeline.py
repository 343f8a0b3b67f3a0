"""The optimization pipeline: phase order is this one tuple; each phase is a pure Graph -> Graph step."""
from __future__ import annotations

from typing import Iterable, Iterator, Optional, Sequence

from core.graph import Graph

from .rewrites import RewriteRecord, run_phase

PHASES = ("fold", "merge", "simplify", "stabilize", "fuse", "inplace")


def optimize(graph: Graph, outputs: Sequence[tuple[str, str]], exclude: Iterable[str] = (),
             options: Optional[dict] = None) -> tuple[Graph, list[tuple[str, str]], list[RewriteRecord]]:
    """Run every phase in order; returns the optimized graph, the remapped outputs and all records.

    `exclude` switches rewrites off by name, tag or phase ("fuse", "log_softmax", "stable").
    """
    records: list[RewriteRecord] = []
    for _, graph, outputs, done in stages(graph, outputs, exclude, options):
        records += done
    return graph, outputs, records


def stages(graph: Graph, outputs: Sequence[tuple[str, str]], exclude: Iterable[str] = (),
           options: Optional[dict] = None) -> Iterator[tuple[str, Graph, list, list[RewriteRecord]]]:
    """Each phase in order: (phase, graph after it, outputs after it, what it did), for showing a
    pass as a before/after."""
    exclude = frozenset(exclude)
    outputs = list(outputs)
    options = dict(options or {})
    for phase in PHASES:
        graph, outputs, done = run_phase(phase, graph, outputs, exclude, options, options.get("types"))
        yield phase, graph, outputs, done
