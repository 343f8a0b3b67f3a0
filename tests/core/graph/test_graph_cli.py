"""`main.py check` and `main.py ops`, run as a user would, in a subprocess."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.graph import save_graph
from core.graph.opdocs import render_ops_markdown

ROOT = Path(__file__).resolve().parents[3]


def loom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_check_prints_every_shape_and_exits_0_on_the_lecture_mlp():
    result = loom("check", "resources/examples/seed_mlp.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "p_y_given_x  Softmax" in result.stdout and "float32 (N, 10)" in result.stdout
    assert "cost" in result.stdout and "float32 ()" in result.stdout
    assert result.stdout.strip().endswith("valid")


def test_check_exits_1_on_an_invalid_graph_and_names_the_node(tmp_path, lecture_mlp):
    lecture_mlp.set_attr("W2", "shape", [7, 100])
    save_graph(tmp_path / "bad.json", lecture_mlp)
    result = loom("check", str(tmp_path / "bad.json"))
    assert result.returncode == 1
    assert "error: W2x.b: cannot multiply (N, 100) by (7, 100)" in result.stdout


def test_check_exits_2_on_an_unreadable_file(tmp_path):
    (tmp_path / "junk.json").write_text("{ not json")
    result = loom("check", str(tmp_path / "junk.json"))
    assert result.returncode == 2
    assert "junk.json" in result.stdout and "not valid JSON" in result.stdout
    assert "Traceback" not in result.stderr


def test_ops_lists_the_registry_by_category():
    result = loom("ops")
    assert result.returncode == 0
    assert "Sigmoid" in result.stdout and "Elementwise" in result.stdout and "OneHot" not in result.stdout


def test_docs_ops_md_is_generated_from_the_registry():
    page = (ROOT / "docs" / "ops.md").read_text()
    assert page == render_ops_markdown(), "docs/ops.md is stale: run python main.py ops --markdown > docs/ops.md"
