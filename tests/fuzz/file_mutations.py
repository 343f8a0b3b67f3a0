"""Hostile graph and weights files made from the examples, and the path every one goes through.

`mutate(draw, document)` changes an example's document as a hostile user would (structure, types,
sizes, nesting, internal ops, training configuration); `weights_bytes(draw, graph)` makes the
companion .npz (valid, wrong, or not an .npz at all). `run_case` puts a file through load,
validate, compile, one call and an export, and raises if anything escapes that is not a LoomError
with a bounded message. The figures of a run are counted in OUTCOMES.
"""
from __future__ import annotations

import copy
import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.graph import LoomError, all_ops, get_op, init_params, load_graph

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))
MAX_MESSAGE = 2000
HARNESS_BUDGET = 2_000_000      # numbers: bigger graphs are loaded and validated but not run here
OUTCOMES: Counter = Counter()

ODD_VALUES = [None, True, False, 0, -1, 1, 2.5, -1e308, 1e308, 10 ** 30, 2 ** 63, -(2 ** 63) - 1, "", "N", "x",
              "%(prog)s", "A" * 5000, [], {}, [1, 2], [None, None], ["1e0"], {"a": 1}, [[1, 2], [3]], "200,0"]
INTERNAL = [s.name for s in all_ops() if s.hidden or s.category == "Internal"]
OPS = [s.name for s in all_ops()]
Draw = Callable[[Any], Any]
MUTATIONS = (["attr"] * 3 + ["internal"] * 3 + ["constant"] * 2 + ["training"] * 3 + ["rewire"] * 2
             + ["size", "nest", "duplicate", "drop", "retype", "long_id"])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside the document (dict keys and list indices)."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, prefix + (i,))
    return found


def _parent(document: Any, path: tuple) -> tuple[Any, Any]:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node, path[-1]


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


def _random_value(draw: Draw, st) -> Any:
    return draw(st.sampled_from(ODD_VALUES) | st.integers(-10 ** 6, 10 ** 6) | st.floats(allow_nan=False)
                | st.text(max_size=12) | st.lists(st.integers(-3, 100), max_size=9))


def mutate(draw: Draw, st, document: dict) -> dict:
    """One to four hostile changes to a copy of `document`."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(MUTATIONS))
        nodes = doc.get("nodes") if isinstance(doc.get("nodes"), list) else []
        dict_nodes = [n for n in nodes if isinstance(n, dict)]
        if kind == "drop":
            paths = [p for p in _paths(doc) if p]
            if paths:
                parent, key = _parent(doc, draw(st.sampled_from(paths)))
                del parent[key]
        elif kind == "retype":
            paths = [p for p in _paths(doc) if p]
            if paths:
                parent, key = _parent(doc, draw(st.sampled_from(paths)))
                parent[key] = _random_value(draw, st)
        elif kind == "size" and dict_nodes:
            node = draw(st.sampled_from(dict_nodes))
            attrs = node.setdefault("attrs", {}) if isinstance(node.get("attrs", {}), dict) else {}
            attrs[draw(st.sampled_from(["shape", "units", "filters", "kernel", "axis", "n", "value"]))] = draw(
                st.sampled_from([[10 ** 12], ["N", 2 ** 31], ["N", 0], [-1], ["N", "N"], 10 ** 9, 2 ** 62 + 1,
                                 [[1.0] * 50] * 50, list(range(9)), 10 ** 400]))
        elif kind == "nest":
            depth = draw(st.sampled_from([20, 31, 33, 600]))
            target = draw(st.sampled_from(["ui", "meta", "training", "attrs"]))
            if target in ("ui", "attrs") and dict_nodes:
                draw(st.sampled_from(dict_nodes))[target] = {"k": _nested(depth)}
            elif target in ("meta", "training"):
                doc[target] = {"k": _nested(depth)}
        elif kind == "duplicate" and dict_nodes:
            twin = copy.deepcopy(draw(st.sampled_from(dict_nodes)))
            if draw(st.booleans()):
                twin["id"] = f"{twin.get('id')}_twin"
            nodes.append(twin)
        elif kind == "rewire" and isinstance(doc.get("edges"), list) and doc["edges"]:
            edge = draw(st.sampled_from(doc["edges"]))
            if isinstance(edge, dict):
                ids = [n.get("id") for n in dict_nodes] or ["x"]
                key = draw(st.sampled_from(["src", "dst", "src_port", "dst_port"]))
                edge[key] = draw(st.sampled_from(ids + ["y", "x", "a", "b", "labels", "nowhere"]))
        elif kind == "internal":
            _add_internal(draw, st, doc, nodes, dict_nodes)
        elif kind == "training":
            training = doc.setdefault("training", {}) if isinstance(doc.get("training", {}), dict) else {}
            key = draw(st.sampled_from(["features", "labels", "loss", "metrics", "optimizer", "batch_size",
                                        "epochs", "dataset", "schedule", "seed"]))
            training[key] = draw(st.sampled_from([
                "pixels", "x", "cost", ["accuracy", "nope"], {"name": "adamw"}, {"name": ["adam"]},
                {"name": "sgd", "lr": -1}, 10 ** 12, 0, {"name": "blobs", "classes": 5},
                {"name": "spirals", "samples": 10 ** 12}, {"name": "csv", "path": "../../etc/passwd"},
                {"name": "npz", "path": "missing.npz"}, {"name": "step", "every": 0}, None]))
        elif kind == "constant":
            nodes.append({"id": f"k{len(nodes)}", "op": "Constant", "attrs": {
                "value": draw(st.sampled_from([10 ** 400, [2 ** 63], [1e300], ["1e0"], [[1, 2], [3]], [True],
                                               [[0.5] * 3] * 2, 7])),
                "dtype": draw(st.sampled_from(["float32", "float64", "int64"]))}})
        elif kind == "long_id" and dict_nodes:
            draw(st.sampled_from(dict_nodes))["id"] = draw(st.sampled_from(["B" * 100_000, "é", "1abc", "a b"]))
        elif kind == "attr" and dict_nodes:
            node = draw(st.sampled_from(dict_nodes))
            attrs = node.get("attrs")
            if isinstance(attrs, dict) and attrs:
                name = draw(st.sampled_from(sorted(attrs)))
                attrs[name] = _plausible(draw, st, node.get("op"), name) if draw(st.booleans()) \
                    else _random_value(draw, st)
    return doc


def _plausible(draw: Draw, st, op: Any, name: str) -> Any:
    """A value of the attribute's own kind (so the file loads and the graph is checked further in)."""
    try:
        attr = get_op(op).attr(name)
    except (KeyError, TypeError):
        return _random_value(draw, st)
    if attr.kind == "choice" and isinstance(attr.choices, tuple):
        return draw(st.sampled_from(attr.choices))
    if attr.kind == "int":
        return draw(st.sampled_from([0, 1, 2, 3, 7, 64, -1, 100]))
    if attr.kind == "float":
        return draw(st.sampled_from([0.0, 0.5, 1.0, -1.0, 1e30, 1e-30]))
    if attr.kind == "bool":
        return draw(st.booleans())
    if attr.kind == "shape":
        return draw(st.sampled_from([["N", 2], ["N", 3], [2, 2], ["N", 1, 8, 8], [5], ["N"], [], [64, 10], [-1, 4]]))
    if attr.kind == "axes":
        return draw(st.sampled_from([None, 0, 1, -1, [0, 1], [5]]))
    return draw(st.sampled_from([0.0, [1.0, 2.0], [[1.0], [2.0]], 3]))


def _add_internal(draw: Draw, st, doc: dict, nodes: list, dict_nodes: list) -> None:
    """An internal compiler op wired to random outputs of the graph, maybe feeding one of its inputs."""
    op = draw(st.sampled_from(INTERNAL + ["Fused"] * 3))
    attrs: dict = {}
    if op == "Fused":
        attrs = {"n": draw(st.integers(1, 3)), "expr": draw(st.sampled_from(
            ["x1", "x2", "exp(x1)", "max(x1)", "where(x1, x2, x3)", "x1 + x2 * x3", "x1 / 0", "x1 ** 2",
             "exp(x1, x2)", "tanh(x1) > x2"])), "dtype": draw(st.sampled_from(["float32", "int64"]))}
    new_id = f"fz{len(nodes)}"
    nodes.append({"id": new_id, "op": op, "attrs": attrs})
    ids = [n.get("id") for n in dict_nodes if isinstance(n.get("id"), str)]
    edges = doc.get("edges") if isinstance(doc.get("edges"), list) else []
    ports = get_op(op).input_names({**get_op(op).default_attrs(), **attrs})
    for port in ports + (("nowhere",) if draw(st.integers(0, 9)) == 0 else ()):
        if ids and draw(st.integers(0, 5)):
            edges.append({"src": draw(st.sampled_from(ids)), "src_port": "y", "dst": new_id, "dst_port": port})
    if ids and draw(st.booleans()):
        target = [e for e in edges if isinstance(e, dict) and e.get("dst") in ids]
        if target:
            draw(st.sampled_from(target))["src"] = new_id
    doc["edges"] = edges


def _npy(header: str) -> bytes:
    header += " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def weights_bytes(draw: Draw, st, graph) -> bytes | None:
    """The companion .npz: none, the graph's own, or something hostile."""
    kind = draw(st.sampled_from(["none"] * 8 + ["good"] * 4 + ["shape", "extra", "object", "npy", "garbage",
                                                               "truncated", "member", "header", "fortran", "ints",
                                                               "empty"]))
    if kind == "none":
        return None
    try:
        arrays = init_params(graph, seed=1) if graph is not None else {}
    except LoomError:
        arrays = {}
    arrays = {k: v for k, v in arrays.items() if v.size <= 100_000}
    buffer = io.BytesIO()
    if kind == "good":
        np.savez(buffer, **arrays)
    elif kind == "shape":
        np.savez(buffer, **{k: np.zeros(v.shape + (2,), v.dtype) for k, v in arrays.items()})
    elif kind == "extra":
        np.savez(buffer, **arrays, stranger=np.zeros(3))
    elif kind == "object":
        np.savez(buffer, **{k: np.array([None] * max(v.size, 1), dtype=object) for k, v in arrays.items()} or
                 {"o": np.array([None], dtype=object)})
    elif kind == "npy":
        np.save(buffer, np.zeros(4))
    elif kind == "garbage":
        return b"PK\x03\x04" + bytes(range(256)) * 4
    elif kind == "truncated":
        np.savez(buffer, **arrays)
        return buffer.getvalue()[: max(len(buffer.getvalue()) // 2, 1)]
    elif kind in ("member", "header"):
        key = sorted(arrays)[0] if arrays else "W"
        with zipfile.ZipFile(buffer, "w") as z:
            if kind == "member":
                z.writestr(key, b"not an array")
            else:
                z.writestr(f"{key}.npy", _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"))
    elif kind == "fortran":
        np.savez(buffer, **{k: np.asfortranarray(v) for k, v in arrays.items()})
    elif kind == "ints":
        np.savez(buffer, **{k: v.astype(np.int64) for k, v in arrays.items()})
    else:
        np.savez(buffer)
    return buffer.getvalue()


def corrupt_text(draw: Draw, st, text: bytes) -> bytes:
    """Byte-level damage: flips, cuts, insertions."""
    raw = bytearray(text)
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, max(len(raw) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[pos:]
        else:
            raw[pos:pos] = draw(st.sampled_from([b"{", b"]", b'"', b",", b"null", b"NaN", b"1e999", b"[[[["]))
    return bytes(raw)


def _bounded(error: LoomError) -> None:
    assert len(str(error)) <= MAX_MESSAGE, f"a message of {len(str(error)):,} characters: {str(error)[:200]}"


def _small_enough(graph) -> bool:
    sizes = [np.prod([3 if isinstance(d, str) else d for d in t.shape], dtype=float) for t in graph.types().values()]
    return float(sum(sizes)) <= HARNESS_BUDGET


def _feeds(graph, rng: np.random.Generator) -> dict:
    feeds = {}
    for node in graph.nodes:
        if graph.op_name(node) == "Input":
            t = graph.types()[(node, "y")]
            shape = [3 if isinstance(d, str) else d for d in t.shape]
            feeds[node] = rng.integers(0, 3, shape) if t.dtype == "int64" else rng.normal(size=shape).astype(t.dtype)
    return feeds


def run_case(folder: Path, text: bytes, weights: bytes | None, target: str) -> str:
    """Load, validate, compile, call once and export one file; returns how far it went.

    Raises AssertionError (or lets the exception through) for anything that is not a LoomError
    with a bounded message: that is a bug the fuzzing found.
    """
    from core.compiler import compile
    from core.export import export_graph
    from core.export.common import default_outputs
    from core.training.preflight import check_export

    path = folder / "case.json"
    path.write_bytes(text)
    if weights is not None:
        (folder / "case.npz").write_bytes(weights)
    try:
        graph, stored = load_graph(path)
    except LoomError as e:
        _bounded(e)
        return "refused at load"
    errors = [d for d in graph.validate() if d.severity == "error"]
    for d in graph.validate():
        assert len(d.message) <= MAX_MESSAGE
    if not _small_enough(graph):
        return "valid but too large to run here" if not errors else "invalid"
    outcome = "invalid" if errors else "ran"
    try:
        outputs = default_outputs(graph) if not errors else [n for n in graph.nodes][:1]
        inputs = [n for n in graph.nodes if graph.op_name(n) == "Input"]
        step = compile(graph, inputs, outputs, weights=stored)
        feeds = _feeds(graph, np.random.default_rng(0))
        step(*(feeds[n] for n in inputs))
    except LoomError as e:
        _bounded(e)
        outcome = "refused at compile or call" if outcome == "ran" else outcome
    if target == "none":
        return outcome
    try:
        check_export(graph, target, folder)
        export_graph(graph, stored, target, folder / f"out_{target}.{'onnx' if target == 'onnx' else 'py'}",
                     base_dir=folder)
        outcome += ", exported"
    except LoomError as e:
        _bounded(e)
        outcome += ", export refused"
    return outcome


def example_documents() -> list[dict]:
    return [json.loads(p.read_text()) for p in EXAMPLES]
