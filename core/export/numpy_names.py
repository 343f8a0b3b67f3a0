"""Names and the array module in the NumPy script: each value of a compiled step named after its node.

The compiler writes generated names (i0 inputs, s0 state, b0 buffers, c0 statics, v0 views and
fresh values, f0/k0 kernels, ref0 reference ops). Here each becomes its node's id made safe by one
`NameTable` per step, and NumPy calls become calls on `xp`, the array module the script picked.
"""
from __future__ import annotations

import ast
import io
import tokenize
from typing import Any, Iterable

from .common import ExportError, NameTable

# np.<ufunc>.reduce in the device's kernels -> the script's reduction alias (NumPy or CuPy form)
REDUCERS = {"add": "sum_reduce", "maximum": "max_reduce", "minimum": "min_reduce"}


def module_names(source: str) -> set[str]:
    """Names a script binds at module level (defs, classes, imports, assignments, `global`s)."""
    tree = ast.parse(source)
    names: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.Global):
            names.update(node.names)
        if top:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
        inner = top and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, True)
    return names


def identifiers(source: str) -> set[str]:
    """Every name token of `source` (attribute names included; strings and comments are not names)."""
    return {t.string for t in _tokens(source) if t.type == tokenize.NAME}


def rename(source: str, mapping: dict[str, str]) -> str:
    """`source` with each name in `mapping` replaced; attributes (after a dot), strings and comments
    are left alone."""
    return _edit(source, lambda tokens, i: mapping.get(tokens[i].string) if tokens[i].type == tokenize.NAME
                 and not _after_dot(tokens, i) else None)


def on_xp(source: str) -> str:
    """NumPy calls made on the array module `xp`: `np.f` -> `xp.f`, `np.add.reduce` -> `sum_reduce`.

    Raises ExportError for a ufunc reduction the script has no alias for (a change in Loom's
    device kernels, caught by the tests).
    """
    def edit(tokens: list, i: int) -> Any:
        t = tokens[i]
        if t.type != tokenize.NAME or t.string != "np" or _after_dot(tokens, i):
            return None
        strings = [u.string for u in tokens[i + 1:i + 5]]
        if len(strings) == 4 and strings[0] == "." and strings[2] == "." and strings[3] == "reduce":
            if strings[1] not in REDUCERS:
                raise ExportError(f"np.{strings[1]}.reduce has no form that runs on CuPy too")
            return REDUCERS[strings[1]], 5
        return "xp"
    return _edit(source, edit)


def unpacked(source: str, name: str) -> list[str]:
    """The names a step unpacks from its parameter `name` (`b0, b1, = B` -> ["b0", "b1"])."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == name:
            target = node.targets[0]
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            return [e.id for e in elements if isinstance(e, ast.Name)]
    return []


def value_hint(graph: Any, ref: tuple[str, str]) -> str:
    """The name a value takes: its node's id (with the port if not "y"). A fused kernel's value takes
    the id of the node whose value it computes (the last it covers): `hidden_tanh`, not `..._fused`."""
    node, port = ref
    if node in graph and graph.op_name(node) == "Fused":
        covers = graph.ui(node).get("covers")
        if isinstance(covers, list) and covers and isinstance(covers[-1], str):
            node = covers[-1]
    return node if port == "y" else f"{node}_{port}"


def step_names(program: Any, references: dict[str, str], reserved: Iterable[str]) -> dict[str, str]:
    """Generated name -> node-named identifier, for every value, kernel and reference op of a step.

    `references` maps the step's reference-op functions to their nodes; `reserved` holds every
    name the step's section can see or use (module names, its own names), which a node name must
    never shadow; the generated names being replaced are free again. All names go through one
    NameTable: keywords, builtins and reserved names get a suffix, and no two share a name.
    """
    graph = program.graph
    wanted: list[tuple[list[str], tuple, str]] = []  # (generated names, key, hint)
    for ref, generated in program.names.items():  # inputs, state, statics, buffers, then the rest
        wanted.append(([generated], ("value", ref), value_hint(graph, ref)))
    entries = unpacked(program.source, "B")
    if len(entries) != len(program.recipes):
        raise ExportError("the compiled step's buffers do not match its recipes")
    for entry, recipe in zip(entries, program.recipes):
        if recipe.kind == "kernel":
            kernel, node, _ = recipe.args
            hint = node if value_hint(graph, (node, "y")) != node else f"{node}_kernel"
            wanted.append(([entry, kernel.name], ("kernel", node), hint))
    for function, node in references.items():
        wanted.append(([function], ("reference", node), f"{node}_reference"))
    replaced = {name for names, _, _ in wanted for name in names}
    table = NameTable(set(reserved) - replaced)
    mapping: dict[str, str] = {}
    for names, key, hint in wanted:
        for name in names:
            if name not in mapping:
                mapping[name] = table.name(key, hint)
    return mapping


def _tokens(source: str) -> list:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def _after_dot(tokens: list, i: int) -> bool:
    return i > 0 and tokens[i - 1].type == tokenize.OP and tokens[i - 1].string == "."


def _edit(source: str, edit: Any) -> str:
    """Apply `edit(tokens, i) -> None | new text | (new text, tokens consumed)` to each token."""
    tokens = _tokens(source)
    lines = source.splitlines(keepends=True)
    changes: dict[int, list] = {}
    i = 0
    while i < len(tokens):
        new = edit(tokens, i)
        count = 1
        if isinstance(new, tuple):
            new, count = new
        if new is not None:
            first, last = tokens[i], tokens[i + count - 1]
            if first.start[0] != last.end[0]:
                raise ExportError("a generated expression spans lines where one name was expected")
            changes.setdefault(first.start[0], []).append((first.start[1], last.end[1], new))
        i += count
    for row, edits in changes.items():
        line = lines[row - 1]
        for start, end, new in sorted(edits, reverse=True):
            line = line[:start] + new + line[end:]
        lines[row - 1] = line
    return "".join(lines)
