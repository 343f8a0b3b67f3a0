"""The compiling contestants: JAX's jit and torch.compile, each given the same workloads, weights
and data as Loom. Each maker returns a callable that finishes its work before returning, or
None when its framework is not installed (or cannot compile here), so the benchmark skips it.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from bench.bench_compiler_workloads import LR, torch_mlp_step


def _jax() -> Any:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")
    return jax


def jax_mlp_step(weights: dict, sizes: list[int], activation: str, x: np.ndarray,
                 y: np.ndarray) -> Optional[Callable]:
    """One SGD step of the MLP as jax.jit compiles it (parameters donated, updated in place)."""
    jax = _jax()
    if jax is None:
        return None
    jnp = jax.numpy
    layers = len(sizes) - 1
    act = jax.nn.relu if activation == "ReLU" else jnp.tanh

    def cost(params, xb, yb):
        h = xb
        for i in range(layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < layers - 1:
                h = act(h)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    def update(params, xb, yb):
        value, grads = jax.value_and_grad(cost)(params, xb, yb)
        return value, [p - LR * g for p, g in zip(params, grads)]

    update = jax.jit(update, donate_argnums=0)
    state = {"params": [jnp.asarray(weights[f"{k}{i}"]) for i in range(1, layers + 1) for k in ("W", "b")]}
    xd, yd = jnp.asarray(x), jnp.asarray(y)

    def step() -> Any:
        value, state["params"] = update(state["params"], xd, yd)
        return value.block_until_ready()
    return step


def jax_chain(data: np.ndarray) -> Optional[Callable]:
    """W3's expression under jax.jit: XLA fuses it into one loop."""
    jax = _jax()
    if jax is None:
        return None
    jnp = jax.numpy
    fn = jax.jit(lambda x: jnp.tanh(0.7 * x + 0.3) * jax.nn.sigmoid(x) + 0.5 * x * x)
    xd = jnp.asarray(data)
    return lambda: fn(xd).block_until_ready()


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _compiled(torch: Any, fn: Callable, probe: Callable) -> Optional[Callable]:
    """torch.compile(fn), or None when Inductor cannot build its kernels on this machine."""
    try:
        compiled = torch.compile(fn, dynamic=False)
        probe(compiled)
        return compiled
    except Exception:  # no C++ compiler, or an Inductor failure: the contestant is left out
        return None


def torch_compile_mlp_step(weights: dict, sizes: list[int], activation: str, x: np.ndarray,
                           y: np.ndarray) -> Optional[Callable]:
    """The MLP step (forward, autograd, SGD) under torch.compile on the CPU."""
    torch = _torch()
    if torch is None:
        return None
    step = torch_mlp_step(torch, weights, sizes, activation, x, y)   # the eager contestant, compiled
    return _compiled(torch, step, lambda fn: (fn(), fn()))


def torch_compile_chain(data: np.ndarray) -> Optional[Callable]:
    """W3's expression under torch.compile: Inductor writes one C++ loop for it."""
    torch = _torch()
    if torch is None:
        return None
    td = torch.from_numpy(data)
    fn = _compiled(torch, lambda x: torch.tanh(0.7 * x + 0.3) * torch.sigmoid(x) + 0.5 * x * x, lambda f: f(td))
    return None if fn is None else (lambda: fn(td))
