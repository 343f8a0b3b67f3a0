"""The front-end's function for every op in the registry, generated: `tensor.tanh(x)` adds a Tanh
node, `tensor.mat_mul(a, b, transpose_b=True)` a MatMul. Layers (Dense, Conv2D...) are added in
their primitive form, so their weights are Parameters that `grad` reaches."""
from __future__ import annotations

import re
from typing import Any, Callable

from core.graph import LoomError, all_ops
from core.graph.registry import call_rule
from core.graph.spec import OpSpec

from .session import FrontEndTypeError, explained, user_frame
from .variable import Variable, build

SOURCES = "Sources"
_WORDS = (("ReLU", "Relu"), ("ELU", "Elu"), ("MSE", "Mse"), ("2D", "2d"))


def snake(name: str) -> str:
    """An op name as a Python function name: MatMul -> mat_mul, LeakyReLU -> leaky_relu, MaxPool2D -> max_pool2d."""
    for old, new in _WORDS:
        name = name.replace(old, new)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def op_function(spec: OpSpec) -> Callable[..., Variable]:
    """A function that adds one `spec` node fed by its positional operands; keywords are attributes."""

    def apply_op(*operands: Any, name: str | None = None, **attrs: Any) -> Any:
        if spec.ports is not None and "n" in {a.name for a in spec.attrs}:
            attrs.setdefault("n", len(operands))
        full = {**spec.default_attrs(), **attrs}
        ports = spec.input_names(full)
        if len(operands) != len(ports):
            file, line = user_frame()
            raise FrontEndTypeError(f"{spec.name} takes {len(ports)} operand(s) ({', '.join(ports)}), "
                                    f"got {len(operands)}", file=file, line=line)
        if spec.expand is not None:
            return _layer(spec, operands, full, name)
        outs = build(spec.name, operands, attrs, name)
        return outs[0] if len(outs) == 1 else tuple(outs)

    apply_op.__name__ = apply_op.__qualname__ = snake(spec.name)
    attrs = "".join(f"\n    {a.name} ({a.kind}, default {a.default!r}): {a.doc}" for a in spec.attrs)
    apply_op.__doc__ = f"{spec.doc}\n\nOperands: {', '.join(p.name for p in spec.inputs)}." + (
        f"\nAttributes:{attrs}" if attrs else "")
    return apply_op


def _layer(spec: OpSpec, operands: tuple, attrs: dict, name: str | None) -> Any:
    """A layer in primitive form: its Parameters are graph nodes named after the layer."""
    from .session import builder

    variables = [v for v in operands if isinstance(v, Variable)]
    target = variables[0].builder if variables else builder()
    node = target.graph.unique_id(name or snake(spec.name))
    for attr, value in attrs.items():
        try:
            attrs[attr] = spec.attr(attr).check(value)
        except Exception as error:  # AttrError or an unknown name
            file, line = user_frame()
            raise FrontEndTypeError(f"{spec.name} attribute '{attr}': {error}", file=file, line=line) from None
    try:
        call_rule(spec.infer, ([v.type for v in variables],), attrs)
    except LoomError as error:
        raise explained(spec.name, variables, error) from None
    saved, target.prefix = target.prefix, f"{node}_"
    try:
        outs = call_rule(spec.expand, (target, *operands), attrs, node_id=node)
    finally:
        target.prefix = saved
    return outs[0] if len(outs) == 1 else tuple(outs)


def generated() -> dict[str, Callable[..., Variable]]:
    """Every non-source op of the registry, by its snake_case name."""
    return {snake(spec.name): op_function(spec) for spec in all_ops() if spec.category != SOURCES}
