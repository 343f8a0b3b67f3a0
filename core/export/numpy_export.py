"""NumPy export: one self-contained script holding the very step Loom's compiler generated and ran.

The script carries the device's kernels (their source), the fused elementwise kernels, the
compiled training step (forward, symbolic gradient, optimizer update) and the compiled forward,
with the code that allocates their buffers. Its weights and optimizer state load from the .npz
next to it, its data from `<name>_data.npz`; run with the same seed it reproduces Loom's loss
trajectory step for step.
"""
from __future__ import annotations

import builtins
import inspect
import json
import textwrap
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np

from core.compiler import compile
from core.compiler import expr as X
from core.compiler.autodiff import differentiate
from core.compiler.emit import node_expr
from core.graph import Graph
from core.graph.fileformat import atomic_write

from .common import ExportError, checked, data_arrays, feature_arrays, inference_graph, resolve_outputs
from .numpy_names import REDUCERS, identifiers, module_names, on_xp, rename, step_names, unpacked
from .templates import NUMPY_CONTEXT, NUMPY_DEVICE, NUMPY_FORWARD, NUMPY_HEADER, NUMPY_MAIN, NUMPY_TRAINING

ALIASES = ("np.matmul", "np.add.reduce", "np.maximum.reduce", "np.broadcast_to", "np.expand_dims", "np.take",
           "np.concatenate")
# Each alias as the script binds it for --device cupy: CuPy's reductions keep NumPy's call (reduce_with)
CUPY_FORMS = {"np.matmul": "cupy.matmul", "np.add.reduce": "reduce_with(cupy.sum)",
              "np.maximum.reduce": "reduce_with(cupy.max)", "np.minimum.reduce": "reduce_with(cupy.min)",
              "np.broadcast_to": "cupy.broadcast_to", "np.expand_dims": "cupy.expand_dims", "np.take": "cupy.take",
              "np.concatenate": "cupy.concatenate"}
MAX_STATIC = 100_000
NOTES = {"scratch": "scratch", "shape": "a shape", "arange": "0, 1, ..., n - 1", "ones": "ones"}  # unnamed entries of B


class Program:
    """One compiled step written out: kernels, step and buffer allocation inside a function scope.

    Its values are named after their nodes (numpy_names.step_names) and its array calls go
    through `xp`, so the same code runs on NumPy or CuPy.
    """

    def __init__(self, function: Any, name: str, seed: int) -> None:
        self.function, self.name, self.seed = function, name, int(seed)
        self.program = function.program
        self.graph = self.program.graph
        self.types = self.graph.types()
        self.statics = [r.args[0] for r in self.program.recipes if r.kind == "static"]
        self.references: dict[str, str] = {}
        self.reference_source: dict[str, str] = {}

    def prepare(self, helpers: "Helpers") -> None:
        """Collect the reference ops the step calls, and the module-level helpers they need."""
        self.references = self._fallbacks()
        self.reference_source = self.reference_code(helpers)

    def source(self, module: set[str]) -> str:
        """The step's section of the script; `module` holds the script's module-level names."""
        reserved = set(module) | identifiers(self._render({}, kernels=False))  # a kernel sees only its own
        return self._render(step_names(self.program, self.references, reserved))

    def _fallbacks(self) -> dict[str, str]:
        """The ops the compiler runs through their NumPy reference: {ref function name: node}."""
        known = set(self.function.device.namespace())
        extra = [n for n in self.program.step.__globals__ if n not in known and not n.startswith("__")
                 and n != "step"]
        lines = self.program.source.splitlines()
        found = {}
        for i, line in enumerate(lines):
            for fn in extra:
                if f"{fn}(" in line and i and lines[i - 1].strip().startswith("# "):
                    found[fn] = lines[i - 1].strip()[2:].split(":")[0]
        missing = [fn for fn in extra if fn not in found]
        if missing:
            raise ExportError(f"the compiled step calls {', '.join(missing)}, which a script cannot carry")
        return found

    def reference_code(self, helpers: "Helpers") -> dict[str, str]:
        """One function per fallback op, calling the op's own NumPy reference (carried in `helpers`)
        on host copies of its arrays."""
        code, unknown = {}, []
        for fn, node in self.references.items():
            spec, attrs = self.graph.spec(node), self.graph.attrs(node)
            forward = helpers.forward(spec.name, spec.forward)
            if forward is None:
                unknown.append(f"{node} ({spec.name})")
                continue
            n_args = len(spec.input_names(attrs))
            kwargs = []
            for name in _wanted(forward[1], n_args):
                if name == "ctx":
                    kwargs.append("ctx=ctx")
                elif name == "attrs":
                    kwargs.append(f"attrs={attrs!r}")
                elif name in attrs:
                    kwargs.append(f"{name}={attrs[name]!r}")
            call = f"{forward[0]}(*map(to_host, arrays){''.join(', ' + k for k in kwargs)})"
            code[fn] = (f"def {fn}(ctx, *arrays):\n"
                        f'    """{spec.name}, by its NumPy reference (on host arrays)."""\n'
                        "    with np.errstate(all=\"ignore\"):\n"
                        f"        return to_device(np.asarray({call}))\n\n")
        if unknown:
            raise ExportError("no NumPy form a script can carry for: " + ", ".join(unknown),
                              node=unknown[0].split(" ")[0])
        return code

    def shape_code(self, shape: tuple) -> str:
        dims = ["n" if isinstance(d, str) else str(int(d)) for d in shape]
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    def buffer_code(self, recipe: Any, names: dict[str, str]) -> str:
        kind, args = recipe.kind, recipe.args
        if kind in ("slot", "scratch"):
            return f"xp.empty({self.shape_code(args[0])}, {str(args[1])!r})"
        if kind == "shape":
            return self.shape_code(args[0])
        if kind == "arange":
            return f"xp.arange({self.shape_code((args[0],))}[0])"
        if kind == "ones":
            return f"xp.ones({self.shape_code((args[0],))}, {str(args[1])!r})"
        if kind == "static":
            return f"statics[{self.statics.index(args[0])}]"
        if kind == "ctx":
            return f"RunContext({{'N': n}}, {self.function.training}, RNG_{self.name.upper()})"
        if kind == "kernel":
            program, node, _ = args
            t = self.types[(node, "y")]
            return self.bound(names.get(program.name, program.name), program.temps, program.bool_temps,
                              t.shape, t.dtype)
        raise ExportError(f"the compiled step needs a '{kind}' value that a script cannot build")

    def bound(self, name: str, temps: int, bool_temps: int, shape: tuple, dtype: str) -> str:
        """A kernel with its scratch buffers bound, as the CPU device binds it."""
        code = self.shape_code(shape)
        scratch = [f"xp.empty({code}, {dtype!r})"] * temps + [f"xp.empty({code}, bool)"] * bool_temps
        return f"functools.partial({name}, {', '.join(scratch)})" if scratch else name

    def static_code(self, names: dict[str, str]) -> list[str]:
        """Lines computing the static values (constants, sizes, and elementwise ops over them) for n."""
        lines = []
        for i, node in enumerate(self.statics):
            spec, attrs = self.graph.spec(node), self.graph.attrs(node)
            t = self.types[(node, "y")]
            label = names.get(self.program.names.get((node, "y"), ""), "")
            comment = f"  # {label}" if label else ""
            if spec.name == "Constant":
                value = np.asarray(attrs["value"], dtype=attrs["dtype"])
                if value.size > MAX_STATIC:
                    raise ExportError("a constant is too large to write into a script", node=node)
                lines.append(f"statics.append(xp.array({value.tolist()!r}, dtype={t.dtype!r})){comment}")
            elif spec.name == "Size":
                source = self.types[self.graph.source(node, "x")]
                axes = range(source.ndim) if attrs["axes"] is None else attrs["axes"]
                axes = [axes] if isinstance(axes, int) else axes
                picked = [source.shape[a % source.ndim] for a in axes]
                dims = ["n" if isinstance(d, str) else str(int(d)) for d in picked]
                lines.append(f"statics.append(xp.asarray({' * '.join(dims) or '1'}, dtype={t.dtype!r})){comment}")
            else:
                sources = [self.graph.source(node, p)[0] for p in spec.input_names(attrs)]
                args = [f"x{k + 1}" for k in range(len(sources))]
                kernel = X.numpy_kernel(node_expr(self.graph, node, args), len(args), f"static{i}")
                lines.append(on_xp(textwrap.dedent(kernel.source).rstrip()))
                operands = ", ".join(f"statics[{self.statics.index(s)}]" for s in sources)
                call = self.bound(f"static{i}", kernel.temps, kernel.bool_temps, t.shape, t.dtype)
                lines.append(f"statics.append(xp.empty({self.shape_code(t.shape)}, {t.dtype!r})){comment}")
                lines.append(f"{call}({operands}, statics[-1])")
        return lines

    def _render(self, names: dict[str, str], kernels: bool = True) -> str:
        """The section with generated names replaced by `names` (none: the compiler's own names).

        In a kernel or a reference function only its own name changes (their locals are theirs).
        """
        def own(text: str, name: str) -> str:
            return rename(text, {name: names[name]} if name in names else {})

        entries = unpacked(self.program.source, "B")
        buffers = [self.buffer_code(r, names) for r in self.program.recipes]
        body = "".join(on_xp(own(k["cpu"], k_name)) + "\n" for k_name, k in self.program.kernels.items()
                       if kernels)
        body += "".join(own(code, fn) for fn, code in self.reference_source.items())
        body += on_xp(rename(self.program.source, names)) + "\n"
        body += "def buffers(n):\n    \"\"\"The buffers B of the step for batch size n.\"\"\"\n"
        if self.statics:
            body += "    statics = []\n"
            body += "".join(f"    {line}\n" for text in self.static_code(names) for line in text.splitlines())
        body += "    return [\n"
        for entry, recipe, buffer in zip(entries, self.program.recipes, buffers):
            note = names.get(entry) if recipe.kind in ("slot", "static") else NOTES.get(recipe.kind)
            body += f"        {buffer},{'  # ' + note if note else ''}\n"
        body += "    ]\n\nreturn step, buffers\n"
        return (f"# ---- The compiled {self.name} step: fused kernels, the step, its buffers\n\n"
                f"def _{self.name}_program():\n"
                f"    \"\"\"The {self.name} step as Loom compiled it, with what it needs.\"\"\"\n"
                + textwrap.indent(body, "    ", lambda line: bool(line.strip()))
                + f"\n\nRNG_{self.name.upper()} = np.random.default_rng({self.seed})\n"
                + f"{self.name.upper()}_STEP, {self.name.upper()}_BUFFERS = _{self.name}_program()\n")


# Ops whose reference is a lambda: the same formula as a named function (checked by the tests).
LAMBDA_FORWARDS = {
    "MSE": ("_mse_forward", "def _mse_forward(p, t):\n"
            "    return np.asarray(np.mean((p - t) ** 2), dtype=p.dtype)\n"),
    "BinaryCrossEntropy": ("_bce_forward", "def _bce_forward(z, t):\n"
                           "    return np.asarray(np.mean(np.logaddexp(0, z) - t * z), dtype=z.dtype)\n"),
}


class Helpers:
    """Module-level code the reference ops need: their functions, what those call, NumPy aliases."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}
        self.objects: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}

    def forward(self, op: str, fn: Any) -> Optional[tuple[str, Any]]:
        """(name to call, the function) for an op's reference, its helpers collected; None if it cannot."""
        if op in LAMBDA_FORWARDS:
            name, source = LAMBDA_FORWARDS[op]
            self.sources.setdefault(name, source)
            namespace: dict = {"np": np}
            exec(builtins.compile(source, name, "exec"), namespace)  # a fixed string of this module
            return name, namespace[name]
        if not inspect.isfunction(fn) or fn.__name__ == "<lambda>" or not self._collect(fn):
            return None
        return fn.__name__, fn

    def _collect(self, fn: Any) -> bool:
        name = fn.__name__
        if name in self.objects:
            return self.objects[name] is fn
        self.objects[name] = fn
        self.sources[name] = textwrap.dedent(inspect.getsource(fn))
        for used in _global_names(fn.__code__):
            if used == "np" or used not in fn.__globals__ or used in self.aliases:
                continue
            value = fn.__globals__[used]
            if inspect.isfunction(value) and value.__module__.startswith("core."):
                if not self._collect(value):
                    return False
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                self.aliases[used] = repr(value)
            else:
                alias = next((a for a in (f"np.{used}", f"np.lib.stride_tricks.{used}")
                              if _resolve_or_none(a) is value), None)
                if alias is None:
                    return False
                self.aliases[used] = alias
        return True

    def source(self) -> str:
        if not self.sources:
            return ""
        aliases = "".join(f"{k} = {v}\n" for k, v in self.aliases.items())
        return ("# ---- NumPy references of the ops the compiler runs as they are (Loom's own code)\n\n"
                + aliases + "\n\n" + "\n\n".join(src.rstrip() + "\n" for src in self.sources.values()))


def _global_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _global_names(const)
    return names


def _wanted(fn: Any, n_args: int) -> list[str]:
    """The parameters of an op function that are filled by name (as registry.call_rule fills them)."""
    params = list(inspect.signature(fn).parameters.values())
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    return positional[n_args:] + keyword


def _resolve_or_none(path: str) -> Any:
    try:
        return _resolve(path)
    except AttributeError:
        return None


def device_helpers(device: Any) -> str:
    """Source of the device's kernels the steps call (on `xp`), the aliases they use, and
    `use_device`, which points `xp` and the aliases at NumPy or at CuPy."""
    namespace = device.namespace()
    module = inspect.getmodule(type(device))
    aliases, functions, renamed = {}, {}, []
    for name, value in namespace.items():
        if name == "np":
            continue
        if inspect.isfunction(value) and inspect.getmodule(value) is module:
            functions[name] = value
            continue
        alias = next((a for a in ALIASES if _resolve(a) == value), None)
        if alias is None:
            raise ExportError(f"the device helper '{name}' cannot be written into a script")
        aliases[name] = alias
    for ufunc, name in REDUCERS.items():  # what on_xp turns np.<ufunc>.reduce into
        aliases.setdefault(name, f"np.{ufunc}.reduce")
    for fn in list(functions.values()):  # helpers the helpers call (check_labels)
        for used in fn.__code__.co_names:
            target = getattr(module, used, None)
            if inspect.isfunction(target) and inspect.getmodule(target) is module:
                functions.setdefault(used, target)
    sources, written = [], set()
    for name, fn in functions.items():
        if fn.__name__ not in written:
            sources.append(on_xp(inspect.getsource(fn)))
            written.add(fn.__name__)
        if fn.__name__ != name:
            renamed.append(f"{name} = {fn.__name__}")
    missing = [a for a in aliases.values() if a not in CUPY_FORMS]
    if missing:
        raise ExportError(f"the device helper {missing[0]} has no CuPy form in the script")
    device_code = (NUMPY_DEVICE.replace("ALIAS_NAMES", ", ".join(aliases))
                   .replace("        NUMPY_ALIASES\n", "".join(f"        {k} = {v}\n" for k, v in aliases.items()))
                   .replace("        CUPY_ALIASES\n",
                            "".join(f"        {k} = {CUPY_FORMS[v]}\n" for k, v in aliases.items())))
    return ("# ---- The CPU device's kernels the steps call (Loom's NumPy device, on the array module xp)\n\n"
            "xp = np  # the array module the steps run on: NumPy, or CuPy after use_device(\"cupy\")\n\n\n"
            + "\n\n".join(src.rstrip() + "\n" for src in sources) + "\n\n"
            + "".join(f"{k} = {v}\n" for k, v in aliases.items()) + "".join(f"{line}\n" for line in renamed)
            + device_code)


def _resolve(path: str) -> Any:
    value: Any = np
    for part in path.split(".")[1:]:
        value = getattr(value, part)
    return value


def _input_specs(function: Any) -> list[tuple[str, str, list]]:
    types = function.graph.types()
    specs = []
    for name in function.program.inputs:
        t = types[(name, "y")]
        specs.append((name, t.dtype, [None if isinstance(d, str) else int(d) for d in t.shape]))
    return specs


def numpy_source(graph: Graph, weights: Optional[dict] = None, outputs: Optional[Iterable[str]] = None,
                 base_dir: Optional[str | Path] = None) -> tuple[str, dict, dict]:
    """The script, the state it starts from (weights and optimizer slots) and its training data.

    Raises ExportError naming the nodes a script cannot run; ConfigError or DatasetError for a
    training configuration that cannot be used; GraphError for an invalid graph.
    """
    from core.devices import get_device  # the script carries the CPU device's kernels

    outputs = resolve_outputs(checked(graph), outputs)
    needed = graph.required(outputs)
    inputs = [n for n in graph.nodes if n in needed and graph.op_name(n) == "Input"]
    inference = inference_graph(graph, outputs)[0]
    infer = compile(inference, inputs, outputs, weights=weights, training=False, device="cpu",
                    share_buffers=False)
    helpers = Helpers()
    config = _training_config(graph)
    programs = [Program(infer, "forward", 0)]
    state, data = infer.get_weights(), {}
    lines = [f"TITLE = {str(graph.meta.get('title', 'Loom model'))!r}", f"OUTPUTS = {tuple(outputs)!r}",
             f"FORWARD_INPUTS = {_input_specs(infer)!r}", f"FORWARD_STATE = {tuple(infer.program.state_keys)!r}",
             f"HAS_TRAINING = {config is not None}"]
    if config is not None:
        train_fn, data = _training_step(graph, config, weights, base_dir)
        programs.append(Program(train_fn, "train", config.seed))
        state = train_fn.get_weights()
        lines += [f"CONFIG = json.loads({json.dumps(config.to_dict(), sort_keys=True)!r})",
                  f"TRAIN_STATE = {tuple(train_fn.program.state_keys)!r}",
                  f"TRAIN_INPUT_DTYPES = {tuple(d for _, d, _ in _input_specs(train_fn))!r}",
                  f"TRAIN_HAS_LABELS = {bool(config.labels)}",
                  "# the data file's arrays that feed the feature Inputs, in order",
                  f"TRAIN_FEATURES = {tuple(feature_arrays(config.feature_inputs))!r}"]
    for program in programs:
        program.prepare(helpers)
    head = (NUMPY_HEADER + "\n".join(lines) + "\n\n\n" + device_helpers(get_device("cpu")) + "\n\n"
            + helpers.source() + "\n\n" + NUMPY_CONTEXT)
    tail = NUMPY_FORWARD + (NUMPY_TRAINING if config is not None else "") + NUMPY_MAIN
    module = module_names(head + tail)
    module |= {n.format(p.name, p.name.upper()) for p in programs for n in ("_{}_program", "RNG_{1}", "{1}_STEP",
                                                                            "{1}_BUFFERS")}
    steps = "".join("\n\n" + p.source(module) for p in programs)
    return head + steps + tail, state, data


def _training_config(graph: Graph) -> Any:
    """The checked training configuration, or None when the graph has none."""
    from core.training.config import read_config

    if not graph.training.get("loss"):
        return None
    return read_config(graph)


def _training_step(graph: Graph, config: Any, weights: Optional[dict], base_dir: Any) -> tuple[Any, dict]:
    """The training step compiled as Loom's training loop compiles it, and the training split."""
    from core.training.datasets import load_dataset
    from core.training.optimizers import add_updates

    dataset = load_dataset(config.dataset, base_dir)
    train_graph, grads = differentiate(graph, config.loss)
    if not grads.grads:
        raise ExportError(f"the loss '{config.loss}' depends on no trainable parameter", node=config.loss)
    updates = add_updates(train_graph, grads.grads, config.optimizer)
    data_inputs = [*config.feature_inputs] + ([config.labels] if config.labels else [])
    step = compile(train_graph, data_inputs + updates.inputs, [config.loss, *config.metrics], updates.updates,
                   weights=weights, training=True, seed=config.seed, device="cpu", share_buffers=False)
    return step, data_arrays(dataset, bool(config.labels), config.feature_inputs)


def export_numpy(graph: Graph, weights: Optional[dict], path: str | Path,
                 outputs: Optional[Iterable[str]] = None, base_dir: Optional[str | Path] = None) -> Path:
    """Write the script, its state (.npz, same name) and its training data (<name>_data.npz)."""
    source, state, data = numpy_source(graph, weights, outputs, base_dir)
    builtins.compile(source, str(path), "exec")  # a generator bug must never leave a broken file behind
    path = Path(path)
    atomic_write(path.with_suffix(".npz"), lambda f: np.savez(f, **state))
    if data:
        atomic_write(path.with_name(path.stem + "_data.npz"), lambda f: np.savez(f, **data))
    atomic_write(path, lambda f: f.write(source.encode("utf-8")))
    return path
