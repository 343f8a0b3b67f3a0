"""Loom's file format: versioned JSON for the graph, a companion .npz for its weights.

Reading is strict and safe: `json` and `np.load(allow_pickle=False)` only, every field
checked; a bad file raises one GraphFileError naming the file and the JSON path, and
nothing is half-loaded. Saves are atomic (write a temporary file, then rename).
"""
from __future__ import annotations

import json
import math
import numbers
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from .errors import GraphError, GraphFileError, quoted
from .filepair import companion_to_read, save_pair, weights_path
from .graph import Graph
from .weights_file import read_weights

FORMAT = "loom-graph"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024
MAX_COORDINATE = 1e9     # canvas positions (model units); the editor never goes near it
MAX_DEPTH = 32           # nesting of the whole document; the examples use 5, a Constant at most 13
PathLike = Union[str, os.PathLike]

# One step per older version: UPGRADES[v] turns a version-v document into version v + 1.
UPGRADES: dict[int, Callable[[dict], dict]] = {}


def graph_document(graph: Graph) -> dict:
    """The JSON document of `graph`: what save_graph writes and graph_from_dict reads back."""
    return {"format": FORMAT, "version": VERSION, **graph.to_dict()}


def save_graph(path: PathLike, graph: Graph, weights: Optional[dict] = None) -> None:
    """Write the graph and its weights (or none) as one pair: a reader sees the old pair or the new.

    The graph records its weights' SHA-256; see filepair.py for the order of the renames.
    """
    path = Path(path)
    document = graph_document(graph)

    def write_graph(record: Optional[dict]) -> None:
        text = json.dumps({**document, "weights": record} if record else document, indent=1, allow_nan=False)
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))

    def write_weights(target: Path) -> None:
        atomic_write(target, lambda f: np.savez(f, **{k: np.asarray(v) for k, v in weights.items()}))

    save_pair(path, write_graph, write_weights if weights else None)


def load_graph(path: PathLike, *, with_weights: bool = True) -> tuple[Graph, dict[str, np.ndarray]]:
    """Read a graph file and its companion weights (if present; never with `with_weights=False`).

    Raises GraphFileError naming the file and the place in it for anything malformed,
    truncated, of an unknown version, or hostile.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise GraphFileError(f"the file is {size // 2**20} MiB; graph files are at most 64 MiB", file=str(path))
        raw = path.read_bytes()
    except OSError as e:
        raise GraphFileError(f"cannot read the file: {e.strerror}", file=str(path)) from None
    document = _parsed(raw, str(path))
    graph = graph_from_dict(document, str(path))
    if not with_weights:
        return graph, {}
    try:
        companion = companion_to_read(path, document.get("weights"))
    except OSError as e:
        raise GraphFileError(f"cannot read the weights: {e.strerror}", file=str(weights_path(path))) from None
    weights = load_weights(companion, graph) if companion else {}
    return graph, weights


def graph_from_text(raw: Union[str, bytes], source: str = "<text>") -> Graph:
    """Parse a graph document (a file's content, or the clipboard's)."""
    return graph_from_dict(_parsed(raw, source), source)


def _parsed(raw: Union[str, bytes], source: str) -> Any:
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise GraphFileError(f"not valid JSON ({quoted(str(e), 200, raw=True)})", file=source) from None
    except RecursionError:
        raise GraphFileError("the JSON is nested too deeply", file=source) from None


def graph_from_dict(document: Any, source: str = "<data>") -> Graph:
    """Build a Graph from a parsed document, upgrading older versions first."""
    _check_depth(document, source)
    document = _upgraded(_expect(document, dict, "$", source), source)
    graph = Graph()
    graph.meta = _expect(document.get("meta", {}), dict, "$.meta", source)
    graph.training = _expect(document.get("training", {}), dict, "$.training", source)
    nodes = _expect(document.get("nodes"), list, "$.nodes", source)
    for i, entry in enumerate(nodes):
        where = f"$.nodes[{i}]"
        entry = _expect(entry, dict, where, source)
        node_id = _expect(entry.get("id"), str, where + ".id", source)
        op = _expect(entry.get("op"), str, where + ".op", source)
        attrs = _expect(entry.get("attrs", {}), dict, where + ".attrs", source)
        ui = _checked_ui(_expect(entry.get("ui", {}), dict, where + ".ui", source), where + ".ui", source)
        role = entry.get("role")
        if role is not None:
            _expect(role, str, where + ".role", source)
        try:
            graph.add_node(op, attrs, node_id=node_id, ui=ui, role=role)
        except GraphError as e:
            raise GraphFileError(f"{where}: {e}", file=source) from None
    edges = _expect(document.get("edges", []), list, "$.edges", source)
    for i, entry in enumerate(edges):
        where = f"$.edges[{i}]"
        entry = _expect(entry, dict, where, source)
        fields = [_expect(entry.get(k), str, f"{where}.{k}", source)
                  for k in ("src", "src_port", "dst", "dst_port")]
        try:
            graph.connect(*fields, typed=False)
        except GraphError as e:
            raise GraphFileError(f"{where}: {e}", file=source) from None
    return graph


def load_weights(path: PathLike, graph: Optional[Graph] = None) -> dict[str, np.ndarray]:
    """Read a weights .npz (never pickles); with a graph, check keys and shapes against it
    from each array's header, before its data is read."""
    expected = None
    if graph is not None:
        expected = {key: tuple(decl.shape) for key, (_, _, decl) in graph.analysis().params.items()}
    return read_weights(path, expected)


def _check_depth(document: Any, source: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, so nothing downstream recurses into it."""
    level = [document]
    for depth in range(MAX_DEPTH + 1):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
        if not level:
            return
    raise GraphFileError(f"the document is nested more than {MAX_DEPTH} levels deep", file=source)


def _checked_ui(ui: dict, where: str, source: str) -> dict:
    """The `ui` keys the editor reads are data too: `pos` is [x, y]; `layer` is an expansion record."""
    if "pos" in ui:
        _position(ui["pos"], where + ".pos", source)
    record = ui.get("layer")
    if record is not None:
        _expect(record, dict, where + ".layer", source)
        for key in ("id", "op"):
            _expect(record.get(key), str, f"{where}.layer.{key}", source)
        _expect(record.get("attrs", {}), dict, where + ".layer.attrs", source)
        if "pos" in record:
            _position(record["pos"], where + ".layer.pos", source)
        if not _is_number(record.get("shift", 0.0)):
            raise GraphFileError(f"{where}.layer.shift should be a number", file=source)
        inputs = _expect(record.get("inputs", {}), dict, where + ".layer.inputs", source)
        for port, targets in inputs.items():
            ok = isinstance(targets, (list, tuple)) and all(
                isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(p, str) for p in t) for t in targets)
            if not ok:
                raise GraphFileError(f"{where}.layer.inputs.{quoted(port, raw=True)} should be a list of "
                                     "[node, port] pairs", file=source)
    return ui


def _position(value: Any, where: str, source: str) -> None:
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(_is_number(v) and abs(v) <= MAX_COORDINATE for v in value)):
        raise GraphFileError(f"{where} should be [x, y], two numbers within ±{MAX_COORDINATE:,.0f}; "
                             f"got {quoted(value)}", file=source)


def _is_number(value: Any) -> bool:
    """A finite int or float (NumPy's too, as a graph built in memory may hold them), never a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def _upgraded(document: dict, source: str) -> dict:
    if document.get("format") != FORMAT:
        raise GraphFileError(f"not a Loom graph (\"format\" should be \"{FORMAT}\")", file=source)
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GraphFileError(f"\"version\" must be a positive integer, got {quoted(version)}", file=source)
    if version > VERSION:
        raise GraphFileError(f"the file is version {version}; this Loom reads up to version {VERSION}",
                             file=source)
    while version < VERSION:
        document = UPGRADES[version](document)
        version += 1
    return document


def _expect(value: Any, kind: type, where: str, source: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        name = {dict: "an object", list: "a list", str: "a string"}.get(kind, kind.__name__)
        raise GraphFileError(f"{where} should be {name}, got {type(value).__name__}", file=source)
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _new_file_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)      # reading the umask means setting it: put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[Any], Any]) -> None:
    """Write through a temporary file in the same folder, then rename over the target.

    The file gets the mode it had, or a new file's usual mode (0666 less the umask): the temporary
    file's private 0600 would otherwise hide a saved graph or an exported script from other users.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
