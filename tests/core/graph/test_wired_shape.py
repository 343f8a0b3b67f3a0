"""A Parameter's shape read from the wires it feeds."""
from __future__ import annotations

from core.graph.wired_shape import wired_shape

from test_naming import dense_layer


def test_a_parameter_takes_its_shape_from_the_wire():
    g = dense_layer()
    g.connect("x", "y", "matmul", "a")
    g.set_attr("parameter", "shape", [2, 3])          # a wrong first dimension, the units set
    g.connect("parameter", "y", "matmul", "b", typed=False)
    assert wired_shape(g, "parameter") == [4, 3]
    g.set_attr("parameter", "shape", [4, 3])
    g.connect("matmul", "y", "add", "a")
    g.connect("parameter_2", "y", "add", "b")         # (1,) broadcasts: the wire is accepted unset
    assert wired_shape(g, "parameter_2") == [3]
    g.set_attr("parameter_2", "shape", [3])
    g.set_attr("parameter", "shape", [4])             # the units lost: the bias gives them back
    assert wired_shape(g, "parameter") == [4, 3]
    assert wired_shape(g, "tanh") is None
