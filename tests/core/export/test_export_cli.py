"""The `export` and `import` commands: files written, exit codes 0 / 1 / 2 and one-line messages."""
from __future__ import annotations

import numpy as np
import pytest

from core.graph import evaluate, init_params, load_graph, save_graph
from export_cases import EXAMPLES, X4, make_graph, random_feeds
from main import main

SEED_MLP = next(p for p in EXAMPLES if p.stem == "seed_mlp")


@pytest.fixture
def trained_mlp(tmp_path):
    """The lecture MLP saved with weights next to it, as after training."""
    graph, _ = load_graph(SEED_MLP)
    weights = init_params(graph, 7)
    save_graph(tmp_path / "mlp.json", graph, weights)
    return tmp_path / "mlp.json", graph, weights


def test_onnx_round_trip_through_the_commands(trained_mlp, tmp_path, capsys):
    pytest.importorskip("onnx")
    path, graph, weights = trained_mlp
    assert main(["export", str(path), "--to", "onnx", "-o", str(tmp_path / "mlp.onnx")]) == 0
    assert main(["import", str(tmp_path / "mlp.onnx"), "-o", str(tmp_path / "back.json")]) == 0
    assert "wrote" in capsys.readouterr().out
    back, back_weights = load_graph(tmp_path / "back.json")
    feeds = random_feeds(graph, 5)
    np.testing.assert_allclose(evaluate(back, {"x": feeds["x"]}, back_weights, ["p_y_given_x"])["p_y_given_x"],
                               evaluate(graph, feeds, weights, ["p_y_given_x"])["p_y_given_x"], rtol=1e-6)


def test_torch_export_with_other_weights(trained_mlp, tmp_path, capsys):
    path, graph, weights = trained_mlp
    other = {k: v + 1 for k, v in weights.items()}
    np.savez(tmp_path / "other.npz", **other)
    code = main(["export", str(path), "--to", "torch", "-o", str(tmp_path / "mlp.py"),
                 "--weights", str(tmp_path / "other.npz")])
    assert code == 0, capsys.readouterr().out
    with np.load(tmp_path / "mlp.npz") as written:
        np.testing.assert_array_equal(written["W2"], other["W2"])
    compile((tmp_path / "mlp.py").read_text(), "mlp.py", "exec")


def test_export_error_exits_1(tmp_path, capsys):
    graph = make_graph([X4, ("count", "Size", {})], [("x", "count", "x")])
    save_graph(tmp_path / "g.json", graph)
    assert main(["export", str(tmp_path / "g.json"), "--to", "torch", "-o", str(tmp_path / "g.py")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error:") and "count (Size)" in out and "Traceback" not in out
    assert not (tmp_path / "g.py").exists()


def test_unreadable_files_exit_2(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["export", str(tmp_path / "bad.json"), "--to", "torch", "-o", str(tmp_path / "x.py")]) == 2
    (tmp_path / "bad.onnx").write_bytes(b"\x08garbage")
    pytest.importorskip("onnx")
    assert main(["import", str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "g.json")]) == 2
    assert not (tmp_path / "g.json").exists()
    assert capsys.readouterr().out.count("error:") == 2


def test_import_of_unknown_ops_exits_1(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("Erf", ["x"], ["y"], name="mystery")
    value = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 2])  # noqa: E731
    model = helper.make_model(helper.make_graph([node], "g", [value("x")], [value("y")]),
                              opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(tmp_path / "m.onnx"))
    assert main(["import", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "g.json")]) == 1
    assert "mystery (Erf)" in capsys.readouterr().out


def test_numpy_export_command(tmp_path, capsys):
    source = next(p for p in EXAMPLES if p.stem == "logistic_regression")
    code = main(["export", str(source), "--to", "numpy", "-o", str(tmp_path / "logreg.py")])
    assert code == 0, capsys.readouterr().out
    assert {"logreg.py", "logreg.npz", "logreg_data.npz"} <= {p.name for p in tmp_path.iterdir()}
    compile((tmp_path / "logreg.py").read_text(), "logreg.py", "exec")
