"""The trained window tagger exported to PyTorch and ONNX (Gather for its tables) tags real German text as
Loom does, its span F1 included, and ONNX import brings the tagger back."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from core.export.onnx_export import export_onnx  # noqa: E402
from core.export.onnx_import import import_onnx  # noqa: E402
from core.export.torch_export import export_torch  # noqa: E402
from core.graph import evaluate, load_graph  # noqa: E402
from core.training import Run  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "examples" / "ner_window.json"


@pytest.fixture(scope="module")
def trained():
    graph = load_graph(EXAMPLE)[0]
    config = dict(graph.training)
    config["dataset"] = {**config["dataset"], "max_sentences": 400}
    run = Run(graph, {**config, "epochs": 3}, base_dir=EXAMPLE.parent)
    last = list(run.start())[-1]
    words, casing = run.data.x_val
    return graph, run.weights(), {"word_ids": words[:600], "casing_ids": casing[:600]}, run.data.y_val[:600], last


def test_torch_export_tags_and_scores_like_loom(trained, tmp_path):
    graph, weights, x, y, _ = trained
    path = tmp_path / "tagger.py"
    export_torch(graph, weights, path, base_dir=EXAMPLE.parent)
    spec = importlib.util.spec_from_file_location("exported_tagger", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Model()
    model.load_loom_weights(str(path.with_suffix(".npz")))
    model.eval()
    want = evaluate(graph, {**x, "y": y}, weights, ["probs", "f1", "cost"])
    words, casing = torch.from_numpy(x["word_ids"]), torch.from_numpy(x["casing_ids"])
    with torch.no_grad():
        probs = model.forward(words, casing)
        loss, metrics = model.losses(words, casing, torch.from_numpy(y))
    np.testing.assert_allclose(probs.numpy(), want["probs"], rtol=1e-4, atol=1e-6)
    assert want["f1"] > 0 and metrics["f1"].item() == pytest.approx(float(want["f1"]), rel=1e-6)
    assert loss.item() == pytest.approx(float(want["cost"]), rel=1e-4)


def test_onnx_export_gathers_rows_and_comes_back_on_import(trained, tmp_path):
    graph, weights, x, y, _ = trained
    path = tmp_path / "tagger.onnx"
    export_onnx(graph, weights, path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Gather") == 2 and "Tanh" in ops
    want = evaluate(graph, x, weights, ["probs"])["probs"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["word_ids", "casing_ids"]
    np.testing.assert_allclose(session.run(None, x)[0], want, rtol=1e-4, atol=1e-6)
    imported, imported_weights = import_onnx(path)
    assert imported.validate() == []
    back = evaluate(imported, x, imported_weights, ["probs"])["probs"]
    np.testing.assert_allclose(back, want, rtol=1e-5, atol=1e-7)
    assert np.array_equal(back.argmax(axis=1), want.argmax(axis=1))
