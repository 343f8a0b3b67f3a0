"""What every exporter shares: the export error, the choice of outputs and safe generated names."""
from __future__ import annotations

import builtins
import keyword
import re
from typing import Iterable, Optional

from core.graph import Graph, GraphError, LoomError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class ExportError(LoomError):
    """A graph that cannot be written to the chosen target (the message says which node and why)."""


def default_outputs(graph: Graph) -> list[str]:
    """The nodes a model computes for its user: outputs nobody consumes, losses and metrics aside."""
    return [n for n in graph.nodes
            if not graph.out_edges(n) and graph.spec(n).category not in ("Loss", "Sources")]


def resolve_outputs(graph: Graph, outputs: Optional[Iterable[str]]) -> list[str]:
    """The caller's outputs (checked) or the default ones; raises ExportError when there are none."""
    chosen = default_outputs(graph) if outputs is None else list(outputs)
    for node_id in chosen:
        if node_id not in graph:
            raise ExportError(f"there is no node '{node_id}' to export", node=node_id)
    if not chosen:
        raise ExportError("the graph has no output to export (every result is a loss or a metric)")
    return chosen


def checked(graph: Graph) -> Graph:
    """`graph` itself when it validates; otherwise GraphError naming the first problem."""
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        raise GraphError(errors[0].message, node=errors[0].node, port=errors[0].port)
    return graph


class NameTable:
    """Maps graph names to safe, unique, non-keyword Python identifiers, the same one each time.

    Every name generated code uses goes through `name()`; `reserved` holds names the generated
    code itself needs (modules, helpers) so a node can never shadow them.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken = set(reserved)
        self._names: dict[str, str] = {}

    def name(self, key: str) -> str:
        if key not in self._names:
            base = re.sub(r"[^A-Za-z0-9_]", "_", str(key))[:60] or "v"
            if not (base[0].isalpha() or base[0] == "_"):
                base = "v_" + base
            if keyword.iskeyword(base) or keyword.issoftkeyword(base) or hasattr(builtins, base):
                base += "_"
            candidate, i = base, 2
            while candidate in self._taken:
                candidate, i = f"{base}_{i}", i + 1
            self._taken.add(candidate)
            self._names[key] = candidate
        return self._names[key]
