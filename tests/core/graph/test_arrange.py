"""Graph ▸ Arrange's layout: a pure function of the graph that reads left to right without overlaps."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.graph import Graph, load_graph
from core.graph.arrange import arrange, node_size

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "resources" / "examples").glob("*.json"))


def _boxes(graph: Graph, pos: dict) -> dict:
    return {n: (x, y, x + node_size(graph, n)[0], y + node_size(graph, n)[1]) for n, (x, y) in pos.items()}


def _overlaps(boxes: dict) -> list:
    items = list(boxes.items())
    return [(a, b) for i, (a, p) in enumerate(items) for b, q in items[i + 1:]
            if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_arranged_without_overlap_and_forward(path):
    graph, _ = load_graph(path)
    pos = arrange(graph)
    assert set(pos) == set(graph.nodes)
    boxes = _boxes(graph, pos)
    assert _overlaps(boxes) == []
    for e in graph.edges():
        if "Parameter" not in (graph.op_name(e.src), graph.op_name(e.dst)):
            assert boxes[e.src][2] < boxes[e.dst][0], e


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_saved_in_the_arranged_layout(path):
    graph, _ = load_graph(path)
    assert {n: tuple(graph.ui(n)["pos"]) for n in graph.nodes} == arrange(graph)


def test_layout_ignores_stored_positions_and_places_parameters_above_their_node():
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 3]}, node_id="x", ui={"pos": [900, 900]})
    graph.add_node("Parameter", {"shape": [3, 2]}, node_id="W")
    graph.add_node("MatMul", node_id="xW", ui={"pos": [-500, 0]})
    graph.add_node("Tanh", node_id="h")
    graph.connect("x", "y", "xW", "a")
    graph.connect("W", "y", "xW", "b")
    graph.connect("xW", "y", "h", "x")
    pos = arrange(graph)
    moved = graph.copy()
    moved.set_ui("x", "pos", [0, 0])
    assert arrange(moved) == pos
    assert pos["x"][0] < pos["xW"][0] < pos["h"][0]
    assert pos["W"][1] + node_size(graph, "W")[1] < pos["xW"][1]            # above the node it feeds
    assert pos["x"][0] + node_size(graph, "x")[0] < pos["W"][0] < pos["xW"][0] + node_size(graph, "xW")[0]
    assert pos["x"][1] == pos["xW"][1] == pos["h"][1]                         # a chain is one straight row


def test_crossings_are_undone():
    """Two chains whose second column is inserted crosswise come out uncrossed."""
    graph = Graph()
    for name in ("a", "b"):
        graph.add_node("Input", {"shape": ["N", 2]}, node_id=name)
    graph.add_node("Tanh", node_id="tb")
    graph.add_node("Tanh", node_id="ta")
    graph.connect("a", "y", "ta", "x")
    graph.connect("b", "y", "tb", "x")
    pos = arrange(graph)
    assert (pos["a"][1] < pos["b"][1]) == (pos["ta"][1] < pos["tb"][1])
