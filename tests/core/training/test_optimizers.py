"""Optimizers as graph updates: each rule against a hand-written NumPy step, and the LR schedules."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import Graph
from core.training.config import _optimizer, learning_rate, read_config
from core.training.optimizers import add_updates

X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
W0 = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)


def quadratic() -> Graph:
    """cost = mean((x @ W)^2), whose gradient is x.T @ (x @ W) / size."""
    g = Graph()
    g.add_node("Input", {"shape": ["N", 3]}, node_id="x")
    g.add_node("Parameter", {"shape": [3, 2]}, node_id="W")
    g.add_node("MatMul", node_id="xW")
    g.add_node("Square", node_id="sq")
    g.add_node("Mean", node_id="cost")
    g.connect("x", "y", "xW", "a")
    g.connect("W", "y", "xW", "b")
    g.connect("xW", "y", "sq", "x")
    g.connect("sq", "y", "cost", "x")
    return g


def numpy_grad(w: np.ndarray) -> np.ndarray:
    return 2 * X.T @ (X @ w) / (X.shape[0] * w.shape[1])


def numpy_steps(opt: dict, lrs: list[float]) -> list[np.ndarray]:
    """The optimizer's rule written out in NumPy (PyTorch's conventions), one W per step."""
    w, v, m, s = W0.astype(np.float64), 0.0, 0.0, 0.0
    out = []
    for t, lr in enumerate(lrs, start=1):
        g = numpy_grad(w) + opt.get("weight_decay", 0.0) * w
        if opt["name"] == "sgd":
            if opt["momentum"]:
                v = opt["momentum"] * v + g
                g = g + opt["momentum"] * v if opt["nesterov"] else v
            w = w - lr * g
        elif opt["name"] == "adam":
            m = opt["beta1"] * m + (1 - opt["beta1"]) * g
            s = opt["beta2"] * s + (1 - opt["beta2"]) * g * g
            m_hat, s_hat = m / (1 - opt["beta1"] ** t), s / (1 - opt["beta2"] ** t)
            w = w - lr * m_hat / (np.sqrt(s_hat) + opt["eps"])
        else:
            s = opt["rho"] * s + (1 - opt["rho"]) * g * g
            w = w - lr * g / (np.sqrt(s) + opt["eps"])
        out.append(w)
    return out


CASES = [
    {"name": "sgd", "lr": 0.3},
    {"name": "sgd", "lr": 0.3, "momentum": 0.9},
    {"name": "sgd", "lr": 0.3, "momentum": 0.9, "nesterov": True},
    {"name": "sgd", "lr": 0.3, "momentum": 0.5, "weight_decay": 0.1},
    {"name": "adam", "lr": 0.05},
    {"name": "adam", "lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.01},
    {"name": "rmsprop", "lr": 0.02},
    {"name": "rmsprop", "lr": 0.02, "rho": 0.8, "weight_decay": 0.2},
]


@pytest.mark.parametrize("config", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_update_matches_numpy_step(config):
    opt = _optimizer(config)
    graph, grads = differentiate(quadratic(), "cost")
    updates = add_updates(graph, grads.grads, opt)
    assert set(updates.updates) == {"W", *updates.slots}
    assert all(graph.role(n) == "update" for n in updates.slots + updates.inputs)
    assert all(not graph.attrs(n)["trainable"] for n in updates.slots)
    step = compile(graph, ["x", *updates.inputs], ["cost"], updates.updates, weights={"W": W0}, training=True)
    lrs = [opt["lr"], opt["lr"] * 0.5, opt["lr"] * 0.25, opt["lr"]]
    for k, (lr, want) in enumerate(zip(lrs, numpy_steps(opt, lrs))):
        (cost,) = step(x=X, **updates.feeds(k, lr))
        np.testing.assert_allclose(step.get_weights()["W"], want, rtol=2e-5, atol=1e-6)
    assert np.isfinite(cost)


def test_plain_sgd_keeps_no_state():
    graph, grads = differentiate(quadratic(), "cost")
    updates = add_updates(graph, grads.grads, _optimizer({"name": "sgd", "lr": 0.1}))
    assert updates.slots == [] and updates.bias is None and list(updates.updates) == ["W"]


def test_adam_bias_correction_feeds():
    graph, grads = differentiate(quadratic(), "cost")
    updates = add_updates(graph, grads.grads, _optimizer({"name": "adam", "beta1": 0.8, "beta2": 0.9}))
    feeds = updates.feeds(1, 0.01)
    assert feeds[updates.bias[0]] == pytest.approx(1 / (1 - 0.8 ** 2))
    assert feeds[updates.bias[1]] == pytest.approx(1 / (1 - 0.9 ** 2))
    assert feeds[updates.lr] == pytest.approx(0.01)


def schedule_config(schedule: dict, lr: float = 1.0):
    g = quadratic()
    return read_config(g, {"dataset": {"name": "xor"}, "features": "x", "loss": "cost",
                           "optimizer": {"name": "sgd", "lr": lr}, "schedule": schedule})


def test_step_schedule_multiplies_by_gamma_every_few_epochs():
    cfg = schedule_config({"name": "step", "every": 2, "gamma": 0.5}, lr=0.8)
    rates = [learning_rate(cfg, k, steps_per_epoch=3, total_steps=30) for k in range(0, 18, 3)]
    assert rates == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.2])


def test_cosine_schedule_follows_the_closed_form():
    cfg = schedule_config({"name": "cosine", "min_lr": 0.1}, lr=1.1)
    for k in (0, 7, 50, 99, 100):
        want = 0.1 + 1.0 * 0.5 * (1 + math.cos(math.pi * k / 100))
        assert learning_rate(cfg, k, 10, 100) == pytest.approx(want)
    assert learning_rate(cfg, 0, 10, 100) == pytest.approx(1.1)
    assert learning_rate(cfg, 100, 10, 100) == pytest.approx(0.1)


def test_constant_schedule_is_the_default():
    cfg = schedule_config({"name": "constant"}, lr=0.3)
    assert {learning_rate(cfg, k, 4, 40) for k in range(40)} == {0.3}


@pytest.mark.parametrize("config", [CASES[1], CASES[5], CASES[7]], ids=lambda c: c["name"])
def test_float64_graphs_update_in_float64(config):
    """The learning rate and Adam's bias corrections are fed in the graph's float type, so a
    float64 trajectory agrees with float64 NumPy to rounding (float32 feeds gave 1e-8)."""
    opt = _optimizer(config)
    graph = quadratic()
    for node in ("x", "W"):
        graph.set_attr(node, "dtype", "float64")
    graph, grads = differentiate(graph, "cost")
    updates = add_updates(graph, grads.grads, opt)
    assert all(graph.attrs(n)["dtype"] == "float64" for n in updates.inputs)
    step = compile(graph, ["x", *updates.inputs], ["cost"], updates.updates,
                   weights={"W": W0.astype(np.float64)}, training=True)
    lrs = [opt["lr"] * (1 + 0.1 * k) for k in range(12)]
    for k, (lr, want) in enumerate(zip(lrs, numpy_steps(opt, lrs))):
        step(x=X.astype(np.float64), **updates.feeds(k, lr))
        np.testing.assert_allclose(step.get_weights()["W"], want, rtol=1e-12, atol=1e-14)
