"""The gradient graph the canvas shows: exactly what differentiate() adds, grouped by origin."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.compiler.autodiff import differentiate
from core.compiler.gradient_view import compare, default_wrt, finite_differences, gradient_view, scalar_costs
from core.graph import GraphError, evaluate, load_graph
from core.graph.by_hand import hand_feeds

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def test_the_view_holds_exactly_the_nodes_and_wires_differentiate_adds(lecture_mlp):
    view = gradient_view(lecture_mlp, "cost")
    expanded, grads = differentiate(lecture_mlp, "cost")
    added = [n for n in expanded.nodes if n not in lecture_mlp]
    assert [n.node_id for n in view.nodes] == added
    assert [n.op for n in view.nodes] == [expanded.op_name(n) for n in added]
    assert set(view.edges) == {e for e in expanded.edges() if e.dst in added}
    assert view.grads == {p: node for p, (node, _) in grads.grads.items()}
    assert view.growth_order()[0] == "cost" and set(view.wrt) == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_f_xy_differentiates_with_respect_to_its_inputs_and_matches_the_closed_form():
    graph = load_graph(EXAMPLES / "f_xy.json")[0]
    assert scalar_costs(graph)[0] == "f" and default_wrt(graph, "f") == ["x", "y"]
    view = gradient_view(graph, "f")
    fan_out = [n for n in view.nodes if n.origin == "x"]
    assert [n.op for n in fan_out] == ["Add"] and fan_out[0].wrt == "x"     # x feeds two nodes
    for x, y in ((1.0, 1.0), (10.0, -3.0)):
        graph.set_ui("x", "value", str(x))
        graph.set_ui("y", "value", str(y))
        expanded, grads = differentiate(graph, "f", ["x", "y"])
        values = evaluate(expanded, hand_feeds(graph), {})
        checks = finite_differences(graph, "f", ["x", "y"], {})
        assert float(values[grads.grads["x"]]) == pytest.approx(3 + y)
        assert float(values[grads.grads["y"]]) == pytest.approx(x + 3)
        assert compare(values[grads.grads["x"]], checks["x"])[0]
        assert checks["y"][1][0] == pytest.approx(x + 3, abs=1e-6)


def test_a_wrong_gradient_is_caught_by_the_comparison():
    graph = load_graph(EXAMPLES / "f_xy.json")[0]
    checks = finite_differences(graph, "f", ["x"], {})
    ok, error = compare(np.array(4.5), checks["x"])
    assert not ok and error == pytest.approx(0.5 / 4, rel=1e-6)


def test_large_arrays_are_checked_on_a_sample_of_entries(lecture_mlp):
    lecture_mlp.set_ui("x", "value", "random")
    lecture_mlp.set_ui("y", "value", "[3]")
    from core.graph import init_params
    weights = init_params(lecture_mlp, 0)
    checks = finite_differences(lecture_mlp, "cost", ["W1"], weights, max_entries=7)
    picks, estimates = checks["W1"]
    assert len(picks) == 7 and picks[0] == (0, 0) and picks[-1] == (63, 99)


def test_a_stop_request_ends_the_estimates_early_with_what_is_done():
    graph = load_graph(EXAMPLES / "f_xy.json")[0]
    asked = []
    checks = finite_differences(graph, "f", ["x", "y"], {}, stop=lambda: asked.append(1) or len(asked) > 1)
    assert list(checks) == ["x"] and checks["x"][1][0] == pytest.approx(4, abs=1e-6)   # df/dx = 3 + y at (1, 1)


def test_layers_must_be_expanded_first():
    graph = load_graph(EXAMPLES / "xor.json")[0]
    with pytest.raises(GraphError, match="Expand Layer") as info:
        gradient_view(graph, "cost")
    assert info.value.node == "hidden"
