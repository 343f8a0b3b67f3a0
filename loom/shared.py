"""`shared(value, name=)`: a Parameter holding a value that every function using it sees.

A compiled function keeps its own copy of each state array (so its step runs on buffers it owns);
a version number tells a function when another one (or `set_value`) changed the value, and only
then is it copied in. The function that last updated a value holds it until asked.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from core.graph import Graph

from .session import FrontEndTypeError, builder, user_frame
from .variable import Variable

_CONTAINERS: "weakref.WeakKeyDictionary[Graph, dict[str, Container]]" = weakref.WeakKeyDictionary()


class Container:
    """Where a shared value lives: its own array, or the state of the function that updated it last."""

    def __init__(self, value: np.ndarray) -> None:
        self.value: np.ndarray = value
        self.owner: Optional[Any] = None      # a core Function whose state holds the newest value
        self.key = ""
        self.version = 0

    def current(self) -> np.ndarray:
        """The newest value (not a copy: callers copy what they keep)."""
        return self.owner.state[self.key] if self.owner is not None else self.value

    def set(self, value: Any) -> None:
        value = np.asarray(value)
        if value.shape != self.value.shape:
            file, line = user_frame()
            raise FrontEndTypeError(f"set_value: shape {value.shape} differs from the shared value's "
                                    f"{self.value.shape}", node=self.key, file=file, line=line)
        self.value = np.array(value, dtype=self.value.dtype)
        self.owner = None
        self.version += 1


class SharedVariable(Variable):
    """A Variable of a Parameter node with a value: `get_value()`, `set_value(v)`."""

    __slots__ = ()

    def get_value(self, borrow: bool = False) -> np.ndarray:
        value = container(self).current()
        return value if borrow else np.array(value)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        container(self).set(value)


def shared(value: Any, name: Optional[str] = None) -> SharedVariable:
    """A Parameter node holding `value` (float32 stays float32; other numbers are held as float64)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        file, line = user_frame()
        raise FrontEndTypeError(f"shared needs numbers, got {array.dtype}", file=file, line=line)
    dtype = "float32" if array.dtype == np.float32 else "float64"
    var = builder().add("Parameter", [], {"shape": list(array.shape), "dtype": dtype, "init": "zeros",
                                          "trainable": True}, name=name or "shared")[0]
    return adopt(var, array)


def adopt(var: Variable, value: np.ndarray) -> SharedVariable:
    """Make the Parameter `var` a shared value holding `value` (in the Parameter's dtype)."""
    box = Container(np.array(value, dtype=var.dtype))
    box.key = var.node
    _CONTAINERS.setdefault(var.builder.graph, {})[var.node] = box
    return SharedVariable(var.builder, var.node, var.port, var.type)


def container(var: Variable) -> Container:
    """The value box of a shared Variable's node."""
    try:
        return _CONTAINERS[var.builder.graph][var.node]
    except KeyError:
        raise FrontEndTypeError(f"{var.node} holds no shared value", node=var.node) from None


def containers(graph: Graph) -> dict[str, Container]:
    """Every shared value of `graph`, by node id."""
    return _CONTAINERS.get(graph, {})
