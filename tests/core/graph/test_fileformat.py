"""The file format: round trips, atomic saves, and loaders that only ever raise GraphFileError."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.graph import GraphFileError, evaluate, init_params, load_graph, load_weights, save_graph
from core.graph.fileformat import graph_from_text

settings.register_profile("loom", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("loom")


def test_round_trip_keeps_graph_and_outputs(tmp_path, lecture_mlp):
    weights = init_params(lecture_mlp, seed=5)
    path = tmp_path / "mlp.json"
    save_graph(path, lecture_mlp, weights)
    graph, loaded = load_graph(path)
    assert graph.to_dict() == lecture_mlp.to_dict()
    assert set(loaded) == set(weights)
    feeds = {"x": np.random.default_rng(0).uniform(0, 1, (7, 64)), "y": np.arange(7)}
    before = evaluate(lecture_mlp, feeds, weights, ["p_y_given_x", "cost"])
    after = evaluate(graph, feeds, loaded, ["p_y_given_x", "cost"])
    np.testing.assert_array_equal(before["p_y_given_x"], after["p_y_given_x"])
    np.testing.assert_array_equal(before["cost"], after["cost"])


def test_saving_is_atomic_when_writing_fails(tmp_path, lecture_mlp, monkeypatch):
    path = tmp_path / "mlp.json"
    save_graph(path, lecture_mlp)
    original = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    lecture_mlp.meta["title"] = "changed"
    with pytest.raises(OSError):
        save_graph(path, lecture_mlp)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.json"], "no temporary file left behind"


@pytest.mark.parametrize("text, fragment", [
    ("", "not valid JSON"),
    ('{"format": "loom-graph", "version": 1, "nodes": [', "not valid JSON"),
    ("[1, 2]", "$ should be an object"),
    ('{"format": "other", "version": 1}', "not a Loom graph"),
    ('{"format": "loom-graph", "version": 99, "nodes": []}', "version 99"),
    ('{"format": "loom-graph", "version": "1", "nodes": []}', "positive integer"),
    ('{"format": "loom-graph", "version": 1}', "$.nodes should be a list"),
    ('{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Nope"}]}', "unknown op 'Nope'"),
    ('{"format": "loom-graph", "version": 1, "nodes": [{"id": "__import__(\'os\')", "op": "Tanh"}]}', "must be a letter"),
    ('{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Input", "attrs": {"shape": [NaN]}}]}', "NaN is not allowed"),
    ('{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Tanh"}], '
     '"edges": [{"src": "a", "src_port": "y", "dst": "a", "dst_port": "x"}]}', "$.edges[0]"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
])
def test_bad_files_raise_one_clear_error(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(GraphFileError) as info:
        load_graph(path)
    assert fragment in str(info.value)
    assert "bad.json" in str(info.value)


def test_missing_file_and_bad_weights_are_format_errors(tmp_path, lecture_mlp):
    with pytest.raises(GraphFileError, match="cannot read"):
        load_graph(tmp_path / "absent.json")
    path = tmp_path / "m.json"
    save_graph(path, lecture_mlp)
    np.savez(tmp_path / "m.npz", W1=np.zeros((3, 3)))
    with pytest.raises(GraphFileError, match="'W1' has shape"):
        load_graph(path)
    np.savez(tmp_path / "m.npz", W9=np.zeros(3))
    with pytest.raises(GraphFileError, match="matches no parameter"):
        load_graph(path)
    (tmp_path / "m.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(GraphFileError, match="not a readable weights file"):
        load_graph(path)


def test_weights_never_unpickle(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, evil=np.array([object()], dtype=object))
    with pytest.raises(GraphFileError):
        load_weights(path)


def test_a_graph_that_became_invalid_still_loads_with_diagnostics(tmp_path, lecture_mlp):
    lecture_mlp.set_attr("W2", "shape", [7, 100])
    path = tmp_path / "broken.json"
    save_graph(path, lecture_mlp)
    graph, _ = load_graph(path)
    assert any(d.node == "W2x" and d.severity == "error" for d in graph.validate())


@given(data=st.data())
@settings(max_examples=150)
def test_fuzzed_files_only_ever_raise_graph_file_error(data, lecture_mlp):
    text = json.dumps({"format": "loom-graph", "version": 1, **lecture_mlp.to_dict()})
    raw = bytearray(text.encode())
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if action == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del raw[pos:]
        elif action == "insert":
            raw[pos:pos] = data.draw(st.sampled_from([b"{", b"]", b'"', b",", b"null", b"-1", b"1e999", b'"N"', b"[]"]))
        elif raw:
            del raw[pos:pos + data.draw(st.integers(1, 40))]
    try:
        graph = graph_from_text(bytes(raw))
    except GraphFileError:
        return
    graph.validate()


@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
                    max_leaves=30))
@settings(max_examples=200)
def test_arbitrary_json_documents_only_ever_raise_graph_file_error(document):
    wrapped = {"format": "loom-graph", "version": 1, "nodes": [{"id": "n", "op": "Input", "attrs": {"shape": document}}],
               "edges": document}
    for candidate in (document, wrapped):
        try:
            graph_from_text(json.dumps(candidate)).validate()
        except GraphFileError:
            pass


def test_saved_files_get_the_usual_mode_and_keep_their_own(tmp_path):
    """The temporary file's private 0600 must not leak onto the saved file (others could not read it)."""
    import os
    import stat

    from core.graph import Graph, save_graph

    old = os.umask(0o022)
    try:
        path = tmp_path / "model.json"
        save_graph(path, Graph())
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o600)                  # a file the user made private stays private
        save_graph(path, Graph())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
