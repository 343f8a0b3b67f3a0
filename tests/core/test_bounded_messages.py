"""Bounded messages and sizes: what an error quotes from a file is cut to a readable length, and a
data set cannot ask for more samples than fit in memory."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.graph import GraphFileError, graph_from_text
from core.graph.errors import quoted
from core.training.config import ConfigError, read_config
from core.training.datasets import DatasetError, load_dataset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def loom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_quoted_cuts_long_values_and_says_how_long_they_were():
    assert quoted("W1") == "'W1'"
    long = quoted("a" * 10_000_000)
    assert len(long) < 120 and "10,000,000 characters" in long
    assert quoted(10 ** 400) == "an integer of about 400 digits"
    assert len(quoted([[1.0] * 1000] * 1000)) <= 83
    assert quoted("x" * 500, 20, raw=True) == "x" * 20 + "... (500 characters)"


@pytest.mark.parametrize("field", ["id", "op"])
def test_a_50_mb_name_is_not_echoed_whole(field):
    node = {"id": "n", "op": "Tanh", field: "A" * 50_000_000}
    with pytest.raises(GraphFileError) as info:
        graph_from_text(json.dumps({"format": "loom-graph", "version": 1, "nodes": [node]}))
    assert len(str(info.value)) < 400 and "50,000,000 characters" in str(info.value)


def test_check_prints_a_bounded_line_for_a_huge_node_id(tmp_path):
    path = tmp_path / "huge.json"
    node = {"id": "B" * 20_000_000, "op": "Nope"}
    path.write_text(json.dumps({"format": "loom-graph", "version": 1, "nodes": [node]}))
    result = loom("check", str(path))
    assert result.returncode == 2
    assert len(result.stdout) < 1000 and "20,000,000 characters" in result.stdout


def test_training_configuration_errors_quote_boundedly():
    from core.graph import load_graph

    graph, _ = load_graph(EXAMPLES / "xor.json")
    config = dict(graph.training, optimizer={"name": "z" * 1_000_000})
    with pytest.raises(ConfigError) as info:
        read_config(graph, config)
    assert len(str(info.value)) < 400
    with pytest.raises(ConfigError, match="training.optimizer.name: must be one of"):
        read_config(graph, dict(graph.training, optimizer={"name": ["adam"]}))


@pytest.mark.parametrize("samples", [10 ** 12, 10 ** 8, 1_000_001])
def test_generated_data_sets_are_bounded(samples):
    with pytest.raises(DatasetError, match=r"option 'samples': .*must lie in \[2, 1000000\]"):
        load_dataset({"name": "spirals", "samples": samples})


def test_train_refuses_a_trillion_samples_with_a_message(tmp_path):
    document = json.loads((EXAMPLES / "xor.json").read_text())
    document["training"]["dataset"]["samples"] = 10 ** 12
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document))
    result = loom("train", str(path), "--steps", "2", "--quiet")
    assert result.returncode == 1, result.stderr
    assert "must lie in [2, 1000000]" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("field", ["src", "dst", "src_port", "dst_port"])
def test_an_edge_naming_a_huge_node_or_port_is_quoted_boundedly(field):
    nodes = [{"id": "a", "op": "Tanh"}, {"id": "b", "op": "Tanh"}]
    edge = {"src": "a", "src_port": "y", "dst": "b", "dst_port": "x", field: "C" * 100_000}
    with pytest.raises(GraphFileError) as info:
        graph_from_text(json.dumps({"format": "loom-graph", "version": 1, "nodes": nodes, "edges": [edge]}))
    assert len(str(info.value)) < 400 and "100,000 characters" in str(info.value)
