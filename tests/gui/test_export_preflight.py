"""File ▸ Export refuses a training configuration that `train` refuses, with train's message, writing nothing."""
from __future__ import annotations

import json

from gui import export_actions
from gui.theme import EXAMPLES


def test_the_editor_export_refuses_what_train_refuses(window, monkeypatch, tmp_path):
    document = json.loads((EXAMPLES / "xor.json").read_text())
    document["training"]["optimizer"] = {"name": "adamw"}
    (tmp_path / "g.json").write_text(json.dumps(document))
    errors: list[str] = []
    monkeypatch.setattr(export_actions, "show_error", lambda parent, title, message: errors.append(message))
    monkeypatch.setattr(export_actions, "ask_save_file", lambda *args: str(tmp_path / "model.py"))
    assert window.files.open(tmp_path / "g.json")
    window.export_actions["torch"].trigger()     # File > Export > PyTorch Module...
    assert len(errors) == 1 and "training.optimizer.name: must be one of" in errors[0] and "adamw" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]
