"""Where front-end nodes go: one graph per session (like Theano's implicit graph), and the Builder
that adds to it, checking each node as it is built and naming the user's line when it does not fit."""
from __future__ import annotations

import os
import sys
from typing import Any, Optional

from core.graph import Graph, LoomError, ShapeError
from core.graph.builder import Builder, Var

_HERE = os.path.dirname(os.path.abspath(__file__))
_CORE = os.path.join(os.path.dirname(_HERE), "core")


class FrontEndTypeError(ShapeError):
    """A node whose operands do not fit it; raised at the user's line, naming every operand's type."""


class FrontBuilder(Builder):
    """A Builder whose Vars are the front-end's Variables and which leaves no half-built node behind."""

    variable_class: type = Var

    def add(self, op: str, inputs: list, attrs: dict, name: Optional[str] = None,
            ui: Optional[dict] = None) -> list:
        before = set(self.graph.nodes)
        try:
            outs = super().add(op, inputs, attrs, name=name, ui=ui)
        except LoomError as error:
            for node in set(self.graph.nodes) - before:
                self.graph.remove_node(node)
            raise explained(op, inputs, error) from None
        return [self.variable_class(self, v.node, v.port, v.type) for v in outs]

    def var(self, node: str, port: str = "y") -> Var:
        """The Variable of an output port, typed from the graph when this builder did not add it."""
        if (node, port) not in self.types:
            self.types.update(self.graph.types())
        return self.variable_class(self, node, port, self.types[(node, port)])


def explained(op: str, inputs: list, error: LoomError) -> LoomError:
    """The error again, saying which operands (and their types) met, at the user's line."""
    operands = ", ".join(f"{v.node}: {v.type}" for v in inputs)
    file, line = user_frame()
    message = f"{op}({operands}): {error.message}" if inputs else f"{op}: {error.message}"
    return FrontEndTypeError(message, file=file, line=line)


def user_frame() -> tuple[Optional[str], Optional[int]]:
    """The file and line of the innermost caller outside Loom itself (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_HERE) or path.startswith(_CORE)):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None, None


_STATE: dict[str, Any] = {}


def builder() -> FrontBuilder:
    """The builder of the current graph (made on first use)."""
    if "builder" not in _STATE:
        reset()
    return _STATE["builder"]


def current_graph() -> Graph:
    """The graph every front-end node is added to."""
    return builder().graph


def reset(graph: Optional[Graph] = None) -> Graph:
    """Start a new, empty graph (or continue on `graph`); Variables of the old graph stay usable
    with each other but cannot meet new ones."""
    from .variable import Variable

    new = FrontBuilder(graph if graph is not None else Graph())
    new.variable_class = Variable
    _STATE["builder"] = new
    return new.graph
