"""Values by hand: typed text becomes arrays (never code), formulas put the numbers in."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.graph import GraphError, load_graph
from core.graph.by_hand import evaluate_by_hand, format_array, formula, parse_value, summarize

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


@pytest.mark.parametrize("text, shape, want", [
    ("1", (), 1.0), ("-3.5", (), -3.5), ("[0.1, 0.2]", (2,), [0.1, 0.2]),
    ("[[1, 2], [3, 4], [5, 6]]", (3, 2), [[1, 2], [3, 4], [5, 6]]), ("[[1, 2]]", ("N", 2), [[1, 2]])])
def test_typed_values_become_arrays_of_the_declared_type(text, shape, want):
    value = parse_value(text, shape, "float64", "x")
    assert value.dtype == np.float64 and np.array_equal(value, want)


def test_random_is_seeded_by_the_node_and_takes_the_batch_as_one():
    a = parse_value("random", ("N", 3), "float32", "x")
    assert a.shape == (1, 3) and a.dtype == np.float32
    assert np.array_equal(a, parse_value("Random", ("N", 3), "float32", "x"))
    assert not np.array_equal(a, parse_value("random", ("N", 3), "float32", "other"))


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "not a number"), ("[1, 2", "not a number"), ("NaN", "not a number"),
    ("[1, 2, 3]", "shape (3,)"), ('"7"', "not a number"), ("[1e999]", "finite"), ("[true, 1]", "not a number")])
def test_anything_else_is_refused_naming_the_node(text, message):
    with pytest.raises(GraphError, match=re.escape(message)) as info:
        parse_value(text, (2,), "float64", "inputB")
    assert info.value.node == "inputB"


def test_int_inputs_need_whole_numbers():
    assert parse_value("[3]", (1,), "int64").dtype == np.int64
    with pytest.raises(GraphError, match="whole"):
        parse_value("[3.5]", (1,), "int64")


def test_f_xy_evaluates_to_the_closed_form():
    graph = load_graph(EXAMPLES / "f_xy.json")[0]
    for x, y in ((1, 1), (10, -3), (0.5, 2.0)):
        graph.set_ui("x", "value", str(x))
        graph.set_ui("y", "value", str(y))
        evaluation, _ = evaluate_by_hand(graph)
        assert float(evaluation["f"]) == pytest.approx(3 * x + x * y + 3 * y)


def test_formulas_come_from_the_op_declarations():
    graph = load_graph(EXAMPLES / "f_xy.json")[0]
    evaluation, _ = evaluate_by_hand(graph)
    assert formula(graph, "three_x", evaluation) == "3 * x = 3 * 1 = 3"
    assert formula(graph, "f", evaluation) == "sum + three_y = 4 + 3 = 7"
    tanh = load_graph(EXAMPLES / "tanh_layer.json")[0]
    evaluation, _ = evaluate_by_hand(tanh)
    assert formula(tanh, "activation", evaluation) == "tanh(preactivation) = tanh([0.21, 0.07]) = [0.207, 0.06989]"
    assert formula(tanh, "xW", evaluation).startswith("MatMul(inputX, inputW) = MatMul([0.1, 0.2, 0.3], ")


def test_an_input_without_a_value_is_named():
    graph = load_graph(EXAMPLES / "seed_mlp.json")[0]
    with pytest.raises(GraphError, match="type a value") as info:
        evaluate_by_hand(graph)
    assert info.value.node == "x"


def test_small_values_in_full_large_ones_as_shape_and_statistics():
    assert summarize(np.array(7.0)) == "= 7" and format_array(np.array([0.5, -2])) == "[0.5, -2]"
    big = summarize(np.arange(12.0).reshape(3, 4))
    assert big.splitlines() == ["(3, 4) mean 5.5", "min 0 max 11"]
