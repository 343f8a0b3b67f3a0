"""The text of `debugprint`: a graph as indented trees, one per output, shared nodes printed once."""
from __future__ import annotations

from core.graph import Graph

_SHOWN_ATTRS = ("axis", "axes", "expr", "shape", "transpose_a", "transpose_b", "value")


def node_label(graph: Graph, node: str) -> str:
    """`Op{attr=value} [id node] : type`, attributes only where they say something."""
    op = graph.op_name(node)
    attrs = graph.attrs(node)
    defaults = graph.spec(node).default_attrs()
    shown = [f"{k}={attrs[k]!r}" for k in _SHOWN_ATTRS if k in attrs and attrs[k] != defaults.get(k)]
    if op == "Constant":
        shown = [f"value={attrs['value']!r}"[:40]]
    kind = graph.types().get((node, "y"))
    return f"{op}{'{' + ', '.join(shown) + '}' if shown else ''} [id {node}]" + (f" : {kind}" if kind else "")


def tree_text(graph: Graph, roots: list[tuple[str, tuple[str, str]]]) -> str:
    """Each root as a tree of its inputs ( |-marked levels, as Theano prints them)."""
    lines: list[str] = []
    seen: set[str] = set()

    def walk(node: str, depth: int) -> None:
        prefix = " |" * depth
        if node in seen and graph.in_edges(node):
            lines.append(f"{prefix}... [id {node}]")
            return
        seen.add(node)
        lines.append(f"{prefix}{node_label(graph, node)}")
        spec = graph.spec(node)
        for port in spec.input_names(graph.attrs(node)):
            source = graph.source(node, port)
            if source is not None:
                walk(source[0], depth + 1)

    for title, (node, _) in roots:
        lines.append(f"{title}:")
        walk(node, 1)
    return "\n".join(lines)
