"""Devices: the CPU kernels against NumPy references, chunked runs against plain ones, device
choice and the CUDA fallback; GPU checks are parametrized over available_devices()."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.compiler import expr as X
from core.devices import available_devices, cuda_unavailable_reason, get_device
from core.devices import numpy_device as nd

GPU = pytest.mark.skipif("cuda" not in available_devices(), reason="no working CUDA GPU on this machine")


def _reference_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_cpu_is_always_available_and_auto_says_which():
    assert available_devices()[0] == "cpu"
    device = get_device("auto")
    assert device.name in available_devices()
    if device.name == "cpu":
        assert "CUDA" in device.fallback_reason


def test_asking_for_cuda_without_one_falls_back_with_one_message(monkeypatch):
    if "cuda" in available_devices():
        pytest.skip("this machine has a working GPU")
    from core import devices

    monkeypatch.setattr(devices, "_WARNED", set())
    with pytest.warns(RuntimeWarning, match="running on the CPU"):
        device = get_device("cuda")
    assert device.name == "cpu" and cuda_unavailable_reason() in device.fallback_reason
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert get_device("cuda").name == "cpu"
    assert not caught


def test_unknown_device_is_refused():
    with pytest.raises(ValueError):
        get_device("tpu")


def test_softmax_and_cross_entropy_kernels_match_the_reference():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(9, 5)).astype(np.float64) * 30
    labels = rng.integers(0, 5, 9)
    out = np.empty_like(z)
    nd.softmax_rows(z, out, np.empty((5, 9)), np.empty(9), np.empty(9))
    np.testing.assert_allclose(out, _reference_softmax(z), rtol=1e-13)
    cost = np.empty(())
    t, s, index = np.empty((5, 9)), np.empty(9), np.empty(9, np.int64)
    nd.softmax_xent(z, labels, cost, t, np.empty(9), s, np.empty(9), index, np.arange(9))
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert cost == pytest.approx(-log_p[np.arange(9), labels].mean(), rel=1e-13)
    grad = np.empty_like(z)
    nd.xent_grad_from(t, s, index, grad)
    expected = _reference_softmax(z)
    expected[np.arange(9), labels] -= 1
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    alone = np.empty_like(z)
    nd.softmax_xent_grad(z, labels, alone, np.empty((5, 9)), np.empty(9), np.empty(9), index, np.arange(9))
    np.testing.assert_allclose(alone, expected, rtol=1e-12, atol=1e-15)
    for bad in (labels + 5, labels - 5):
        with pytest.raises((ValueError, IndexError)):
            nd.softmax_xent(z, bad, cost, t, np.empty(9), s, np.empty(9), index, np.arange(9))


@pytest.mark.parametrize("size", [1000, nd.CHUNKED_MIN + 17, nd.PARALLEL_MIN * 2 + 5])
def test_chunked_runs_equal_the_plain_run(size):
    tree = X.parse("tanh(0.7 * x1 + 0.3) * (1 / (1 + exp(-x1))) + x2 * x1", {"x1": X.var("x1"), "x2": X.var("x2")})
    kernel = X.numpy_kernel(tree, 2, "k_test")
    program = nd.NumpyElementwise("k_test", kernel.source, kernel.temps, kernel.bool_temps)
    rng = np.random.default_rng(size)
    x = rng.normal(size=size).astype(np.float32)
    c = np.asarray(0.25, dtype=np.float32)
    run = program.bind((size,), "float32", [(size,), ()])
    out = np.empty(size, np.float32)
    run(x, c, out)
    expected = np.tanh(0.7 * x + 0.3) * (1 / (1 + np.exp(-x))) + c * x
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    if size >= nd.CHUNKED_MIN:
        assert isinstance(run, nd.ChunkedRun)
        strided = np.empty(2 * size, np.float32)[::2]
        run(x, c, strided)  # not contiguous: takes the plain path
        np.testing.assert_allclose(strided, expected, rtol=1e-6, atol=1e-7)


def test_kernels_are_cached_by_source():
    source = "def k_same(x1, out):\n    np.negative(x1, out=out)\n"
    assert nd.compile_source("k_same", source) is nd.compile_source("k_same", source)


def test_the_cuda_preamble_matches_the_compilers():
    from core.devices import cupy_device

    assert cupy_device._PREAMBLE == X.CUDA_PREAMBLE


@GPU
@pytest.mark.parametrize("device", [d for d in available_devices() if d != "cpu"])
def test_gpu_elementwise_kernel_matches_numpy(device):
    dev = get_device(device)
    tree = X.parse("tanh(0.7 * x1 + 0.3) * (1 / (1 + exp(-x1)))", {"x1": X.var("x1")})
    program = dev.elementwise("k_gpu", X.numpy_kernel(tree, 1, "k_gpu"), X.cuda_elementwise(tree, 1, "float32"))
    x = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    out = dev.empty((1000,), "float32")
    program.bind((1000,), "float32", [(1000,)])(dev.to_device(x), out)
    np.testing.assert_allclose(dev.to_host(out), np.tanh(0.7 * x + 0.3) / (1 + np.exp(-x)), rtol=1e-5)
