"""compile(): every example with its gradient and updates against the reference executor, the
compile cache, Theano's update semantics, buffers without per-step allocation, and errors."""
from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.devices import available_devices
from core.graph import GraphError, LoomError, evaluate, load_graph
from bench.bench_compiler_workloads import sgd_updates
from core.graph.builder import Builder, apply

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "resources" / "examples").glob("*.json"))
DEVICES = available_devices()




def feeds_for(graph, batch=7, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    feeds = {}
    for node in graph.nodes:
        if graph.op_name(node) == "Input":
            attrs = graph.attrs(node)
            shape = tuple(batch if d == "N" else d for d in attrs["shape"])
            feeds[node] = (rng.integers(0, classes, shape) if attrs["dtype"] == "int64"
                           else rng.normal(size=shape).astype(attrs["dtype"]))
    return feeds


def tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_matches_the_reference_with_gradients(path, device):
    graph, weights = load_graph(path)
    loss = graph.training.get("loss")
    outputs = [n for n in graph.nodes if not graph.out_edges(n) and graph.op_name(n) not in ("Input", "Parameter")]
    if loss:
        graph, grads = differentiate(graph, loss)
        updates = sgd_updates(graph, grads)
    else:
        updates = {}
    inputs = [n for n in graph.nodes if graph.op_name(n) == "Input"]
    step = compile(graph, inputs, outputs, updates, weights=weights, device=device)
    for seed in range(3):
        feeds = feeds_for(graph, seed=seed)
        before = step.get_weights()
        ref = evaluate(step.graph, feeds, before, outputs + list(updates.values()))
        got = step(**feeds)
        for name, value in zip(outputs, got):
            np.testing.assert_allclose(value, ref[name], **tolerance(str(ref[name].dtype)))
        after = step.get_weights()
        for key, node in updates.items():
            np.testing.assert_allclose(after[key], ref[node], **tolerance(str(after[key].dtype)))


def _mlp(hidden_activation="Tanh", batch="N"):
    graph, _ = load_graph(EXAMPLES[[p.stem for p in EXAMPLES].index("seed_mlp")])
    return graph


def test_compiled_training_follows_the_reference_for_many_steps():
    graph, grads = differentiate(_mlp(), "cost")
    updates = sgd_updates(graph, grads)
    step = compile(graph, ["x", "y"], ["cost"], updates)
    weights = step.get_weights()
    for i in range(20):
        feeds = feeds_for(graph, batch=16, seed=i)
        ref = evaluate(graph, feeds, weights, ["cost"] + list(updates.values()))
        (cost,) = step(feeds["x"], feeds["y"])
        np.testing.assert_allclose(cost, ref["cost"], rtol=2e-5)
        weights = {**weights, **{k: ref[v] for k, v in updates.items()}}
    for key, value in step.get_weights().items():
        np.testing.assert_allclose(value, weights[key], rtol=1e-4, atol=1e-6)


def test_recompiling_an_unchanged_graph_shares_the_program_not_the_state():
    graph, grads = differentiate(_mlp(), "cost")
    updates = sgd_updates(graph, grads)
    first = compile(graph, ["x", "y"], ["cost"], updates)
    moved = graph.copy()
    moved.set_ui("h1", "pos", [1, 2])
    second = compile(moved, ["x", "y"], ["cost"], updates)
    assert second.program is first.program
    feeds = feeds_for(graph, batch=4)
    before = second.get_weights()
    first(feeds["x"], feeds["y"])
    for key, value in second.get_weights().items():
        np.testing.assert_array_equal(value, before[key])
    changed = graph.copy()
    changed.set_attr("p_y_given_x", "axis", 1)
    changed.set_attr("p_y_given_x", "axis", -1)
    assert compile(changed, ["x", "y"], ["cost"], updates).program is first.program
    other = compile(graph, ["x", "y"], ["cost", "accuracy"], updates)
    assert other.program is not first.program


def test_updates_read_old_values_theano_semantics():
    graph, b = Builder.__new__(Builder), None
    from core.graph import Graph

    graph = Graph()
    for key, init in (("a", "zeros"), ("v", "zeros"), ("w", "zeros")):
        graph.add_node("Parameter", {"shape": [3], "dtype": "float64", "init": init}, node_id=key)
    graph.add_node("Input", {"shape": [3], "dtype": "float64"}, node_id="g")
    b = Builder(graph)
    v_new = 0.9 * b.var("v") - 0.1 * b.var("g")
    w_new = b.var("w") + b.var("v") + v_new
    total = apply("Sum", b.var("a") * b.var("w"))
    updates = {"v": v_new.node, "w": w_new.node, "a": "w"}
    step = compile(graph, ["g"], [total.node, "w"], updates,
                   weights={"a": np.ones(3), "v": np.full(3, 2.0), "w": np.arange(3.0)})
    g = np.array([1.0, -1.0, 0.5])
    s, w_out = step(g)
    assert s == pytest.approx(3.0)
    np.testing.assert_allclose(w_out, np.arange(3.0))
    state = step.get_weights()
    np.testing.assert_allclose(state["v"], 0.9 * 2.0 - 0.1 * g)
    np.testing.assert_allclose(state["w"], np.arange(3.0) + 2.0 + (0.9 * 2.0 - 0.1 * g))
    np.testing.assert_allclose(state["a"], np.arange(3.0))


def test_swapping_updates_use_the_old_values():
    from core.graph import Graph

    graph = Graph()
    graph.add_node("Parameter", {"shape": [2], "dtype": "float64"}, node_id="p")
    graph.add_node("Parameter", {"shape": [2], "dtype": "float64"}, node_id="q")
    step = compile(graph, [], [], {"p": "q", "q": "p"}, weights={"p": np.zeros(2), "q": np.ones(2)})
    step()
    state = step.get_weights()
    np.testing.assert_array_equal(state["p"], np.ones(2))
    np.testing.assert_array_equal(state["q"], np.zeros(2))


@pytest.mark.cpu_only
def test_no_allocation_per_step_after_warm_up():
    graph, grads = differentiate(_mlp(), "cost")
    updates = sgd_updates(graph, grads)
    step = compile(graph, ["x", "y"], ["cost"], updates)
    feeds = feeds_for(graph, batch=512)
    for _ in range(3):
        step(feeds["x"], feeds["y"])
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for _ in range(5):
        step(feeds["x"], feeds["y"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    activation = 512 * 100 * 4
    assert peak - base < activation / 4


def test_outputs_are_copies_the_next_step_does_not_overwrite():
    graph, grads = differentiate(_mlp(), "cost")
    step = compile(graph, ["x", "y"], ["p_y_given_x"], {})
    feeds = feeds_for(graph, batch=4)
    (p1,) = step(feeds["x"], feeds["y"])
    kept = p1.copy()
    step(feeds["x"] * 2, feeds["y"])
    np.testing.assert_array_equal(p1, kept)


def test_layers_and_dropout_compile():
    from core.graph import Graph

    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 5], "dtype": "float64"}, node_id="x")
    b = Builder(graph)
    dense = b.add("Dense", [b.var("x")], {"units": 4, "activation": "relu"}, name="dense")[0]
    out = b.add("Dropout", [dense], {"rate": 0.5}, name="drop")[0]
    x = np.random.default_rng(0).normal(size=(6, 5))
    evaluation = compile(graph, ["x"], [out.node], training=False)
    weights = evaluation.get_weights()
    ref = evaluate(graph, {"x": x}, weights, [out.node])
    np.testing.assert_allclose(evaluation(x)[0], ref[out.node], rtol=1e-12)
    training = compile(graph, ["x"], [out.node], training=True, weights=weights)
    dropped = training(x)[0]
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], 2 * ref[out.node][kept], rtol=1e-12)


def test_a_large_fused_group_runs_chunked_on_threads_and_matches_numpy():
    from core.graph import Graph

    graph = Graph()
    graph.add_node("Input", {"shape": ["N"], "dtype": "float32"}, node_id="x")
    x = Builder(graph).var("x")
    y = apply("Tanh", 0.7 * x + 0.3) * apply("Sigmoid", x) + 0.5 * x * x
    step = compile(graph, ["x"], [y.node])
    data = np.random.default_rng(1).normal(size=1_000_003).astype(np.float32)
    expected = evaluate(graph, {"x": data}, {}, [y.node])[y.node]
    np.testing.assert_allclose(step(data)[0], expected, rtol=2e-6, atol=1e-6)
    assert len(step.kernels) == 1 and len(next(iter(step.groups.values()))) == 8


def test_exclude_switches_rewrites_off():
    graph, grads = differentiate(_mlp(), "cost")
    step = compile(graph, ["x", "y"], ["cost"], sgd_updates(graph, grads), exclude={"fuse"})
    assert "Fused" not in {step.optimized.op_name(n) for n in step.optimized.nodes}
    assert not any(r.phase == "fuse" and r.rewrite == "fuse_elementwise" for r in step.rewrites)


def test_node_ids_never_reach_generated_code_outside_comments():
    from core.graph import Graph

    graph = Graph()
    for name in ("np", "step", "B", "__import__"):
        graph.add_node("Input", {"shape": [2], "dtype": "float64"}, node_id=name)
    b = Builder(graph)
    total = apply("Tanh", b.var("np") * b.var("step")) + apply("Exp", b.var("B")) - b.var("__import__")
    step = compile(graph, ["np", "step", "B", "__import__"], [total.node])
    code = [line.split("#")[0] for line in step.source.splitlines()]
    assert not any("__import__" in line for line in code)
    values = [np.array([0.1, 0.2]), np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array([3.0, 4.0])]
    expected = np.tanh(values[0] * values[1]) + np.exp(values[2]) - values[3]
    np.testing.assert_allclose(step(*values)[0], expected)


def test_errors_name_the_node():
    graph, grads = differentiate(_mlp(), "cost")
    step = compile(graph, ["x", "y"], ["cost"], {})
    feeds = feeds_for(graph, batch=4)
    with pytest.raises(LoomError) as info:
        step(feeds["x"], np.array([0, 1, 2, 99]))
    assert info.value.node == "cost"
    with pytest.raises(GraphError) as info:
        step(feeds["x"])
    assert info.value.node == "y"
    with pytest.raises(GraphError):
        step(feeds["x"][:, :3], feeds["y"])
    with pytest.raises(GraphError):
        compile(graph, ["x", "y"], ["cost"], {"h1": "h1"})


def test_a_fused_node_from_a_file_cannot_smuggle_names():
    from core.graph import Graph

    graph = Graph()
    graph.add_node("Input", {"shape": [2], "dtype": "float64"}, node_id="x")
    graph.add_node("Fused", {"n": 1, "expr": "tanh(x1) + x2", "dtype": "float64"}, node_id="f")
    graph.connect("x", "y", "f", "x1", typed=False)  # as a file loads it: the wire is typed later
    with pytest.raises(GraphError):
        graph.set_attr("f", "expr", "__import__('os').getcwd()")
    with pytest.raises(GraphError) as info:
        compile(graph, ["x"], ["f"])
    assert info.value.node == "f"


class _StandInGpu:
    """A stand-in CUDA device: the CPU device under the name "cuda"; subclasses change one thing."""

    name = "cuda"
    fallback_reason = None

    def __init__(self):
        from core.devices import NumpyDevice

        self._cpu = NumpyDevice()
        self.max_operands = self._cpu.max_operands

    def __getattr__(self, name):
        return getattr(self._cpu, name)


class _FailingGpu(_StandInGpu):
    """Its matrix products fail as an out-of-memory GPU would."""

    def namespace(self):
        def matmul(*args, **kwargs):
            raise RuntimeError("out of memory allocating 512 bytes")
        return {**self._cpu.namespace(), "matmul": matmul}


def test_a_cuda_failure_falls_back_to_the_cpu_with_one_message(monkeypatch):
    import core.compiler.function as function

    monkeypatch.setattr(function, "get_device", lambda name: _FailingGpu())
    graph, grads = differentiate(_mlp(), "cost")
    updates = sgd_updates(graph, grads)
    step = compile(graph, ["x", "y"], ["cost"], updates, device="cuda")
    weights = step.get_weights()
    feeds = feeds_for(graph, batch=5)
    with pytest.warns(RuntimeWarning, match="CUDA failed .*out of memory.*running on the CPU"):
        (cost,) = step(feeds["x"], feeds["y"])
    assert step.device.name == "cpu" and "out of memory" in step.device.fallback_reason
    ref = evaluate(graph, feeds, weights, ["cost"] + list(updates.values()))
    np.testing.assert_allclose(cost, ref["cost"], rtol=1e-5)
    for key, node in updates.items():
        np.testing.assert_allclose(step.get_weights()[key], ref[node], rtol=1e-5, atol=1e-7)


class _DeviceArray(np.ndarray):
    """An array 'in GPU memory': a NumPy subclass, so the host/device contract can be checked here."""


class _DeviceNumpy:
    """NumPy whose `empty` makes device arrays: what `np` is to a step compiled for the stand-in."""

    empty = staticmethod(lambda shape, dtype: np.empty(shape, dtype).view(_DeviceArray))

    def __getattr__(self, name):
        return getattr(np, name)


class _HostGpu(_StandInGpu):
    """It computes with NumPy but keeps its arrays as _DeviceArray."""

    def empty(self, shape, dtype):
        return _DeviceNumpy.empty(shape, dtype)

    def namespace(self):
        return {**self._cpu.namespace(), "np": _DeviceNumpy()}

    def to_device(self, value):
        return value if isinstance(value, _DeviceArray) else np.array(value).view(_DeviceArray)

    def to_host(self, value):
        return np.array(value).view(np.ndarray)                  # a copy, as cupy.asnumpy makes


@pytest.mark.parametrize("host_outputs", [True, False])
def test_outputs_come_back_on_the_host_or_stay_on_the_device(monkeypatch, host_outputs):
    import core.compiler.function as function

    monkeypatch.setattr(function, "get_device", lambda name: _HostGpu())
    graph, grads = differentiate(_mlp(), "cost")
    wanted = ["cost", grads.grads["W3"]]
    step = compile(graph, ["x", "y"], wanted, device="cuda", host_outputs=host_outputs)
    feeds = feeds_for(graph, batch=5, classes=10)
    ref = evaluate(graph, feeds, step.get_weights(), wanted)
    fed = [(feeds["x"], feeds["y"]),                                           # host arrays
           (_HostGpu().to_device(feeds["x"]), _HostGpu().to_device(feeds["y"])),  # device arrays
           (feeds["x"].astype(np.float64).tolist(), feeds["y"].tolist())]        # converted on the device
    for x, y in fed:
        first = step(x, y)
        for got, node in zip(first, wanted):
            assert isinstance(got, _DeviceArray) != host_outputs
            np.testing.assert_allclose(got, ref[node], rtol=1e-5, atol=1e-7)
        kept = [np.array(a) for a in first]
        step(np.zeros_like(feeds["x"]), feeds["y"])                              # outputs are not overwritten
        for got, want in zip(first, kept):
            np.testing.assert_array_equal(got, want)
    assert step.device.name == "cuda"                                          # no fallback on the way


def test_the_cross_entropy_gradient_alone_matches_the_reference():
    graph, grads = differentiate(_mlp(), "cost")
    wanted = [grads.grads["W3"], grads.grads["b1"]]
    step = compile(graph, ["x", "y"], wanted)
    assert "SoftmaxXentGrad" in {step.optimized.op_name(n) for n in step.optimized.nodes}
    assert "SoftmaxCrossEntropy" not in {step.optimized.op_name(n) for n in step.optimized.nodes}
    feeds = feeds_for(graph, batch=6, classes=10)
    ref = evaluate(graph, feeds, step.get_weights(), wanted)
    for got, node in zip(step(feeds["x"], feeds["y"]), wanted):
        np.testing.assert_allclose(got, ref[node], rtol=1e-5, atol=1e-7)


def test_calls_follow_new_values_dtypes_and_shapes_through_the_fast_path():
    """A call with arrays like the last call's skips binding; anything else takes the general path."""
    graph = _mlp()
    step = compile(graph, ["x", "y"], ["cost"])
    weights = step.get_weights()
    feeds = [feeds_for(graph, batch=5, seed=s, classes=10) for s in range(3)]
    cases = [(f["x"], f["y"]) for f in feeds]
    cases += [(feeds[0]["x"].astype(np.float64), feeds[0]["y"]),          # converted every call
              (feeds[1]["x"].tolist(), feeds[1]["y"].tolist()),             # lists
              (feeds_for(graph, batch=9, classes=10)["x"], feeds_for(graph, batch=9, classes=10)["y"])]
    x = feeds[2]["x"].copy()
    step(x, feeds[2]["y"])
    x[...] = feeds[0]["x"]                                                    # same array, new values
    cases.append((x, feeds[0]["y"]))
    for x, y in cases:
        want = evaluate(graph, {"x": np.asarray(x, np.float32), "y": np.asarray(y)}, weights, ["cost"])["cost"]
        np.testing.assert_allclose(step(x, y)[0], want, rtol=1e-5)
        np.testing.assert_allclose(step(x=x, y=y)[0], want, rtol=1e-5)


def test_state_is_read_only_and_set_weights_reaches_the_step():
    graph = _mlp()
    step = compile(graph, ["x", "y"], ["cost"])
    feeds = feeds_for(graph, batch=5, classes=10)
    with pytest.raises(TypeError):
        step.state["W1"] = np.zeros_like(step.state["W1"])
    weights = {k: v * 0.5 for k, v in step.get_weights().items()}
    step(feeds["x"], feeds["y"])
    step.set_weights(weights)
    want = evaluate(graph, feeds, weights, ["cost"])["cost"]
    np.testing.assert_allclose(step(feeds["x"], feeds["y"])[0], want, rtol=1e-5)


@pytest.mark.parametrize("op,keepdims", [("Sum", False), ("Sum", True), ("Mean", False), ("Mean", True)])
def test_sums_over_the_rows_of_a_matrix_run_as_a_product_with_ones(op, keepdims):
    from core.graph import Graph

    graph = Graph()
    graph.add_node("Input", {"shape": ["N", 7], "dtype": "float32"}, node_id="x")
    graph.add_node(op, {"axes": [0], "keepdims": keepdims}, node_id="s")
    graph.connect("x", "y", "s", "x")
    step = compile(graph, ["x"], ["s"])
    assert "sum_reduce" not in step.source and "matmul(u0, i0" in step.source
    x = np.random.default_rng(0).normal(size=(300, 7)).astype(np.float32)
    want = (x.astype(np.float64).sum if op == "Sum" else x.astype(np.float64).mean)(axis=0, keepdims=keepdims)
    np.testing.assert_allclose(step(x)[0], want, rtol=1e-5, atol=1e-6)
