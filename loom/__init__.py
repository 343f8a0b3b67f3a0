"""Loom from Python: the lecture's Theano code, nearly line for line, on Loom's compiler.

    import loom
    import loom.tensor as T
    x, y = T.dscalar("x"), T.dscalar("y")
    f = loom.function([x, y], 3 * x + x * y + 3 * y)
    f(1, 1)                     # array(7.)
    loom.show(f)                # the graph in the editor, and what the compiler made of it

See docs/python.md.
"""
from . import tensor
from .compiled import Function, function
from .display import debugprint, render_png, render_svg, show
from .files import load, save
from .gradients import grad
from .session import FrontEndTypeError, current_graph, reset
from .shared import SharedVariable, shared
from .variable import Variable

__all__ = ["FrontEndTypeError", "Function", "SharedVariable", "Variable", "current_graph", "debugprint",
           "function", "grad", "load", "render_png", "render_svg", "reset", "save", "shared", "show", "tensor"]
