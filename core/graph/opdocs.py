"""docs/ops.md, written from the registry so the reference can never drift from the code."""
from __future__ import annotations

from .registry import CATEGORIES, INTERNAL, all_ops
from .spec import OpSpec


def _attr_line(attr) -> str:
    default = "all" if attr.default is None and attr.kind == "axes" else attr.default
    if isinstance(default, tuple):
        default = list(default)
    choices = f" One of {', '.join(f'`{c}`' for c in attr.choices)}." if attr.choices else ""
    return f"| `{attr.name}` | {attr.kind} | `{default}` | {attr.doc}{'.' if attr.doc else ''}{choices} |"


def _op_section(spec: OpSpec) -> list[str]:
    ports = ", ".join(f"`{p.name}`" + ("" if p.differentiable else " (no gradient)") for p in spec.inputs)
    lines = [f"### {spec.name}", "", spec.doc, "",
             f"- inputs: {ports or 'none'}; output: `y`"]
    if spec.ports:
        lines.append("- the number of inputs is set by the attribute `n` (ports `x1` ... `xn`)")
    if spec.expr:
        lines.append(f"- scalar expression: `{spec.expr}`")
    lines.append("- gradient: " + ("symbolic rule" if spec.grad else
                                    "through its expansion into primitive ops" if spec.expand else "none"))
    if spec.attrs:
        lines += ["", "| attribute | kind | default | meaning |", "|---|---|---|---|"]
        lines += [_attr_line(a) for a in spec.attrs]
    return lines + [""]


def render_ops_markdown() -> str:
    """The whole op reference as Markdown."""
    lines = ["# Op reference", "",
             "Generated from the op registry by `python main.py ops --markdown > docs/ops.md`; "
             "a test fails when this page is stale.", ""]
    for category in CATEGORIES + (INTERNAL,):
        lines += [f"## {category}", ""]
        if category == INTERNAL:
            lines += ["Not in the palette: gradients, layer expansions and rewrites produce these.", ""]
        for spec in all_ops():
            if spec.category == category:
                lines += _op_section(spec)
    return "\n".join(lines).rstrip() + "\n"
