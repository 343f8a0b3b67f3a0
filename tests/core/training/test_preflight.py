"""One validation for train and export: `export --to numpy|torch` refuses what `train` refuses, with
the same message, and writes nothing; a title with % survives the exported scripts' --help."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from main import main

ROOT = Path(__file__).resolve().parents[3]
XOR = ROOT / "resources" / "examples" / "xor.json"


def _xor_with(tmp_path: Path, **training) -> Path:
    document = json.loads(XOR.read_text())
    document["training"].update(training)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(document))
    return path


def _message(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, text
    return lines[0]


def _three_feature_data(tmp_path: Path) -> dict:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 3)).astype(np.float32), y=np.arange(40) % 2)
    return {"name": "npz", "path": "d.npz", "features": "x", "label": "y"}


CASES = {
    "features naming a missing node": (dict(features="pixels"), "training.features: the graph has no node 'pixels'"),
    "unknown optimizer": (dict(optimizer={"name": "adamw"}), "training.optimizer.name: must be one of"),
    "more classes than logits": (dict(dataset={"name": "blobs", "classes": 5}), "has 5 classes but 'cost' scores only 2"),
    "features that do not fit the Input": (None, "gives features of shape (3,) but Input 'x' expects (2,)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_export_refuses_what_train_refuses_with_the_same_message(case, tmp_path, capsys):
    training, fragment = CASES[case]
    path = _xor_with(tmp_path, **(training if training is not None else {"dataset": _three_feature_data(tmp_path)}))
    assert main(["train", str(path), "--steps", "1", "--quiet"]) == 1
    refused = _message(capsys.readouterr().err)
    assert fragment in refused
    for target in ("numpy", "torch"):
        out = tmp_path / f"out_{target}.py"
        assert main(["export", str(path), "--to", target, "-o", str(out)]) == 1
        assert _message(capsys.readouterr().out) == refused
        assert not out.exists()
    assert main(["export", str(path), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) in (0, 1)


@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_a_title_with_percent_signs_survives_help(target, tmp_path, capsys):
    if target == "torch":
        pytest.importorskip("torch")
    document = json.loads(XOR.read_text())
    document["meta"]["title"] = "%(prog)s uses %(x)s at 100%"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(document))
    out = tmp_path / "script.py"
    assert main(["export", str(path), "--to", target, "-o", str(out)]) == 0
    result = subprocess.run([sys.executable, str(out), "--help"], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "%(prog)s uses %(x)s at 100%" in result.stdout

