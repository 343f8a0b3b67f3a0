"""The benchmark's workloads: MLP graphs for Loom, and the same SGD step hand-written in NumPy
and in PyTorch eager, all starting from the same weights."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import Graph, load_graph
from core.graph.builder import Builder, apply

LR = 0.1


def sgd_updates(graph: Graph, grads: Any, lr: float = LR) -> dict:
    """new = p - lr * g for every parameter (the optimizers proper live in core.training)."""
    b = Builder(graph, role="update")
    updates = {}
    for key, ref in grads.grads.items():
        new = b.var(key) - b.const(lr, b.var(key).dtype) * b.var(*ref)
        updates[key] = (new.node, new.port)
    return updates


def mlp_graph(sizes: list[int], activation: str) -> Graph:
    """x -> (MatMul, Add, activation)* -> logits; cost = SoftmaxCrossEntropy(logits, y)."""
    graph = Graph()
    graph.add_node("Input", {"shape": ["N", sizes[0]], "dtype": "float32"}, node_id="x")
    graph.add_node("Input", {"shape": ["N"], "dtype": "int64"}, node_id="y")
    b = Builder(graph)
    h = b.var("x")
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        graph.add_node("Parameter", {"shape": [fan_in, fan_out], "dtype": "float32"}, node_id=f"W{i}")
        graph.add_node("Parameter", {"shape": [fan_out], "dtype": "float32", "init": "zeros"}, node_id=f"b{i}")
        b.types = dict(graph.types())
        z = apply("MatMul", h, b.var(f"W{i}")) + b.var(f"b{i}")
        h = apply(activation, z) if i < len(sizes) - 1 else z
    b.add("SoftmaxCrossEntropy", [h, b.var("y")], {}, name="cost")
    return graph


def loom_mlp(graph: Graph, device: str = "cpu", host_outputs: bool = True) -> Any:
    expanded, grads = differentiate(graph, "cost")
    return compile(expanded, ["x", "y"], ["cost"], sgd_updates(expanded, grads), device=device,
                   host_outputs=host_outputs)


def seed_mlp_step(path: Path, device: str = "cpu") -> Any:
    """What the compile-time benchmark measures: load, differentiate, add updates, compile."""
    graph, weights = load_graph(path)
    expanded, grads = differentiate(graph, graph.training.get("loss", "cost"))
    return compile(expanded, ["x", "y"], ["cost"], sgd_updates(expanded, grads), weights=weights, device=device)


def hand_mlp_step(weights: dict, sizes: list[int], activation: str, x: Any, y: Any, xp: Any = np) -> Callable:
    """The step as a careful NumPy programmer writes it: one softmax, in-place updates. With
    xp=cupy the same code runs on the GPU (x and y are then device arrays)."""
    layers = len(sizes) - 1
    W = [xp.array(weights[f"W{i}"]) for i in range(1, layers + 1)]
    b = [xp.array(weights[f"b{i}"]) for i in range(1, layers + 1)]
    rows = xp.arange(len(y))
    lr = np.float32(LR)
    relu = activation == "ReLU"

    def step() -> Any:
        hs = [x]
        for i in range(layers - 1):
            z = hs[-1] @ W[i] + b[i]
            hs.append(xp.maximum(z, 0, out=z) if relu else xp.tanh(z, out=z))
        z = hs[-1] @ W[-1] + b[-1]
        z -= z.max(axis=1, keepdims=True)
        e = xp.exp(z)
        s = e.sum(axis=1, keepdims=True)
        cost = -(z[rows, y] - xp.log(s[:, 0])).mean()
        d = e / s
        d[rows, y] -= 1
        d /= len(y)
        for i in range(layers - 1, -1, -1):
            gW = hs[i].T @ d
            gb = d.sum(axis=0)
            if i:
                d = d @ W[i].T
                d *= (hs[i] > 0) if relu else (1 - hs[i] * hs[i])
            W[i] -= lr * gW
            b[i] -= lr * gb
        return cost
    return step


def torch_mlp_step(torch: Any, weights: dict, sizes: list[int], activation: str, x: np.ndarray,
                   y: np.ndarray, device: str = "cpu") -> Callable:
    """The same step in PyTorch eager (autograd, manual SGD), on the CPU or a CUDA device; the
    cost stays a tensor (on a GPU the caller synchronizes)."""
    layers = len(sizes) - 1
    params = []
    for i in range(1, layers + 1):
        params += [torch.tensor(weights[f"W{i}"], device=device, requires_grad=True),
                   torch.tensor(weights[f"b{i}"], device=device, requires_grad=True)]
    tx, ty = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    act = torch.relu if activation == "ReLU" else torch.tanh

    def step() -> Any:
        h = tx
        for i in range(layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < layers - 1:
                h = act(h)
        cost = torch.nn.functional.cross_entropy(h, ty)
        grads = torch.autograd.grad(cost, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(LR * g)
        return cost.detach()
    return step
