"""Horizontal fusion of optimizer updates: one kernel over every parameter (PyTorch's multi-tensor apply).

An optimizer updates each parameter with the same elementwise kernel (SGD's p - lr*g, Adam's three):
on a small network those calls, one per parameter and kernel, are a large part of a step. When the
kernels of a kind read and write storage that can be laid end to end, the parameters (and their
optimizer slots) live as views of one flat *state arena*, their gradients as views of one flat
*buffer arena*, and a single call of the kernel runs over the arenas.

`horizontal_groups` finds the groups; the code generator lays out the arenas and emits one call per
group where its last member was; `Function` packs the state into the arenas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from core.graph import Graph
from core.graph.executor import Ref

MIN_MEMBERS = 2


@dataclass
class Operand:
    """One input position (or the output) of a group: shared by all members, or one arena of refs.

    kind "shared": `refs` holds the one ref every member reads (a scalar);
    kind "state": `keys` are the parameters the members read (or update in place), in member order;
    kind "buffer": `refs` are the members' buffer values, in member order.
    """

    kind: str
    refs: tuple = ()
    keys: tuple = ()


@dataclass
class Group:
    """Update kernels with one expression over different parameters, run as one call at `position`."""

    members: list[str]
    inputs: list[Operand]
    output: Operand
    sizes: list[int]
    dtype: str
    position: int = 0
    covers: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes)


def horizontal_groups(graph: Graph, plan, state_keys: list[str]) -> list[Group]:
    """The groups of optimizer-update kernels that can run as one call each (see the module doc).

    `plan` is the step's Plan (order, buffer slots, in-place updates); a ref of a state key is the
    parameter node's output. A group is kept only when every member reads and writes storage of one
    kind per position, every value keeps one place in one arena, and running the whole group where its
    last member ran keeps every value's producers before it and its readers after it.
    """
    types = graph.types()
    index = {node: i for i, node in enumerate(plan.order)}
    candidates: dict[tuple, list[str]] = {}
    for node in plan.order:
        if graph.op_name(node) == "Fused" and graph.role(node) == "update":
            attrs = graph.attrs(node)
            candidates.setdefault((attrs["expr"], attrs["n"], types[(node, "y")].dtype), []).append(node)
    state = set(state_keys)
    written = {ref: key for key, ref in plan.inplace_updates.items()}
    groups = [g for g in (_group(graph, m, types, state, written, plan) for m in candidates.values()
                          if len(m) >= MIN_MEMBERS) if g is not None]
    groups = _consistent(sorted(groups, key=lambda g: index[g.members[-1]]))
    while True:                              # drop groups whose move breaks the order, until none does
        effective = dict(index)
        for group in groups:
            group.position = index[group.members[-1]]
            effective.update((node, group.position) for node in group.members)
        kept = [g for g in groups if _placeable(graph, g, effective, plan, index)]
        if len(kept) == len(groups):
            return groups
        groups = kept


def _consistent(groups: list[Group]) -> list[Group]:
    """The groups whose arenas agree: a value or parameter sits in one arena, always in one order."""
    arenas: dict[object, tuple] = {}
    kept = []
    for group in groups:
        tuples = [op.keys or op.refs for op in group.inputs + [group.output] if op.kind != "shared"]
        if any(arenas.get(item, t) != t for t in tuples for item in t):
            continue
        for t in tuples:
            arenas.update((item, t) for item in t)
        kept.append(group)
    return kept


def _group(graph: Graph, members: list[str], types: dict, state: set, written: dict, plan) -> Optional[Group]:
    """The members' operands classified per position, or None when one position mixes kinds."""
    sources = [[graph.source(n, p) for p in graph.spec(n).input_names(graph.attrs(n))] for n in members]
    shapes = [types[(n, "y")].shape for n in members]
    dtype = types[(members[0], "y")].dtype
    if not all(all(isinstance(d, int) for d in s) for s in shapes):
        return None
    if any(types[ref].dtype != dtype for position in sources for ref in position if types[ref].shape):
        return None                      # an arena holds one dtype
    inputs = []
    for position in zip(*sources):
        kinds = {_kind(ref, types[ref].shape, shape, state, plan) for ref, shape in zip(position, shapes)}
        if kinds == {"shared"} and len(set(position)) == 1:
            inputs.append(Operand("shared", refs=(position[0],)))
        elif kinds == {"state"}:
            inputs.append(Operand("state", keys=tuple(ref[0] for ref in position)))
        elif kinds == {"buffer"} and len(set(position)) == len(position):
            inputs.append(Operand("buffer", refs=tuple(position)))
        else:
            return None
    outs = [(n, "y") for n in members]
    if all(ref in written for ref in outs):
        output = Operand("state", keys=tuple(written[ref] for ref in outs))
    elif all(ref in plan.slot_of and ref not in written for ref in outs):
        output = Operand("buffer", refs=tuple(outs))
    else:
        return None
    sizes = [_size(shape) for shape in shapes]
    covers = [c for n in members for c in graph.ui(n).get("covers", [n])]
    return Group(list(members), inputs, output, sizes, dtype, covers=covers)


def _kind(ref: Ref, shape: tuple, out_shape: tuple, state: set, plan) -> str:
    if tuple(shape) == ():
        return "shared"
    if tuple(shape) != tuple(out_shape):
        return "broadcast"
    if ref[1] == "y" and ref[0] in state:
        return "state"
    return "buffer" if ref in plan.slot_of else "other"


def _placeable(graph: Graph, group: Group, effective: dict, plan, index: dict) -> bool:
    """Whether running every member at the last member's place keeps the step's order of values:
    producers of the inputs run before, readers of the outputs after, and no other node writes, in
    between, a parameter the group reads."""
    position = group.position
    members = set(group.members)
    for node in group.members:
        for port in graph.spec(node).input_names(graph.attrs(node)):
            producer = graph.source(node, port)[0]
            if producer in members or effective.get(producer, -1) >= position:
                return False
        for edge in graph.out_edges(node):
            if edge.dst not in members and effective.get(edge.dst, len(index)) <= position:
                return False
    for operand in group.inputs:
        for key in operand.keys:
            writer = plan.inplace_updates.get(key)
            if writer is not None and writer[0] not in members and effective.get(writer[0], -1) <= position:
                return False
    return True


def _size(shape: tuple) -> int:
    size = 1
    for d in shape:
        size *= d
    return size
