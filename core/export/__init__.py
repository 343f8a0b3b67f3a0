"""Export a graph with its weights to ONNX, PyTorch or a NumPy script (the compiled step); import ONNX.

The optional packages (onnx, onnxruntime, torch) are imported only when their target is used:

    from core.export import export_graph, import_onnx
    export_graph(graph, weights, "onnx", "model.onnx")
    graph, weights = import_onnx("model.onnx")
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from core.graph import Graph

from .common import ExportError, default_outputs

TARGETS = {"onnx": ".onnx", "torch": ".py", "numpy": ".py"}


def export_graph(graph: Graph, weights: Optional[dict], target: str, out_path: str | os.PathLike,
                 outputs: Optional[Iterable[str]] = None, base_dir: Optional[str | os.PathLike] = None) -> Path:
    """Write `graph` and its weights as `target` ("onnx", "torch" or "numpy") to `out_path`.

    Parameters
    ----------
    weights: arrays by weights key (missing ones are drawn as Loom would with seed 0).
    outputs: node ids to compute; default: the results that are neither losses nor metrics.
    base_dir: the folder the graph's data set paths start from (the graph file's).

    The numpy and torch targets write the script, its starting state (`<name>.npz`: the weights,
    and for numpy the optimizer slots) and, when the graph has a training configuration, its data
    (`<name>_data.npz`: x_train, y_train, x_val, y_val; with several feature Inputs, x_train.<Input>
    and x_val.<Input> for each), so the script runs with no argument.

    Raises
    ------
    ExportError naming the node that cannot be exported, or saying which package is missing;
    GraphError for an invalid graph; OSError when the file cannot be written.
    """
    if target not in TARGETS:
        raise ExportError(f"unknown export target {target!r}; choose one of {', '.join(TARGETS)}")
    if target == "onnx":
        try:
            from .onnx_export import export_onnx
            import onnx  # noqa: F401
        except ImportError:
            raise ExportError("ONNX export needs the onnx package: pip install onnx onnxruntime") from None
        return export_onnx(graph, weights, out_path, outputs)
    if target == "numpy":
        from .numpy_export import export_numpy

        return export_numpy(graph, weights, out_path, outputs, base_dir)
    from .torch_export import export_torch

    return export_torch(graph, weights, out_path, outputs, base_dir)


def import_onnx(path: str | os.PathLike) -> tuple[Graph, dict]:
    """Read an ONNX model as a laid-out Loom graph and its weights (see onnx_import.import_onnx)."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ExportError("ONNX import needs the onnx package: pip install onnx") from None
    from .onnx_import import import_onnx as _import

    return _import(path)


__all__ = ["ExportError", "TARGETS", "default_outputs", "export_graph", "import_onnx"]
