"""loom.function, shared, grad, debugprint and save/load: Theano's semantics on Loom's compiler."""
from __future__ import annotations

import numpy as np
import pytest

import loom
import loom.tensor as T
from core.graph import Graph, GraphFileError, LoomError, load_graph, save_graph


def test_updates_apply_after_the_outputs_and_every_function_sees_the_shared_value():
    state = loom.shared(0, name="state")
    inc = T.iscalar("inc")
    accumulator = loom.function([inc], state, updates=[(state, state + inc)])
    decrementor = loom.function([inc], state, updates=[(state, state - inc)])
    assert accumulator(1) == 0 and state.get_value() == 1          # the old value is returned
    assert accumulator(300) == 1 and state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1 and state.get_value() == 2
    assert decrementor(2) == 2 and state.get_value() == 0
    assert accumulator(5) == 0 and state.get_value() == 5


def test_givens_replace_a_value_for_one_function_only():
    state = loom.shared(4.0, name="state")
    inc = T.dscalar("inc")
    foo = T.dscalar("foo")
    skip_shared = loom.function([inc, foo], state * 2 + inc, givens=[(state, foo)])
    plain = loom.function([inc], state * 2 + inc)
    assert skip_shared(1, 3) == 7 and plain(1) == 9 and state.get_value() == 4
    x = T.dvector("x", shape=(3,))
    data = loom.shared(np.array([1.0, 2.0, 3.0]), name="data")
    f = loom.function([], T.sum(x * x), givens={x: data})
    assert f() == 14


def test_an_update_of_the_wrong_type_is_refused_naming_both():
    w = loom.shared(np.zeros(3), name="w")
    v = T.dvector("v", shape=(4,))
    with pytest.raises(loom.FrontEndTypeError, match=r"v: float64\[4\] does not fit w: float64\[3\]"):
        loom.function([v], T.sum(v), updates=[(w, v)])


def test_grad_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = T.dmatrix("x", shape=(None, 3))
    y = T.lvector("y")
    W = loom.shared(rng.normal(size=(3, 4)), name="W")
    b = loom.shared(rng.normal(size=4), name="b")
    V = loom.shared(rng.normal(size=(4, 2)), name="V")
    h = T.tanh(T.dot(x, W) + b)
    p = T.softmax(T.dot(h, V))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y]) + 0.01 * T.sum(W ** 2)
    grads = loom.grad(cost, [W, b, V])
    xs, ys = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    f = loom.function([x, y], [cost] + grads)
    value, *symbolic = f(xs, ys)
    for shared, g in zip((W, b, V), symbolic):
        base = shared.get_value()
        numeric = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            for sign in (1, -1):
                bumped = base.copy()
                bumped[i] += sign * 1e-6
                shared.set_value(bumped)
                numeric[i] += sign * f(xs, ys)[0] / 2e-6
        shared.set_value(base)
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_grad_refuses_a_vector_cost_and_a_value_the_cost_does_not_use():
    x = T.dvector("x", shape=(3,))
    w = loom.shared(np.ones(3), name="w")
    u = loom.shared(np.ones(3), name="u")
    with pytest.raises(loom.FrontEndTypeError, match="float scalar"):
        loom.grad(x * w, w)
    with pytest.raises(loom.FrontEndTypeError, match="does not depend on u"):
        loom.grad(T.sum(x * w), [w, u])


def test_a_second_derivative_is_more_graph():
    x = T.dscalar("x")
    dy = loom.grad(x ** 3, x)
    d2y = loom.grad(dy, x)
    assert loom.function([x], [dy, d2y])(2.0) == [12.0, 12.0]


def _lecture_cost():
    x = T.dmatrix("x", shape=(None, 4))
    y = T.lvector("y")
    W = loom.shared(np.zeros((4, 3)), name="W")
    p_y_given_x = T.softmax(T.dot(x, W))
    return x, y, W, p_y_given_x


def test_debugprint_shows_the_stable_cross_entropy_the_compiler_made(capsys):
    x, y, W, p = _lecture_cost()
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = loom.function([x, y], cost, updates=[(W, W - 0.1 * loom.grad(cost, W))])
    text = loom.debugprint(f)
    assert capsys.readouterr().out.strip() == text
    assert "SoftmaxCrossEntropy" in text and "update W:" in text and "Log [" not in text
    assert text.splitlines()[0] == "output:" and "[id x]" in text
    written = loom.debugprint(cost)
    assert "Log [" in written and "PickLabels" in written and "SoftmaxCrossEntropy" not in written


@pytest.mark.parametrize("form", ["log_then_pick", "pick_then_log"])
def test_the_lecture_losses_stay_finite_for_confident_wrong_answers(form):
    x, y, W, p = _lecture_cost()
    rows = T.arange(y.shape[0])
    cost = -T.mean(T.log(p)[rows, y]) if form == "log_then_pick" else T.mean(-T.log(p[rows, y]))
    gW = loom.grad(cost, W)
    f = loom.function([x, y], [cost, gW])
    W.set_value(np.array([[1e3, 0.0, -1e3], [0.0, 1e3, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    xs, ys = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]), np.array([2, 0, 1])
    cost_value, g = f(xs, ys)
    z = xs @ W.get_value()                                          # the same loss, written stably in NumPy
    log_p = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    np.testing.assert_allclose(cost_value, -log_p[np.arange(3), ys].mean(), rtol=1e-12)
    soft = np.exp(log_p)
    soft[np.arange(3), ys] -= 1
    np.testing.assert_allclose(g, xs.T @ soft / 3, rtol=1e-12, atol=1e-15)
    unstable = loom.function([x, y], [cost, gW], exclude={"stable"})
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(np.concatenate([np.ravel(v) for v in unstable(xs, ys)])))


def test_save_and_load_round_trip_through_the_file_format(tmp_path):
    x = T.dmatrix("x", shape=(None, 2))
    W = loom.shared(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), name="W")
    out = T.tanh(T.dot(x, W))
    loom.save(out, tmp_path / "g.json")
    graph, weights = load_graph(tmp_path / "g.json")               # what the editor and the exports read
    assert not graph.validate() and set(weights) == {"W"}
    assert all(graph.ui(n).get("pos") for n in graph.nodes)
    vars_ = loom.load(tmp_path / "g.json")
    np.testing.assert_array_equal(vars_["W"].get_value(), W.get_value())
    xs = np.array([[0.1, -0.2]])
    again = loom.function([vars_["x"]], 2 * vars_[out.name])(xs)
    np.testing.assert_allclose(again, 2 * np.tanh(xs @ W.get_value()), rtol=1e-12)


def test_load_puts_layers_in_primitive_form_and_names_their_output(tmp_path):
    x = T.dmatrix("x", shape=(None, 3))
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 3], "dtype": "float64"}, node_id="x")
    graph.add_node("Dense", {"units": 2, "activation": "tanh"}, node_id="hidden")
    graph.connect("x", "y", "hidden", "x")
    save_graph(tmp_path / "d.json", graph, {"hidden_W": np.ones((3, 2)), "hidden_b": np.zeros(2)})
    vars_ = loom.load(tmp_path / "d.json")
    cost = T.sum(vars_["hidden"])
    g = loom.grad(cost, vars_["hidden_W"])
    xs = np.array([[0.5, 0.0, -0.5], [1.0, 1.0, 1.0]])
    value, gw = loom.function([vars_["x"]], [cost, g])(xs)
    h = np.tanh(xs @ np.ones((3, 2)))
    np.testing.assert_allclose(value, h.sum())
    np.testing.assert_allclose(gw, xs.T @ (1 - h ** 2))
    with pytest.raises(GraphFileError):
        (tmp_path / "bad.json").write_text("{not json")
        loom.load(tmp_path / "bad.json")
    with pytest.raises(LoomError, match="different graphs"):
        x + vars_["x"]


def test_eval_and_keyword_feeds():
    x, y = T.dscalar("x"), T.dscalar("y")
    z = 3 * x + x * y + 3 * y
    assert z.eval({x: 1, y: 1}) == 7
    assert loom.function([x, y], [z])(y=-3, x=10) == [-9]


def test_a_function_over_two_graphs_is_refused():
    x = T.dscalar("x")
    loom.reset()
    y = T.dscalar("y")
    with pytest.raises(loom.FrontEndTypeError, match="different graphs"):
        loom.function([x], y)
