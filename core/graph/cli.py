"""Headless commands over graphs: `check` a file, list the `ops`."""
from __future__ import annotations

import argparse

from .errors import GraphFileError
from .fileformat import load_graph
from .opdocs import render_ops_markdown
from .registry import CATEGORIES, INTERNAL, all_ops
from .types import shape_str


def check_command(argv: list[str]) -> int:
    """Print each node's inferred output type and every diagnostic.

    Exit status: 0 valid, 1 invalid graph, 2 unreadable file.
    """
    parser = argparse.ArgumentParser(prog="loom check", description=check_command.__doc__)
    parser.add_argument("graph", help="a Loom graph file (.json)")
    args = parser.parse_args(argv)
    try:
        graph, weights = load_graph(args.graph)
    except GraphFileError as e:
        print(f"error: {e}")
        return 2
    types = graph.types()
    width = max((len(n) for n in graph.nodes), default=4)
    print(f"{args.graph}: {len(graph)} nodes, {len(graph.edges())} edges, {len(weights)} stored weights")
    for node_id in graph.topological_order():
        spec = graph.spec(node_id)
        outs = [types.get((node_id, p)) for p in spec.output_names()]
        shown = ", ".join(f"{t.dtype} {shape_str(t.shape)}" if t else "?" for t in outs)
        print(f"  {node_id:<{width}}  {spec.name:<20} {shown}")
    diagnostics = graph.validate()
    for d in diagnostics:
        print(f"  {d}")
    errors = sum(d.severity == "error" for d in diagnostics)
    print("valid" if not errors else f"invalid: {errors} error(s)")
    return 1 if errors else 0


def ops_command(argv: list[str]) -> int:
    """List every op by category, with its ports and a one-line description."""
    parser = argparse.ArgumentParser(prog="loom ops", description=ops_command.__doc__)
    parser.add_argument("--all", action="store_true", help="include internal ops that gradients use")
    parser.add_argument("--markdown", action="store_true", help="print the reference page docs/ops.md")
    args = parser.parse_args(argv)
    if args.markdown:
        print(render_ops_markdown(), end="")
        return 0
    for category in CATEGORIES + ((INTERNAL,) if args.all else ()):
        print(category)
        for spec in all_ops():
            if spec.category == category:
                ports = ", ".join(p.name for p in spec.inputs)
                print(f"  {spec.name:<20} ({ports}) {spec.doc.split('. ')[0].rstrip('.')}")
    return 0
