"""One load door: every hostile graph or weights file is refused with one GraphFileError naming the
file and what is wrong, before anything large is allocated; what loads validates and compiles
or is reported as a diagnostic."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.compiler import compile
from core.graph import GraphError, GraphFileError, Graph, graph_from_text, load_graph, load_weights, save_graph
from core.graph import weights_file

ROOT = Path(__file__).resolve().parents[3]


def _saved(tmp_path, graph, name="m") -> Path:
    path = tmp_path / f"{name}.json"
    save_graph(path, graph)
    return path


def _npy_bytes(header_shape: str, descr: str = "<f8", body: bytes = b"") -> bytes:
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, header_shape)
    header += " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body


def _refused(path: Path, fragment: str) -> GraphFileError:
    with pytest.raises(GraphFileError) as info:
        load_graph(path)
    assert fragment in str(info.value), str(info.value)
    assert len(str(info.value)) < 400
    return info.value


def test_a_companion_that_is_an_npy_is_refused(tmp_path, lecture_mlp):
    path = _saved(tmp_path, lecture_mlp)
    with open(tmp_path / "m.npz", "wb") as f:
        np.save(f, np.zeros(3))
    error = _refused(path, "not an .npz archive")
    assert error.file.endswith("m.npz")


def test_a_member_that_is_not_an_npy_is_refused(tmp_path, lecture_mlp):
    path = _saved(tmp_path, lecture_mlp)
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as z:
        z.writestr("W1", b"hello")
    _refused(path, "member 'W1' is not an .npy array")
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as z:
        z.writestr("W1.npy", b"hello, not an array")
    _refused(path, "array 'W1' has no readable .npy header")


def test_a_header_declaring_a_trillion_numbers_is_refused_from_the_header(tmp_path, lecture_mlp):
    path = _saved(tmp_path, lecture_mlp)
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as z:
        z.writestr("W1.npy", _npy_bytes("(1000000, 1000000)"))
    tracemalloc.start()
    _refused(path, "array 'W1' has shape (1000000, 1000000), the graph needs (64, 100)")
    with pytest.raises(GraphFileError, match="declares .* but the member holds only"):
        load_weights(tmp_path / "m.npz")            # without a graph: the member's size refuses it
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2**20


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, lecture_mlp, monkeypatch):
    monkeypatch.setattr(weights_file, "MAX_WEIGHT_BYTES", 2**20)
    path = _saved(tmp_path, lecture_mlp)
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((64, 100 * 40)))      # 2 MiB of zeros that deflate to a few kB
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("W1.npy", buffer.getvalue())
    assert (tmp_path / "bomb.npz").stat().st_size < 20_000
    tracemalloc.start()
    with pytest.raises(GraphFileError, match="would inflate to 2 MiB; weights files hold at most 1 MiB"):
        load_weights(tmp_path / "bomb.npz")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20, "nothing was inflated before the refusal"


def test_good_weights_still_load_exactly(tmp_path, lecture_mlp):
    from core.graph import init_params
    weights = init_params(lecture_mlp, seed=3)
    path = tmp_path / "m.json"
    save_graph(path, lecture_mlp, weights)
    _, loaded = load_graph(path)
    for key, value in weights.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    fortran = tmp_path / "f.npz"
    np.savez(fortran, W1=np.asfortranarray(np.arange(6400.0).reshape(64, 100)))
    np.testing.assert_array_equal(load_weights(fortran, lecture_mlp)["W1"], np.arange(6400.0).reshape(64, 100))


def _nested(depth: int) -> dict:
    inner: dict = {}
    for _ in range(depth):
        inner = {"a": inner}
    return inner


@pytest.mark.parametrize("where", ["ui", "meta", "training"])
def test_deep_nesting_is_refused_at_load(tmp_path, lecture_mlp, where):
    document = json.loads(json.dumps({"format": "loom-graph", "version": 1, **lecture_mlp.to_dict()}))
    if where == "ui":
        document["nodes"][0]["ui"] = _nested(600)
    else:
        document[where] = _nested(600)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(document))
    _refused(path, "nested more than 32 levels deep")
    with pytest.raises(GraphFileError, match="nested more than"):
        graph_from_text(json.dumps(document), source="clipboard")


def _with_constant(lecture_mlp, value, dtype="float32") -> str:
    document = {"format": "loom-graph", "version": 1, **lecture_mlp.to_dict()}
    document["nodes"].append({"id": "k", "op": "Constant", "attrs": {"value": value, "dtype": dtype}})
    return json.dumps(document)


@pytest.mark.parametrize("value, fragment", [
    (10 ** 400, "within float64 range"),
    (["1e0"], "no strings"),
    ([True, 1.0], "no strings, true/false"),
    ([[1.0, 2.0], [3.0]], "rectangular"),
])
def test_constants_that_are_not_numbers_are_refused(tmp_path, lecture_mlp, value, fragment):
    path = tmp_path / "c.json"
    path.write_text(_with_constant(lecture_mlp, value))
    error = _refused(path, fragment)
    assert "$.nodes[" in str(error) and "'k'" in str(error)


def test_int64_constants_beyond_range_are_diagnostics_and_never_compile(lecture_mlp):
    graph = graph_from_text(_with_constant(lecture_mlp, [9223372036854775808], "int64"))
    problems = [d for d in graph.validate() if d.node == "k"]
    assert problems and "beyond int64's range" in problems[0].message
    with pytest.raises(GraphError, match="beyond int64"):
        compile(graph, [], ["k"])
    fits = graph_from_text(_with_constant(lecture_mlp, [9223372036854775807, -9223372036854775808], "int64"))
    assert not [d for d in fits.validate() if d.node == "k"]
    assert compile(fits, [], ["k"])()[0].tolist() == [9223372036854775807, -9223372036854775808]
    huge = graph_from_text(_with_constant(lecture_mlp, [1e300], "float32"))
    assert any("beyond float32" in d.message for d in huge.validate() if d.node == "k")


def _internal(op: str, attrs: dict, inputs: list[tuple[str, list]]) -> Graph:
    graph = Graph()
    node = graph.add_node(op, attrs, node_id="op")
    ports = graph.spec(node).input_names(graph.attrs(node))
    for i, (port, (dtype, shape)) in enumerate(zip(ports, inputs)):
        graph.add_node("Input", {"shape": shape, "dtype": dtype}, node_id=f"i{i}")
        graph.connect(f"i{i}", "y", node, port, typed=False)
    return graph


@pytest.mark.parametrize("op, attrs, inputs, fragment", [
    ("SumLike", {}, [("float32", ["N", 3]), ("int64", ["N"])], "do not broadcast"),
    ("ReshapeLike", {}, [("float32", ["N", 3]), ("float32", ["N", 4])], "cannot reshape"),
    ("OneHot", {}, [("float32", ["N", 3]), ("float32", [])], "OneHot needs int64 labels"),
    ("Fused", {"n": 1, "expr": "max(x1)"}, [("float32", ["N", 3])], "max() takes 2"),
    ("Fused", {"n": 1, "expr": "x1 + x2"}, [("float32", ["N", 3])], "reads x2 but the kernel has 1"),
    ("Fused", {"n": 1, "expr": "x1", "dtype": "int64"}, [("float32", ["N", 3])], "cannot give int64"),
])
def test_internal_ops_from_a_file_are_validated_like_any_op(op, attrs, inputs, fragment):
    graph = _internal(op, attrs, inputs)
    messages = [d.message for d in graph.validate() if d.node == "op"]
    assert any(fragment in m for m in messages), messages
    with pytest.raises(GraphError):
        compile(graph, [f"i{i}" for i in range(len(inputs))], ["op"])


def test_a_well_formed_internal_op_still_runs():
    graph = _internal("SumLike", {}, [("float32", ["N", 3]), ("float32", [3])])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = compile(graph, ["i0", "i1"], ["op"])(x, np.zeros(3, np.float32))[0]
    np.testing.assert_allclose(out, x.sum(axis=0))


@pytest.mark.parametrize("expr", ["exp(x1, out=x1)", "x1[0]", "x1.real", "(lambda: 1)()", "'a'"])
def test_fused_expressions_outside_the_grammar_are_refused_at_load(expr):
    document = {"format": "loom-graph", "version": 1,
                "nodes": [{"id": "f", "op": "Fused", "attrs": {"n": 1, "expr": expr}}]}
    with pytest.raises(GraphFileError, match="attribute 'expr' must be one of"):
        graph_from_text(json.dumps(document))


def test_check_exits_2_for_an_unreadable_companion(tmp_path, lecture_mlp):
    path = _saved(tmp_path, lecture_mlp)
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as z:
        z.writestr("W1", b"hello")
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(path)], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "m.npz" in result.stdout and "is not an .npy array" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_graph_built_in_memory_passes_the_door_again():
    """Exports and the training process re-read the document of an in-memory graph: tuples and NumPy
    numbers in ui.pos (as code and layouts make them) are positions too."""
    from core.graph import graph_document, graph_from_dict

    graph = Graph()
    graph.add_node("Tanh", node_id="a", ui={"pos": (np.float32(3.0), 4)})
    graph.add_node("Tanh", node_id="b", ui={"pos": [np.float64(-2.5e6), 1e8]})
    again = graph_from_dict(graph_document(graph))
    assert again.ui("a")["pos"] == (3.0, 4) and again.ui("b")["pos"] == [-2.5e6, 1e8]
