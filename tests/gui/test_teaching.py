"""Values by hand and the gradient graph, driven through the real menus, toolbar and inspector."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QMenu, QToolBar

from core.compiler.autodiff import differentiate
from core.compiler.gradient_view import SHOWN, finite_differences
from core.graph import evaluate, load_graph
from core.graph.by_hand import hand_feeds
from gui.document import Document

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def open_example(window, name: str) -> None:
    window.set_document(Document.load_template(EXAMPLES / f"{name}.json"))


def graph_menu_action(window, object_name: str) -> QAction:
    """The action as the Graph menu holds it (the path a user clicks)."""
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Graph")
    return next(a for a in menu.actions() if a.objectName() == object_name)


def shown_value(window, node_id: str) -> str:
    return window.scene.nodes[node_id].overlay_lines()[0]


def type_value(qtbot, window, node_id: str, text: str) -> None:
    """Select the input on the canvas and type its value in the inspector."""
    window.scene.select_nodes([node_id])
    editor = window.inspector.findChild(QLineEdit, "InputValue")
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key_Return)


def test_f_of_1_1_is_7_and_f_of_10_minus_3_is_minus_9_on_the_output_node(qtbot, window):
    open_example(window, "f_xy")
    graph_menu_action(window, "action_evaluate").trigger()
    assert shown_value(window, "f") == "= 7"
    type_value(qtbot, window, "x", "10")
    type_value(qtbot, window, "y", "-3")
    assert window.graph.ui("y")["value"] == "-3"
    run = window.findChild(QToolBar, "TeachToolBar").widgetForAction(window.teaching.actions["evaluate"])
    qtbot.mouseClick(run, Qt.LeftButton)
    assert shown_value(window, "f") == "= -9"
    assert shown_value(window, "three_x") == "= 30"


def test_a_value_of_the_wrong_shape_is_refused_in_the_inspector(qtbot, window):
    open_example(window, "tanh_layer")
    type_value(qtbot, window, "inputB", "[1, 2, 3]")
    error = window.inspector.findChild(type(window.inspector.placeholder), "InputValueError")
    assert "shape (3,)" in error.text() and error.isVisible()
    assert window.graph.ui("inputB")["value"] == "[0.1, 0.2]"


def test_the_tanh_layer_shows_the_lectures_numbers(window):
    open_example(window, "tanh_layer")
    window.teaching.actions["evaluate"].trigger()
    text = shown_value(window, "activation")
    numbers = np.array(json.loads(text.removeprefix("= ")))
    assert np.allclose(np.round(numbers, 2), [0.21, 0.07])
    x, w, b = np.array([0.1, 0.2, 0.3]), np.array([[0.1, -0.2], [-0.4, 0.5], [0.6, -0.7]]), np.array([0.1, 0.2])
    assert np.allclose(numbers, np.tanh(x @ w + b), atol=1e-4)


def test_step_shows_each_formula_with_the_numbers_put_in(window):
    open_example(window, "f_xy")
    step = graph_menu_action(window, "action_step")
    for _ in range(4):
        step.trigger()
    assert window.scene.selected_nodes() == ["three_x"]
    assert shown_value(window, "three_x") == "3 * x = 3 * 1 = 3"
    for _ in range(4):
        step.trigger()
    assert shown_value(window, "f") == "sum + three_y = 4 + 3 = 7"


def run_and_wait_for_the_checks(qtbot, window) -> None:
    """Run (the toolbar's action); the finite-difference badges follow from a background thread."""
    with qtbot.waitSignal(window.teaching.values.sig_checks_done, timeout=60000):
        window.teaching.actions["evaluate"].trigger()


def test_the_gradient_drawn_is_what_differentiate_adds_and_its_values_match_finite_differences(qtbot, window):
    open_example(window, "f_xy")
    forward = window.graph.copy()
    graph_menu_action(window, "action_show_gradient").trigger()
    expanded, _ = differentiate(forward, "f", ["x", "y"])
    added = {n: expanded.op_name(n) for n in expanded.nodes if n not in forward}
    drawn = {n: window.graph.op_name(n) for n in window.graph.nodes if window.graph.ui(n).get(SHOWN)}
    assert drawn == added and set(drawn) <= set(window.scene.nodes)
    assert all(window.scene.nodes[n].role == "grad" for n in drawn)
    assert {e for e in window.graph.edges() if e.dst in drawn} == {e for e in expanded.edges() if e.dst in added}
    run_and_wait_for_the_checks(qtbot, window)
    checks = finite_differences(window.graph, "f", ["x", "y"], {})
    for wrt, holder in (("x", "d_add"), ("y", "d_add_2")):
        assert float(shown_value(window, holder).removeprefix("= ")) == pytest.approx(checks[wrt][1][0], rel=1e-6)
        assert window.scene.nodes[holder].overlay_lines()[1].startswith("✓ finite diff.")


def test_mlp_gradient_values_match_finite_differences_on_the_canvas(qtbot, window):
    """The lecture's MLP with one typed image: each parameter's gradient node agrees with central differences."""
    window.graph.set_ui("x", "value", "random")
    window.graph.set_ui("y", "value", "[3]")
    window.teaching.gradient.show("cost")
    run_and_wait_for_the_checks(qtbot, window)
    holders = {window.graph.ui(n)["gradient_wrt"]: n for n in window.graph.nodes if window.graph.ui(n).get("gradient_wrt")}
    assert set(holders) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    weights = window.teaching.values.weights
    values = evaluate(window.graph, hand_feeds(window.graph), weights)
    checks = finite_differences(window.graph, "cost", list(holders), weights, max_entries=5)
    for wrt, node in holders.items():
        picks, estimates = checks[wrt]
        got = np.array([values[node][i] for i in picks])
        assert np.allclose(got, estimates, atol=2e-3)
        assert window.scene.nodes[node].overlay_lines()[-1].startswith("✓")


def test_show_and_hide_are_one_undo_step_each_and_saving_leaves_the_gradient_out(window, tmp_path):
    open_example(window, "f_xy")
    before = window.graph.to_dict()
    window.teaching.actions["show_gradient"].trigger()
    assert len(window.graph) == 17
    window.undo_stack.undo()
    assert window.graph.to_dict() == before
    window.undo_stack.redo()
    window.document.save(tmp_path / "f.json")
    assert len(load_graph(tmp_path / "f.json")[0]) == 8
    graph_menu_action(window, "action_keep_gradient").trigger()
    window.document.save(tmp_path / "kept.json")
    assert len(load_graph(tmp_path / "kept.json")[0]) == 17
    window.undo_stack.undo()
    graph_menu_action(window, "action_hide_gradient").trigger()
    assert window.graph.to_dict() == before


def test_grow_adds_one_forward_node_at_a_time_in_reverse_topological_order(window):
    open_example(window, "f_xy")
    grow = graph_menu_action(window, "action_grow_gradient")
    origins = []
    for _ in range(6):
        count = len(window.graph)
        grow.trigger()
        new = window.graph.nodes[count:]
        origins.append({window.graph.ui(n)["grad_of"] for n in new})
    assert origins == [{"f"}, {"three_y"}, {"xy"}, {"three_x"}, {"x"}, {"y"}]
    order = window.graph.topological_order()
    firsts = [order.index(next(iter(o))) for o in origins[:4]]
    assert firsts == sorted(firsts, reverse=True)
    shown = [n for n in window.graph.nodes if window.graph.ui(n).get(SHOWN)]
    forward_bottom = max(window.graph.ui(n)["pos"][1] for n in window.graph.nodes if n not in shown)
    assert all(window.graph.ui(n)["pos"][1] > forward_bottom for n in shown)


def test_a_graph_with_layers_says_to_expand_them(window):
    open_example(window, "xor")
    window.teaching.actions["show_gradient"].trigger()
    assert "Expand Layer" in window.statusBar().currentMessage()
    assert not any(window.graph.ui(n).get(SHOWN) for n in window.graph.nodes)


def test_with_several_scalar_outputs_the_user_chooses_the_cost(window):
    open_example(window, "f_xy")
    window.graph.add_node("Mul", node_id="g", ui={"pos": [600, 300]})
    window.graph.connect("x", "y", "g", "a")
    window.graph.connect("x", "y", "g", "b")
    asked = []
    window.teaching.gradient.choose_cost = lambda parent, costs: asked.append(costs) or "g"
    window.scene.clearSelection()
    window.teaching.actions["show_gradient"].trigger()
    assert asked and {"f", "g"} <= set(asked[0])
    holders = {window.graph.ui(n).get("gradient_wrt"): n for n in window.graph.nodes if window.graph.ui(n).get(SHOWN)}
    assert set(holders) - {None} == {"x"}          # g = x * x depends on x only
    window.teaching.actions["evaluate"].trigger()
    assert shown_value(window, holders["x"]) == "= 2"  # d(x * x)/dx at x = 1


def test_the_inspector_says_typed_values_were_evaluated_not_a_batch(qtbot, window):
    open_example(window, "f_xy")
    graph_menu_action(window, "action_evaluate").trigger()
    window.scene.select_nodes(["f"])
    label = window.inspector.values_label
    assert label.isVisibleTo(window.inspector)
    assert label.text().splitlines() == ["Evaluated from the values typed in the Inputs:", "= 7"]


def test_show_gradient_keeps_the_values_legible(window):
    """At a projector's 1280x800 the whole gradient graph of f would need 29 % zoom, where nodes draw only
    their names: Show keeps the readable zoom instead (F still shows all of it)."""
    window.resize(1280, 800)
    open_example(window, "f_xy")
    graph_menu_action(window, "action_evaluate").trigger()
    graph_menu_action(window, "action_show_gradient").trigger()
    assert window.view.zoom() >= window.view.readable_zoom() - 1e-9
