"""Every op, checked with no per-op code: forward against an independent reference, symbolic
gradient against central finite differences (float64, relative error < 1e-6), and the shape
rule against the shape the executor really produces, for several batch sizes."""
from __future__ import annotations

import numpy as np
import pytest

from core.compiler.autodiff import differentiate
from core.graph import Graph, GraphError, all_ops, evaluate, expand_layers, get_op, init_params
from core.graph.builder import Builder, apply
from core.graph.types import bind

from op_cases import CASES, FORWARD_ONLY, NOT_DIFFERENTIABLE, Case
from references import LAYER_REFERENCES, REFERENCES


def build(case: Case, dtype: str = "float64", batch: bool = False) -> Graph:
    """Inputs in_<port> feeding one node `op`."""
    graph = Graph()
    for port, shape in case.inputs.items():
        dims = ["N", *shape[1:]] if batch else list(shape)
        graph.add_node("Input", {"shape": dims, "dtype": "int64" if port in case.ints else dtype},
                       node_id=f"in_{port}")
    graph.add_node(case.op, case.attrs, node_id="op")
    for port in case.inputs:
        graph.connect(f"in_{port}", "y", "op", port)
    return graph


def feeds_for(case: Case, rng: np.random.Generator, batch_size: int | None = None) -> dict:
    feeds = {}
    for port, shape in case.inputs.items():
        shape = (batch_size, *shape[1:]) if batch_size else shape
        if port in case.ints:
            feeds[f"in_{port}"] = rng.integers(0, case.ints[port], shape)
        elif port in case.binary:
            feeds[f"in_{port}"] = rng.integers(0, 2, shape).astype(float)
        else:
            lo, hi = case.domain.get(port, (-2.0, 2.0))
            feeds[f"in_{port}"] = rng.uniform(lo, hi, shape)
    return feeds


def with_cost(graph: Graph) -> None:
    """cost = sum(op^2 / 2 + op / 3): each output element weighs by its own value."""
    y = Builder(graph).var("op")
    y = y if y.type.is_float else y * 0.5  # integer results (Argmax) weigh in as floats
    apply("Sum", apply("Square", y) * 0.5 + y / 3, name="cost")


def test_every_op_is_covered():
    differentiable = {c.op for c in CASES}
    forward_only = {c.op for c in FORWARD_ONLY}
    for spec in all_ops():
        if spec.differentiable:
            assert spec.name in differentiable, f"{spec.name} has no gradient case"
        else:
            assert spec.name in NOT_DIFFERENTIABLE, f"{spec.name}: differentiable? add a case or a reason"
            assert spec.name in forward_only or spec.name in ("Input", "Parameter", "Constant")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_matches_finite_differences(case: Case):
    rng = np.random.default_rng(0)
    graph = build(case, batch=case.batch)
    with_cost(graph)
    feeds = feeds_for(case, rng)
    weights = init_params(graph, seed=1)
    wrt_inputs = _float_ports(case, graph)
    expanded, grads = differentiate(graph, "cost", wrt=wrt_inputs + list(weights))
    assert set(grads.grads) == set(wrt_inputs) | set(weights)
    symbolic = evaluate(expanded, feeds, weights, list(grads.grads.values()), rng=np.random.default_rng(7),
                        training=case.training)
    for name, ref in grads.grads.items():
        numeric = _numeric(graph, "cost", feeds, weights, name, case.training)
        analytic = symbolic[ref]
        assert analytic.shape == numeric.shape, name
        error = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(numeric), 1e-3)
        assert error < 1e-6, f"d cost / d {name}: relative error {error:.2e}"


@pytest.mark.parametrize("case", CASES + FORWARD_ONLY, ids=lambda c: c.id)
def test_inferred_type_matches_executor(case: Case):
    rng = np.random.default_rng(1)
    sizes = (1, 3, 5) if case.batch else (None,)
    graph = build(case, batch=case.batch)
    assert graph.validate() == []
    inferred = graph.types()[("op", "y")]
    weights = init_params(graph, seed=0)
    for size in sizes:
        value = evaluate(graph, feeds_for(case, rng, size), weights)["op"]
        assert value.shape == bind(inferred.shape, {"N": size}), size
        assert value.dtype == np.dtype(inferred.dtype)


@pytest.mark.parametrize("case", [c for c in CASES + FORWARD_ONLY if c.op in REFERENCES | LAYER_REFERENCES],
                         ids=lambda c: c.id)
def test_forward_matches_reference(case: Case):
    rng = np.random.default_rng(2)
    graph = build(case)
    feeds = feeds_for(case, rng)
    weights = init_params(graph, seed=3)
    got = evaluate(graph, feeds, weights)["op"]
    args = [feeds[f"in_{p}"] for p in case.inputs]
    if case.op in LAYER_REFERENCES:
        attrs = {**get_op(case.op).default_attrs(), **case.attrs}
        owned = {k[len("op_"):]: v for k, v in weights.items()}
        expected = LAYER_REFERENCES[case.op](*args, **owned, **attrs)
    else:
        expected = REFERENCES[case.op](*args, **case.attrs)
    tight = got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-10 if tight else 1e-6, atol=1e-12 if tight else 1e-7)


def test_dropout_zeroes_a_fraction_while_training_and_keeps_the_mean():
    graph = build(Case("Dropout", {"x": (200, 50)}, {"rate": 0.4}))
    x = np.ones((200, 50))
    y = evaluate(graph, {"in_x": x}, {}, training=True, rng=np.random.default_rng(0))["op"]
    assert abs((y == 0).mean() - 0.4) < 0.02
    assert abs(y.mean() - 1.0) < 0.03
    np.testing.assert_array_equal(evaluate(graph, {"in_x": x}, {})["op"], x)


@pytest.mark.parametrize("case", [c for c in CASES if get_op(c.op).expand], ids=lambda c: c.id)
def test_a_layer_computes_the_same_as_its_expansion(case: Case):
    graph = build(case, batch=case.batch)
    graph.add_node("Tanh", node_id="after")
    graph.connect("op", "y", "after", "x")
    expanded = expand_layers(graph)
    assert "op" not in expanded and all(not get_op(expanded.op_name(n)).expand for n in expanded.nodes)
    weights = init_params(graph, seed=4)
    assert init_params(expanded, seed=4).keys() == weights.keys(), "expansion keeps the weights keys"
    feeds = feeds_for(case, np.random.default_rng(5))
    mode = {"training": case.training}
    want = evaluate(graph, feeds, weights, ["after"], rng=np.random.default_rng(1), **mode)["after"]
    got = evaluate(expanded, feeds, weights, ["after"], rng=np.random.default_rng(1), **mode)["after"]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _float_ports(case: Case, graph: Graph, differentiable: bool = True) -> list[str]:
    spec = get_op(case.op)
    return [f"in_{p.name}" for p in spec.input_ports(graph.attrs("op"))
            if (p.differentiable or not differentiable) and p.name not in case.ints and p.name not in case.binary]


def _numeric(graph: Graph, cost: str, feeds: dict, weights: dict, name: str, training: bool) -> np.ndarray:
    values = feeds if name in feeds else weights
    numeric = np.zeros_like(values[name])
    for index in np.ndindex(values[name].shape):
        original = values[name][index]
        total = []
        for shifted in (original + 1e-6, original - 1e-6):
            values[name][index] = shifted
            total.append(float(evaluate(graph, feeds, weights, [cost], rng=np.random.default_rng(7),
                                        training=training)[cost]))
        values[name][index] = original
        numeric[index] = (total[0] - total[1]) / 2e-6
    return numeric


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_second_order_matches_finite_differences(case: Case):
    """penalty = sum of each first gradient squared (a gradient penalty); its gradient is a
    Hessian-vector product, checked against central differences of the penalty itself."""
    graph = build(case, batch=case.batch)
    with_cost(graph)
    feeds = feeds_for(case, np.random.default_rng(0))
    weights = init_params(graph, seed=1)
    wrt = _float_ports(case, graph) + list(weights)
    expanded, first = differentiate(graph, "cost", wrt=wrt)
    b = Builder(expanded)
    squares = [apply("Sum", apply("Square", b.var(*ref))) for ref in first.grads.values()]
    total = squares[0]
    for s in squares[1:]:
        total = total + s
    apply("Sum", total, name="penalty")
    twice, second = differentiate(expanded, "penalty", wrt=wrt)
    symbolic = evaluate(twice, feeds, weights, list(second.grads.values()), rng=np.random.default_rng(7),
                        training=case.training)
    for name in wrt:
        numeric = _numeric(expanded, "penalty", feeds, weights, name, case.training)
        analytic = symbolic[second.grads[name]] if name in second.grads else np.zeros_like(numeric)
        error = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(numeric), 1e-3)
        assert error < 1e-5, f"d penalty / d {name}: relative error {error:.2e}"


@pytest.mark.parametrize("spec", [s for s in all_ops() if not s.expand and s.category != "Sources"],
                         ids=lambda s: s.name)
def test_every_op_has_a_gradient_rule_or_is_refused_by_name(spec):
    """An op without a rule either has no differentiable input (its gradient is zero: checked by
    finite differences) or differentiate() refuses it, naming the node and the op."""
    case = next(c for c in CASES + FORWARD_ONLY if c.op == spec.name)
    graph = build(case, batch=case.batch)
    with_cost(graph)
    wrt = _float_ports(case, graph, differentiable=False)
    blocked = spec.grad is None and _float_ports(case, graph) != []
    if blocked:
        with pytest.raises(GraphError, match=f"{spec.name} has no gradient rule") as caught:
            differentiate(graph, "cost", wrt=wrt)
        assert caught.value.node == "op"
        return
    _, grads = differentiate(graph, "cost", wrt=wrt)
    if spec.grad is None:
        feeds = feeds_for(case, np.random.default_rng(0))
        assert not grads.grads
        for name in wrt:
            np.testing.assert_array_equal(_numeric(graph, "cost", feeds, {}, name, case.training), 0.0)


def _mixed(case: Case) -> list[tuple[Case, dict]]:
    """Each way of giving one float input float32 while the others stay float64."""
    floats = [p for p in case.inputs if p not in case.ints]
    return [(case, {p: "float32" if p == low else "float64" for p in floats}) for low in floats] \
        if len(floats) > 1 else []


# Fused takes its dtype as an attribute; RowUpdate updates its table in place and refuses rows of another dtype
@pytest.mark.parametrize("case,dtypes", [m for c in CASES + FORWARD_ONLY if c.op not in ("Fused", "RowUpdate")
                                         for m in _mixed(c)],
                         ids=lambda v: v.id if isinstance(v, Case) else ",".join(f"{k}:{d}" for k, d in v.items()))
def test_mixed_float_dtypes_are_declared_as_computed(case: Case, dtypes: dict):
    """One promotion rule: the type the op declares is the dtype the reference executor and the
    compiled step produce, when float32 and float64 inputs meet."""
    from core.compiler import compile

    graph = build(case)
    for port, dtype in dtypes.items():
        graph.set_attr(f"in_{port}", "dtype", dtype)
    feeds = {k: v.astype(dtypes[k[3:]]) if k[3:] in dtypes else v
             for k, v in feeds_for(case, np.random.default_rng(0)).items()}
    declared = np.dtype(graph.types()[("op", "y")].dtype)
    weights = init_params(graph, seed=0)
    reference = evaluate(graph, feeds, weights, ["op"])["op"]
    compiled = compile(graph, list(feeds), ["op"], weights=weights)(**feeds)[0]
    assert reference.dtype == declared and compiled.dtype == declared
    np.testing.assert_allclose(compiled, reference, rtol=1e-5, atol=1e-6)
