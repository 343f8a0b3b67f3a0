"""PyTorch export: a generated .py file with an nn.Module named after the graph, and a training script.

Layer nodes become nn.Linear, nn.Conv2d, nn.Embedding and nn.Dropout; every other op becomes one
line of torch code. Loom's weights (.npz) load with `Model.load_loom_weights`, which transposes
Dense kernels ((in, out) in Loom, (out, in) in nn.Linear). Beside the file go the initial weights
(Loom's draw for parameters without stored values) and, for a graph with a training configuration,
its data in the NumPy export's layout, so `python model.py` trains as it is; torch_script.py holds
the script, which also runs data-parallel under torchrun. torch is not needed to export.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from core.graph import Graph, TensorType, init_params
from core.graph.types import normalize_axes
from core.graph.fileformat import atomic_write

from .common import ExportError, NameTable, checked, data_arrays, feature_arrays, resolve_outputs
from .numpy_names import module_names
from .templates import TORCH_SPAN_F1
from .torch_script import TORCH_HEADER, TORCH_METHODS, TORCH_SCRIPT

CONSTANTS = ("TITLE", "TRAINING", "OUTPUTS", "LOSS_INPUTS", "FEEDS", "FEED_DTYPES", "HAS_TRAINING",
             "EVERY_PARAMETER_IN_LOSS", "Model")
RESERVED = tuple(sorted(module_names(TORCH_HEADER + TORCH_SCRIPT + TORCH_SPAN_F1) | set(CONSTANTS)
                        | {"self", "weights", "model"}))
MODULE_ATTRS = ("add_module", "apply", "bfloat16", "buffers", "children", "compile", "cpu", "cuda",
                "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer",
                "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict",
                "modules", "mtia", "named_buffers", "named_children", "named_modules", "named_parameters",
                "parameters", "register_backward_hook", "register_buffer", "register_forward_hook",
                "register_forward_pre_hook", "register_full_backward_hook", "register_full_backward_pre_hook",
                "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module",
                "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
                "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to",
                "to_empty", "train", "training", "type", "xpu", "zero_grad", "call_super_init",
                "T_destination", "losses", "load_loom_weights", "loom_weights", "LOOM_PARAMS")
TORCH_DTYPES = {"float32": "torch.float32", "float64": "torch.float64", "int64": "torch.int64"}
ACTIVATIONS = {"none": "{}", "relu": "torch.relu({})", "tanh": "torch.tanh({})", "sigmoid": "torch.sigmoid({})",
               "leaky_relu": "F.leaky_relu({}, 0.01)", "elu": "F.elu({}, 1.0)", "softplus": "F.softplus({})",
               "softmax": "torch.softmax({}, dim=-1)"}


class Writer:
    """Collects the module's members and the lines of its methods for one graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.types = graph.types()
        self.locals = NameTable(RESERVED)
        self.attrs = NameTable(RESERVED + MODULE_ATTRS, private=False)
        self.members: list[str] = []
        self.loom_params: list[tuple[str, str, bool]] = []  # (weights key, attribute path, transposed)

    def var(self, node_id: str) -> str:
        return self.locals.name(node_id)

    def member(self, node_id: str) -> str:
        return "self." + self.attrs.name(node_id)

    def in_types(self, node_id: str) -> list[TensorType]:
        spec = self.graph.spec(node_id)
        return [self.types[self.graph.source(node_id, p)] for p in spec.input_names(self.graph.attrs(node_id))]

    def args(self, node_id: str, dtype: Optional[str] = None) -> list[str]:
        """The code for each input, cast to `dtype` where it differs (as Loom promotes)."""
        spec = self.graph.spec(node_id)
        out = []
        for port, t in zip(spec.input_names(self.graph.attrs(node_id)), self.in_types(node_id)):
            code = self.var(self.graph.source(node_id, port)[0])
            out.append(f"{code}.to({TORCH_DTYPES[dtype]})" if dtype and t.dtype != dtype else code)
        return out

    def out_dtype(self, node_id: str) -> str:
        return self.types[(node_id, "y")].dtype


def _num(value: float) -> str:
    """A float literal (attribute values are checked finite numbers)."""
    return repr(float(value))


def _numbers(attrs: dict) -> dict[str, str]:
    """Literals for the numeric attributes: ints stay ints (axes), floats are floats."""
    return {k: str(int(v)) if isinstance(v, int) else _num(v) for k, v in attrs.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _ints(values: Iterable) -> str:
    return "(" + ", ".join(str(int(v)) for v in values) + ",)"


# ---- One expression per op: (writer, node, attrs) -> code

Expr = Callable[[Writer, str, dict], str]


def _fmt(template: str) -> Expr:
    """Fill `template` with the inputs, cast to the result's dtype: "{0} + {1}"."""
    def expr(w: Writer, node: str, attrs: dict) -> str:
        return template.format(*w.args(node, w.out_dtype(node)), **_numbers(attrs))
    return expr


def _raw(template: str) -> Expr:
    """Fill `template` with the inputs as they are (labels and ids keep their dtype)."""
    def expr(w: Writer, node: str, attrs: dict) -> str:
        return template.format(*w.args(node), **_numbers(attrs))
    return expr


def _compare(template: str) -> Expr:
    def expr(w: Writer, node: str, attrs: dict) -> str:
        dtype = w.out_dtype(node)
        return "(" + template.format(*w.args(node, dtype)) + f").to({TORCH_DTYPES[dtype]})"
    return expr


def _where(w: Writer, node: str, attrs: dict) -> str:
    dtype = w.out_dtype(node)
    c = w.args(node)[0]
    a, b = w.args(node, dtype)[1:]
    return f"torch.where({c} != 0, {a}, {b})"


def _matmul(w: Writer, node: str, attrs: dict) -> str:
    a, b = w.args(node, w.out_dtype(node))
    a = f"{a}.transpose(-1, -2)" if attrs["transpose_a"] else a
    b = f"{b}.transpose(-1, -2)" if attrs["transpose_b"] else b
    return f"torch.matmul({a}, {b})"


def _transpose(w: Writer, node: str, attrs: dict) -> str:
    rank = w.in_types(node)[0].ndim
    perm = list(reversed(range(rank))) if attrs["axes"] is None else [a % rank for a in attrs["axes"]]
    return f"{w.args(node)[0]}.permute{_ints(perm)}"


def _reshape(w: Writer, node: str, attrs: dict) -> str:
    (x,) = w.args(node)
    source = w.in_types(node)[0].shape
    shape = attrs["shape"]
    dims = []
    for d in shape:
        if isinstance(d, str):
            dims.append(f"{x}.shape[{source.index(d)}]" if -1 in shape else "-1")
        else:
            dims.append(str(int(d)))
    return f"{x}.reshape({', '.join(dims)})"


def _reduce(fn: str) -> Expr:
    def expr(w: Writer, node: str, attrs: dict) -> str:
        (x,) = w.args(node)
        axes = normalize_axes(attrs["axes"], w.in_types(node)[0].ndim)
        if not axes:
            return x
        return f"torch.{fn}({x}, dim={_ints(axes)}, keepdim={bool(attrs['keepdims'])})"
    return expr


def _concat(w: Writer, node: str, attrs: dict) -> str:
    return f"torch.cat([{', '.join(w.args(node, w.out_dtype(node)))}], dim={int(attrs['axis'])})"


def _slice(w: Writer, node: str, attrs: dict) -> str:
    start, stop = int(attrs["start"]), int(attrs["stop"])
    return f"{w.args(node)[0]}.narrow({int(attrs['axis'])}, {start}, {stop - start})"


def _maxpool(w: Writer, node: str, attrs: dict) -> str:
    size = int(attrs["size"])
    return f"F.max_pool2d({w.args(node)[0]}, {size}, {int(attrs['stride']) or size})"


def _conv(w: Writer, node: str, attrs: dict) -> str:
    x, k = w.args(node, w.out_dtype(node))
    return f"F.conv2d({x}, {k}, stride={int(attrs['stride'])}, padding={int(attrs['padding'])})"


def _constant(w: Writer, node: str, attrs: dict) -> str:
    value = np.asarray(attrs["value"], dtype=attrs["dtype"]).tolist()
    name = w.attrs.name(node)
    w.members.append(f"self.register_buffer({name!r}, torch.tensor({value!r}, dtype={TORCH_DTYPES[attrs['dtype']]}), "
                     "persistent=False)")
    return w.member(node)


def _parameter(w: Writer, node: str, attrs: dict) -> str:
    name = w.attrs.name(node)
    grad = "" if attrs["trainable"] else ", requires_grad=False"
    w.members.append(f"self.{name} = nn.Parameter(torch.zeros({_ints(attrs['shape'])}, "
                     f"dtype={TORCH_DTYPES[attrs['dtype']]}){grad})")
    w.loom_params.append((node, name, False))
    return w.member(node)


def _dense(w: Writer, node: str, attrs: dict) -> str:
    (x_type,) = w.in_types(node)
    name = w.attrs.name(node)
    w.members.append(f"self.{name} = nn.Linear({int(x_type.shape[-1])}, {int(attrs['units'])}, "
                     f"bias={bool(attrs['use_bias'])}, dtype={TORCH_DTYPES[x_type.dtype]})")
    w.loom_params.append((f"{node}_W", f"{name}.weight", True))
    if attrs["use_bias"]:
        w.loom_params.append((f"{node}_b", f"{name}.bias", False))
    return ACTIVATIONS[attrs["activation"]].format(f"{w.member(node)}({w.args(node)[0]})")


def _conv2d(w: Writer, node: str, attrs: dict) -> str:
    (x_type,) = w.in_types(node)
    name = w.attrs.name(node)
    w.members.append(f"self.{name} = nn.Conv2d({int(x_type.shape[1])}, {int(attrs['filters'])}, "
                     f"{int(attrs['kernel_size'])}, stride={int(attrs['stride'])}, "
                     f"padding={int(attrs['padding'])}, bias={bool(attrs['use_bias'])}, "
                     f"dtype={TORCH_DTYPES[x_type.dtype]})")
    w.loom_params.append((f"{node}_W", f"{name}.weight", False))
    if attrs["use_bias"]:
        w.loom_params.append((f"{node}_b", f"{name}.bias", False))
    return ACTIVATIONS[attrs["activation"]].format(f"{w.member(node)}({w.args(node)[0]})")


def _embedding(w: Writer, node: str, attrs: dict) -> str:
    name = w.attrs.name(node)
    w.members.append(f"self.{name} = nn.Embedding({int(attrs['num_embeddings'])}, {int(attrs['dim'])})")
    w.loom_params.append((f"{node}_table", f"{name}.weight", False))
    return f"{w.member(node)}({w.args(node)[0]})"


def _dropout(w: Writer, node: str, attrs: dict) -> str:
    name = w.attrs.name(node)
    w.members.append(f"self.{name} = nn.Dropout({_num(attrs['rate'])})")
    return f"{w.member(node)}({w.args(node)[0]})"


def _accuracy(w: Writer, node: str, attrs: dict) -> str:
    scores, labels = w.args(node)
    s = w.in_types(node)[0]
    if s.ndim == 2 and s.shape[1] != 1:
        return f"({scores}.argmax(dim=1) == {labels}).to(torch.float32).mean()"
    return f"(({scores} > 0) == ({labels} > 0.5)).to(torch.float32).mean()"


EXPRESSIONS: dict[str, Expr] = {
    "Parameter": _parameter, "Constant": _constant,
    "Add": _fmt("{0} + {1}"), "Sub": _fmt("{0} - {1}"), "Mul": _fmt("{0} * {1}"), "Div": _fmt("{0} / {1}"),
    "Neg": _fmt("-{0}"), "Pow": _fmt("{0} ** {1}"), "Square": _fmt("{0} * {0}"), "Abs": _fmt("torch.abs({0})"),
    "Maximum": _fmt("torch.maximum({0}, {1})"), "Minimum": _fmt("torch.minimum({0}, {1})"),
    "Clip": _fmt("torch.clamp({0}, {lo}, {hi})"), "Exp": _fmt("torch.exp({0})"), "Log": _fmt("torch.log({0})"),
    "Sqrt": _fmt("torch.sqrt({0})"), "Tanh": _fmt("torch.tanh({0})"), "Sigmoid": _fmt("torch.sigmoid({0})"),
    "ReLU": _fmt("torch.relu({0})"), "LeakyReLU": _fmt("F.leaky_relu({0}, {alpha})"),
    "ELU": _fmt("F.elu({0}, {alpha})"), "Softplus": _fmt("F.softplus({0})"),
    "Log1p": _fmt("torch.log1p({0})"), "Expm1": _fmt("torch.expm1({0})"), "Sign": _fmt("torch.sign({0})"),
    "Greater": _compare("{0} > {1}"), "GreaterEqual": _compare("{0} >= {1}"), "Equal": _compare("{0} == {1}"),
    "Where": _where,
    "MatMul": _matmul, "Transpose": _transpose, "Reshape": _reshape,
    "Flatten": _fmt("{0}.reshape({0}.shape[0], -1)"), "Concat": _concat, "Slice": _slice,
    "Gather": _raw("{0}[{1}]"), "PickLabels": _raw("{0}.gather(1, {1}[:, None])[:, 0]"),
    "ReshapeLike": _raw("{0}.reshape({1}.shape)"),
    "Sum": _reduce("sum"), "Mean": _reduce("mean"), "Max": _reduce("amax"),
    "Argmax": lambda w, node, attrs: f"torch.argmax({w.args(node)[0]}, dim={int(attrs['axis'])}, "
              f"keepdim={bool(attrs['keepdims'])})",
    "Softmax": _fmt("torch.softmax({0}, dim={axis})"), "LogSoftmax": _fmt("torch.log_softmax({0}, dim={axis})"),
    "Conv": _conv, "MaxPool2D": _maxpool,
    "Dense": _dense, "Conv2D": _conv2d, "Embedding": _embedding, "Dropout": _dropout,
    "SoftmaxCrossEntropy": _raw("F.cross_entropy({0}, {1})"),
    "BinaryCrossEntropy": _fmt("(F.softplus({0}) - {1} * {0}).mean()"),
    "MSE": _fmt("(({0} - {1}) ** 2).mean()"), "Accuracy": _accuracy,
    "SpanF1": _raw("loom_span_f1({0}, {1})"),
}


# ---- The file


def training_outputs(graph: Graph) -> tuple[Optional[str], list[str]]:
    """The loss the training configuration names (else the first loss op) and the metrics."""
    loss = graph.training.get("loss")
    if not (isinstance(loss, str) and loss in graph):
        loss = next((n for n in graph.nodes if graph.spec(n).category == "Loss"
                     and graph.op_name(n) != "Accuracy"), None)
    metrics = graph.training.get("metrics")
    if isinstance(metrics, list) and loss == graph.training.get("loss"):
        metrics = [m for m in metrics if isinstance(m, str) and m in graph]
    else:
        metrics = [n for n in graph.nodes if graph.op_name(n) == "Accuracy"]
    return loss, metrics


def _method(w: Writer, name: str, outputs: list[str], codes: dict[str, str], doc: str,
            returns: str) -> list[str]:
    nodes = w.graph.topological_order(w.graph.required(outputs))
    inputs = [n for n in nodes if w.graph.op_name(n) == "Input"]
    lines = [f"    def {name}(self{''.join(', ' + w.var(n) for n in inputs)}):", f'        """{doc}"""']
    for node in nodes:
        if node in codes:
            lines.append(f"        {w.var(node)} = {codes[node]}  # {w.graph.op_name(node)}")
    lines.append(f"        return {returns}")
    return lines


def torch_source(graph: Graph, outputs: Optional[Iterable[str]] = None) -> tuple[str, list[str]]:
    """The generated Python file and the weights keys its module loads.

    Raises ExportError naming every node whose op has no PyTorch form; GraphError for an invalid graph;
    ConfigError for a training configuration that cannot be used.
    """
    outputs = resolve_outputs(checked(graph), outputs)
    config = training_config(graph)
    loss, metrics = training_outputs(graph)
    wanted = graph.required(outputs + ([loss] + metrics if loss else []))
    order = graph.topological_order(wanted)
    unknown = [(n, graph.op_name(n)) for n in order if graph.op_name(n) != "Input"
               and graph.op_name(n) not in EXPRESSIONS]
    if unknown:
        listed = ", ".join(f"{n} ({op})" for n, op in unknown)
        raise ExportError(f"no PyTorch form for: {listed}", node=unknown[0][0])
    w = Writer(graph)
    codes = {n: EXPRESSIONS[graph.op_name(n)](w, n, graph.attrs(n)) for n in order if graph.op_name(n) != "Input"}
    result = w.var(outputs[0]) if len(outputs) == 1 else "(" + ", ".join(w.var(n) for n in outputs) + ",)"
    forward = _method(w, "forward", outputs, codes, "The graph's outputs: " + ", ".join(outputs) + ".", result)
    training = config.to_dict() if config is not None else {}
    lines = [TORCH_HEADER, f"TITLE = {str(graph.meta.get('title', 'Loom model'))!r}",
             f"TRAINING = json.loads({json.dumps(training, sort_keys=True)!r})",
             f"OUTPUTS = {tuple(outputs)!r}", f"HAS_TRAINING = {config is not None}"]
    loss_inputs: tuple = ()
    in_loss: set = set()
    if loss:
        in_loss = graph.required([loss] + metrics)
        loss_inputs = tuple(n for n in graph.topological_order(in_loss) if graph.op_name(n) == "Input")
    feeds = _feeds(graph, config, loss_inputs)
    trained = [n for n in order if graph.op_name(n) in ("Dense", "Conv2D", "Embedding")
               or (graph.op_name(n) == "Parameter" and graph.attrs(n)["trainable"])]
    lines += [f"LOSS_INPUTS = {loss_inputs!r}",
              "# the arrays of the data file that feed LOSS_INPUTS, and their dtypes",
              f"FEEDS = {tuple(feeds)!r}", f"FEED_DTYPES = {tuple(feeds.values())!r}",
              f"EVERY_PARAMETER_IN_LOSS = {all(n in in_loss for n in trained)}",
              "", "", "class Model(nn.Module):",
              '    """The graph as a module; its parameters carry the graph\'s names."""', "",
              "    # (Loom weights key, parameter, stored transposed in Loom)", "    LOOM_PARAMS = ("]
    lines += [f"        {entry!r}," for entry in w.loom_params]
    lines += ["    )", "", "    def __init__(self):",
              "        super().__init__()"]
    lines += ["        " + m for m in w.members] + [""] + forward
    if loss:
        returned = w.var(loss) + ", {" + ", ".join(f"{m!r}: {w.var(m)}" for m in metrics) + "}"
        lines += [""] + _method(w, "losses", [loss] + metrics, codes,
                                f"The loss {loss} and the metrics, for training.", returned)
    span_f1 = TORCH_SPAN_F1 if any(graph.op_name(n) == "SpanF1" for n in order) else ""
    source = "\n".join(lines) + "\n" + TORCH_METHODS + span_f1 + TORCH_SCRIPT
    return source, [key for key, _, _ in w.loom_params]


def training_config(graph: Graph) -> Any:
    """The checked training configuration (a TrainConfig), or None when the graph has none."""
    from core.training.config import read_config

    return read_config(graph) if graph.training.get("loss") else None


def _feeds(graph: Graph, config: Any, loss_inputs: tuple) -> dict[str, str]:
    """{data file array: dtype} for each Input the loss needs, in LOSS_INPUTS order (x_train, y_train)."""
    if config is None:
        return {}
    names = dict(zip(config.feature_inputs, feature_arrays(config.feature_inputs)))
    names[config.labels] = "y_train"
    missing = [n for n in loss_inputs if n not in names]
    if missing:
        raise ExportError(f"the loss or a metric needs Input '{missing[0]}', which the data set does not feed",
                          node=missing[0])
    types = graph.types()
    return {names[n]: types[(n, "y")].dtype for n in loss_inputs}


def training_data(graph: Graph, base_dir: Optional[str | os.PathLike] = None) -> dict[str, np.ndarray]:
    """The configured data set as the exported scripts read it: x_train, y_train, x_val, y_val."""
    from core.training.datasets import load_dataset

    config = training_config(graph)
    if config is None:
        return {}
    return data_arrays(load_dataset(config.dataset, base_dir), bool(config.labels), config.feature_inputs)


def export_torch(graph: Graph, weights: Optional[dict], path: str | os.PathLike,
                 outputs: Optional[Iterable[str]] = None, base_dir: Optional[str | os.PathLike] = None) -> Path:
    """Write the PyTorch file, its initial weights (.npz, same name) and its data (<name>_data.npz).

    Parameters without a value in `weights` are drawn as Loom draws them (with the configured
    seed); the data is the training configuration's data set, its paths taken from `base_dir`.
    The file compiles (checked before it is written); the writes are atomic.
    """
    source, keys = torch_source(graph, outputs)
    compile(source, str(path), "exec")  # a generator bug must never leave a broken file behind
    path = Path(path)
    config = training_config(graph)
    drawn = init_params(graph, config.seed if config is not None else 0, weights)
    data = training_data(graph, base_dir)
    if keys:
        atomic_write(path.with_suffix(".npz"), lambda f: np.savez(f, **{k: drawn[k] for k in keys}))
    if data:
        atomic_write(path.with_name(path.stem + "_data.npz"), lambda f: np.savez(f, **data))
    atomic_write(path, lambda f: f.write(source.encode("utf-8")))
    return path
