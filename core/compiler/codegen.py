"""Code generation: the step as readable Python source, one line per kernel call, exec-ed once.

Generated names are made here (i0 inputs, s0 state, sa0 state arenas, b0 buffers, a0 buffer arenas
and g0 their views, c0 statics, v0 views, f0 bound kernels); a node id appears only in comments, and
only after it is checked to be an identifier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from core.graph import Graph, GraphError
from core.graph.executor import RunContext
from core.graph.registry import call_rule
from core.graph.types import bind

from . import expr as X
from .emit import EMITTERS, emit_elementwise, node_expr
from .horizontal import Group, horizontal_groups
from .schedule import Plan

SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
Ref = tuple[str, str]


@dataclass
class Recipe:
    """How one entry of the per-batch-size list B is made: a buffer, a static value, a kernel..."""

    kind: str
    args: tuple


@dataclass
class Program:
    """A generated step: its source, kernels, and how to build its buffers for a batch size."""

    source: str
    step: Callable
    recipes: list[Recipe]
    inputs: list[str]
    state_keys: list[str]
    kernels: dict[str, dict[str, str]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    graph: Optional[Graph] = None
    owned: list[bool] = field(default_factory=list)  # outputs made fresh each step: returned uncopied
    names: dict[Ref, str] = field(default_factory=dict)  # the generated name holding each value
    state_arenas: list[tuple] = field(default_factory=list)  # state keys laid end to end, passed after S

    def largest_product(self, dims: dict) -> int:
        """Multiply-adds of the largest matrix product for the given dimension values."""
        types = self.graph.types()
        largest = 0
        for node in self.graph.nodes:
            if self.graph.op_name(node) == "MatMul":
                a = bind(types[self.graph.source(node, "a")].shape, dims)
                out = bind(types[(node, "y")].shape, dims)
                largest = max(largest, int(np.prod(out)) * (a[-2] if self.graph.attrs(node)["transpose_a"] and len(a) > 1 else a[-1]))
        return largest

    def bind(self, dims: dict, device: Any, ctx: RunContext) -> list:
        """The arrays and bound kernels of B for the given dimension values."""
        types = self.graph.types()
        values: dict[str, Any] = {}
        result = []
        for recipe in self.recipes:
            kind, args = recipe.kind, recipe.args
            if kind in ("slot", "scratch"):
                item = device.empty(bind(args[0], dims), args[1])
            elif kind == "arena":
                item = device.empty((args[0],), args[1])
            elif kind == "view":
                arena, offset, shape = args
                item = result[arena][offset:offset + int(np.prod(shape))].reshape(shape)
            elif kind == "flat_kernel":
                program, _, total, dtype, shared = args
                item = program.bind((total,), dtype, [() if one else (total,) for one in shared])
            elif kind == "shape":
                item = bind(args[0], dims)
            elif kind == "arange":
                item = device.arange(bind((args[0],), dims)[0])
            elif kind == "ones":
                item = device.empty(bind((args[0],), dims), args[1])
                item[...] = 1
            elif kind == "ctx":
                item = ctx
            elif kind == "static":
                item = device.to_device(_static_value(self.graph, args[0], values, dims, types))
            else:
                program, node, sources = args
                item = program.bind(bind(types[(node, "y")].shape, dims), types[(node, "y")].dtype,
                                    [bind(types[s].shape, dims) for s in sources])
            result.append(item)
        return result


def _static_value(graph: Graph, node: str, values: dict, dims: dict, types: dict) -> np.ndarray:
    """A node computed once per batch size from constants and shapes (host NumPy)."""
    if node not in values:
        spec = graph.spec(node)
        attrs = graph.attrs(node)
        if spec.name == "Size":
            source = graph.source(node, "x")
            shape = bind(types[source].shape, dims)
            axes = range(len(shape)) if attrs["axes"] is None else attrs["axes"]
            axes = [axes] if isinstance(axes, int) else axes
            value = np.asarray(np.prod([shape[a] for a in axes]), dtype=types[(node, "y")].dtype)
        elif spec.name == "Constant":
            value = np.asarray(attrs["value"], dtype=attrs["dtype"])
        else:
            ins = [_static_value(graph, graph.source(node, p)[0], values, dims, types)
                   for p in spec.input_names(attrs)]
            with np.errstate(all="ignore"):
                value = np.asarray(call_rule(spec.forward, ins, attrs))
        values[node] = value
    return values[node]


class Generator:
    """Writes the step source for a planned graph on a device."""

    def __init__(self, graph: Graph, plan: Plan, inputs: Sequence[str], outputs: Sequence[Ref],
                 updates: dict[str, Ref], device: Any, horizontal: bool = True) -> None:
        self.graph, self.plan, self.device = graph, plan, device
        self.horizontal = horizontal
        self.types = graph.types()
        self.outputs, self.updates = list(outputs), dict(updates)
        self.inputs = list(inputs)
        self.state_keys = [n for n in graph.nodes if graph.op_name(n) == "Parameter" and (n, "y") in plan.kinds]
        self.names: dict[Ref, str] = {}
        self.recipes: list[Recipe] = []
        self.b_names: list[str] = []
        self.namespace: dict[str, Any] = dict(device.namespace())
        self.kernels: dict[str, dict[str, str]] = {}
        self.groups: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self._shapes: dict[tuple, str] = {}
        self.shared: dict[tuple, tuple] = {}
        self.state_arenas: list[tuple] = []
        self._arena_names: dict[tuple, str] = {}

    # ---- Names and per-binding entries

    def _fresh(self, prefix: str) -> str:
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        return f"{prefix}{self._counts[prefix] - 1}"

    def _entry(self, prefix: str, recipe: Recipe) -> str:
        name = self._fresh(prefix)
        self.recipes.append(recipe)
        self.b_names.append(name)
        return name

    def source(self, node: str, port: str) -> Ref:
        return self.graph.source(node, port)

    def scratch(self, shape: tuple, dtype: str) -> str:
        return self._entry("w", Recipe("scratch", (tuple(shape), dtype)))

    def bound_shape(self, shape: tuple) -> str:
        key = tuple(shape)
        if key not in self._shapes:
            self._shapes[key] = self._entry("d", Recipe("shape", (key,)))
        return self._shapes[key]

    def arange(self, dim: Any) -> str:
        key = ("arange", dim)
        if key not in self._shapes:
            self._shapes[key] = self._entry("r", Recipe("arange", (dim,)))
        return self._shapes[key]

    def ones(self, dim: Any, dtype: str) -> str:
        """A vector of ones: a sum over the rows of a matrix is a matrix-vector product with it."""
        key = ("ones", dim, dtype)
        if key not in self._shapes:
            self._shapes[key] = self._entry("u", Recipe("ones", (dim, dtype)))
        return self._shapes[key]

    def kernel(self, node: str, tree: X.Expr, n_inputs: int) -> str:
        """Compile an elementwise expression for the device; returns the bound kernel's name."""
        program = self._kernel_program(tree, n_inputs, self.types[(node, "y")].dtype,
                                       list(self.graph.ui(node).get("covers", [node])))
        sources = [self.source(node, p) for p in self.graph.spec(node).input_names(self.graph.attrs(node))]
        return self._entry("f", Recipe("kernel", (program, node, sources)))

    def _kernel_program(self, tree: X.Expr, n_inputs: int, dtype: str, covers: list[str]) -> Any:
        name = f"k{len(self.kernels)}"
        cpu = X.numpy_kernel(tree, n_inputs, name)
        cuda = X.cuda_elementwise(tree, n_inputs, dtype)
        self.kernels[name] = {"cpu": cpu.source, "cuda": X.cuda_kernel(tree, n_inputs, dtype, name)}
        self.groups[name] = covers
        return self.device.elementwise(name, cpu, cuda)

    # ---- Horizontal groups (see horizontal.py)

    def _lay_out(self, group: Group) -> None:
        """Give the group's buffer values views of their arena, and note its state arenas."""
        for operand in group.inputs + [group.output]:
            items = operand.keys or operand.refs
            if operand.kind == "shared" or items in self._arena_names:
                continue
            if operand.kind == "state":
                self._arena_names[items] = f"sa{len(self.state_arenas)}"
                self.state_arenas.append(items)
                continue
            arena_index = len(self.recipes)
            self._arena_names[items] = self._entry("a", Recipe("arena", (group.total, group.dtype)))
            offset = 0
            for ref, size in zip(items, group.sizes):
                shape = tuple(self.types[ref].shape)
                self.names[ref] = self._entry("g", Recipe("view", (arena_index, offset, shape)))
                offset += size

    def _emit_group(self, group: Group) -> list[str]:
        """One call of the members' kernel over the arenas."""
        first, last = group.members[0], group.members[-1]
        n_inputs = len(group.inputs)
        tree = node_expr(self.graph, first, [f"x{i + 1}" for i in range(n_inputs)])
        program = self._kernel_program(tree, n_inputs, group.dtype, group.covers)
        shared = [operand.kind == "shared" for operand in group.inputs]
        name = self._entry("f", Recipe("flat_kernel", (program, last, group.total, group.dtype, shared)))
        args = [self.names[op.refs[0]] if op.kind == "shared" else self._arena_names[op.keys or op.refs]
                for op in group.inputs]
        out = self._arena_names[group.output.keys or group.output.refs]
        safe = all(SAFE.match(n) for n in group.members)
        comment = f"# {last}: Fused, over {len(group.members)} tensors: {', '.join(group.members)}" if safe \
            else f"# {len(group.members)} update kernels in one"
        return [comment, f"{name}({', '.join(args + [out])})"]

    # ---- The step

    def generate(self) -> Program:
        plan = self.plan
        for k, node in enumerate(self.inputs):
            self.names[(node, "y")] = f"i{k}"
        for k, key in enumerate(self.state_keys):
            self.names[(key, "y")] = f"s{k}"
        for i, slot in enumerate(plan.slots):
            self.recipes.append(Recipe("slot", (slot.shape, slot.dtype)))
            self.b_names.append(f"b{i}")
        for node in plan.statics:
            self.names[(node, "y")] = self._entry("c", Recipe("static", (node,)))
        for ref, slot in plan.slot_of.items():
            self.names[ref] = f"b{slot}"
        for key, ref in plan.inplace_updates.items():
            self.names[ref] = self.names[(key, "y")]
        groups = horizontal_groups(self.graph, plan, self.state_keys) if self.horizontal else []
        member_of = {node: group for group in groups for node in group.members}
        for group in groups:
            self._lay_out(group)
        body: list[str] = []
        for node in plan.order:
            group = member_of.get(node)
            if group is None:
                body += self._emit(node)
            elif node == group.members[-1]:
                body += self._emit_group(group)
        returned = [self.names[r] for r in self.outputs]
        self.owned = [r in self.plan.fresh_outputs for r in self.outputs]
        if self.plan.copied_updates or self.plan.inplace_updates:
            for i, ref in enumerate(self.outputs):
                if self.plan.kinds.get(ref) in ("state", "view"):
                    returned[i] = self._fresh("v")
                    self.owned[i] = True
                    body.append(f"{returned[i]} = {self.names[ref]}.copy()  # the value before the updates")
        body += self._copy_updates()
        returned = ", ".join(returned)
        head = [f"{', '.join(self.names[(n, 'y')] for n in self.inputs)}, = I" if self.inputs else None,
                f"{', '.join([self.names[(k, 'y')] for k in self.state_keys] + [self._arena_names[k] for k in self.state_arenas])}, = S"
                if self.state_keys else None]
        if "ctx" in self.b_names or any("ctx" in line for line in body):
            self.recipes.append(Recipe("ctx", ()))
            self.b_names.append("ctx")
        head.append(f"{', '.join(self.b_names)}, = B" if self.b_names else None)
        lines = ["def step(I, S, B):", '    """One compiled step: inputs I, state S, buffers B."""']
        lines += ["    " + h for h in head if h]
        lines += ["    " + line for line in body]
        lines.append(f"    return ({returned}{',' if self.outputs else ''})")
        source = "\n".join(lines) + "\n"
        namespace = dict(self.namespace)
        exec(compile(source, "<loom step>", "exec"), namespace)  # generated names only, see module doc
        return Program(source, namespace["step"], self.recipes, self.inputs, self.state_keys,
                       self.kernels, self.groups, self.graph, self.owned, dict(self.names), list(self.state_arenas))

    def _emit(self, node: str) -> list[str]:
        spec = self.graph.spec(node)
        attrs = self.graph.attrs(node)
        args = [self.names[self.source(node, p)] for p in spec.input_names(attrs)]
        ref = (node, "y")
        kind = self.plan.kinds[ref]
        allocate = []
        if ref not in self.names:
            self.names[ref] = self._fresh("v")
            if ref in self.plan.fresh_outputs:
                t = self.types[ref]
                allocate = [f"{self.names[ref]} = np.empty({self.bound_shape(t.shape)}, {t.dtype!r})"]
        out = self.names[ref]
        comment = f"# {node}: {spec.name}" if SAFE.match(node) and SAFE.match(spec.name) else "#"
        if kind == "elementwise" and spec.name not in EMITTERS:
            try:
                lines = emit_elementwise(self, node, args, out, attrs)
            except X.ExprError as e:
                raise GraphError(f"cannot compile this expression: {e}", node=node) from None
        elif kind != "fresh" and spec.name in EMITTERS:
            lines = EMITTERS[spec.name](self, node, args, out, attrs)
        else:
            fn = self._fresh("ref")
            self.namespace[fn] = self.device.host_function(_reference(spec, attrs, node))
            lines = [f"{out} = {fn}(ctx, {', '.join(args)})"]
        return [comment] + allocate + lines

    def _copy_updates(self) -> list[str]:
        """Updates not written in place are copied into state last; old values are read first."""
        copies = dict(self.plan.copied_updates)
        whole = []                              # a whole state arena of new values: one copy
        for keys in self.state_arenas:
            refs = tuple(copies.get(k) for k in keys)
            if refs in self._arena_names:
                whole.append(f"np.copyto({self._arena_names[keys]}, {self._arena_names[refs]}, casting='unsafe')")
                for key in keys:
                    del copies[key]
        lines, sources = [], {}
        for key, ref in copies.items():
            name = self.names[ref]
            if self.plan.kinds.get(ref) in ("state", "view", "feed", "fresh"):
                snapshot = self._fresh("v")
                lines.append(f"{snapshot} = {name}.copy()")
                name = snapshot
            sources[key] = name
        lines += whole
        for key, name in sources.items():
            lines.append(f"np.copyto({self.names[(key, 'y')]}, {name}, casting='unsafe')")
        return (["# updates"] + lines) if lines else []


def _reference(spec: Any, attrs: dict, node: str) -> Callable:
    """An op's NumPy reference as a kernel: it allocates its result (used for rare ops)."""
    forward = spec.forward

    def run(ctx: RunContext, *arrays: Any) -> Any:
        ctx.node = node
        with np.errstate(all="ignore"):
            return np.asarray(call_rule(forward, arrays, attrs, ctx=ctx))
    return run
