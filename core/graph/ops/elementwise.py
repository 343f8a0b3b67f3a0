"""Elementwise ops: each is its scalar expression, a NumPy reference and its derivative.

The expression is what back ends compile into fused kernels; `ref` is the independent
NumPy truth the tests and the reference executor use.
"""
from __future__ import annotations

import numpy as np

from ..builder import apply
from ..registry import elementwise
from ..spec import Attr

AB = ("a", "b")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# ---- Arithmetic

elementwise("Add", "a + b", lambda a, b: a + b, lambda g, a, b, y: (g, g),
            inputs=AB, float_only=False, doc="a + b, broadcasting as NumPy does.")
elementwise("Sub", "a - b", lambda a, b: a - b, lambda g, a, b, y: (g, -g),
            inputs=AB, float_only=False, doc="a - b, broadcasting as NumPy does.")
elementwise("Mul", "a * b", lambda a, b: a * b, lambda g, a, b, y: (g * b, g * a),
            inputs=AB, float_only=False, doc="a * b, elementwise (not a matrix product).")
elementwise("Div", "a / b", lambda a, b: a / b, lambda g, a, b, y: (g / b, -(g * y) / b),
            inputs=AB, doc="a / b, elementwise.")
elementwise("Neg", "-x", lambda x: -x, lambda g, x, y: (-g,), float_only=False, doc="-x.")
elementwise("Pow", "a ** b", lambda a, b: a ** b,
            lambda g, a, b, y: (g * b * a ** (b - 1), g * y * apply("Log", a)),
            inputs=AB, doc="a raised to the power b (a > 0 where b is learned).")
elementwise("Square", "x * x", lambda x: x * x, lambda g, x, y: (g * 2 * x,),
            float_only=False, doc="x squared.")
elementwise("Abs", "abs(x)", lambda x: np.abs(x), lambda g, x, y: (g * apply("Sign", x),),
            float_only=False, doc="|x|; its gradient at 0 is 0.")
elementwise("Maximum", "max(a, b)", lambda a, b: np.maximum(a, b),
            lambda g, a, b, y: (g * apply("GreaterEqual", a, b), g * apply("Greater", b, a)),
            inputs=AB, float_only=False, doc="The larger of a and b (ties send the gradient to a).")
elementwise("Minimum", "min(a, b)", lambda a, b: np.minimum(a, b),
            lambda g, a, b, y: (g * apply("GreaterEqual", b, a), g * apply("Greater", a, b)),
            inputs=AB, float_only=False, doc="The smaller of a and b (ties send the gradient to a).")
elementwise("Clip", "min(max(x, lo), hi)", lambda x, lo, hi: np.clip(x, lo, hi),
            lambda g, x, y, lo, hi: (g * apply("InRange", x, lo=lo, hi=hi),),
            attrs=(Attr("lo", "float", -1.0, "lower bound"), Attr("hi", "float", 1.0, "upper bound")),
            doc="x limited to [lo, hi]; no gradient flows where it is clipped.")

# ---- Transcendental

elementwise("Exp", "exp(x)", lambda x: np.exp(x), lambda g, x, y: (g * y,), doc="e to the x.")
elementwise("Log", "log(x)", lambda x: np.log(x), lambda g, x, y: (g / x,),
            doc="Natural logarithm (x > 0).")
elementwise("Sqrt", "sqrt(x)", lambda x: np.sqrt(x), lambda g, x, y: (g / (2 * y),),
            doc="Square root (x >= 0).")
elementwise("Tanh", "tanh(x)", lambda x: np.tanh(x), lambda g, x, y: (g * (1 - y * y),),
            doc="Hyperbolic tangent, an S-curve from -1 to 1.")
elementwise("Sigmoid", "1 / (1 + exp(-x))", _sigmoid, lambda g, x, y: (g * y * (1 - y),),
            doc="Logistic sigmoid 1 / (1 + exp(-x)), an S-curve from 0 to 1.")

# ---- Activations

elementwise("ReLU", "max(x, 0)", lambda x: np.maximum(x, 0),
            lambda g, x, y: (g * apply("Greater", x, 0),), doc="Rectified linear unit max(x, 0).")
elementwise("LeakyReLU", "where(x > 0, x, alpha * x)", lambda x, alpha: np.where(x > 0, x, alpha * x),
            lambda g, x, y, alpha: (g * apply("Where", apply("Greater", x, 0), 1, alpha),),
            attrs=(Attr("alpha", "float", 0.01, "slope for x < 0", minimum=0.0),),
            doc="x for x > 0, alpha * x otherwise.")
elementwise("ELU", "where(x > 0, x, alpha * expm1(x))",
            lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
            lambda g, x, y, alpha: (g * apply("Where", apply("Greater", x, 0), 1, y + alpha),),
            attrs=(Attr("alpha", "float", 1.0, "value approached as x -> -inf is -alpha", minimum=0.0),),
            doc="Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise.")
elementwise("Softplus", "log1p(exp(-abs(x))) + max(x, 0)",
            lambda x: np.logaddexp(0, x), lambda g, x, y: (g * apply("Sigmoid", x),),
            doc="Smooth ReLU log(1 + exp(x)), computed without overflow.")

# ---- Helpers that gradients and rewrites produce (not in the palette)

elementwise("Log1p", "log1p(x)", lambda x: np.log1p(x), lambda g, x, y: (g / (1 + x),),
            hidden=True, doc="log(1 + x), accurate for small x.")
elementwise("Expm1", "expm1(x)", lambda x: np.expm1(x), lambda g, x, y: (g * (y + 1),),
            hidden=True, doc="exp(x) - 1, accurate for small x.")
elementwise("Sign", "sign(x)", lambda x: np.sign(x), None, hidden=True, float_only=False, nondiff=("x",),
            doc="-1, 0 or 1 by the sign of x.")
elementwise("Greater", "a > b", lambda a, b: a > b, None, inputs=AB, hidden=True, nondiff=AB,
            float_only=False, doc="1 where a > b, else 0.")
elementwise("GreaterEqual", "a >= b", lambda a, b: a >= b, None, inputs=AB, hidden=True, nondiff=AB,
            float_only=False, doc="1 where a >= b, else 0.")
elementwise("Equal", "a == b", lambda a, b: a == b, None, inputs=AB, hidden=True, nondiff=AB,
            float_only=False, doc="1 where a == b, else 0.")
elementwise("InRange", "(x >= lo) * (x <= hi)", lambda x, lo, hi: (x >= lo) & (x <= hi), None,
            attrs=(Attr("lo", "float", -1.0), Attr("hi", "float", 1.0)), hidden=True,
            float_only=False, nondiff=("x",), doc="1 where lo <= x <= hi, else 0.")
elementwise("Where", "where(c, a, b)", lambda c, a, b: np.where(c != 0, a, b),
            lambda g, c, a, b, y: (None, apply("Where", c, g, 0), apply("Where", c, 0, g)),
            inputs=("c", "a", "b"), hidden=True, float_only=False, nondiff=("c",),
            doc="a where c is nonzero, else b.")
