"""Ops the compiler introduces: a fused elementwise kernel, and PickLabels, the piece a user
needs to write cross-entropy by hand (which the compiler then stabilizes)."""
from __future__ import annotations

import ast
import re

import numpy as np

from ..builder import apply
from ..errors import ShapeError
from ..registry import INTERNAL, register
from ..spec import Attr, OpSpec, Port
from ..types import DTYPES, TensorType, broadcast_shapes, shape_str

FUNCTIONS = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
             "tanh": np.tanh, "abs": np.abs, "sign": np.sign, "max": np.maximum, "min": np.minimum,
             "where": lambda c, a, b: np.where(c != 0, a, b)}
BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
          ast.Pow: np.power}
COMPARE = {ast.Gt: np.greater, ast.GtE: np.greater_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
           ast.Eq: np.equal, ast.NotEq: np.not_equal}
OPERAND = re.compile(r"^x[1-9][0-9]?$")
ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name, ast.Constant, ast.Load,
                 ast.USub, ast.UAdd, *BINARY, *COMPARE)
ARITY = {name: 1 for name in FUNCTIONS} | {"max": 2, "min": 2, "where": 3}


def _evaluate(node: ast.AST, env: dict):
    """Evaluate a whitelisted scalar-expression tree over arrays (never eval)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, env)
        return np.negative(value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
        return COMPARE[type(node.ops[0])](_evaluate(node.left, env), _evaluate(node.comparators[0], env))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and not node.keywords:
        return FUNCTIONS[node.func.id](*(_evaluate(a, env) for a in node.args))
    raise ValueError(f"not allowed in a fused expression: {ast.dump(node)[:60]}")


def _well_formed(text: object) -> bool:
    if not isinstance(text, str) or len(text) > 20000:
        return False
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES) or (isinstance(node, ast.Constant) and type(node.value) not in (int, float)) \
                or (isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name))) \
                or (isinstance(node, ast.Compare) and len(node.ops) != 1):
            return False
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return all(OPERAND.match(n) or n in calls for n in names) and calls <= set(FUNCTIONS)


class ExpressionText:
    """The `choices` of a fused kernel's `expr` attribute: any well-formed scalar expression."""

    def __contains__(self, value: object) -> bool:
        return _well_formed(value)

    def __iter__(self):
        return iter(["a scalar expression over x1..xn"])


def _fused_ports(attrs):
    return tuple(Port(f"x{i + 1}") for i in range(attrs["n"]))


def _fused_type(types, attrs):
    tree = ast.parse(attrs["expr"], mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and OPERAND.match(node.id) and int(node.id[1:]) > attrs["n"]:
            raise ShapeError(f"the expression reads {node.id} but the kernel has {attrs['n']} input(s)")
        if isinstance(node, ast.Call) and len(node.args) != ARITY[node.func.id]:
            raise ShapeError(f"{node.func.id}() takes {ARITY[node.func.id]} argument(s), "
                             f"the expression gives {len(node.args)}")
    if any(t.is_float for t in types) and attrs["dtype"] not in ("float32", "float64"):
        raise ShapeError(f"a kernel over float inputs cannot give {attrs['dtype']}")
    return [TensorType(attrs["dtype"], broadcast_shapes(*(t.shape for t in types)))]


def _fused_forward(*arrays, expr, dtype, n):
    env = {f"x{i + 1}": a for i, a in enumerate(arrays)}
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    out = _evaluate(ast.parse(expr, mode="eval"), env)
    return np.broadcast_to(np.asarray(out), shape).astype(dtype)


register(OpSpec(
    "Fused", INTERNAL, "Several elementwise ops run as one kernel: expr over the inputs x1..xn.",
    (Port("x1"),), _fused_type, _fused_forward,
    attrs=(Attr("n", "int", 1, "how many inputs", minimum=1, maximum=64),
           Attr("expr", "choice", "x1", "the scalar expression", choices=ExpressionText()),
           Attr("dtype", "choice", "float32", "element type of the result", choices=DTYPES)),
    ports=_fused_ports, hidden=True))


def _pick_type(types, attrs):
    x, labels = types
    if not x.is_float or x.ndim != 2:
        raise ShapeError(f"PickLabels needs float scores (N, classes), got {x}", port="x")
    if labels.dtype != "int64" or labels.shape != x.shape[:1]:
        raise ShapeError(f"PickLabels needs int64 labels of shape {shape_str(x.shape[:1])}, "
                         f"got {labels}", port="labels")
    return [TensorType(x.dtype, x.shape[:1])]


def _pick(x, labels):
    if labels.size and (labels.min() < 0 or labels.max() >= x.shape[1]):
        raise ValueError(f"labels must lie in 0..{x.shape[1] - 1}")
    return np.take_along_axis(x, labels[:, None], axis=1)[:, 0]


register(OpSpec(
    "PickLabels", "Tensor", "x[i, labels[i]] for each row i: the score of each sample's label. "
    "-mean(PickLabels(log(softmax(z)), y)) is the cross-entropy, which compiling makes stable.",
    (Port("x"), Port("labels", differentiable=False)), _pick_type, _pick,
    grad=lambda g, x, labels, y: (
        apply("BroadcastLike", g, x, axes=1, keepdims=False) * apply("OneHot", labels, x), None)))


def _xent_grad_type(types, attrs):
    logits, labels = types
    if not logits.is_float or logits.ndim != 2 or labels.dtype != "int64" or labels.shape != logits.shape[:1]:
        raise ShapeError(f"SoftmaxXentGrad needs float logits (N, classes) and int64 labels (N,), "
                         f"got {logits} and {labels}")
    return [logits]


def _xent_grad(logits, labels):
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in 0..{logits.shape[1] - 1}")
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    out = e / e.sum(axis=1, keepdims=True)
    out[np.arange(len(labels)), labels] -= 1
    return out


def _xent_grad_grad(h, logits, labels, y):
    """The one-hot part is constant, so this is softmax's own gradient: s * (h - sum(h * s))."""
    s = apply("Softmax", logits, axis=1)
    return (s * (h - apply("Sum", h * s, axes=1, keepdims=True)), None)


register(OpSpec(
    "SoftmaxXentGrad", INTERNAL, "softmax(logits) - onehot(labels): the cross-entropy's gradient "
    "with respect to the logits, times the batch size.",
    (Port("logits"), Port("labels", differentiable=False)),
    _xent_grad_type, _xent_grad, hidden=True, grad=_xent_grad_grad))
