"""NumPy script names and devices: values named after nodes (made safe), and the xp indirection."""
from __future__ import annotations

import ast
import builtins
import importlib.util
import keyword
import os
import subprocess
import sys

import numpy as np
import pytest

from core.export.common import ExportError, NameTable
from core.export.numpy_export import export_numpy, numpy_source
from core.export.numpy_names import identifiers, module_names, on_xp, rename
from core.export.common import default_outputs
from core.devices import cuda_unavailable_reason
from core.graph import evaluate, init_params, load_graph
from export_cases import EXAMPLES, make_graph
from test_numpy_export import DRIVER, STEPS, loom_losses, run_isolated

# Node ids that are the script's own names, keywords or builtins: each must be renamed, never trusted.
HOSTILE = [("np", "Input", {"shape": ["N", 2]}), ("step", "Input", {"shape": ["N"], "dtype": "int64"}),
           ("matmul", "Dense", {"units": 8, "activation": "none"}), ("lambda", "Tanh", {}),
           ("sum", "Dense", {"units": 8, "activation": "relu"}), ("xp", "Square", {}), ("B", "Neg", {}),
           ("I", "MatMul", {}), ("S", "Parameter", {"shape": [8, 2]}), ("main", "Softmax", {}),
           ("buffers", "Log", {}), ("softmax", "Add", {}), ("to_host", "Constant", {"value": 0.5}),
           ("n", "Mul", {}), ("print", "SoftmaxCrossEntropy", {}), ("class", "Accuracy", {})]
HOSTILE_EDGES = [("np", "matmul", "x"), ("matmul", "lambda", "x"), ("lambda", "sum", "x"), ("sum", "xp", "x"),
                 ("xp", "B", "x"), ("B", "I", "a"), ("S", "I", "b"), ("I", "main", "x"), ("main", "buffers", "x"),
                 ("buffers", "softmax", "a"), ("I", "softmax", "b"), ("softmax", "n", "a"), ("to_host", "n", "b"),
                 ("n", "print", "logits"), ("step", "print", "labels"), ("n", "class", "scores"),
                 ("step", "class", "labels")]
STAND_IN = '''"""A stand-in for CuPy made of NumPy, whose ufuncs (like older CuPy's) have no .reduce."""
import numpy as _np


class _Ufunc:
    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return self._ufunc(*args, **kwargs)


def __getattr__(name):
    value = getattr(_np, name)
    return _Ufunc(value) if isinstance(value, _np.ufunc) else value


def asnumpy(array):
    return _np.asarray(array)


class cuda:
    class runtime:
        @staticmethod
        def getDeviceCount():
            return 1
'''


def hostile_graph():
    graph = make_graph(HOSTILE, HOSTILE_EDGES)
    graph.set_training({"dataset": {"name": "xor", "seed": 2}, "features": "np", "labels": "step", "loss": "print",
                        "metrics": ["class"], "optimizer": {"name": "adam", "lr": 0.02}, "batch_size": 16,
                        "epochs": 2, "seed": 4})
    return graph


def fake_cupy(tmp_path, body):
    folder = tmp_path / "fake" / "cupy"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(body)
    return {**os.environ, "PYTHONPATH": str(folder.parent)}


def run_with(env, args, cwd):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def losses_of(stdout):
    return [float(line.split("loss ")[1].split(",")[0]) for line in stdout.splitlines() if line.startswith("step")]


def step_functions(source):
    """Each compiled section's functions: {section: {function name: def node}}."""
    tree = ast.parse(source)
    return {f.name: {g.name: g for g in f.body if isinstance(g, ast.FunctionDef)}
            for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.endswith("_program")}


def unpacked(step, parameter):
    for node in ast.walk(step):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == parameter:
            return [e.id for e in node.targets[0].elts]
    return []


# ---- The naming helper and the source rewrites

def test_name_table_makes_keywords_builtins_and_reserved_names_safe_and_unique():
    table = NameTable({"np", "step", "matmul"})
    names = [table.name(("value", k), k) for k in ("np", "step", "lambda", "sum", "x", "matmul", "None")]
    assert names == ["np_2", "step_2", "lambda_", "sum_", "x", "matmul_2", "None_"]
    assert table.name(("kernel", "x"), "x") == "x_2" and table.name(("value", "x"), "ignored") == "x"
    assert table.name("a-b.c") == "a_b_c" and table.name(("odd",), "1st") == "v_1st"


def test_rename_touches_names_only():
    code = "b0 = s0.b0 + f('b0')  # b0\nmatmul(b0, out=b1)\n"
    assert rename(code, {"b0": "hidden", "b1": "probs"}) == \
        "hidden = s0.b0 + f('b0')  # b0\nmatmul(hidden, out=probs)\n"


def test_on_xp_moves_every_numpy_call_to_the_array_module():
    code = "np.maximum.reduce(x, axis=1, out=m)\nnp.add.reduce(t)\nnp.exp(t, t)\ny: np.ndarray = a.np.add\n"
    assert on_xp(code) == "max_reduce(x, axis=1, out=m)\nsum_reduce(t)\nxp.exp(t, t)\ny: xp.ndarray = a.np.add\n"
    with pytest.raises(ExportError):
        on_xp("np.logaddexp.reduce(x)")


def test_module_names_are_what_a_script_binds_at_top_level():
    code = "import numpy as np\nfrom a import b\nX, Y = 1, 2\ndef f(q):\n    global G\n    z = q\nclass C:\n    w = 1\n"
    assert module_names(code) == {"np", "b", "X", "Y", "f", "G", "C"}
    assert {"f", "q", "z", "G"} <= identifiers(code)


# ---- The exported script

def test_the_xor_step_reads_with_node_names():
    graph, weights = load_graph(next(p for p in EXAMPLES if p.stem == "xor"))
    source = numpy_source(graph, weights, base_dir=EXAMPLES[0].parent)[0]
    train = step_functions(source)["_train_program"]["step"]
    assert unpacked(train, "I") == ["x", "y", "opt_lr", "opt_adam_c1", "opt_adam_c2"]
    assert unpacked(train, "S")[:2] == ["hidden_W", "hidden_b"] and "hidden_W_adam_m" in unpacked(train, "S")
    assert {"hidden_matmul", "hidden_tanh", "logits_add", "hidden_tanh_fused"} <= set(unpacked(train, "B"))
    text = ast.unparse(train)
    assert "matmul(x, hidden_W, out=hidden_matmul)" in text
    assert "hidden_tanh_fused(hidden_matmul, hidden_b, hidden_tanh)" in text
    assert "def hidden_tanh_fused(" in source and "def accuracy_reference(ctx, *arrays)" in source


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_steps_kernels_and_device_helpers_call_numpy_only_through_xp(path):
    graph, weights = load_graph(path)
    try:
        source = numpy_source(graph, weights, base_dir=path.parent)[0]
    except ExportError:
        return  # an op a script cannot carry (checked in test_numpy_export)
    tree = ast.parse(source)
    helpers = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in
               ("softmax", "log_softmax", "softmax_xent", "one_hot", "softmax_rows", "xent_grad_from",
                "softmax_xent_grad", "check_labels", "shifted_columns")]
    functions = [g for section in step_functions(source).values() for g in section.values()] + helpers
    assert len(helpers) == 9 and any(f.name == "step" for f in functions)
    for function in functions:
        code = [n for n in ast.walk(function) if not isinstance(n, ast.arg)]
        uses_np = any(isinstance(n, ast.Name) and n.id == "np" for n in code)
        if function.name.endswith("_reference"):  # host code by design: on host copies, back to xp
            assert uses_np and "map(to_host, arrays)" in ast.unparse(function) and "to_device(" in ast.unparse(function)
        else:
            assert not uses_np, f"{function.name} calls NumPy directly"


def test_hostile_node_names_are_renamed_and_the_script_still_matches_loom(tmp_path):
    graph = hostile_graph()
    path = export_numpy(graph, {}, tmp_path / "hostile.py")
    source = path.read_text()
    sections = step_functions(source)
    taken = module_names(source) | set(dir(builtins))
    for section in sections.values():
        step = section["step"]
        names = unpacked(step, "I") + unpacked(step, "S") + unpacked(step, "B")
        assert len(names) == len(set(names))
        assert not [n for n in names if keyword.iskeyword(n) or keyword.issoftkeyword(n) or n in taken]
        assert not set(names) & (set(section) - {n for n in names if n in section})  # kernels: their own entry
    train = sections["_train_program"]["step"]
    assert unpacked(train, "I")[:2] == ["np_2", "step_2"] and "S_2" in unpacked(train, "S")
    assert {"lambda_", "B_2", "I_2", "main_2", "n_2"} <= set(unpacked(train, "B"))
    assert {"print_", "class_"} <= {t.id for t in ast.walk(train) if isinstance(t, ast.Name)}
    assert "def class_reference(ctx, *arrays)" in source
    want = loom_losses(graph, STEPS)
    done = run_isolated([str(path), "--steps", str(STEPS), "--every-step"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(want) == STEPS and losses_of(done.stdout) == pytest.approx(want, rel=1e-6)
    feeds = {"np": np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)}
    np.savez(tmp_path / "inputs.npz", **feeds)
    (tmp_path / "driver.py").write_text(DRIVER)
    done = run_isolated([str(tmp_path / "driver.py"), str(path), str(tmp_path / "inputs.npz"),
                         str(tmp_path / "out.npz")], tmp_path)
    assert done.returncode == 0, done.stderr
    outputs = default_outputs(graph)
    want = evaluate(graph, feeds, init_params(graph, 4), outputs)
    with np.load(tmp_path / "out.npz") as got:
        for node in outputs:
            np.testing.assert_allclose(got[node], want[node], rtol=1e-5, atol=1e-6, err_msg=node)


# ---- --device cupy

def test_device_cupy_without_cupy_says_so_and_exits_2(tmp_path):
    graph, weights = load_graph(next(p for p in EXAMPLES if p.stem == "xor"))
    path = export_numpy(graph, weights, tmp_path / "xor.py", base_dir=EXAMPLES[0].parent)
    if importlib.util.find_spec("cupy") is None:  # this machine: no CuPy at all
        done = run_isolated([str(path), "--device", "cupy"], tmp_path)
        assert done.returncode == 2 and "needs CuPy, which is not installed" in done.stderr
        assert "Traceback" not in done.stderr and not done.stdout
    env = fake_cupy(tmp_path, "raise ImportError('No module named cupy_backends')\n")
    done = run_with(env, [str(path), "--device", "cupy"], tmp_path)
    assert done.returncode == 2 and "needs CuPy, which is not installed" in done.stderr
    assert "Traceback" not in done.stderr


def test_device_cupy_without_a_gpu_says_so_and_exits_2(tmp_path):
    graph, weights = load_graph(next(p for p in EXAMPLES if p.stem == "xor"))
    path = export_numpy(graph, weights, tmp_path / "xor.py", base_dir=EXAMPLES[0].parent)
    env = fake_cupy(tmp_path, STAND_IN.replace("return 1", "raise RuntimeError('cudaErrorNoDevice')"))
    done = run_with(env, [str(path), "--device", "cupy", "--steps", "1"], tmp_path)
    assert done.returncode == 2 and "CuPy has no usable GPU" in done.stderr and "cudaErrorNoDevice" in done.stderr
    assert "Traceback" not in done.stderr and "loss" not in done.stdout


@pytest.mark.parametrize("stem", ["xor", "digits_cnn", "autoencoder"])
def test_the_cupy_code_path_on_a_numpy_stand_in_matches_loom(stem, tmp_path):
    """--device cupy with a CuPy made of NumPy: the aliases, reductions and host round trips of the
    CuPy branch run (no GPU here), and the losses are Loom's. Weights are saved back to the host."""
    source = next(p for p in EXAMPLES if p.stem == stem)
    graph, weights = load_graph(source)
    path = export_numpy(graph, weights, tmp_path / f"{stem}.py", base_dir=source.parent)
    env = fake_cupy(tmp_path, STAND_IN)
    done = run_with(env, [str(path), "--device", "cupy", "--steps", "4", "--every-step", "--save",
                          str(tmp_path / "out.npz")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert losses_of(done.stdout) == pytest.approx(loom_losses(graph, 4), rel=1e-6)
    with np.load(tmp_path / "out.npz") as trained, np.load(path.with_suffix(".npz")) as start:
        assert sorted(trained.files) == sorted(start.files)


@pytest.mark.skipif(cuda_unavailable_reason() is not None, reason=f"no CUDA GPU: {cuda_unavailable_reason()}")
@pytest.mark.parametrize("stem", ["xor", "digits_cnn", "autoencoder"])
def test_the_cupy_script_on_a_gpu_matches_loom(stem, tmp_path):
    source = next(p for p in EXAMPLES if p.stem == stem)
    graph, weights = load_graph(source)
    path = export_numpy(graph, weights, tmp_path / f"{stem}.py", base_dir=source.parent)
    done = run_with(dict(os.environ), [str(path), "--device", "cupy", "--steps", "4", "--every-step"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert losses_of(done.stdout) == pytest.approx(loom_losses(graph, 4), rel=1e-5)
