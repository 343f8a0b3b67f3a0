"""File ▸ Export and Import ONNX: the right files, the document's weights, clear errors that write nothing."""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core.graph import evaluate, init_params
from gui import export_actions
from gui.document import Document

from gui_helpers import two_node_graph


@pytest.fixture
def dialogs(monkeypatch):
    """Replace the file dialogs and the error box; records what was asked and shown."""
    record = {"save": [], "open": [], "errors": [], "answer": None}

    def ask_save_file(parent, title, suggested, file_filter):
        record["save"].append((title, suggested, file_filter))
        return record["answer"] or ""

    def ask_open_file(parent, title, folder, file_filter):
        record["open"].append((title, folder, file_filter))
        return record["answer"] or ""

    monkeypatch.setattr(export_actions, "ask_save_file", ask_save_file)
    monkeypatch.setattr(export_actions, "ask_open_file", ask_open_file)
    monkeypatch.setattr(export_actions, "show_error", lambda parent, title, message:
                        record["errors"].append((title, message)))
    QSettings().remove(export_actions.LAST_FOLDER_KEY)
    return record


def load_module(path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def digits_batch(n: int = 16) -> np.ndarray:
    return np.random.default_rng(5).uniform(0, 16, (n, 64)).astype(np.float32)


def test_menu_has_the_three_targets_and_import(window):
    titles = [a.text().replace("&", "") for a in window.export_menu.actions()]
    assert titles == ["Python/NumPy Script…", "PyTorch Module…", "ONNX Model…"]
    file_menu = window.menuBar().actions()[0].menu()
    assert window.act_import_onnx in file_menu.actions()
    assert window.export_menu.menuAction() in file_menu.actions()


def test_numpy_export_through_the_menu_computes_what_the_graph_computes(window, dialogs, tmp_path):
    weights = init_params(window.graph, seed=3)
    window.document.weights = dict(weights)
    dialogs["answer"] = str(tmp_path / "mlp")           # the suffix is added

    window.export_actions["numpy"].trigger()

    script = tmp_path / "mlp.py"
    assert dialogs["errors"] == [] and script.exists() and (tmp_path / "mlp.npz").exists()
    assert dialogs["save"][0][1].endswith("seed_mlp_numpy.py")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".loom-export-")]
    module = load_module(script)
    x = digits_batch()
    state = dict(np.load(tmp_path / "mlp.npz"))
    got = module.forward(state, x=x)["p_y_given_x"]
    want = evaluate(window.graph, {"x": x}, weights, ["p_y_given_x"])["p_y_given_x"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_last_folder_is_remembered(window, dialogs, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    dialogs["answer"] = str(folder / "a.py")
    window.exports.export("numpy")
    assert QSettings().value(export_actions.LAST_FOLDER_KEY) == str(folder)
    before = sorted(folder.iterdir())
    dialogs["answer"] = ""                               # cancelled: nothing more is written
    assert window.exports.export("torch") is None
    assert dialogs["save"][1][1] == str(folder / "seed_mlp_torch.py")
    assert sorted(folder.iterdir()) == before


def test_onnx_export_through_the_menu(window, dialogs, tmp_path):
    onnx = pytest.importorskip("onnx")
    weights = init_params(window.graph, seed=4)
    window.document.weights = dict(weights)
    dialogs["answer"] = str(tmp_path / "mlp.onnx")
    window.export_actions["onnx"].trigger()
    assert dialogs["errors"] == []
    model = onnx.load(str(tmp_path / "mlp.onnx"))
    onnx.checker.check_model(model)
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert any(v.shape == weights["W1"].shape and np.allclose(v, weights["W1"]) for v in stored.values())


def test_an_export_error_shows_the_message_and_writes_nothing(window, dialogs, tmp_path):
    graph = two_node_graph()                             # the Tanh's input is not wired
    window.set_document(Document(graph))
    dialogs["answer"] = str(tmp_path / "broken.py")
    assert window.exports.export("numpy") is None
    assert len(dialogs["errors"]) == 1
    title, message = dialogs["errors"][0]
    assert "'t'" in message and "Traceback" not in message
    assert list(tmp_path.iterdir()) == []


def test_an_export_never_overwrites_the_graphs_own_weights(window, dialogs, tmp_path):
    graph_file = tmp_path / "net.json"
    window.document.weights = init_params(window.graph, seed=0)
    window.files.save_as(graph_file)
    before = (tmp_path / "net.npz").read_bytes()
    dialogs["answer"] = str(tmp_path / "net.py")         # its state file would be net.npz
    assert window.exports.export("numpy") is None
    assert "net.npz" in dialogs["errors"][0][1]
    assert (tmp_path / "net.npz").read_bytes() == before and not (tmp_path / "net.py").exists()


def test_an_onnx_model_may_sit_beside_its_graph(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    window.document.weights = init_params(window.graph, seed=0)
    window.files.save_as(tmp_path / "net.json")
    before = (tmp_path / "net.npz").read_bytes()
    dialogs["answer"] = str(tmp_path / "net.onnx")       # writes no .npz, so the same name is fine
    assert window.exports.export("onnx") == tmp_path / "net.onnx"
    assert dialogs["errors"] == [] and (tmp_path / "net.onnx").stat().st_size > 0
    assert (tmp_path / "net.npz").read_bytes() == before


def test_import_onnx_opens_an_untitled_graph_that_computes_the_same(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    from core.export import export_graph

    weights = init_params(window.graph, seed=7)
    original = window.graph.copy()
    model = export_graph(original, weights, "onnx", tmp_path / "mlp.onnx")
    window.graph.set_ui("x", "note", "edited")           # unsaved: the prompt comes first
    window.undo_stack.resetClean()
    dialogs["answer"] = str(model)

    window.act_import_onnx.trigger()

    assert window.prompts and dialogs["errors"] == []
    assert window.document.path is None and window.graph is not original
    assert set(window.weights) == set(weights)
    x = digits_batch()
    want = evaluate(original, {"x": x}, weights, ["p_y_given_x"])["p_y_given_x"]
    got = evaluate(window.graph, {"x": x}, window.weights, ["p_y_given_x"])["p_y_given_x"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for node in ("h1", "h2"):
        np.testing.assert_allclose(evaluate(window.graph, {"x": x}, window.weights, [node])[node],
                                   evaluate(original, {"x": x}, weights, [node])[node], rtol=1e-5, atol=1e-6)
    assert set(window.scene.nodes) == set(window.graph.nodes)


def test_importing_a_bad_file_shows_the_message_and_keeps_the_graph(window, dialogs, tmp_path):
    pytest.importorskip("onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a model")
    graph = window.graph
    dialogs["answer"] = str(bad)
    assert window.exports.import_onnx() is False
    assert window.graph is graph
    assert len(dialogs["errors"]) == 1 and "bad.onnx" in dialogs["errors"][0][1]
    assert "Traceback" not in dialogs["errors"][0][1]


def test_torch_export_through_the_menu_runs_with_no_argument(window, dialogs, tmp_path):
    """A new graph's PyTorch export from the menu: Loom's draw and the data set beside it; `python mlp.py` trains."""
    import subprocess

    pytest.importorskip("torch", reason="torch is not installed")
    window.graph.set_training({**window.graph.training, "epochs": 2})
    dialogs["answer"] = str(tmp_path / "mlp")
    window.export_actions["torch"].trigger()
    assert dialogs["errors"] == []
    drawn = init_params(window.graph, window.graph.training.get("seed", 0))
    with np.load(tmp_path / "mlp.npz") as written, np.load(tmp_path / "mlp_data.npz") as data:
        assert sorted(written.files) == sorted(drawn)
        for key in drawn:
            np.testing.assert_array_equal(written[key], drawn[key])
        assert {"x_train", "y_train", "x_val", "y_val"} == set(data.files)
    done = subprocess.run([sys.executable, "mlp.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("epoch") for line in done.stdout.splitlines()) == 2
    assert (tmp_path / "mlp_trained.npz").exists()
