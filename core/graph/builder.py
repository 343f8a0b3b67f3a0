"""Build graph nodes with NumPy-like code: Vars carry their type, operators add nodes.

Gradient rules and layer expansions are written with these, so `g * y * (1 - y)` in a rule
becomes Mul, Sub and Constant nodes in the graph, where they can be shown and optimized.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from .registry import get_op
from .types import TensorType
from .validate import infer_node

if TYPE_CHECKING:
    from .graph import Graph


class Var:
    """One output port of a node in a graph being built."""

    __slots__ = ("builder", "node", "port", "type")

    def __init__(self, builder: "Builder", node: str, port: str, type_: TensorType) -> None:
        self.builder, self.node, self.port, self.type = builder, node, port, type_

    @property
    def shape(self) -> tuple:
        return self.type.shape

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    def __repr__(self) -> str:
        return f"Var({self.node}.{self.port}: {self.type})"

    def __add__(self, other: Operand) -> "Var":
        return apply("Add", self, other)

    def __radd__(self, other: Operand) -> "Var":
        return apply("Add", other, self)

    def __sub__(self, other: Operand) -> "Var":
        return apply("Sub", self, other)

    def __rsub__(self, other: Operand) -> "Var":
        return apply("Sub", other, self)

    def __mul__(self, other: Operand) -> "Var":
        return apply("Mul", self, other)

    def __rmul__(self, other: Operand) -> "Var":
        return apply("Mul", other, self)

    def __truediv__(self, other: Operand) -> "Var":
        return apply("Div", self, other)

    def __rtruediv__(self, other: Operand) -> "Var":
        return apply("Div", other, self)

    def __neg__(self) -> "Var":
        return apply("Neg", self)

    def __pow__(self, other: Operand) -> "Var":
        return apply("Pow", self, other)


Operand = Union[Var, int, float]


class Builder:
    """Adds nodes to `graph`, tagging each with `role` and naming it `prefix` + op."""

    def __init__(self, graph: "Graph", role: Optional[str] = None, prefix: str = "") -> None:
        self.graph = graph
        self.role = role
        self.prefix = prefix
        self.types = dict(graph.types())
        self.ui: Optional[dict] = None     # given to every node added (autodiff notes each node's origin)

    def var(self, node: str, port: str = "y") -> Var:
        """The Var of an existing output port, also of nodes added to the graph since the
        builder was made (KeyError names the port when its type is unknown)."""
        key = (node, port)
        if key not in self.types:
            self.types.update(self.graph.types())
            if key not in self.types:
                raise KeyError(f"no typed output {node}.{port} in the graph")
        return Var(self, node, port, self.types[key])

    def add(self, op: str, inputs: list[Var], attrs: dict, name: Optional[str] = None,
            ui: Optional[dict] = None) -> list[Var]:
        """Add one node fed by `inputs`; returns a Var per output port."""
        spec = get_op(op)
        before = self.graph.current_analysis()
        node = self.graph.add_node(op, attrs, node_id=self.graph.unique_id(name or self.prefix + op.lower()),
                                   role=self.role, ui=ui if ui is not None else self.ui)
        ports = spec.input_names(self.graph.attrs(node))
        self.graph.feed_new_node(node, [(var.node, var.port) for var in inputs])
        in_types = [v.type for v in inputs]
        outs = infer_node(self.graph, node, in_types)  # the type check, done once
        if before is not None and len(ports) == len(inputs):
            self.graph.keep_analysis(before, node, in_types, outs)
        result = []
        for port, t in zip(spec.output_names(), outs):
            self.types[(node, port)] = t
            result.append(Var(self, node, port, t))
        return result

    def const(self, value: Any, dtype: str) -> Var:
        """A Constant node holding `value`."""
        return self.add("Constant", [], {"value": value, "dtype": dtype})[0]


def apply(op: str, *inputs: Operand, name: Optional[str] = None, **attrs: Any) -> Var:
    """Add a single-output `op` node fed by `inputs`; numbers become Constants of the Vars' dtype."""
    vars_ = [v for v in inputs if isinstance(v, Var)]
    if not vars_:
        raise TypeError(f"{op} needs at least one Var input")
    builder = vars_[0].builder
    dtype = vars_[0].dtype if vars_[0].type.is_float else "float32"
    wired = [v if isinstance(v, Var) else builder.const(v, dtype) for v in inputs]
    return builder.add(op, wired, attrs, name=name)[0]
