"""Scalar expressions: the whitelist parser, and every elementwise op's expr through the NumPy
emitter against the op's own reference; the CUDA source of every op and of a fused group compiles."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from core.compiler import expr as X
from core.devices.numpy_device import compile_source
from core.graph import all_ops
from core.graph.registry import call_rule

ELEMENTWISE = [spec for spec in all_ops() if spec.expr is not None]


def _ports_and_names(spec):
    attrs = spec.default_attrs()
    ports = spec.input_names(attrs)
    return attrs, ports, [f"x{i + 1}" for i in range(len(ports))]


def _run_numpy(tree, arrays, dtype, name="k"):
    kernel = X.numpy_kernel(tree, len(arrays), name)
    fn = compile_source(name, kernel.source)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    out = np.empty(shape, dtype)
    temps = [np.empty(shape, dtype) for _ in range(kernel.temps)] + [np.empty(shape, bool) for _ in range(kernel.bool_temps)]
    fn(*temps, *arrays, out)
    return out


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
@pytest.mark.parametrize("low,high", [(-2.0, 2.0), (0.25, 3.0)])
def test_numpy_emitter_matches_the_reference(spec, low, high):
    rng = np.random.default_rng(3)
    attrs, ports, names = _ports_and_names(spec)
    arrays = [rng.uniform(low, high, (4, 5)) for _ in ports]
    if spec.name == "Where":
        arrays[0] = rng.integers(0, 2, (4, 5)).astype(float)
    arrays[-1][0, :2] = arrays[0][0, :2]  # ties, where max/min/comparisons decide
    tree = X.op_expr(spec.expr, ports, [X.var(n) for n in names], attrs)
    with np.errstate(all="ignore"):
        expected = call_rule(spec.forward, arrays, attrs)
        got = _run_numpy(tree, arrays, "float64")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, equal_nan=True)


def test_a_composed_expression_round_trips_through_text():
    tree = X.parse("tanh(0.7 * x1 + 0.3) * (1 / (1 + exp(-x1))) + where(x2 > 0, x2, 0.5 * x2) ** 2",
                   {"x1": X.var("x1"), "x2": X.var("x2")})
    again = X.parse(X.to_text(tree), {"x1": X.var("x1"), "x2": X.var("x2")})
    assert again == tree
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    expected = np.tanh(0.7 * a + 0.3) / (1 + np.exp(-a)) + np.where(b > 0, b, 0.5 * b) ** 2
    np.testing.assert_allclose(_run_numpy(tree, [a, b], "float64"), expected, rtol=1e-13)


def test_the_root_may_be_written_over_an_operand():
    tree = X.parse("where(x1 > 0, x1, 0.1 * x1) + x1 * x1", {"x1": X.var("x1")})
    a = np.linspace(-2, 2, 9)
    expected = np.where(a > 0, a, 0.1 * a) + a * a
    kernel = X.numpy_kernel(tree, 1, "k_alias")
    fn = compile_source("k_alias", kernel.source)
    temps = [np.empty(9) for _ in range(kernel.temps)] + [np.empty(9, bool) for _ in range(kernel.bool_temps)]
    fn(*temps, a, a)
    np.testing.assert_allclose(a, expected)


@pytest.mark.parametrize("text,numpy,temps", [
    ("tanh(x1 + x2)", lambda a, b: np.tanh(a + b), 0),
    ("max(x1 + x2, 0)", lambda a, b: np.maximum(a + b, 0), 0),
    ("exp(x1) * x2 + log(x2)", lambda a, b: np.exp(a) * b + np.log(b), 1),
    ("tanh(x1) * x2 - exp(-x1)", lambda a, b: np.tanh(a) * b - np.exp(-a), 1),
    ("x1 * (1 - x2 * x2)", lambda a, b: a * (1 - b * b), 1)])
@pytest.mark.parametrize("alias", [None, 0, 1])
def test_out_holds_values_only_after_the_inputs_last_read(text, numpy, temps, alias):
    """Bias + activation runs in `out` without scratch; `out` may be either input's array."""
    names = {"x1": X.var("x1"), "x2": X.var("x2")}
    kernel = X.numpy_kernel(X.parse(text, names), 2, "k_out")
    assert kernel.temps == temps
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 2, 12), rng.uniform(0.5, 2, 12)
    expected = numpy(a, b)
    out = np.empty(12) if alias is None else (a, b)[alias]
    compile_source("k_out", kernel.source)(*[np.empty(12) for _ in range(temps)], a, b, out)
    np.testing.assert_allclose(out, expected, rtol=1e-14)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "x1.real", "lambda: 1", "x1[0]",
                                  "open('f')", "x1 if x1 else 2", "unknown + 1", "exp(x1, x1)", "'text'",
                                  "add(x1, x1)"])
def test_the_parser_refuses_anything_off_the_whitelist(text):
    with pytest.raises(X.ExprError):
        X.parse(text, {"x1": X.var("x1")})


def _cuda_sources():
    sources = []
    for spec in ELEMENTWISE:
        attrs, ports, names = _ports_and_names(spec)
        tree = X.op_expr(spec.expr, ports, [X.var(n) for n in names], attrs)
        for dtype in ("float32", "float64"):
            sources.append(X.cuda_kernel(tree, len(names), dtype, f"op_{spec.name.lower()}_{dtype}"))
    fused = X.parse("tanh(0.7 * x1 + 0.3) * (1 / (1 + exp(-x1))) + 0.5 * x1 * x1 + max(x2, 0) * sign(x2)",
                    {"x1": X.var("x1"), "x2": X.var("x2")})
    sources.append(X.cuda_kernel(fused, 2, "float32", "fused_group"))
    ins, outs, op = X.cuda_elementwise(fused, 2, "float32")
    sources.append(f"extern \"C\" __global__ void elementwise_form(const float* a, const float* b, float* o) {{\n"
                   f"  int i = threadIdx.x; float x1 = a[i]; float x2 = b[i]; float out;\n  {op}\n  o[i] = out;\n}}\n")
    body = "".join(s.replace(X.CUDA_PREAMBLE, "") for s in sources)
    return X.CUDA_PREAMBLE + body


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed on this machine")
def test_cuda_source_of_every_op_and_a_fused_group_compiles(tmp_path):
    source = tmp_path / "kernels.cu"
    source.write_text(_cuda_sources())
    result = subprocess.run(["nvcc", "--ptx", str(source), "-o", str(tmp_path / "kernels.ptx")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ptx = (tmp_path / "kernels.ptx").read_text()
    assert ".entry fused_group" in ptx and ".entry op_sigmoid_float32" in ptx
