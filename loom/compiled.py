"""`function(inputs, outputs, updates=, givens=)`: Theano's function over Loom's compiler.

The graph the outputs need is cut out of the session's graph, `givens` rewire it, and
core.compiler.compile makes the step (the same rewrites and fused kernels as the editor's);
shared values are carried in and out of the step's state by version (see shared.py).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from core.compiler import compile as compile_graph
from core.graph import Graph, LoomError

from .session import FrontEndTypeError, user_frame
from .shared import Container, containers
from .variable import Variable, constant

Pairs = Union[Mapping[Variable, Any], Sequence[tuple[Variable, Any]], None]


class Function:
    """A compiled step: call it with arrays for the inputs; returns NumPy values.

    `graph` is what the user wrote (givens applied), `compiled` the core Function (its
    `optimized` graph, `rewrites`, `source` and `kernels` show what the compiler made).
    """

    def __init__(self, compiled: Any, graph: Graph, single: bool, shared: dict[str, Container],
                 updated: Sequence[str], exclude: frozenset = frozenset()) -> None:
        self.compiled, self.graph, self._single, self.exclude = compiled, graph, single, exclude
        self._shared = [(key, box) for key, box in shared.items()]
        self._updated = [(key, shared[key]) for key in updated]
        self._seen = {key: box.version for key, box in self._shared}

    def __call__(self, *args: Any, **feeds: Any) -> Any:
        for key, box in self._shared:
            if self._seen[key] != box.version:
                if box.owner is not self.compiled:
                    self.compiled.set_weights({key: box.current()})
                self._seen[key] = box.version
        result = self.compiled(*args, **feeds)
        for key, box in self._updated:
            box.owner, box.version = self.compiled, box.version + 1
            self._seen[key] = box.version
        return result[0] if self._single else result

    @property
    def optimized(self) -> Graph:
        return self.compiled.optimized

    @property
    def outputs(self) -> list[tuple[str, str]]:
        return list(self.compiled.outputs)

    def _repr_png_(self) -> Optional[bytes]:
        from .display import render_png

        return render_png(self)

    def _repr_svg_(self) -> Optional[str]:
        from .display import render_svg

        return render_svg(self)


def function(inputs: Sequence[Variable], outputs: Union[Variable, Sequence[Variable]], updates: Pairs = None,
             givens: Pairs = None, *, device: str = "cpu", exclude: Iterable[str] = (), training: bool = False,
             seed: int = 0, host_outputs: bool = True) -> Function:
    """Compile `outputs` as functions of `inputs`.

    Parameters
    ----------
    inputs: Input Variables, in the order the function takes them.
    outputs: a Variable (the call returns one array) or a list (the call returns a list).
    updates: (shared, new value) pairs applied after each call, as in Theano.
    givens: (Variable, replacement) pairs: the replacement (a Variable, shared or array) is
        computed instead of the Variable.
    device, exclude, training, seed, host_outputs: as core.compiler.compile (seed draws layers' weights).

    Raises
    ------
    FrontEndTypeError naming the user's line when an update or a given does not fit its target.
    """
    single = isinstance(outputs, Variable)
    outputs = [outputs] if single else list(outputs)
    inputs, updates, givens = list(inputs), _pairs(updates), _pairs(givens)
    for var in outputs + inputs:
        if not isinstance(var, Variable):
            _refuse(f"function takes Variables as inputs and outputs; got {var!r}")
    if not outputs and not updates:
        _refuse("function needs an output or an update")
    anchor = (outputs + [k for k, _ in updates])[0]
    for var in outputs + inputs + [v for pair in updates + givens for v in pair if isinstance(v, Variable)]:
        if var.builder.graph is not anchor.builder.graph:
            _refuse(f"{var.node} and {anchor.node} belong to different graphs (one was made before "
                    "loom.reset() or loom.load())")
    givens = [(old, new if isinstance(new, Variable) else constant(new, old.dtype, anchor.builder))
              for old, new in givens]
    for var in inputs:
        if var.builder.graph.op_name(var.node) != "Input":
            _refuse(f"{var.node} is a {var.builder.graph.op_name(var.node)}, not an input: only Inputs are fed")
    for target, value in updates:
        if target.builder.graph.op_name(target.node) != "Parameter":
            _refuse(f"updates change shared values; {target.node}: {target.type} is not one")
        _same_type("update", target, value)
    for old, new in givens:
        _same_type("given", old, new)
    graph = _cut(anchor.builder.graph, inputs, outputs, updates, givens)
    boxes = {k: v for k, v in containers(anchor.builder.graph).items() if k in graph}
    weights = {key: np.array(box.current()) for key, box in boxes.items()}
    try:
        step = compile_graph(graph, [v.node for v in inputs], [_ref(v, givens) for v in outputs],
                             {t.node: _ref(v, givens) for t, v in updates}, weights=weights, training=training,
                             seed=seed, device=device, exclude=exclude, host_outputs=host_outputs)
    except LoomError as error:
        file, line = user_frame()
        error.file, error.line = error.file or file, error.line or line
        raise
    return Function(step, graph, single, boxes, [t.node for t, _ in updates], frozenset(exclude))


def _pairs(pairs: Pairs) -> list[tuple[Variable, Any]]:
    if pairs is None:
        return []
    items = list(pairs.items()) if isinstance(pairs, Mapping) else [tuple(p) for p in pairs]
    for old, _ in items:
        if not isinstance(old, Variable):
            _refuse(f"updates and givens pair a Variable with its value; got {old!r} first")
    return items


def _same_type(what: str, target: Variable, value: Any) -> None:
    if not isinstance(value, Variable):
        _refuse(f"the {what} of {target.node} must be a Variable, got {value!r}")
    if value.shape != target.shape or (value.dtype != target.dtype and not (
            target.type.is_float and not value.type.is_float)):
        _refuse(f"the {what} {value.node}: {value.type} does not fit {target.node}: {target.type}")


def _ref(var: Variable, givens: list) -> tuple[str, str]:
    for old, new in givens:
        if (old.node, old.port) == (var.node, var.port):
            return new.node, new.port
    return var.node, var.port


def _cut(graph: Graph, inputs: list, outputs: list, updates: list, givens: list) -> Graph:
    """What the step needs of `graph`, with each given's consumers rewired to its replacement."""
    wanted = [v.node for v in inputs + outputs] + [n for t, v in updates for n in (t.node, v.node)]
    wanted += [new.node for _, new in givens]
    work = graph.subgraph(wanted)
    for old, new in givens:
        if old.node not in work:
            continue
        for edge in [e for e in work.out_edges(old.node) if e.src_port == old.port]:
            work.disconnect(edge)
            work.connect(new.node, new.port, edge.dst, edge.dst_port, typed=False)
    replaced = {old.node for old, _ in givens}
    keep = [n for n in wanted if n not in replaced or n in {t.node for t, _ in updates}]
    keep += [_ref(v, givens)[0] for v in outputs] + [_ref(v, givens)[0] for _, v in updates]
    work = work.subgraph(keep)
    _mark_updates(work, [_ref(v, givens)[0] for v in outputs], [_ref(v, givens)[0] for _, v in updates])
    return work


def _mark_updates(graph: Graph, outputs: list[str], updates: list[str]) -> None:
    """Give the nodes that only compute updates role "update", as the optimizers' nodes have: the
    compiler then runs the updates of all parameters as one kernel (horizontal.py)."""
    only = graph.required(updates) - graph.required(outputs) if updates else set()
    for node in graph.topological_order(only):
        if graph.role(node) is None and graph.op_name(node) not in ("Input", "Parameter"):
            record = graph.remove_node(node)
            record.role = "update"
            graph.restore_node(record)


def _refuse(message: str) -> None:
    file, line = user_frame()
    raise FrontEndTypeError(message, file=file, line=line)
