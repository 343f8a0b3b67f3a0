"""Scalar expressions: the ops' `expr` strings parsed (ast, whitelisted, never eval) into a small
tree, composed into fused groups, and emitted as a NumPy ufunc chain or as CUDA C.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

# name in the tree -> (NumPy ufunc, CUDA template); binary operators and comparisons included.
FUNCTIONS = {
    "exp": ("np.exp", "exp({0})"), "log": ("np.log", "log({0})"), "log1p": ("np.log1p", "log1p({0})"),
    "expm1": ("np.expm1", "expm1({0})"), "sqrt": ("np.sqrt", "sqrt({0})"),
    "tanh": ("np.tanh", "tanh({0})"), "abs": ("np.absolute", "fabs({0})"),
    "sign": ("np.sign", "loom_sign({0})"), "max": ("np.maximum", "loom_max({0}, {1})"),
    "min": ("np.minimum", "loom_min({0}, {1})"),
    "add": ("np.add", "({0} + {1})"), "sub": ("np.subtract", "({0} - {1})"),
    "mul": ("np.multiply", "({0} * {1})"), "div": ("np.divide", "({0} / {1})"),
    "pow": ("np.power", "pow({0}, {1})"), "neg": ("np.negative", "(-{0})"),
    "gt": ("np.greater", "({0} > {1})"), "ge": ("np.greater_equal", "({0} >= {1})"),
    "lt": ("np.less", "({0} < {1})"), "le": ("np.less_equal", "({0} <= {1})"),
    "eq": ("np.equal", "({0} == {1})"), "ne": ("np.not_equal", "({0} != {1})"),
}
COMPARISONS = {"gt", "ge", "lt", "le", "eq", "ne"}
ARITY = {"max": 2, "min": 2, "where": 3}
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_CMPOPS = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
_TEXT = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "gt": ">", "ge": ">=",
         "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
OPERAND = re.compile(r"^x[1-9][0-9]?$")
CUDA_TYPES = {"float32": "float", "float64": "double", "int64": "long long"}


class ExprError(ValueError):
    """An expression that uses something outside the whitelist."""


@dataclass(frozen=True)
class Expr:
    """One node of a scalar expression: an input ("var"), a number ("const") or a function."""

    op: str
    args: tuple = ()
    value: object = None

    def inputs(self) -> set[str]:
        if self.op == "var":
            return {self.value}
        return set().union(*(a.inputs() for a in self.args)) if self.args else set()

    def size(self) -> int:
        return 1 + sum(a.size() for a in self.args)


def var(name: str) -> Expr:
    return Expr("var", value=name)


def const(value: float) -> Expr:
    return Expr("const", value=value)


# ---- Parsing

def parse(text: str, names: Optional[Mapping[str, Expr]] = None) -> Expr:
    """Parse `text`; each name is replaced from `names` (numbers become constants).

    Raises ExprError for anything but numbers, known names, + - * / **, comparisons and the
    whitelisted functions.
    """
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ExprError(f"cannot parse {text!r}: {e.msg}") from None
    return _convert(tree.body, dict(names or {}))


def _convert(node: ast.AST, names: dict) -> Expr:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return const(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExprError(f"unknown name {node.id!r}")
        bound = names[node.id]
        return bound if isinstance(bound, Expr) else const(bound)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, names)
        if isinstance(node.op, ast.UAdd):
            return inner
        return const(-inner.value) if inner.op == "const" else Expr("neg", (inner,))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return Expr(_BINOPS[type(node.op)], (_convert(node.left, names), _convert(node.right, names)))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
        return Expr(_CMPOPS[type(node.ops[0])],
                    (_convert(node.left, names), _convert(node.comparators[0], names)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = node.func.id
        if fn not in FUNCTIONS and fn != "where" or fn in _TEXT or fn == "neg":
            raise ExprError(f"unknown function {fn!r}")
        if len(node.args) != ARITY.get(fn, 1):
            raise ExprError(f"{fn} takes {ARITY.get(fn, 1)} arguments")
        return Expr(fn, tuple(_convert(a, names) for a in node.args))
    raise ExprError(f"not allowed in an expression: {type(node).__name__}")


def op_expr(expr: str, ports: Sequence[str], inputs: Sequence[Expr], attrs: Mapping[str, object]) -> Expr:
    """An op's expression with its ports bound to `inputs` and its numeric attrs to constants."""
    names: dict = {k: v for k, v in attrs.items() if type(v) in (int, float)}
    names.update(zip(ports, inputs))
    return parse(expr, names)


def to_text(e: Expr) -> str:
    """Python syntax for `e` (the `expr` attribute of a Fused node)."""
    if e.op == "var":
        return e.value
    if e.op == "const":
        return repr(float(e.value)) if isinstance(e.value, float) else repr(e.value)
    if e.op == "neg":
        return f"(-{to_text(e.args[0])})"
    if e.op in _TEXT:
        return f"({to_text(e.args[0])} {_TEXT[e.op]} {to_text(e.args[1])})"
    return f"{e.op}({', '.join(to_text(a) for a in e.args)})"


# ---- NumPy: a chain of ufuncs writing into scratch buffers

@dataclass
class NumpyKernel:
    """Source of `def name(t0, ..., b0, ..., x1, ..., out)`: float temps t*, bool temps b* first,
    so a binding can fix them with functools.partial."""

    name: str
    source: str
    n_inputs: int
    temps: int
    bool_temps: int


def numpy_kernel(e: Expr, n_inputs: int, name: str) -> NumpyKernel:
    """Emit `e` as one ufunc call per operation, every result written with out=.

    `out` is written only after the last read of an input, so it may be the same array as one.
    """
    emitter = _NumpyEmitter()
    lines = emitter.root(e)
    temps = emitter.count["t"]
    if n_inputs and temps:
        lines, temps = _out_as_scratch(lines, temps)
    params = [f"t{i}" for i in range(temps)] + [f"b{i}" for i in range(emitter.count["b"])]
    params += [f"x{i + 1}" for i in range(n_inputs)] + ["out"]
    body = "\n".join("    " + line for line in lines)
    source = f"def {name}({', '.join(params)}):\n{body}\n"
    return NumpyKernel(name, source, n_inputs, temps, emitter.count["b"])


_INPUT = re.compile(r"\bx\d+\b")
_SCRATCH = re.compile(r"\bt(\d+)\b")


def _out_as_scratch(lines: list[str], temps: int) -> tuple[list[str], int]:
    """Let `out` stand in for the first float scratch buffer that is only written once no input is
    read again: `bias + activation` then makes two passes over `out` instead of three arrays.
    Returns the lines and the number of scratch buffers left (renumbered from t0)."""
    if any("where=" in line for line in lines):
        return lines, temps
    last_read = max(i for i, line in enumerate(lines) if _INPUT.search(line))
    written = [_SCRATCH.fullmatch(line.rstrip(")").rsplit(",", 1)[-1].strip().removeprefix("out="))
               for line in lines]
    early = {m.group(0) for m in written[:last_read] if m}
    late = [m.group(0) for m in written[last_read:] if m and m.group(0) not in early]
    if not late:
        return lines, temps
    gone = int(late[0][1:])

    def rename(match: re.Match) -> str:
        k = int(match.group(1))
        return "out" if k == gone else f"t{k - (k > gone)}"
    return [_SCRATCH.sub(rename, line) for line in lines], temps - 1


class _NumpyEmitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.free = {"t": [], "b": []}
        self.count = {"t": 0, "b": 0}

    def root(self, e: Expr) -> list[str]:
        if e.op in ("var", "const"):
            self.lines.append(f"np.copyto(out, {self._literal(e)})")
        elif e.op == "where":
            result = self.emit(e)
            self.lines.append(f"np.copyto(out, {result})")
        else:
            self.emit(e, target="out")
        return self.lines

    def _literal(self, e: Expr) -> str:
        return e.value if e.op == "var" else repr(e.value)

    def _temp(self, kind: str) -> str:
        if self.free[kind]:
            return self.free[kind].pop()
        self.count[kind] += 1
        return f"{kind}{self.count[kind] - 1}"

    def _release(self, operand: str) -> None:
        if operand[0] in "tb" and operand[1:].isdigit():
            self.free[operand[0]].append(operand)

    def emit(self, e: Expr, target: Optional[str] = None) -> str:
        if e.op in ("var", "const"):
            return self._literal(e)
        if e.op == "where":
            return self._where(e, target)
        args = [self.emit(a) for a in e.args]
        for a in args:
            self._release(a)
        kind = "b" if e.op in COMPARISONS else "t"
        out = target or self._temp(kind)
        # out positional is faster (no keyword parsing); NumPy deprecated it for maximum/minimum
        target = f"out={out}" if e.op in ("max", "min") else out
        self.lines.append(f"{FUNCTIONS[e.op][0]}({', '.join(args)}, {target})")
        return out

    def _where(self, e: Expr, target: Optional[str]) -> str:
        cond = self.emit(e.args[0])
        if not cond.startswith("b"):
            flag = self._temp("b")
            self.lines.append(f"np.not_equal({cond}, 0, {flag})")
            self._release(cond)
            cond = flag
        a = self.emit(e.args[1])
        b = self.emit(e.args[2])
        out = target or self._temp("t")
        self.lines.append(f"np.copyto({out}, {b})")
        self.lines.append(f"np.copyto({out}, {a}, where={cond})")
        for operand in (cond, a, b):
            if operand != out:
                self._release(operand)
        return out


# ---- CUDA C

CUDA_PREAMBLE = """\
template <typename T> __device__ __forceinline__ T loom_max(T a, T b) { return (a != a || a > b) ? a : b; }
template <typename T> __device__ __forceinline__ T loom_min(T a, T b) { return (a != a || a < b) ? a : b; }
template <typename T> __device__ __forceinline__ T loom_sign(T a) { return (T)((a > (T)0) - (a < (T)0)); }
"""


def cuda_expression(e: Expr, ctype: str) -> str:
    """`e` as a C expression over x1..xn in type `ctype` (comparisons yield 1 or 0)."""
    if e.op == "var":
        return e.value
    if e.op == "const":
        return f"(({ctype}){float(e.value)!r})"
    args = [cuda_expression(a, ctype) for a in e.args]
    if e.op == "where":
        return f"(({args[0]}) != ({ctype})0 ? ({args[1]}) : ({args[2]}))"
    text = FUNCTIONS[e.op][1].format(*args)
    return f"(({ctype}){text})" if e.op in COMPARISONS else text


def cuda_elementwise(e: Expr, n_inputs: int, dtype: str) -> tuple[str, str, str]:
    """(in_params, out_params, operation) for cupy.ElementwiseKernel; inputs broadcast."""
    ctype = CUDA_TYPES[dtype]
    ins = ", ".join(f"{ctype} x{i + 1}" for i in range(n_inputs))
    return ins, f"{ctype} out", f"out = ({ctype})({cuda_expression(e, ctype)});"


def cuda_kernel(e: Expr, n_inputs: int, dtype: str, name: str) -> str:
    """A complete CUDA source (RawKernel) for same-shape contiguous inputs: one thread per element."""
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise ExprError(f"bad kernel name {name!r}")
    ctype = CUDA_TYPES[dtype]
    params = ", ".join([f"const {ctype}* __restrict__ in{i + 1}" for i in range(n_inputs)]
                       + [f"{ctype}* __restrict__ out_", "long long n"])
    loads = " ".join(f"{ctype} x{i + 1} = in{i + 1}[i];" for i in range(n_inputs))
    return (f"{CUDA_PREAMBLE}\nextern \"C\" __global__ void {name}({params}) {{\n"
            f"    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
            f"    for (; i < n; i += (long long)blockDim.x * gridDim.x) {{\n"
            f"        {loads}\n"
            f"        out_[i] = ({ctype})({cuda_expression(e, ctype)});\n"
            f"    }}\n}}\n")
