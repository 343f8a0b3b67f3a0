"""Headless `export` and `import` commands: a graph file to ONNX, PyTorch or NumPy; ONNX to a graph file."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.graph import GraphFileError, LoomError, load_graph, load_weights, save_graph
from core.training.preflight import check_export

from . import TARGETS, export_graph, import_onnx


def export_command(argv: list[str]) -> int:
    """Export a graph and its weights; exit 0 done, 1 the graph cannot be exported, 2 unreadable file."""
    parser = argparse.ArgumentParser(prog="loom export", description=export_command.__doc__)
    parser.add_argument("graph", help="a Loom graph file (.json); its .npz weights are used when present")
    parser.add_argument("--to", required=True, choices=sorted(TARGETS), help="the target format")
    parser.add_argument("-o", "--output", required=True, help="the file to write (.onnx or .py)")
    parser.add_argument("--weights", help="a weights .npz to use instead of the graph's own")
    parser.add_argument("--outputs", help="comma-separated node ids to compute (default: the results)")
    args = parser.parse_args(argv)
    try:
        graph, weights = load_graph(args.graph)
        if args.weights:
            weights = load_weights(args.weights, graph)
    except GraphFileError as e:
        print(f"error: {e}")
        return 2
    outputs = [n.strip() for n in args.outputs.split(",") if n.strip()] if args.outputs else None
    try:
        check_export(graph, args.to, Path(args.graph).parent)   # what `train` refuses, a training script does too
        path = export_graph(graph, weights, args.to, args.output, outputs, Path(args.graph).parent)
    except LoomError as e:
        print(f"error: {e}")
        return 1
    except OSError as e:
        print(f"error: cannot write {args.output}: {e.strerror or e}")
        return 1
    if not weights:
        print("note: the graph file has no stored weights; initial values were drawn as Loom draws them")
    print(f"wrote {path}")
    return 0


def import_command(argv: list[str]) -> int:
    """Import an ONNX model as a Loom graph; exit 0 done, 1 the model does not map, 2 unreadable file."""
    parser = argparse.ArgumentParser(prog="loom import", description=import_command.__doc__)
    parser.add_argument("model", help="an ONNX model (.onnx)")
    parser.add_argument("-o", "--output", required=True, help="the Loom graph file to write (.json)")
    args = parser.parse_args(argv)
    try:
        graph, weights = import_onnx(args.model)
    except GraphFileError as e:
        print(f"error: {e}")
        return 2
    except LoomError as e:
        print(f"error: {e}")
        return 1
    try:
        save_graph(args.output, graph, weights)
    except OSError as e:
        print(f"error: cannot write {args.output}: {e.strerror or e}")
        return 1
    print(f"wrote {args.output} ({len(graph)} nodes, {len(weights)} weight arrays)")
    return 0

