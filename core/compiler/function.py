"""compile(): Theano's `function` — a graph, its inputs, outputs and updates, made callable.

Layers are expanded, the rewrite pipeline optimizes the graph, the scheduler plans buffers and
the code generator writes the step; programs are cached by the graph's structure, so compiling
an unchanged graph again is free (a fresh Function with its own state shares the program).
"""
from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional

import numpy as np

from core.devices import NumpyDevice, get_device
from core.graph import Graph, GraphError, LoomError, evaluate, expand_layers, init_params
from core.graph.executor import Ref, RunContext, as_port
from core.graph.expand import is_layer

from .codegen import Generator, Program
from .emit import kind_of
from .pipeline import optimize
from .profile import profile
from .schedule import plan

CACHE_SIZE = 64
_CACHE: "OrderedDict[str, tuple]" = OrderedDict()


class Function:
    """A compiled step: call it with feeds, get outputs; updates are applied to its state.

    State holds every Parameter value (weights and optimizer slots), keyed by weights key.
    `source`, `kernels`, `rewrites`, `optimized`, `groups` and `device` show what was compiled.
    """

    def __init__(self, compiled: tuple, graph: Graph, inputs: list[str], outputs: list[tuple[str, str]],
                 updates: dict[str, tuple[str, str]], weights: dict, training: bool, seed: int,
                 device: Any, host_outputs: bool = True) -> None:
        program, optimized, records = compiled
        self.graph, self.inputs, self.outputs, self.updates = graph, inputs, outputs, updates
        self.training, self.device, self.host_outputs = training, device, host_outputs
        self.program: Program = program
        self.optimized: Graph = optimized
        self.rewrites = list(records)
        self.source, self.kernels, self.groups = program.source, program.kernels, program.groups
        self._on_device = device.name != "cpu"
        state = init_params(graph, seed, weights)
        self._state = {k: device.to_device(v) for k, v in state.items()} if self._on_device else state
        arenas = [self._pack(keys) for keys in program.state_arenas]
        self.state = MappingProxyType(self._state)     # read-only: set_weights writes in place
        self._state_args = [self._state[k] for k in program.state_keys] + arenas
        self._rng = np.random.default_rng(seed)
        types = graph.types()
        self._specs = [(name, np.dtype(types[(name, "y")].dtype), types[(name, "y")].shape)
                       for name in program.inputs]
        self._bindings: dict[tuple, list] = {}
        self._last: tuple = (None, None, None)        # (shapes, buffers, BLAS guard) of the last call
        self._signature: Optional[list] = None         # its arrays' (type, dtype, shape), when fed as they were
        self._all_owned = all(program.owned)
        self._request: tuple = ()

    def __call__(self, *args: Any, **feeds: Any) -> list[np.ndarray]:
        """Run one step: positional arrays follow `inputs`; keywords name inputs."""
        if not feeds and self._signature is not None:
            try:
                signature = [(a.__class__, a.dtype, a.shape) for a in args]
            except AttributeError:                       # lists or scalars: converted below
                signature = None
            if signature == self._signature:            # the common case: arrays like last time
                return self._run(args, args, *self._last[1:])
        return self._call(args, feeds)

    def _call(self, args: tuple, feeds: dict) -> list[np.ndarray]:
        """The general path: gather keywords, convert dtypes, bind buffers for new shapes, move to the device."""
        if feeds or len(args) != len(self._specs):
            args = tuple(self._gather(args, feeds))
        arrays = [self._device_array(a, spec[1]) for a, spec in zip(args, self._specs)]
        shapes = tuple(a.shape for a in arrays)
        last_shapes, buffers, guard = self._last
        if shapes != last_shapes:
            try:
                buffers, guard = self._bind(arrays, shapes)
            except LoomError:
                raise
            except Exception as error:  # out of device memory for these shapes, for one
                if not self._on_device:
                    raise
                return self(*self._move_to_cpu(error, args))
        if all(a is b for a, b in zip(arrays, args)):  # fed as the step takes them: next time, straight in
            self._signature = [(a.__class__, a.dtype, a.shape) for a in arrays]
        return self._run(args, arrays, buffers, guard)

    def _run(self, args: tuple, arrays: Any, buffers: list, guard: Any) -> list[np.ndarray]:
        """The generated step on bound buffers, with its BLAS guard; errors name their node."""
        if guard:
            guard[0]()
        try:
            result = self.program.step(arrays, self._state_args, buffers)
        except (ValueError, IndexError, FloatingPointError) as error:
            self._explain(args, error)
            raise
        except LoomError:
            raise
        except Exception as error:
            if not self._on_device:
                raise
            return self(*self._move_to_cpu(error, args))
        finally:
            if guard:
                guard[1]()
        if self._on_device:
            if self.host_outputs:
                return [self.device.to_host(r) for r in result]
            return [r if owned else r.copy() for r, owned in zip(result, self.program.owned)]
        if self._all_owned:
            return list(result)
        return [r if owned else np.array(r) for r, owned in zip(result, self.program.owned)]

    def profile(self, feeds: Mapping[str, Any], repeats: int = 20) -> dict[str, float]:
        """Seconds per call of each node of the optimized step on `feeds`; the state is left as it was."""
        saved, rng = self.get_weights(), self._rng.bit_generator.state
        self(**feeds)                                   # binds the buffers for these shapes
        _, buffers, guard = self._last
        arrays = [self.device.to_device(feeds[name]) for name, _, _ in self._specs]
        try:
            return profile(self.program, (arrays, self._state_args, buffers), guard, self.device.synchronize,
                           repeats)
        finally:
            self.set_weights(saved)
            self._rng.bit_generator.state = rng

    @property
    def kernel_nodes(self) -> dict[str, str]:
        """The Fused node of the optimized graph that each kernel (`kernels`' keys) runs; a kernel over
        several parameters (horizontal.py) runs where the last of its nodes ran."""
        nodes = [r.args[1] for r in self.program.recipes if r.kind in ("kernel", "flat_kernel")]
        return dict(zip(self.kernels, nodes))

    def state_args(self) -> list:
        """The step's S: every state array, then the flat arenas some of them are views of."""
        return list(self._state_args)

    def get_weights(self) -> dict[str, np.ndarray]:
        """Host copies of every state array."""
        return {k: np.array(self.device.to_host(v)) for k, v in self.state.items()}

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Replace state values by key (shapes are checked); the arrays stay, so arenas stay whole."""
        host = {k: self.device.to_host(v) for k, v in self.state.items()}
        values = init_params(self.graph, 0, {**host, **{k: np.asarray(v) for k, v in weights.items()}})
        for key, value in values.items():
            self.state[key][...] = self.device.to_device(value) if self._on_device else value

    # ---- Internals

    def _pack(self, keys: tuple) -> Any:
        """Lay the state arrays of `keys` end to end in one flat array; each becomes a view of it."""
        values = [self._state[k] for k in keys]
        flat = self.device.empty((sum(v.size for v in values),), values[0].dtype)
        offset = 0
        for key, value in zip(keys, values):
            view = flat[offset:offset + value.size].reshape(value.shape)
            view[...] = value
            self._state[key] = view
            offset += value.size
        return flat

    def _move_to_cpu(self, error: Exception, args: tuple) -> list:
        """A CUDA failure while running: recompile for the CPU and carry the state over; returns
        the call's arguments on the host."""
        host = {k: self.device.to_host(v) for k, v in self.state.items()}
        host_args = [self.device.to_host(a) for a in args]
        device = _cpu_instead(error)
        self.__init__(_compiled(self._request, device), self.graph, self.inputs, self.outputs,
                      self.updates, host, self.training, 0, device, self.host_outputs)
        return host_args

    def _device_array(self, value: Any, dtype: np.dtype) -> Any:
        """`value` as an array of the device in `dtype` (the very object when it already is one,
        or when int32 integers are fed where int64 ones are declared)."""
        array = self.device.to_device(value)
        if array.dtype == dtype or (dtype == np.int64 and array.dtype == np.int32):
            return array  # int32 labels and ids index as well as int64 ones: no copy per call
        return array.astype(dtype)

    def _gather(self, args: tuple, feeds: dict) -> list:
        named = {**dict(zip(self.inputs, args)), **feeds}
        missing = [name for name, _, _ in self._specs if name not in named]
        if missing:
            raise GraphError("no value fed for this input", node=missing[0])
        return [named[name] for name, _, _ in self._specs]

    def _bind(self, arrays: list, shapes: tuple) -> tuple[list, Any]:
        """Check shapes against the declared types; build (or reuse) the buffers for them and
        decide how many BLAS threads the step's products get."""
        dims: dict[str, int] = {}
        for (name, _, declared), shape in zip(self._specs, shapes):
            if len(shape) != len(declared):
                raise GraphError(f"fed an array of shape {shape}, expected {declared}", node=name)
            for want, got in zip(declared, shape):
                if isinstance(want, str):
                    if dims.setdefault(want, got) != got:
                        raise GraphError(f"batch size {got} differs from {dims[want]} given elsewhere", node=name)
                elif want != got:
                    raise GraphError(f"fed an array of shape {shape}, expected {declared}", node=name)
        key = tuple(sorted(dims.items()))
        if key not in self._bindings:
            ctx = RunContext({}, self.state, dims, self.training, self._rng)
            guard = getattr(self.device, "blas_guard", lambda n: None)(self.program.largest_product(dims))
            self._bindings[key] = (self.program.bind(dims, self.device, ctx), guard)
        self._last = (shapes, *self._bindings[key])
        return self._bindings[key]

    def _explain(self, args: list, error: Exception) -> None:
        """Re-run on the reference executor so the error names the node that failed."""
        feeds = {spec[0]: self.device.to_host(a) for spec, a in zip(self._specs, args)}
        host = {k: self.device.to_host(v) for k, v in self.state.items()}
        try:
            evaluate(self.graph, feeds, host, self.outputs + list(self.updates.values()),
                     training=self.training, rng=np.random.default_rng(0))
        except LoomError:
            raise
        except Exception:  # the reference failed differently: report the original error
            return


def compile(graph: Graph, inputs: Iterable[str], outputs: Iterable[Ref],
            updates: Optional[Mapping[str, Ref]] = None, *, weights: Optional[dict] = None,
            training: bool = False, seed: int = 0, device: str = "cpu",
            exclude: Iterable[str] = (), share_buffers: bool = True, host_outputs: bool = True,
            threads: Optional[int] = None) -> Function:
    """Make a callable step from `graph`.

    Parameters
    ----------
    inputs: Input node ids fed on each call, in positional order.
    outputs: nodes (or (node, port) pairs) whose values each call returns.
    updates: state key (a Parameter node id) -> the node computing its new value; every update
        is applied after all outputs and new values are computed.
    weights: initial values by key; missing ones are drawn with `seed`.
    training: run stochastic ops (Dropout) in training mode.
    device: "cpu", "cuda" or "auto"; CUDA trouble falls back to the CPU (see `step.device`).
    exclude: rewrites switched off by name, tag or phase, e.g. {"fuse"}.
    share_buffers: values whose lifetimes do not overlap share a buffer, and an elementwise
        kernel may write over an operand that dies with it (the default). False gives each
        node's value its own buffer (the NumPy export names each one after its node).
    host_outputs: on a GPU, return outputs as NumPy arrays (the default) or, with False, as the
        device's arrays, for code that goes on computing there (inputs may be device arrays either way).
    threads: CPU threads for large fused kernels; default LOOM_NUM_THREADS, else the CPUs the
        process may use (its affinity mask), at most 8. `step.device.threads` tells what it got.

    Raises
    ------
    GraphError naming the node when the graph is invalid or an update does not name a Parameter.
    """
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        raise GraphError(errors[0].message, node=errors[0].node, port=errors[0].port)
    inputs = list(inputs)
    outputs = [as_port(r) for r in outputs]
    updates = {k: as_port(v) for k, v in (updates or {}).items()}
    expanded, where = _expand(graph, outputs + list(updates.values()))
    outputs = [where.get(r, r) for r in outputs]
    updates = {k: where.get(r, r) for k, r in updates.items()}
    for name in inputs:
        if name not in expanded or expanded.op_name(name) != "Input":
            raise GraphError(f"'{name}' is not an Input node", node=name if name in expanded else None)
    for key, ref in list(updates.items()) + [(None, r) for r in outputs]:
        if key is not None and (key not in expanded or expanded.op_name(key) != "Parameter"):
            raise GraphError(f"updates must name Parameter nodes; '{key}' is not one",
                             node=key if key in expanded else None)
        if ref[0] not in expanded or ref not in expanded.types():
            raise GraphError(f"no value '{ref[0]}.{ref[1]}' to compute", node=ref[0] if ref[0] in expanded else None)
    dev = get_device(device)
    if threads is not None and dev.name == "cpu":
        dev = NumpyDevice(dev.fallback_reason, threads)
    exclude = frozenset(exclude)
    request = (expanded, inputs, outputs, updates, training, exclude, bool(share_buffers))
    try:
        compiled = _compiled(request, dev)
        step = Function(compiled, expanded, inputs, outputs, updates, dict(weights or {}), training, seed, dev,
                        host_outputs)
    except LoomError:
        raise
    except Exception as error:  # a CUDA failure (driver, memory...): the CPU takes over, said once
        if dev.name == "cpu":
            raise
        dev = _cpu_instead(error)
        step = Function(_compiled(request, dev), expanded, inputs, outputs, updates, dict(weights or {}),
                        training, seed, dev, host_outputs)
    step._request = request
    return step


def _compiled(request: tuple, device: Any) -> tuple:
    """The cached (program, optimized graph, records) for a request on a device, built if new
    (CPU kernels are bound to a thread count, so it is part of the key)."""
    graph, inputs, outputs, updates, training, exclude, share = request
    key = _cache_key(graph, inputs, outputs, updates, f"{device.name}/{getattr(device, 'threads', '')}", training, exclude, share)
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = _build(graph, inputs, outputs, updates, device, exclude, share)
        _CACHE[key] = compiled
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return compiled


def _cpu_instead(error: Exception) -> Any:
    reason = f"CUDA failed ({type(error).__name__}: {error}); running on the CPU"
    warnings.warn(reason, RuntimeWarning, stacklevel=3)
    return NumpyDevice(fallback_reason=reason)


def _expand(graph: Graph, refs: list) -> tuple[Graph, dict]:
    """Expand layers; a ref to a layer's output is mapped to the node that now computes it.
    A graph without layers (a differentiated one) is copied once, keeping its analysis."""
    if not any(is_layer(graph, n) for n in graph.nodes):
        return graph.copy(), {}
    work = graph.copy()
    probes = {}
    for ref in dict.fromkeys(refs):
        if ref[0] in work and is_layer(work, ref[0]):
            probe = work.add_node("Neg", node_id=work.unique_id("probe"))
            work.connect(ref[0], ref[1], probe, "x", typed=False)
            probes[ref] = probe
    expanded = expand_layers(work)
    where = {}
    for ref, probe in probes.items():
        where[ref] = expanded.source(probe, "x")
        expanded.remove_node(probe)
    return expanded, where


def _cache_key(graph: Graph, inputs: list, outputs: list, updates: dict, device: str, training: bool,
               exclude: frozenset, share: bool = True) -> str:
    """A hash of what the step computes: nodes, attrs and wires (not positions), and the request."""
    nodes = [(n, graph.op_name(n), graph.attrs(n), graph.role(n)) for n in graph.nodes]
    edges = sorted(tuple(e) for e in graph.edges())
    doc = [nodes, edges, [inputs, outputs, sorted(updates.items()), device, training, sorted(exclude), share]]
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _build(graph: Graph, inputs: list, outputs: list, updates: dict, device: Any, exclude: frozenset,
           share: bool = True) -> tuple:
    """Optimize, plan and generate: the shared, cacheable part of a compiled step."""
    protected = outputs + list(updates.values())
    optimized, refs, records = optimize(graph, protected, exclude, {"max_operands": device.max_operands})
    new_outputs, new_updates = refs[:len(outputs)], dict(zip(updates, refs[len(outputs):]))
    needed = optimized.required([r[0] for r in refs]) if refs else set()
    fed = inputs + [n for n in optimized.nodes if optimized.op_name(n) == "Input" and n in needed and n not in inputs]
    the_plan = plan(optimized, new_outputs, new_updates, kind_of, optimized.types(), share=share)
    program = Generator(optimized, the_plan, fed, new_outputs, new_updates, device, horizontal=share).generate()
    return program, optimized, records


def clear_cache() -> None:
    """Forget every compiled program (tests use it to time a cold compile)."""
    _CACHE.clear()


__all__ = ["Function", "clear_cache", "compile"]
