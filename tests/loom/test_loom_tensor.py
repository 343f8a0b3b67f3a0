"""loom.tensor: typed inputs, a function per registry op (checked against the reference executor on
every op case of the op table), NumPy's operators and indexing, and refusals at the user's line."""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import loom
import loom.tensor as T
from core.graph import all_ops, evaluate, init_params
from loom.optable import snake

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "graph"))
from op_cases import CASES, FORWARD_ONLY  # noqa: E402
from test_op_table import build, feeds_for  # noqa: E402

HERE = Path(__file__).name


def _line_of(text: str) -> int:
    """The line of this file holding `text` (where an error must point)."""
    lines = Path(__file__).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line and "_line_of" not in line)


def test_typed_constructors_follow_theano_prefixes():
    assert (T.dscalar("a").type.dtype, T.dscalar("a").shape) == ("float64", ())
    assert T.fvector("v").type.dtype == "float32" and T.fvector("v").shape == ("N",)
    assert T.ivector("y").dtype == "int64" and T.lvector("y").dtype == "int64" and T.bscalar("b").dtype == "int64"
    assert T.matrix("m", shape=(None, 3)).type.shape == ("N", 3) and T.matrix("m", shape=(2, 3)).dtype == "float32"
    assert T.tensor4("img", shape=(None, 1, 8, 8)).shape == ("N", 1, 8, 8)
    assert T.dscalar("k").name == "k" and T.dscalar("k").name == "k_2"       # names stay unique


def test_a_matrix_without_its_shape_is_refused_at_the_users_line():
    with pytest.raises(loom.FrontEndTypeError) as info:
        T.dmatrix("W")  # no shape
    assert info.value.file.endswith(HERE) and info.value.line == _line_of('T.dmatrix("W")  # no shape')
    assert "shape=" in str(info.value)


CHECKED = [c for c in CASES + FORWARD_ONLY if not c.training and c.op != "DropoutMask"]


def test_every_op_of_the_registry_has_a_function():
    names = {snake(spec.name) for spec in all_ops() if spec.category != "Sources"}
    assert names <= set(T.ops) and all(callable(getattr(T, n)) for n in names)
    assert {"mat_mul", "leaky_relu", "max_pool2d", "softmax_cross_entropy", "pick_labels", "argmax"} <= names


@pytest.mark.parametrize("case", CHECKED, ids=lambda c: c.id)
def test_each_op_function_computes_what_the_reference_executor_does(case):
    rng = np.random.default_rng(3)
    reference = build(case, batch=case.batch)
    feeds = feeds_for(case, rng)
    types = reference.types()
    inputs = [T.tensor(f"in_{p}", types[(f"in_{p}", "y")].dtype, types[(f"in_{p}", "y")].shape) for p in case.inputs]
    out = T.ops[snake(case.op)](*inputs, **case.attrs)
    f = loom.function(inputs, out)
    got = f(*(feeds[f"in_{p}"] for p in case.inputs))
    prefix = f"{snake(case.op)}_"
    weights = {"op_" + k[len(prefix):]: v for k, v in f.compiled.get_weights().items() if k.startswith(prefix)}
    want = evaluate(reference, feeds, {**init_params(reference), **weights}, ["op"])["op"]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_operators_methods_and_indexing_match_numpy():
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    b = np.array([[2.0, 1.0, -3.0], [1.5, -0.5, 2.0]])
    x, y = T.dmatrix("x", shape=(2, 3)), T.dmatrix("y", shape=(2, 3))
    exprs = [x + 2 * y - y / 4, -x ** 2, abs(x), 1 - x, 2 / (y * y + 1), x @ y.T, x.T, x > y, x <= 0.5,
             x.sum(axis=0), x.mean(), x.max(axis=1), x.argmax(axis=1), x.reshape((3, 2)), x[1], x[:, 1:],
             x[0, -1], T.concatenate([x, y], axis=1), T.where(x > y, x, y), T.neq(x, y), T.eq(x, x),
             T.exp(T.tanh(x)), T.maximum(x, 0.0), T.clip(x, -1, 1), T.mean(T.neq(x.argmax(axis=1), y.argmax(axis=1)))]
    want = [a + 2 * b - b / 4, -a ** 2, abs(a), 1 - a, 2 / (b * b + 1), a @ b.T, a.T, a > b, a <= 0.5,
            a.sum(axis=0), a.mean(), a.max(axis=1), a.argmax(axis=1), a.reshape(3, 2), a[1], a[:, 1:],
            a[0, -1], np.concatenate([a, b], axis=1), np.where(a > b, a, b), a != b, a == a,
            np.exp(np.tanh(a)), np.maximum(a, 0), np.clip(a, -1, 1), np.mean(a.argmax(1) != b.argmax(1))]
    got = loom.function([x, y], exprs)(a, b)
    for g, w, e in zip(got, want, exprs):
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=repr(e))


def test_advanced_indexing_picks_each_rows_label_and_rows_by_id():
    p = T.dmatrix("p", shape=(None, 4))
    y = T.lvector("y")
    table = T.dmatrix("table", shape=(5, 2))
    ids = T.lvector("ids")
    picked, rows = p[T.arange(y.shape[0]), y], table[ids]
    pv, yv = np.arange(12.0).reshape(3, 4), np.array([3, 0, 2])
    tv, iv = np.arange(10.0).reshape(5, 2), np.array([4, 4, 1])
    got = loom.function([p, y, table, ids], [picked, rows])(pv, yv, tv, iv)
    np.testing.assert_array_equal(got[0], pv[np.arange(3), yv])
    np.testing.assert_array_equal(got[1], tv[iv])


def test_a_wrong_shape_raises_where_the_node_is_built_naming_both_types_and_leaves_no_node():
    x = T.dmatrix("x", shape=(None, 64))
    W = loom.shared(np.zeros((50, 10)), name="W")
    before = len(loom.current_graph())
    with pytest.raises(loom.FrontEndTypeError) as info:
        T.dot(x, W)  # the wrong product
    text = str(info.value)
    assert "x: float64[N, 64]" in text and "W: float64[50, 10]" in text and "64 and 50" in text
    assert info.value.line == _line_of("T.dot(x, W)  # the wrong product") and info.value.file.endswith(HERE)
    assert len(loom.current_graph()) == before and not loom.current_graph().validate()


def test_a_wrong_dtype_is_refused_naming_both_operands():
    y = T.lvector("y")
    with pytest.raises(loom.FrontEndTypeError, match=r"Tanh\(y: int64\[N\]\).*float"):
        T.tanh(y)
    p = T.dmatrix("p", shape=(None, 3))
    labels = T.dvector("labels")
    with pytest.raises(loom.FrontEndTypeError, match=r"p: float64\[N, 3\], labels: float64\[N\]"):
        p[T.arange("N"), labels]


def test_the_generated_functions_say_what_the_op_does():
    assert T.ops["softmax"].__doc__.startswith("exp(x) / sum(exp(x)) along an axis")
    assert "units" in inspect.getdoc(T.dense)


def test_importing_loom_loads_no_qt():
    import subprocess

    code = "import sys, loom, loom.tensor; print('PySide6' in sys.modules or 'gui' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr


def test_numpy_numbers_and_arrays_meet_variables_as_constants():
    x = T.dvector("x", shape=(3,))
    z = np.float64(2) * x + np.array([1.0, 2.0, 3.0])
    assert isinstance(z, loom.Variable)
    np.testing.assert_array_equal(z.eval({x: np.ones(3)}), [3.0, 4.0, 5.0])
    i = T.lscalar("i")
    assert (i + 1).dtype == "int64" and (i + 0.5).dtype == "float32"
